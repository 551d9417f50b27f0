/* tracefs helpers shared by kprobe-churn and eventfs-lookup-race. */
#include "common.h"
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *tracefs_root(const char *want)
{
	static const char *candidates[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char p[512];
	struct stat st;
	if (want) {
		snprintf(p, sizeof(p), "%s/events", want);
		if (stat(p, &st) || !S_ISDIR(st.st_mode))
			die_setup("tracefs not usable at %s (no events/ directory): mount tracefs there "
				  "or pass --tracefs DIR", want);
		return want;
	}
	for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++) {
		snprintf(p, sizeof(p), "%s/events", candidates[i]);
		if (!stat(p, &st) && S_ISDIR(st.st_mode))
			return candidates[i];
	}
	die_setup("tracefs not mounted (no /sys/kernel/tracing/events): needs CONFIG_FTRACE and "
		  "'mount -t tracefs nodev /sys/kernel/tracing', or pass --tracefs DIR");
}

int tfs_cmd(const char *root, const char *file, const char *line, int trunc)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, file);
	return write_file(p, line, trunc ? O_TRUNC : O_APPEND);
}

int tfs_has(const char *root, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, name);
	return access(p, F_OK) == 0;
}

char *tfs_path(char *path, size_t len, const char *root, const char *fmt, ...)
{
	int n = snprintf(path, len, "%s/", root);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < len)
		vsnprintf(path + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return path;
}

/* find(1)'s loop check: a directory with the dev+ino of one of its own
 * ancestors is what made find print "File system loop detected" over eventfs
 * when all directories shared one inode number (v6.8-rc1). */
#define MAX_DEPTH 12
struct anc { dev_t dev; ino_t ino; };

static void walk(int dfd, char *path, size_t plen, struct anc *anc, int depth, atomic_llong *dirs)
{
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	struct dirent *de;
	while (!stopping() && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (cfd < 0)
			continue;	/* removed meanwhile, or not a directory */
		if (fstat(cfd, &st)) {
			close(cfd);
			continue;
		}
		atomic_fetch_add(dirs, 1);
		int loop = -1;
		for (int i = 0; i <= depth; i++)
			if (anc[i].dev == st.st_dev && anc[i].ino == st.st_ino)
				loop = i;
		size_t n = strlen(de->d_name);
		if (loop >= 0) {
			fail(O_LOOP, "file system loop: %s/%s has the inode (%lu) of its ancestor %d levels up",
			     path, de->d_name, (unsigned long)st.st_ino, depth + 1 - loop);
			close(cfd);
		} else if (depth + 1 >= MAX_DEPTH || plen + n + 2 >= 1024) {
			close(cfd);
		} else {
			anc[depth + 1] = (struct anc){ st.st_dev, st.st_ino };
			path[plen] = '/';
			memcpy(path + plen + 1, de->d_name, n + 1);
			walk(cfd, path, plen + 1 + n, anc, depth + 1, dirs);
			path[plen] = 0;
		}
	}
	closedir(d);
}

int find_walk(const char *top, atomic_llong *dirs)
{
	char path[1024];
	struct anc anc[MAX_DEPTH];
	struct stat st;
	snprintf(path, sizeof(path), "%s", top);
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = errno;
		close(fd);
		return -err;
	}
	anc[0] = (struct anc){ st.st_dev, st.st_ino };
	walk(fd, path, strlen(path), anc, 0, dirs);
	return 0;
}
