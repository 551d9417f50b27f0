/* Filesystem helpers shared by the programs that work on a directory. */
#ifndef HARNESS_FSUTIL_H
#define HARNESS_FSUTIL_H
#include <stddef.h>

/* "xfs", "ext4", "tmpfs", ... or the magic number in hex, for the JSON. */
const char *fs_type_name(const char *path, char *buf, size_t len);

/* Memory cgroup v2 with a small memory.max for this whole process: eviction
 * pressure on its dentries and inodes. Returns 0, or an errno with why in
 * *why; the program goes on without it. */
int memcg_enter(const char *name, long max_bytes, const char **why);
/* Moves the process back to the root cgroup and removes ours; returns the
 * "max" count of memory.events (how often the limit was hit), or -1. */
long memcg_leave(void);

/* fork + execvp(argv) with stdout/stderr captured, killed after timeout_s.
 * Returns the exit status (0 = success), -1 when it could not run or timed
 * out; the output's last line goes to msg. No shell is involved. */
int run_cmd(char *const argv[], double timeout_s, char *msg, size_t len);

/* Attaches a regular file to a free loop device; dev gets its path. 0 or errno. */
int loop_attach(const char *file, char *dev, size_t len);
void loop_detach(const char *dev);

/* /dev/kmsg from now on: kmsg_open() remembers the end, kmsg_scan() calls
 * hit() for every new record containing one of needles. -1 if unavailable. */
int kmsg_open(void);
int kmsg_scan(const char *const *needles, void (*hit)(const char *line));
#endif
