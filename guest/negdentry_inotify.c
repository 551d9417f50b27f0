/* negdentry-inotify: inotify watches on a directory full of negative
 * dentries (docs/bugs.md family 3, fsnotify PARENT_WATCHED child-flag walks).
 *
 * Creators fill one directory with COUNT negative dentries (fstatat on names
 * that do not exist), openers open/close the few real files in it, watchers
 * add and remove inotify watches on it. Adding a watch walks every child
 * under a spinlock; before the 2024 fix every opener re-walked after a watch
 * went away, and the console shows soft lockups (lower watchdog_thresh with
 * --watchdog-thresh). The program reports the add/rm and open latencies; its
 * own oracle is that the real files always open, and optionally a bound on
 * how long an open/close or rm_watch may take.
 *
 * Scaling probe: while the directory fills, a prober pauses every other
 * thread when the count of negative dentries passes each --scale-at size and
 * once more at the full count, and times the watch operations alone (see
 * probe()). Only an add that makes the directory start watching children
 * has to walk them; every other operation costs the same at 1k as at 400k
 * dentries on a fixed kernel. The harness judges the ratios between the
 * sizes of one run (harness/scaling.py), so TCG's absolute speed cancels.
 */
#include "common.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *opt_dir = "/tmp/negdentry";
static long opt_count, opt_mem_percent = 10, opt_dentry_bytes = 400, opt_max_count = 4000000;
static long opt_openers = 4, opt_files = 10, opt_watchers = 2, opt_hold_ms = 100, opt_watchdog, opt_max_op_ms;
static long opt_target_walk_ms;
static double opt_create_share = 0.5;
static int opt_keep;

static int dirfd_;
static long count;
static atomic_long next_name;

static struct {
	atomic_llong created, existed, opens, watch_cycles, watch_closes, watch_enospc, events;
	atomic_int creating, enough;
	double create_s;
} c;
static struct lat open_lat, add_lat, rm_lat, close_lat;

/* ---------------------------------------------------------- scaling probe */

#define MAX_POINTS 8
#define WATCH_MASK (IN_OPEN | IN_CLOSE | IN_ACCESS | IN_ATTRIB)
static const char *opt_scale_at = "1000,10000,100000";
static long opt_scale_reps = 24;
static double opt_scale_budget = 6;
static int opt_kmsg_marks;
static char opt_parent[4096];	/* the parent of --dir */
static long scale_at[MAX_POINTS];
static int nscale_at;

/* What one probe times, at one directory size. */
enum probe_op { P_FIRST_ADD, P_ADD, P_RM, P_CLOSE, P_WATCHED_FILE, P_UNWATCHED_FILE, P_LAST_RM, P_OPS };
static const char *const probe_names[P_OPS] = {
	[P_FIRST_ADD] = "first_add",		/* starts the watch on children: walks them (expected O(n)) */
	[P_ADD] = "add_watch",			/* a second group's watch: the directory already watches */
	[P_RM] = "rm_watch",			/* that watch removed while the first one stays */
	[P_CLOSE] = "close_watch",		/* that watch dropped by closing its group */
	[P_WATCHED_FILE] = "close_watched_file",	/* open+close of a real file, parent watched */
	[P_UNWATCHED_FILE] = "close_unwatched_file",	/* the same after the last watch went: clears its flag */
	[P_LAST_RM] = "rm_last_watch",		/* the first watch removed: the parent stops watching */
};
static struct point {
	long n;			/* negative dentries made in the directory when probed */
	long reps;
	int quiet;		/* every other thread was paused */
	int keepalive;		/* a watch on the parent kept fsnotify looking */
	double secs;
	struct lat lat[P_OPS];
} points[MAX_POINTS];
static int npoints;
static atomic_int pause_req, paused, running;

/* Workers call this between operations; it parks them while a probe runs. */
static void hold_if_paused(struct worker *w)
{
	if (!atomic_load(&pause_req))
		return;
	const char *was = atomic_load(&w->doing);
	doing(w, "paused for the scaling probe");
	atomic_fetch_add(&paused, 1);
	while (atomic_load(&pause_req) && !stopping())
		sleep_ms(2);
	atomic_fetch_sub(&paused, 1);
	doing(w, was);
}

static uint64_t timed_open_close(const char *name)
{
	uint64_t t0 = now_ns();
	int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(ENOENT_OR(errno), "open of existing %s gave %s", name, errname(errno));
		return 0;
	}
	close(fd);
	return now_ns() - t0;
}

