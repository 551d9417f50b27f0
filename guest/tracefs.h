/* tracefs helpers shared by kprobe-churn and eventfs-lookup-race. */
#ifndef HARNESS_TRACEFS_H
#define HARNESS_TRACEFS_H
#include <stdatomic.h>
#include <stddef.h>

/* The tracefs root: `want` if given, else the first of /sys/kernel/tracing
 * and /sys/kernel/debug/tracing that has events/. Exits 2 when none does. */
const char *tracefs_root(const char *want);
/* Appends one command line to a control file under the root ("kprobe_events",
 * "dynamic_events", "synthetic_events"); O_TRUNC instead clears it first. 0 or errno. */
int tfs_cmd(const char *root, const char *file, const char *line, int trunc);
/* 1 when root/name exists. */
int tfs_has(const char *root, const char *name);
/* Fills path (size len) with root/fmt...; returns path. */
char *tfs_path(char *path, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Walks the tree under top like find(1), failing the oracle for every
 * directory that is its own ancestor; counts directories into *dirs.
 * 0, or -errno when top cannot be opened. Stops early when stopping(). */
int find_walk(const char *top, atomic_llong *dirs);
#endif
