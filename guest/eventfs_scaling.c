/* eventfs-lookup-race's scaling probe (issue 21): does a lookup in an eventfs
 * directory cost more when the directory holds more events?
 *
 * After the stress, with every other thread joined, the probe fills one
 * eventfs directory with dynamic events (synthetic events: one write makes a
 * hundred in milliseconds; user events next; kprobe events, at ~0.5 s each
 * under TCG, only when nothing cheaper exists, so the sizes stay small) and
 * at each --scale-at size times, alone:
 *
 *   lookup_cold  stat of an event whose dentry was dropped (drop_caches
 *                before each round; names spread over the directory):
 *                eventfs_root_lookup() walks the children list to it and
 *                makes its dentry and inode (O(position): cheap per child);
 *   lookup_warm  stat of those names again: a dcache hit and
 *                tracefs_d_revalidate(); must not grow with n at all;
 *   lookup_miss  stat of a name that is not there: a full walk of the list
 *                every time (negative eventfs dentries are not kept);
 *   readdir      the whole directory listed (linear in n by nature).
 *
 * n is the number of event directories readdir lists when the size is
 * probed. The harness judges the ratios between the sizes of one run
 * (harness/scaling.py), so TCG's speed cancels. Every event made is removed.
 */
#include "common.h"
#include "eventfs_scaling.h"
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_POINTS 6
#define BATCH 100		/* events per control-file write */
#define COLD_MAX 24		/* cold (and warm) names timed per size */
#define MAX_ROUNDS 5000		/* warm/miss/readdir rounds per size, at most */
#define PREFIX "hsc"

enum kind { K_SYNTH, K_USER, K_KPROBE, K_NONE };
static const struct kind_ops {
	const char *name, *group, *add_file, *add_fmt, *del_file, *del_fmt;
} kinds[K_NONE] = {
	[K_SYNTH] = { "synth", "synthetic", "synthetic_events", "%s u64 lat\n", "synthetic_events", "!%s\n" },
	[K_USER] = { "user", "user_events", "dynamic_events", "u:%s u32 count\n", "dynamic_events",
		     "-:user_events/%s\n" },
	/* %2$s: the symbol the probe sits on. */
	[K_KPROBE] = { "kprobe", "kprobes", "kprobe_events", "p:kprobes/%s %s\n", "kprobe_events", "-:kprobes/%s\n" },
};

enum op { OP_COLD, OP_WARM, OP_MISS, OP_READDIR, NOPS };
static const char *const op_names[NOPS] = { "lookup_cold", "lookup_warm", "lookup_miss", "readdir" };

static long sizes[MAX_POINTS];
static int nsizes;
static struct point {
	long n;			/* event directories listed when probed */
	long cold_names;	/* names timed cold and warm */
	int drops;		/* dentries dropped before each round: every round times cold lookups */
	long rounds;
	double fill_s, secs;
	struct lat lat[NOPS];
} points[MAX_POINTS];
static int npoints;
static enum kind kind = K_NONE;
static long made;		/* our events hsc0 .. hsc<made-1> exist */
static long left;		/* ours still listed after the removal */
static double remove_s;
static char group_dir[512];

int scale_parse(const char *at, char *msg, size_t len)
{
	nsizes = 0;
	for (const char *s = at; *s;) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || v > 100000 || nsizes >= MAX_POINTS ||
		    (nsizes && v <= sizes[nsizes - 1]) || (*end && *end != ',')) {
			snprintf(msg, len, "bad --scale-at %s: up to %d increasing sizes 1..100000, comma separated", at,
				 MAX_POINTS);
			return 1;
		}
		sizes[nsizes++] = v;
		s = *end ? end + 1 : end;
	}
	return 0;
}

static const char *name_of(long i, char *buf, size_t len)
{
	snprintf(buf, len, PREFIX "%ld", i);
	return buf;
}

static int ours(const char *d_name)
{
	if (strncmp(d_name, PREFIX, strlen(PREFIX)))
		return 0;
	const char *p = d_name + strlen(PREFIX);
	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* Event directories listed in the group directory (all, and ours); -errno
 * when it cannot be read (a group dir appears with its first event). */
static long count_dirs(long *mine)
{
	DIR *d = opendir(group_dir);
	if (!d)
		return -errno;
	long n = 0, m = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		n++;
		m += ours(de->d_name);
	}
	closedir(d);
	if (mine)
		*mine = m;
	return n;
}

/* One write of up to BATCH lines for names [lo, hi); 0 or errno. */
static int write_batch(const struct scale_opts *o, int add, long lo, long hi)
{
	const struct kind_ops *k = &kinds[kind];
	size_t cap = (size_t)(hi - lo) * 200 + 1, len = 0;
	char *buf = malloc(cap), name[32];
	if (!buf)
		return ENOMEM;
	buf[0] = 0;
	for (long i = lo; i < hi; i++) {
		name_of(i, name, sizeof(name));
		len += (size_t)snprintf(buf + len, cap - len, add ? k->add_fmt : k->del_fmt, name, o->symbol);
	}
	int err = tfs_cmd(o->root, add ? k->add_file : k->del_file, buf, 0);
	free(buf);
	return err;
}