static void drain(int fd);

/* One point: the other threads paused, so each operation runs alone. */
static void probe(struct worker *w)
{
	struct point *p = &points[npoints];
	char name[32];
	doing(w, "pausing the other threads");
	atomic_store(&pause_req, 1);
	uint64_t start = now_ns(), settle = start + 5000000000ull;
	/* A thread stuck in the kernel (a lockup) never parks: measure anyway, say so. */
	while (atomic_load(&paused) < atomic_load(&running) && now_ns() < settle && !stopping())
		sleep_ms(1);
	p->quiet = atomic_load(&paused) >= atomic_load(&running);
	p->n = atomic_load(&c.created);
	/* On the console too, so the vCPU ledger (vcpu.tsv, by console length)
	 * can tell a probe the host starved from one the kernel slowed. */
	char mark[96];
	snprintf(mark, sizeof(mark), "negdentry-inotify: scaling probe at %ld negative dentries\n", p->n);
	if (opt_kmsg_marks)
		write_file("/dev/kmsg", mark, 0);
	start = now_ns();
	/* A watch on the directory's parent, held through the probe: with no
	 * mark left on the filesystem fsnotify_parent() returns before it looks
	 * at a child's PARENT_WATCHED flag, and the unwatched opens below would
	 * time nothing. A busy system always has some watch on its root fs. */
	int keep = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (keep >= 0 && inotify_add_watch(keep, opt_parent, IN_DELETE_SELF) < 0) {
		close(keep);
		keep = -1;
	}
	p->keepalive = keep >= 0;
	int anchor = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (anchor < 0) {
		fail(O_FSOP, "inotify_init1 gave %s", errname(errno));
		if (keep >= 0)
			close(keep);
		goto out;
	}
	doing(w, "probe: first inotify_add_watch");
	uint64_t t0 = now_ns();
	int awd = inotify_add_watch(anchor, opt_dir, WATCH_MASK);
	if (awd < 0) {
		if (errno != ENOSPC && errno != ENOMEM)
			fail(O_FSOP, "inotify_add_watch on %s gave %s", opt_dir, errname(errno));
		close(anchor);
		if (keep >= 0)
			close(keep);
		goto out;
	}
	lat_add(&p->lat[P_FIRST_ADD], now_ns() - t0);
	for (long rep = 0; rep < opt_scale_reps && !stopping(); rep++) {
		/* A kernel that walks on every operation gets fewer reps, not a longer run. */
		if (rep >= 3 && (double)(now_ns() - start) / 1e9 > opt_scale_budget)
			break;
		int g = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (g < 0) {
			fail(O_FSOP, "inotify_init1 gave %s", errname(errno));
			break;
		}
		doing(w, "probe: inotify_add_watch");
		t0 = now_ns();
		int wd = inotify_add_watch(g, opt_dir, WATCH_MASK);
		uint64_t ns = now_ns() - t0;
		if (wd < 0) {
			if (errno != ENOSPC && errno != ENOMEM)
				fail(O_FSOP, "inotify_add_watch on %s gave %s", opt_dir, errname(errno));
			close(g);
			break;
		}
		lat_add(&p->lat[P_ADD], ns);
		doing(w, "probe: open/close, parent watched");
		snprintf(name, sizeof(name), "file%ld", rep % opt_files);
		if ((ns = timed_open_close(name)))
			lat_add(&p->lat[P_WATCHED_FILE], ns);
		if (rep % 2 == 0) {
			doing(w, "probe: inotify_rm_watch");
			t0 = now_ns();
			if (inotify_rm_watch(g, wd))
				fail(O_FSOP, "inotify_rm_watch gave %s", errname(errno));
			lat_add(&p->lat[P_RM], now_ns() - t0);
			close(g);
		} else {
			doing(w, "probe: close inotify fd");
			t0 = now_ns();
			close(g);
			lat_add(&p->lat[P_CLOSE], now_ns() - t0);
		}
		drain(anchor);
		p->reps++;
	}
	doing(w, "probe: last inotify_rm_watch");
	t0 = now_ns();
	if (inotify_rm_watch(anchor, awd))
		fail(O_FSOP, "inotify_rm_watch gave %s", errname(errno));
	lat_add(&p->lat[P_LAST_RM], now_ns() - t0);
	/* The walk flagged every real file: the first event of each now finds
	 * the parent unwatched and clears that one flag (lazily, since 6.11). */
	doing(w, "probe: open/close, parent unwatched");
	for (long i = 0; i < opt_files && !stopping(); i++) {
		snprintf(name, sizeof(name), "file%ld", i);
		uint64_t ns = timed_open_close(name);
		if (ns)
			lat_add(&p->lat[P_UNWATCHED_FILE], ns);
	}
	drain(anchor);
	close(anchor);
	if (keep >= 0)
		close(keep);
	p->secs = (double)(now_ns() - start) / 1e9;
	snprintf(mark, sizeof(mark), "negdentry-inotify: scaling probe done in %.1fs\n", p->secs);
	if (opt_kmsg_marks)
		write_file("/dev/kmsg", mark, 0);
	npoints++;
	note("scaling probe at %ld negative dentries: %ld reps in %.1fs%s, add_watch p50 %.0f us", p->n, p->reps,
	     p->secs, p->quiet ? "" : " (not every thread paused)", (double)lat_pct(&p->lat[P_ADD], 50) / 1e3);
out:
	atomic_store(&pause_req, 0);
}

