/* Filesystem helpers shared by the programs that work on a directory. */
#include "common.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

const char *fs_type_name(const char *path, char *buf, size_t len)
{
	static const struct { unsigned long magic; const char *name; } known[] = {
		{ 0x58465342, "xfs" }, { 0xEF53, "ext4" }, { 0x01021994, "tmpfs" },
		{ 0x74726163, "tracefs" }, { 0x9123683E, "btrfs" }, { 0x794c7630, "overlayfs" },
	};
	struct statfs sf;
	if (statfs(path, &sf))
		return "unknown";
	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
		if ((unsigned long)sf.f_type == known[i].magic)
			return known[i].name;
	snprintf(buf, len, "0x%lx", (unsigned long)sf.f_type);
	return buf;
}

#define CG_ROOT "/sys/fs/cgroup"
static char cg_dir[256];

int memcg_enter(const char *name, long max_bytes, const char **why)
{
	char p[320], v[64];
	struct stat st;
	if (stat(CG_ROOT "/cgroup.controllers", &st)) {
		*why = "no cgroup2 hierarchy at " CG_ROOT;
		return ENOENT;
	}
	snprintf(cg_dir, sizeof(cg_dir), CG_ROOT "/harness-%s-%d", name, (int)getpid());
	/* The controller may already be on, or refused: memory.max tells. */
	write_file(CG_ROOT "/cgroup.subtree_control", "+memory", 0);
	if (mkdir(cg_dir, 0755) && errno != EEXIST) {
		*why = "mkdir of the cgroup failed";
		cg_dir[0] = 0;
		return errno;
	}
	snprintf(p, sizeof(p), "%s/memory.max", cg_dir);
	snprintf(v, sizeof(v), "%ld", max_bytes);
	int err = write_file(p, v, 0);
	if (err) {
		*why = "memory.max not writable (memory controller off?)";
		rmdir(cg_dir);
		cg_dir[0] = 0;
		return err;
	}
	snprintf(p, sizeof(p), "%s/cgroup.procs", cg_dir);
	snprintf(v, sizeof(v), "%d", (int)getpid());
	err = write_file(p, v, 0);
	if (err) {
		*why = "moving the process into the cgroup failed";
		rmdir(cg_dir);
		cg_dir[0] = 0;
	}
	return err;
}

long memcg_leave(void)
{
	char p[320], buf[1024], v[32];
	long hits = -1;
	if (!cg_dir[0])
		return -1;
	snprintf(p, sizeof(p), "%s/memory.events", cg_dir);
	if (read_file(p, buf, sizeof(buf)) > 0) {
		char *m = strstr(buf, "\nmax ");
		if (m)
			hits = strtol(m + 5, NULL, 10);
	}
	snprintf(v, sizeof(v), "%d", (int)getpid());
	write_file(CG_ROOT "/cgroup.procs", v, 0);
	rmdir(cg_dir);
	cg_dir[0] = 0;
	return hits;
}

int run_cmd(char *const argv[], double timeout_s, char *msg, size_t len)
{
	int pfd[2];
	msg[0] = 0;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	char tail[1024];
	size_t have = 0;
	int status = 0, done = 0;
	uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);
	while (!done) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			char buf[512];
			ssize_t n = read(pfd[0], buf, sizeof(buf));
			for (ssize_t i = 0; i < n; i++) {
				if (have == sizeof(tail) - 1) {
					memmove(tail, tail + 256, have - 256);
					have -= 256;
				}
				tail[have++] = buf[i];
			}
		}
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			done = 1;
		else if (now_ns() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(msg, len, "%s timed out after %.0fs", argv[0], timeout_s);
			close(pfd[0]);
			return -1;
		}
	}
	close(pfd[0]);
	tail[have] = 0;
	while (have && (tail[have - 1] == '\n' || tail[have - 1] == ' '))
		tail[--have] = 0;
	char *last = strrchr(tail, '\n');
	snprintf(msg, len, "%s", last ? last + 1 : tail);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

int loop_attach(const char *file, char *dev, size_t len)
{
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return errno;
	int n = ioctl(ctl, LOOP_CTL_GET_FREE);
	int err = n < 0 ? errno : 0;
	close(ctl);
	if (err)
		return err;
	snprintf(dev, len, "/dev/loop%d", n);
	int lfd = open(dev, O_RDWR | O_CLOEXEC), ffd = open(file, O_RDWR | O_CLOEXEC);
	if (lfd < 0 || ffd < 0)
		err = errno;
	else if (ioctl(lfd, LOOP_SET_FD, ffd))
		err = errno;
	if (lfd >= 0)
		close(lfd);
	if (ffd >= 0)
		close(ffd);
	return err;
}

void loop_detach(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
	}
}

static int kmsg_fd = -1;

int kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		return -1;
	lseek(kmsg_fd, 0, SEEK_END);
	return 0;
}

int kmsg_scan(const char *const *needles, void (*hit)(const char *line))
{
	if (kmsg_fd < 0)
		return -1;
	char rec[2048];
	int hits = 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on with the next */
		if (n <= 0)
			break;
		rec[n] = 0;
		char *text = strchr(rec, ';');	/* "prio,seq,ts,flags;message" */
		text = text ? text + 1 : rec;
		char *nl = strchr(text, '\n');
		if (nl)
			*nl = 0;
		for (const char *const *p = needles; *p; p++)
			if (strstr(text, *p)) {
				hit(text);
				hits++;
				break;
			}
	}
	return hits;
}
