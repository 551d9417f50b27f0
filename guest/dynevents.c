/* Dynamic trace events (kprobe, synthetic, user) and the eventfs oracles
 * that hold for an event whose owner knows it exists or is gone. */
#include "common.h"
#include "dynevents.h"
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const kind_name[NKINDS] = { "kprobe", "synth", "user" };
const char *const kind_group[NKINDS] = { "kprobes", "synthetic", "user_events" };
struct ev_opts ev_opts = { .symbol = "schedule" };
atomic_llong ev_present_checks, ev_gone_checks;
struct lat ev_lookup_lat;

void ev_init(struct ev *e, enum ev_kind k, const char *name)
{
	e->kind = k;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->dir, sizeof(e->dir), "%s/events/%s/%s", ev_opts.root, kind_group[k], e->name);
}

int ev_add(struct ev *e, struct rng *r)
{
	char line[200];
	int dyn = (int)rng_below(r, 2);
	switch (e->kind) {
	case KPROBE:
		snprintf(line, sizeof(line), dyn ? "p:kprobes/%s %s" : "p:%s %s", e->name, ev_opts.symbol);
		return tfs_cmd(ev_opts.root, dyn ? "dynamic_events" : "kprobe_events", line, 0);
	case SYNTH:
		snprintf(line, sizeof(line), dyn ? "s:%s u64 lat; pid_t pid" : "%s u64 lat; pid_t pid", e->name);
		return tfs_cmd(ev_opts.root, dyn ? "dynamic_events" : "synthetic_events", line, 0);
	default:
		snprintf(line, sizeof(line), "u:%s u32 count", e->name);
		return tfs_cmd(ev_opts.root, "dynamic_events", line, 0);
	}
}

int ev_remove(struct ev *e, struct rng *r)
{
	char line[200];
	int how = (int)rng_below(r, 3);
	switch (e->kind) {
	case KPROBE:
		snprintf(line, sizeof(line), how ? "-:%s" : "-:kprobes/%s", e->name);
		return tfs_cmd(ev_opts.root, how ? "kprobe_events" : "dynamic_events", line, 0);
	case SYNTH:
		/* Truncation goes through dyn_events_release_all(), the path of the
		 * 2024 tracing_open_file_tr use-after-free; it only clears our event. */
		if (how == 0 && !ev_opts.no_truncate)
			return tfs_cmd(ev_opts.root, "synthetic_events", "", 1);
		if (how == 1) {
			snprintf(line, sizeof(line), "-:synthetic/%s", e->name);
			return tfs_cmd(ev_opts.root, "dynamic_events", line, 0);
		}
		snprintf(line, sizeof(line), "!%s", e->name);
		return tfs_cmd(ev_opts.root, "synthetic_events", line, 0);
	default:
		snprintf(line, sizeof(line), how ? "-:user_events/%s" : "-:%s", e->name);
		return tfs_cmd(ev_opts.root, "dynamic_events", line, 0);
	}
}

void ev_disable(struct ev *e)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/enable", e->dir);
	write_file(p, "0", 0);
}

/* The churner owns e: it exists now, so every lookup must succeed. */
void ev_check_present(struct ev *e, const char *when)
{
	/* "id" exists only with CONFIG_PERF_EVENTS: not something to insist on. */
	static const char *files[] = { "enable", "format" };
	char p[512], buf[256];
	struct stat st;
	atomic_fetch_add(&ev_present_checks, 1);
	uint64_t t0 = now_ns();
	if (stat(e->dir, &st)) {
		int err = errno;
		fail(ENOENT_OR(err), "%s %s: stat events/%s/%s gave %s %s", kind_name[e->kind], e->name,
		     kind_group[e->kind], e->name, errname(err), when);
		return;
	}
	lat_add(&ev_lookup_lat, now_ns() - t0);
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(p, sizeof(p), "%s/%s", e->dir, files[i]);
		long n = read_file(p, buf, sizeof(buf));
		if (n < 0)
			fail(ENOENT_OR((int)-n), "%s %s: open/read %s gave %s %s", kind_name[e->kind], e->name,
			     files[i], errname((int)-n), when);
	}
	snprintf(p, sizeof(p), "%s/events/%s", ev_opts.root, kind_group[e->kind]);
	DIR *d = opendir(p);
	if (!d) {
		fail(ENOENT_OR(errno), "%s %s: opendir events/%s gave %s %s", kind_name[e->kind], e->name, kind_group[e->kind],
		     errname(errno), when);
		return;
	}
	int found = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)))
		found |= !strcmp(de->d_name, e->name);
	if (errno)
		fail(ENOENT_OR(errno), "%s %s: readdir events/%s gave %s %s", kind_name[e->kind], e->name, kind_group[e->kind],
		     errname(errno), when);
	else if (!found)
		fail(O_LOOKUP, "%s %s: readdir events/%s does not list it %s", kind_name[e->kind], e->name,
		     kind_group[e->kind], when);
	closedir(d);
}

/* The churner removed e: its files must be gone, not ghosts. */
void ev_check_gone(struct ev *e)
{
	static const char *names[] = { "", "/enable", "/format" };
	char p[512];
	struct stat st;
	atomic_fetch_add(&ev_gone_checks, 1);
	/* One report per check: the first way the removed event still shows. */
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(p, sizeof(p), "%s%s", e->dir, names[i]);
		if (!stat(p, &st)) {
			fail(O_GHOST, "%s %s: stat events/%s/%s%s succeeds after removal", kind_name[e->kind], e->name,
			     kind_group[e->kind], e->name, names[i]);
			return;
		}
		if (errno != ENOENT) {
			fail(O_GHOST, "%s %s: stat %s%s after removal gave %s, expected ENOENT", kind_name[e->kind],
			     e->name, e->name, names[i], errname(errno));
			return;
		}
	}
	snprintf(p, sizeof(p), "%s/enable", e->dir);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		fail(O_GHOST, "%s %s: events/%s/%s/enable opens after removal", kind_name[e->kind], e->name,
		     kind_group[e->kind], e->name);
	} else if (errno != ENOENT) {
		fail(O_GHOST, "%s %s: open enable after removal gave %s, expected ENOENT", kind_name[e->kind], e->name,
		     errname(errno));
	}
}
