/*
 * harness-init: PID 1 of the harness guest.
 *
 * Why our own init: systemd costs seconds of boot under TCG and brings
 * nothing the harness needs; a shell script cannot reap orphans that get
 * reparented to PID 1 (`wait` only knows the shell's own children), and a
 * kernel test that leaves zombies behind must not fill the process table.
 *
 * Contract with the host (harness/image): mount the pseudo file systems,
 * bring networking up, start sshd, print READY_MARKER on the console once
 * sshd is listening, then reap children forever. Nothing here may exit:
 * PID 1 exiting panics the kernel and hides the bug under test. Every
 * failure is one console line and the boot goes on, so the host sees the
 * reason on the console instead of a silent hang.
 *
 * Built statically (gcc -static -O2) at image build; READY_MARKER comes
 * from the builder (-DREADY_MARKER=...) so the host and the guest cannot
 * disagree on it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef READY_MARKER
#error "build with -DREADY_MARKER=\"...\" (the builder passes it)"
#endif

#define SSHD "/usr/sbin/sshd"
#define SSH_PORT 22
/* TCG plus KASAN boots slowly; the host has its own deadline anyway. */
#define SSHD_READY_TIMEOUT_S 300
#define SSHD_MAX_RESTARTS 20

/* ---- pure helpers (compiled and tested on the host) ------------------- */

/*
 * Does a /proc/net/tcp table show a socket listening on `port`?
 * Lines look like "  0: 00000000:0016 00000000:0000 0A ..." (hex port,
 * state 0A = TCP_LISTEN). Reading the table has no side effect, unlike a
 * probe connect(), which sshd would log as a dropped preauth connection.
 */
int tcp_listening(const char *table, unsigned port)
{
	const char *line = table;

	while (line && *line) {
		unsigned sl, lport, rport, st;
		char laddr[65], raddr[65];

		if (sscanf(line, " %u: %64[0-9A-Fa-f]:%x %64[0-9A-Fa-f]:%x %x",
			   &sl, laddr, &lport, raddr, &rport, &st) == 6 &&
		    lport == port && st == 0x0A)
			return 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

/* "12.34" seconds from a timespec, for console lines. */
void format_seconds(char *buf, size_t len, const struct timespec *ts)
{
	snprintf(buf, len, "%ld.%02ld", (long)ts->tv_sec, ts->tv_nsec / 10000000L);
}

#ifndef HARNESS_INIT_NO_MAIN

/* ---- console ------------------------------------------------------------ */

static char *const child_env[] = {
	"PATH=/opt/harness/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"TERM=linux",
	NULL,
};

/* One write() per line so kernel printk output is less likely to split it. */
static void say(const char *fmt, ...)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "harness-init: ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf) - 1)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, n) < 0) {
		/* nowhere left to report to */
	}
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/*
 * The kernel normally hands init /dev/console as fds 0-2. If it could not
 * (no console node on the root it saw), attach them once devtmpfs exists.
 */
static void ensure_console_fds(void)
{
	int fd;

	if (fd_open(0) && fd_open(1) && fd_open(2))
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (!fd_open(i))
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void uptime(char *buf, size_t len)
{
	struct timespec ts = {0, 0};

	clock_gettime(CLOCK_BOOTTIME, &ts);
	format_seconds(buf, len, &ts);
}

/* ---- mounts ------------------------------------------------------------- */

struct mnt {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

static const struct mnt mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666"},
	{"tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
	{"tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
};

/* Something already mounted there (e.g. devtmpfs by CONFIG_DEVTMPFS_MOUNT)? */
static int is_mountpoint(const char *path)
{
	struct stat self, parent;
	char up[256];

	snprintf(up, sizeof(up), "%s/..", path);
	if (stat(path, &self) || stat(up, &parent))
		return 0;
	return self.st_dev != parent.st_dev;
}

static void mount_all(void)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct mnt *m = &mounts[i];

		/* sysfs directories cannot be created; they exist iff configured */
		mkdir(m->target, 0755);
		if (!is_mountpoint(m->target) &&
		    mount(m->source, m->target, m->type, m->flags, m->data))
			say("mount %s on %s failed: %s", m->type, m->target, strerror(errno));
		if (!strcmp(m->target, "/dev"))
			ensure_console_fds();
	}
	/* devtmpfs has no /dev/fd; bash process substitution needs it */
	symlink("/proc/self/fd", "/dev/fd");
	symlink("/proc/self/fd/0", "/dev/stdin");
	symlink("/proc/self/fd/1", "/dev/stdout");
	symlink("/proc/self/fd/2", "/dev/stderr");
}

/* ---- network ------------------------------------------------------------ */

static int if_up(int sock, const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr))
		return -1;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

static int set_addr(int sock, const char *name, unsigned long req, const char *ip)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &sin->sin_addr);
	return ioctl(sock, req, &ifr);
}

/*
 * eth0 is configured by the kernel from ip= on the command line. Should a
 * kernel lack CONFIG_IP_PNP (bisecting old trees), fall back to QEMU's
 * user-network defaults so ssh still works; say so on the console.
 */