/* Probes as the directory passes each --scale-at size, then at the full count. */
static void *prober(void *arg)
{
	struct worker *w = arg;
	int next = 0;
	while (!stopping() && npoints < MAX_POINTS) {
		doing(w, "waiting for the next size");
		long made = atomic_load(&c.created);
		if (next < nscale_at && made >= scale_at[next]) {
			while (next < nscale_at && made >= scale_at[next])
				next++;
			probe(w);
			continue;
		}
		if (!atomic_load(&c.creating)) {
			if (made > 0 && (!npoints || points[npoints - 1].n < made))
				probe(w);
			break;
		}
		sleep_ms(5);
	}
	return NULL;
}

static void parse_scale_at(void)
{
	const char *s = opt_scale_at;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || nscale_at >= MAX_POINTS - 1 || (nscale_at && v <= scale_at[nscale_at - 1]))
			die_setup("bad --scale-at %s: up to %d increasing sizes >= 1, comma separated", opt_scale_at,
				  MAX_POINTS - 1);
		scale_at[nscale_at++] = v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			die_setup("bad --scale-at %s: up to %d increasing sizes >= 1, comma separated", opt_scale_at,
				  MAX_POINTS - 1);
	}
}

static void json_scaling(struct json *j)
{
	json_open(j, "scaling", '{');
	json_str(j, "of", "negative dentries");
	json_open(j, "points", '[');
	for (int i = 0; i < npoints; i++) {
		json_open(j, NULL, '{');
		json_int(j, "n", points[i].n);
		json_int(j, "reps", points[i].reps);
		json_bool(j, "quiet", points[i].quiet);
		json_bool(j, "keepalive", points[i].keepalive);
		json_num(j, "secs", points[i].secs);
		for (int k = 0; k < P_OPS; k++)
			json_lat(j, probe_names[k], &points[i].lat[k]);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

static void *creator(void *arg)
{
	struct worker *w = arg;
	char name[32];
	struct stat st;
	double until = g_opt.duration * opt_create_share;
	doing(w, "fstatat nonexistent");
	while (!stopping() && elapsed_s() < until && !atomic_load(&c.enough)) {
		/* Batches of 256 keep the shared counter off the hot path. */
		hold_if_paused(w);
		long base = atomic_fetch_add(&next_name, 256);
		if (base >= count)
			break;
		for (long i = base; i < base + 256 && i < count; i++) {
			snprintf(name, sizeof(name), "n%07lx", i);
			if (fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				atomic_fetch_add(&c.existed, 1);
			else
				atomic_fetch_add(&c.created, 1);
		}
	}
	atomic_fetch_sub(&running, 1);
	if (atomic_fetch_sub(&c.creating, 1) == 1) {
		c.create_s = elapsed_s();
		note("negative dentries: %lld made in %.1fs", atomic_load(&c.created), c.create_s);
	}
	return NULL;
}

static void check_slow(const char *what, uint64_t ns, long i)
{
	if (opt_max_op_ms > 0 && ns > (uint64_t)opt_max_op_ms * 1000000ull)
		fail(O_SLOW, "%s took %.0f ms (> --max-op-ms %ld) with %lld negative dentries (file%ld)", what, (double)ns / 1e6,
		     opt_max_op_ms, atomic_load(&c.created), i);
}

static void *opener(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 100 + (uint64_t)w->index);
	char name[32];
	while (!stopping()) {
		hold_if_paused(w);
		long i = (long)rng_below(&r, (uint64_t)opt_files);
		snprintf(name, sizeof(name), "file%ld", i);
		doing(w, "open/close");
		uint64_t t0 = now_ns();
		int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fail(ENOENT_OR(errno), "open of existing %s gave %s", name, errname(errno));
			sleep_ms(10);
			continue;
		}
		close(fd);
		uint64_t ns = now_ns() - t0;
		lat_add(&open_lat, ns);
		check_slow("open+close", ns, i);
		atomic_fetch_add(&c.opens, 1);
	}
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len)
			atomic_fetch_add(&c.events, 1);
}