/* Removes names [lo, hi), a batch at a time, one by one where a batch fails. */
static void remove_range(const struct scale_opts *o, long lo, long hi)
{
	for (long b = lo; b < hi; b += BATCH) {
		long e = b + BATCH < hi ? b + BATCH : hi;
		if (!write_batch(o, 0, b, e))
			continue;
		for (long i = b; i < e; i++)
			write_batch(o, 0, i, i + 1);
	}
}

/* Our events left by a killed earlier run: each one's name, removed. */
static void remove_leftovers(const struct scale_opts *o)
{
	DIR *d = opendir(group_dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (ours(de->d_name)) {
			long i = strtol(de->d_name + strlen(PREFIX), NULL, 10);
			write_batch(o, 0, i, i + 1);
		}
	closedir(d);
}

/* The first kind whose first batch shows up as directories. */
static int choose_kind(const struct scale_opts *o, long first)
{
	static const char *const need[K_NONE] = { "synthetic_events", "user_events_data", "kprobe_events" };
	for (kind = 0; kind < K_NONE; kind++) {
		if (!tfs_has(o->root, need[kind]) || (kind == K_USER && !tfs_has(o->root, "dynamic_events")) ||
		    (kind == K_KPROBE && !o->kprobes_ok))
			continue;
		snprintf(group_dir, sizeof(group_dir), "%s/events/%s", o->root, kinds[kind].group);
		remove_leftovers(o);
		long mine = 0, before = count_dirs(&mine);
		before = before < 0 ? 0 : before;
		if (mine) {
			note("scaling probe: %ld %s events of an earlier run would not go", mine, kinds[kind].name);
			continue;
		}
		int err = write_batch(o, 1, 0, first);
		long now = count_dirs(NULL);
		if (!err && now == before + first) {
			made = first;
			return 0;
		}
		remove_range(o, 0, first);
		note("scaling probe: %ld %s events made %ld directories (%s)", first, kinds[kind].name,
		     now < 0 ? 0 : now - before, err ? errname(err) : "not as many");
	}
	return -1;
}

/* The group directory, held open while timing: each stat looks up one
 * component in it, so the fixed cost a walk adds to is as small as it gets. */
static int group_fd = -1;

static void timed_stat(struct point *p, enum op op, const char *name)
{
	struct stat st;
	uint64_t t0 = now_ns();
	int err = fstatat(group_fd, name, &st, 0) ? errno : 0;
	uint64_t ns = now_ns() - t0;
	if (op == OP_MISS) {
		if (err != ENOENT)
			fail(err ? O_LOOKUP : O_GHOST, "scaling probe: stat events/%s/%s of an event never made gave %s",
			     kinds[kind].group, name, err ? errname(err) : "success");
	} else if (err) {
		fail(ENOENT_OR(err), "scaling probe: stat events/%s/%s gave %s for an event that exists",
		     kinds[kind].group, name, errname(err));
		return;
	}
	lat_add(&p->lat[op], ns);
}

static void timed_readdir(struct point *p)
{
	uint64_t t0 = now_ns();
	long mine = 0, n = count_dirs(&mine);
	uint64_t ns = now_ns() - t0;
	if (n < 0 || mine != made) {
		fail(n < 0 ? ENOENT_OR((int)-n) : O_LOOKUP, "scaling probe: readdir events/%s %s%ld of %ld events made",
		     kinds[kind].group, n < 0 ? errname((int)-n) : "lists ", n < 0 ? 0 : mine, made);
		return;
	}
	lat_add(&p->lat[OP_READDIR], ns);
}

/* Times the lookups at the current size; names [lo, made) were never looked up. */
static void measure(const struct scale_opts *o, struct point *p, long lo)
{
	char mark[128], name[32];
	/* With dentries dropped before each round any name is cold again: the
	 * names are spread over the whole list, so the walk to one averages n/2
	 * at every size. Without drop_caches only the new names are cold, once. */
	int drops = !drop_dentries();
	long from = drops ? 0 : lo, names[COLD_MAX], m = made - from < COLD_MAX ? made - from : COLD_MAX;
	for (long k = 0; k < m; k++)
		names[k] = from + k * (made - from) / m;
	p->cold_names = m;
	p->drops = drops;
	p->n = count_dirs(NULL);
	group_fd = open(group_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (group_fd < 0) {
		fail(ENOENT_OR(errno), "scaling probe: open events/%s gave %s with %ld events in it", kinds[kind].group,
		     errname(errno), p->n);
		return;
	}
	snprintf(mark, sizeof(mark), "eventfs-lookup-race: scaling probe at %ld events\n", p->n);
	if (o->kmsg_marks)
		write_file("/dev/kmsg", mark, 0);
	uint64_t start = now_ns();
	while (p->rounds < MAX_ROUNDS && (p->rounds < 3 || (double)(now_ns() - start) / 1e9 < o->point_s)) {
		if (p->rounds == 0 || (drops && !drop_dentries())) {
			for (long k = 0; k < m; k++)
				timed_stat(p, OP_COLD, name_of(names[k], name, sizeof(name)));
		}
		for (int pass = 0; pass < 2; pass++)
			for (long k = 0; k < m; k++)
				timed_stat(p, OP_WARM, name_of(names[k], name, sizeof(name)));
		for (int k = 0; k < 4; k++)
			timed_stat(p, OP_MISS, PREFIX "miss");
		timed_readdir(p);
		p->rounds++;
	}
	p->secs = (double)(now_ns() - start) / 1e9;
	close(group_fd);
	group_fd = -1;
	snprintf(mark, sizeof(mark), "eventfs-lookup-race: scaling probe done in %.1fs\n", p->secs);
	if (o->kmsg_marks)
		write_file("/dev/kmsg", mark, 0);
	note("scaling probe at %ld %s events: lookup cold p50 %.0f us, warm %.0f us, miss %.0f us, readdir %.0f us",
	     p->n, kinds[kind].name, (double)lat_pct(&p->lat[OP_COLD], 50) / 1e3,
	     (double)lat_pct(&p->lat[OP_WARM], 50) / 1e3, (double)lat_pct(&p->lat[OP_MISS], 50) / 1e3,
	     (double)lat_pct(&p->lat[OP_READDIR], 50) / 1e3);
	npoints++;
}

void scale_probe(const struct scale_opts *o)
{
	if (!nsizes)
		return;
	uint64_t start = now_ns(), until = start + (uint64_t)(o->budget * 1e9);
	long first = sizes[0] < BATCH ? sizes[0] : BATCH;
	if (choose_kind(o, first)) {
		note("scaling probe: no dynamic event kind makes event directories here: not probed");
		return;
	}
	long base = count_dirs(NULL) - made;	/* events not ours in the directory */
	int cut = 0;
	for (int s = 0; s < nsizes && !cut; s++) {
		long lo = s ? made : 0, want = sizes[s] - base;
		uint64_t t0 = now_ns();
		while (made < want) {
			if (now_ns() >= until) {
				cut = 1;
				break;
			}
			long hi = made + BATCH < want ? made + BATCH : want;
			int err = write_batch(o, 1, made, hi);
			long now = count_dirs(NULL);
			if (err || now != base + hi) {
				/* Those that did appear are removed at the end with the rest. */
				note("scaling probe: adding %s events %ld..%ld: %s", kinds[kind].name, made, hi - 1,
				     err ? errname(err) : "not all appeared");
				remove_range(o, made, hi);
				cut = 1;
				break;
			}
			made = hi;
		}
		if (made <= lo)
			break;	/* nothing new since the last size */
		points[npoints].fill_s = (double)(now_ns() - t0) / 1e9;
		measure(o, &points[npoints], lo);
	}
	if (cut)
		note("scaling probe: stopped at %ld events (budget %.0fs)", made, o->budget);
	uint64_t t0 = now_ns();
	remove_range(o, 0, made);
	remove_s = (double)(now_ns() - t0) / 1e9;
	count_dirs(&left);
	if (left)
		note("scaling probe: %ld of its events are still listed after removal", left);
	note("scaling probe: %d sizes in %.1fs, removal %.1fs", npoints, (double)(t0 - start) / 1e9, remove_s);
}

void scale_json(struct json *j)
{
	json_int(j, "scaling_points", npoints);
	json_open(j, "scaling", '{');
	char of[64];
	snprintf(of, sizeof(of), "events in events/%s", kind == K_NONE ? "?" : kinds[kind].group);
	json_str(j, "of", of);
	json_str(j, "kind", kind == K_NONE ? "" : kinds[kind].name);
	json_num(j, "remove_s", remove_s);
	json_int(j, "left", left);
	json_open(j, "points", '[');
	for (int i = 0; i < npoints; i++) {
		struct point *p = &points[i];
		json_open(j, NULL, '{');
		json_int(j, "n", p->n);
		json_int(j, "cold_names", p->cold_names);
		json_bool(j, "drops", p->drops);
		json_int(j, "rounds", p->rounds);
		json_num(j, "fill_s", p->fill_s);
		json_num(j, "secs", p->secs);
		for (int k = 0; k < NOPS; k++)
			json_lat(j, op_names[k], &p->lat[k]);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}