static void network_up(void)
{
	struct ifreq ifr;
	struct rtentry rt;
	struct sockaddr_in *sin;
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sock < 0) {
		say("socket(AF_INET) failed: %s", strerror(errno));
		return;
	}
	if (if_up(sock, "lo"))
		say("bringing lo up failed: %s", strerror(errno));

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "eth0", IFNAMSIZ - 1);
	if (ioctl(sock, SIOCGIFADDR, &ifr) == 0) {
		if_up(sock, "eth0");
		close(sock);
		return;
	}
	if (errno == ENODEV) {
		say("no eth0: ssh will not be reachable");
		close(sock);
		return;
	}
	say("eth0 has no address (kernel without IP_PNP?); configuring 10.0.2.15/24");
	if (set_addr(sock, "eth0", SIOCSIFADDR, "10.0.2.15") ||
	    set_addr(sock, "eth0", SIOCSIFNETMASK, "255.255.255.0") ||
	    if_up(sock, "eth0"))
		say("configuring eth0 failed: %s", strerror(errno));
	memset(&rt, 0, sizeof(rt));
	sin = (struct sockaddr_in *)&rt.rt_gateway;
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.2.2", &sin->sin_addr);
	((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
	((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(sock, SIOCADDRT, &rt) && errno != EEXIST)
		say("default route via 10.0.2.2 failed: %s", strerror(errno));
	close(sock);
}

/* ---- sshd --------------------------------------------------------------- */

static pid_t start_sshd(void)
{
	sigset_t none;
	pid_t pid = fork();

	if (pid < 0) {
		say("fork for sshd failed: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* init blocks SIGCHLD; a blocked mask survives exec and sshd must reap */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	int null = open("/dev/null", O_RDONLY);
	if (null >= 0) {
		dup2(null, 0);
		if (null > 2)
			close(null);
	}
	/* -D: stay our child so we know it is alive; -e: errors to the console;
	 * -r: no re-exec per connection, which costs an exec under TCG. */
	execle(SSHD, SSHD, "-D", "-e", "-r", (char *)NULL, child_env);
	say("exec %s failed: %s", SSHD, strerror(errno));
	_exit(127);
}

static int sshd_listening(void)
{
	static char table[65536];
	int fd = open("/proc/net/tcp", O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return 0;
	while (total < (ssize_t)sizeof(table) - 1 &&
	       (n = read(fd, table + total, sizeof(table) - 1 - total)) > 0)
		total += n;
	close(fd);
	table[total] = '\0';
	return tcp_listening(table, SSH_PORT);
}

static void report_exit(const char *what, int status)
{
	if (WIFEXITED(status))
		say("%s exited with status %d", what, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		say("%s killed by signal %d", what, WTERMSIG(status));
}

/*
 * Start sshd and wait until it listens. Returns its pid, or -1 if it never
 * came up. Polls every 20 ms: cheap, and the marker is what the host waits on.
 */
static pid_t sshd_until_listening(void)
{
	struct timespec tick = {0, 20 * 1000 * 1000};
	pid_t pid = start_sshd();
	int status;

	for (long waited_ms = 0; pid > 0 && waited_ms < SSHD_READY_TIMEOUT_S * 1000L;
	     waited_ms += 20) {
		if (sshd_listening())
			return pid;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			report_exit("sshd", status);
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	if (pid > 0)
		say("sshd not listening on port %d after %d s", SSH_PORT, SSHD_READY_TIMEOUT_S);
	return pid;
}

static void announce_ready(void)
{
	char t[32], line[128];
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	int n;

	uptime(t, sizeof(t));
	say("sshd listening on port %d at %s s after boot", SSH_PORT, t);
	n = snprintf(line, sizeof(line), "\n%s\n", READY_MARKER);
	if (write(fd >= 0 ? fd : 1, line, n) < 0)
		say("writing the ready marker failed: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* ---- PID 1 -------------------------------------------------------------- */

static void on_sigchld(int sig)
{
	(void)sig; /* only here so SIGCHLD is never discarded for PID 1 */
}

/*
 * Reap every child, our own and reparented orphans, forever. sshd is
 * restarted if it dies (an OOM kill under stress), so the host can still
 * collect evidence, with a console line saying so.
 */
static void reap_forever(pid_t sshd)
{
	sigset_t chld;
	struct timespec poll = {5, 0};
	int restarts = 0;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	for (;;) {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid != sshd)
				continue;
			report_exit("sshd", status);
			sshd = -1;
			if (restarts++ < SSHD_MAX_RESTARTS) {
				sleep(1);
				say("restarting sshd");
				sshd = start_sshd();
			}
		}
		/* the timeout is a safety net should a SIGCHLD ever be missed */
		sigtimedwait(&chld, NULL, &poll);
	}
}

int main(void)
{
	struct sigaction sa;
	sigset_t chld;
	pid_t sshd;
	char t[32];

	if (getpid() != 1)
		say("warning: not PID 1 (pid %d); orphans will not be reaped here", getpid());
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	umask(022);
	mount_all();
	if (sethostname("harness", 7))
		say("sethostname failed: %s", strerror(errno));
	network_up();
	if (mkdir("/run/sshd", 0755) && errno != EEXIST)
		say("mkdir /run/sshd failed: %s", strerror(errno));
	uptime(t, sizeof(t));
	say("mounts and network done at %s s; starting sshd", t);

	sshd = sshd_until_listening();
	if (sshd > 0 && sshd_listening())
		announce_ready();
	reap_forever(sshd);
	return 0; /* not reached: reap_forever never returns */
}

#endif /* HARNESS_INIT_NO_MAIN */