static void *watcher(void *arg)
{
	struct worker *w = arg;
	int fd = -1;
	for (long cycle = 0; !stopping(); cycle++) {
		hold_if_paused(w);
		if (fd < 0 && (fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
			fail(O_FSOP, "inotify_init1 gave %s", errname(errno));
			break;
		}
		/* Watchers share time slots, so their watches overlap and the
		 * directory is unwatched between slots: each slot is one "starts
		 * watching" walk and one "stopped watching" transition. */
		doing(w, "wait for slot");
		uint64_t period = (uint64_t)(2 * opt_hold_ms + 1) * 1000000ull, t = now_ns();
		sleep_ms((double)(period - t % period) / 1e6);
		if (stopping())
			break;
		doing(w, "inotify_add_watch");
		uint64_t t0 = now_ns();
		int wd = inotify_add_watch(fd, opt_dir, IN_OPEN | IN_CLOSE | IN_ACCESS | IN_ATTRIB);
		uint64_t ns = now_ns() - t0;
		if (wd < 0) {
			if (errno == ENOSPC || errno == ENOMEM)
				atomic_fetch_add(&c.watch_enospc, 1);
			else
				fail(O_FSOP, "inotify_add_watch on %s gave %s", opt_dir, errname(errno));
			sleep_ms(50);
			continue;
		}
		lat_add(&add_lat, ns);
		/* Sized by the walk, not by RAM alone: a clean kernel's one walk
		 * must stay under the lockup threshold that the buggy re-walks cross,
		 * whatever TCG's speed today. */
		if (opt_target_walk_ms > 0 && ns >= (uint64_t)opt_target_walk_ms * 1000000ull &&
		    !atomic_exchange(&c.enough, 1))
			note("add_watch walk took %.0f ms with %lld negative dentries: no more are made", (double)ns / 1e6,
			     atomic_load(&c.created));
		doing(w, "hold watch");
		for (int k = 0; k < 10 && !stopping(); k++) {
			sleep_ms((double)opt_hold_ms / 10);
			drain(fd);
		}
		/* Half the cycles drop the watch by closing the group: the other
		 * teardown path, the one inotifywait takes when it exits. */
		if (cycle % 2) {
			doing(w, "close inotify fd");
			t0 = now_ns();
			close(fd);
			fd = -1;
			lat_add(&close_lat, now_ns() - t0);
			atomic_fetch_add(&c.watch_closes, 1);
		} else {
			doing(w, "inotify_rm_watch");
			t0 = now_ns();
			if (inotify_rm_watch(fd, wd))
				fail(O_FSOP, "inotify_rm_watch gave %s", errname(errno));
			ns = now_ns() - t0;
			lat_add(&rm_lat, ns);
			check_slow("inotify_rm_watch", ns, -1);
		}
		atomic_fetch_add(&c.watch_cycles, 1);
	}
	if (fd >= 0)
		close(fd);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static void progress(FILE *f)
{
	fprintf(f, "negative=%lld/%ld opens=%lld watch_cycles=%lld add_p50=%.1fms add_max=%.1fms probes=%d failures=%ld",
		atomic_load(&c.created), count, atomic_load(&c.opens), atomic_load(&c.watch_cycles),
		(double)lat_pct(&add_lat, 50) / 1e6, (double)atomic_load(&add_lat.max) / 1e6, npoints, failures());
}

static void setup(int *made_dir)
{
	*made_dir = mkdir(opt_dir, 0755) == 0;
	if (!*made_dir && errno != EEXIST)
		die_setup("cannot create --dir %s: %s", opt_dir, strerror(errno));
	dirfd_ = open(opt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0)
		die_setup("cannot open --dir %s: %s", opt_dir, strerror(errno));
	char name[32];
	for (long i = 0; i < opt_files; i++) {
		snprintf(name, sizeof(name), "file%ld", i);
		int fd = openat(dirfd_, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			die_setup("cannot create %s/%s: %s", opt_dir, name, strerror(errno));
		close(fd);
	}
	count = opt_count;
	if (count <= 0) {
		long kb = mem_available_kb();
		if (kb <= 0)
			die_setup("cannot read MemAvailable from /proc/meminfo; pass --count");
		count = (long)((double)kb * 1024 * (double)opt_mem_percent / 100 / (double)opt_dentry_bytes);
		if (count > opt_max_count)
			count = opt_max_count;
		if (count < 1000)
			count = 1000;
	}
}

int main(int argc, char **argv)
{
	g_prog = "negdentry-inotify";
	g_opt.duration = 60;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	g_opt.threads = ncpu > 0 ? ncpu : 1;
	struct opt extra[] = {
		{ "dir", OPT_STR, &opt_dir, "directory for the dentries (default /tmp/negdentry; created)" },
		{ "count", OPT_INT, &opt_count, "negative dentries to make, 0 = scale to RAM (default 0)" },
		{ "mem-percent", OPT_INT, &opt_mem_percent, "with --count 0: percent of MemAvailable to fill (default 10)" },
		{ "dentry-bytes", OPT_INT, &opt_dentry_bytes, "with --count 0: assumed bytes per dentry (default 400, KASAN)" },
		{ "max-count", OPT_INT, &opt_max_count, "with --count 0: upper bound (default 4000000)" },
		{ "create-share", OPT_DOUBLE, &opt_create_share, "fraction of --duration creation may use (default 0.5)" },
		{ "openers", OPT_INT, &opt_openers, "threads in open/close loops on the real files (default 4)" },
		{ "files", OPT_INT, &opt_files, "real files in the directory (default 10)" },
		{ "watchers", OPT_INT, &opt_watchers, "threads adding/removing inotify watches (default 2)" },
		{ "hold-ms", OPT_INT, &opt_hold_ms, "ms a watch is held; as long again unwatched (default 100)" },
		{ "watchdog-thresh", OPT_INT, &opt_watchdog, "set kernel.watchdog_thresh for the run, restored after (default: leave)" },
		{ "target-walk-ms", OPT_INT, &opt_target_walk_ms, "stop making dentries once one add_watch takes this long, 0 = off (default 0)" },
		{ "max-op-ms", OPT_INT, &opt_max_op_ms, "fail when one open+close or rm_watch takes longer, 0 = off (default 0)" },
		{ "scale-at", OPT_STR, &opt_scale_at, "probe sizes (negative dentries), comma separated, \"\" = no probes; "
		  "the full count is probed too (default 1000,10000,100000)" },
		{ "scale-reps", OPT_INT, &opt_scale_reps, "add/remove repetitions per probe (default 24)" },
		{ "scale-budget", OPT_DOUBLE, &opt_scale_budget, "seconds one probe may take before it stops repeating (default 6)" },
		{ "kmsg-marks", OPT_FLAG, &opt_kmsg_marks, "write each probe's start and end to /dev/kmsg (the console)" },
		{ "keep", OPT_FLAG, &opt_keep, "leave the directory and files in place" },
		{ NULL, 0, NULL, NULL },
	};
	parse_opts(argc, argv, "Negative dentries plus inotify add/rm and open/close storms in one directory; "
		   "--threads is the number of creator threads (default: CPUs).", extra);
	if (opt_openers < 0 || opt_watchers < 0 || opt_files < 1 || opt_hold_ms < 0 || opt_mem_percent < 1 ||
	    opt_mem_percent > 90 || opt_dentry_bytes < 64 || opt_create_share <= 0 || opt_create_share > 1)
		die_setup("bad sizes: --files >= 1, --openers/--watchers/--hold-ms >= 0, --mem-percent 1..90, "
			  "--dentry-bytes >= 64, --create-share in (0, 1]");
	if (opt_scale_reps < 1 || opt_scale_budget <= 0)
		die_setup("bad probe sizes: --scale-reps >= 1, --scale-budget > 0");
	parse_scale_at();
	snprintf(opt_parent, sizeof(opt_parent), "%s", opt_dir);
	for (size_t len = strlen(opt_parent); len > 1 && opt_parent[len - 1] == '/'; len--)
		opt_parent[len - 1] = 0;
	char *slash = strrchr(opt_parent, '/');
	if (slash && slash != opt_parent)
		*slash = 0;
	else
		snprintf(opt_parent, sizeof(opt_parent), "%s", slash ? "/" : ".");
	int made_dir;
	setup(&made_dir);
	char fsbuf[32], old_thresh[32] = "";
	const char *fs = fs_type_name(opt_dir, fsbuf, sizeof(fsbuf));
	int thresh_set = 0;
	if (opt_watchdog > 0) {
		char v[32];
		snprintf(v, sizeof(v), "%ld", opt_watchdog);
		if (read_file("/proc/sys/kernel/watchdog_thresh", old_thresh, sizeof(old_thresh)) <= 0 ||
		    write_file("/proc/sys/kernel/watchdog_thresh", v, 0))
			note("cannot set kernel.watchdog_thresh (%s): soft lockups use the kernel's threshold",
			     errname(errno));
		else
			thresh_set = 1;
	}
	long long d0 = 0, u0 = 0, n0 = 0, d1 = 0, u1 = 0, n1 = 0;
	dentry_state(&d0, &u0, &n0);
	note("%s (%s): %ld negative dentries by %ld threads, %ld openers on %ld files, %ld watchers", opt_dir, fs,
	     count, g_opt.threads, opt_openers, opt_files, opt_watchers);

	atomic_store(&c.creating, (int)g_opt.threads);
	/* Counted before any starts, so a probe never sees fewer than will run. */
	atomic_store(&running, (int)(g_opt.threads + opt_openers + opt_watchers));
	for (int i = 0; i < g_opt.threads; i++)
		spawn_worker("creator", i, creator, NULL);
	for (int i = 0; i < opt_openers; i++)
		spawn_worker("opener", i, opener, NULL);
	for (int i = 0; i < opt_watchers; i++)
		spawn_worker("watcher", i, watcher, NULL);
	if (*opt_scale_at)
		spawn_worker("prober", 0, prober, NULL);
	long stuck = run_until_deadline(progress);
	dentry_state(&d1, &u1, &n1);
	if (thresh_set)
		write_file("/proc/sys/kernel/watchdog_thresh", old_thresh, 0);
	if (!stuck && !opt_keep) {
		char name[32];
		for (long i = 0; i < opt_files; i++) {
			snprintf(name, sizeof(name), "file%ld", i);
			unlinkat(dirfd_, name, 0);
		}
		if (made_dir)
			rmdir(opt_dir);
	}

	double cs = c.create_s > 0 ? c.create_s : stress_elapsed();
	struct json j;
	json_begin(&j);
	json_str(&j, "dir", opt_dir);
	json_str(&j, "fs", fs);
	json_int(&j, "negative_target", count);
	json_int(&j, "negative_created", atomic_load(&c.created));
	json_int(&j, "names_existed", atomic_load(&c.existed));
	json_num(&j, "create_s", cs);
	json_num(&j, "create_per_s", cs > 0 ? (double)atomic_load(&c.created) / cs : 0);
	json_int(&j, "opens", atomic_load(&c.opens));
	json_int(&j, "watch_cycles", atomic_load(&c.watch_cycles));
	json_int(&j, "watch_closes", atomic_load(&c.watch_closes));
	json_int(&j, "watch_enospc", atomic_load(&c.watch_enospc));
	json_int(&j, "inotify_events", atomic_load(&c.events));
	json_int(&j, "watchdog_thresh", thresh_set ? opt_watchdog : 0);
	json_int(&j, "target_walk_ms", opt_target_walk_ms);
	json_bool(&j, "walk_target_reached", atomic_load(&c.enough));
	json_int(&j, "nr_dentry_before", d0);
	json_int(&j, "nr_negative_before", n0);
	json_int(&j, "nr_dentry_after", d1);
	json_int(&j, "nr_negative_after", n1);
	json_lat(&j, "open_latency", &open_lat);
	json_lat(&j, "add_watch_latency", &add_lat);
	json_lat(&j, "rm_watch_latency", &rm_lat);
	json_lat(&j, "close_watch_latency", &close_lat);
	json_int(&j, "scaling_points", npoints);
	json_scaling(&j);
	return json_finish(&j, atomic_load(&c.created) + atomic_load(&c.opens) + atomic_load(&c.watch_cycles), stuck);
}
