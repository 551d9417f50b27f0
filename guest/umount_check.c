/* umount-check: mount, stress, unmount XFS, ext4 and tmpfs over and over
 * (docs/bugs.md family 4: "Dentry ... still in use", "Busy inodes after unmount",
 * and the nr_negative drift of /proc/sys/fs/dentry-state).
 *
 * Every stress thread closes what it opened before it is joined, so the
 * unmount that follows must succeed: EBUSY means the kernel kept a
 * reference. The kernel's own complaints at unmount are read back from
 * /dev/kmsg. Then a create/unlink storm with drop_caches spinning must leave
 * nr_negative where it started once caches are dropped.
 */
#include "common.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *opt_device, *opt_fs = "xfs,ext4,tmpfs", *opt_mnt = "/mnt/harness-umount";
/* neg-slack: after drop_caches a quiet guest has no negative dentries on an
 * LRU, and every clean-kernel run so far settled at exactly 0; the leaky
 * counter of bug 07 settled at 44-76 after 90 s, so 200 missed it. */
static long opt_files = 100, opt_negative = 20000, opt_neg_slack = 8, opt_storm_threads = 4;
static long opt_storm_files = 100, opt_mkfs_timeout = 120, opt_tmpfs_size = 64L << 20;
static double opt_cycle_sec = 6, opt_storm_sec = 2;

#define MAX_FS 8
static const char *fslist[MAX_FS];
static int nfs;
static char device[256];
static atomic_int cycle_stop;
static atomic_long next_neg;

static struct {
	atomic_llong cycles, fs_cycles[MAX_FS], mkfs_runs, lookups, negative, churn, watches, held;
	atomic_llong umount_retries, storm_ops, storm_drops, samples, kmsg_hits;
	long long neg_baseline, neg_after_storm, neg_after_umount, worst_drift;
} c;
static struct lat umount_lat, mount_lat, mkfs_lat;

static int over(void) { return stopping() || atomic_load(&cycle_stop); }

static void nap_ms(long ms)
{
	/* Unlike sleep_ms(), also waits after the deadline: cleanup needs it. */
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void *stress(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, (uint64_t)atomic_load(&c.cycles) * 64 + (uint64_t)w->index);
	char p[512], q[512];
	struct stat st;
	int ino = -1, role = w->index % 4, fds[8];
	int nfd = 0;
	while (!over()) {
		long d = (long)rng_below(&r, 4), f = (long)rng_below(&r, (uint64_t)opt_files);
		snprintf(p, sizeof(p), "%s/d%ld/f%ld", opt_mnt, d, f);
		switch (role) {
		case 0:	/* lookups, most of them of names that do not exist */
			doing(w, "lookup");
			if (stat(p, &st))
				fail(ENOENT_OR(errno), "stat of existing %s gave %s", p, errname(errno));
			long n = atomic_fetch_add(&next_neg, 1);
			snprintf(q, sizeof(q), "%s/d%ld/neg%ld", opt_mnt, d, n < opt_negative ? n : n % 97);
			if (!stat(q, &st))
				fail(O_LOOKUP, "%s exists but was never created", q);
			atomic_fetch_add(&c.lookups, 1);
			atomic_fetch_add(&c.negative, n < opt_negative);
			break;
		case 1:	/* inotify watches on the directories and files */
			doing(w, "inotify");
			if (ino < 0 && (ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
				break;
			snprintf(q, sizeof(q), "%s/d%ld", opt_mnt, d);
			if (inotify_add_watch(ino, q, IN_ALL_EVENTS) >= 0)
				atomic_fetch_add(&c.watches, 1);
			inotify_add_watch(ino, p, IN_OPEN | IN_CLOSE);
			if (rng_below(&r, 8) == 0) {
				close(ino);	/* drops every watch, like inotifywait exiting */
				ino = -1;
			}
			sleep_ms(5);
			break;
		case 2:	/* create/unlink/rename/mkdir/rmdir churn */
			doing(w, "churn");
			snprintf(p, sizeof(p), "%s/d%ld/c%d_%ld", opt_mnt, d, w->index, f);
			snprintf(q, sizeof(q), "%s/d%ld/r%d_%ld", opt_mnt, d, w->index, f);
			int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			if (fd >= 0)
				close(fd);
			if (rename(p, q) || unlink(q))
				fail(O_FSOP, "churn: rename/unlink %s gave %s", q, errname(errno));
			snprintf(p, sizeof(p), "%s/d%ld/s%d", opt_mnt, d, w->index);
			if (!mkdir(p, 0755))
				rmdir(p);
			atomic_fetch_add(&c.churn, 1);
			break;
		default:	/* files and directories held open for a while */
			doing(w, "hold");
			if (nfd == 8) {
				while (nfd)
					close(fds[--nfd]);
			}
			fds[nfd] = open(rng_below(&r, 2) ? p : opt_mnt, O_RDONLY | O_CLOEXEC);
			if (fds[nfd] >= 0) {
				nfd++;
				atomic_fetch_add(&c.held, 1);
			}
			sleep_ms(2);
		}
	}
	doing(w, "closing");
	while (nfd)
		close(fds[--nfd]);
	if (ino >= 0)
		close(ino);
	return NULL;
}

static void *storm(void *arg)
{
	struct worker *w = arg;
	char p[512];
	while (!over()) {
		doing(w, "create");
		long k;
		for (k = 0; k < opt_storm_files && !over(); k++) {
			snprintf(p, sizeof(p), "%s/s%d_%ld", opt_mnt, w->index, k);
			int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			if (fd >= 0)
				close(fd);
		}
		doing(w, "unlink");
		for (long i = 0; i < k; i++) {
			snprintf(p, sizeof(p), "%s/s%d_%ld", opt_mnt, w->index, i);
			unlink(p);
		}
		atomic_fetch_add(&c.storm_ops, 2 * k);
	}
	return NULL;
}

static void *dropper(void *arg)
{
	struct worker *w = arg;
	doing(w, "drop_caches");
	while (!over() && !drop_dentries()) {
		atomic_fetch_add(&c.storm_drops, 1);
		sleep_ms(10);
	}
	return NULL;
}

/* nr_negative once caches are dropped, or -1 when it cannot be had. */
static long long settled_negative(long long *nr_dentry, long long *nr_unused)
{
	long long d, u, n;
	if (drop_dentries() || drop_dentries() || dentry_state(&d, &u, &n))
		return -1;
	*nr_dentry = d;
	*nr_unused = u;
	return n;
}

/* Negative dentries are counted only while on an LRU list, so after a drop
 * they are a subset of the unused ones; the small slack covers the two
 * per-CPU sums being read one after the other. */
#define UNUSED_SLACK 50

static void check_negative(long long n, long long d, long long unused, const char *when)
{
	if (n < 0 || c.neg_baseline < 0)
		return;
	long long drift = n - c.neg_baseline;
	if (drift > c.worst_drift)
		c.worst_drift = drift;
	if (n > d)
		fail(O_DRIFT, "dentry-state %s: nr_negative %lld exceeds nr_dentry %lld", when, n, d);
	else if (n > unused + UNUSED_SLACK)
		fail(O_DRIFT, "dentry-state %s: nr_negative %lld exceeds nr_unused %lld after drop_caches", when, n,
		     unused);
	else if (drift > opt_neg_slack)
		fail(O_DRIFT, "dentry-state %s: nr_negative %lld after drop_caches, baseline %lld (drift %lld > %ld)", when,
		     n, c.neg_baseline, drift, opt_neg_slack);
}

static void run_storm(void)
{
	long long d, u, n;
	/* One baseline for the whole run: the drift of a leaky counter only
	 * grows, so it adds up over the storms. */
	static int have_baseline;
	if (!have_baseline) {
		c.neg_baseline = settled_negative(&d, &u);
		have_baseline = 1;
	}
	if (c.neg_baseline < 0) {
		note("drop_caches or dentry-state unavailable: negative-dentry check skipped");
		opt_storm_sec = 0;
		return;
	}
	struct worker *ws[65];
	int nw = 0;
	for (int i = 0; i < opt_storm_threads; i++)
		ws[nw++] = spawn_worker("storm", i, storm, NULL);
	ws[nw++] = spawn_worker("storm-dropper", 0, dropper, NULL);
	int reported = 0;
	for (uint64_t end = now_ns() + (uint64_t)(opt_storm_sec * 1e9); now_ns() < end && !stopping();) {
		sleep_ms(50);
		if (dentry_state(&d, &u, &n))
			break;
		atomic_fetch_add(&c.samples, 1);
		/* The two sums are read apart, so allow some slack while it churns. */
		if (!reported && (n > d + 1000 || n > (1LL << 40))) {
			fail(O_DRIFT, "dentry-state during storm: nr_negative %lld vs nr_dentry %lld", n, d);
			reported = 1;
		}
	}
	atomic_store(&cycle_stop, 1);
	for (int i = 0; i < nw; i++)
		join_worker(ws[i]);
	atomic_store(&cycle_stop, 0);
	c.neg_after_storm = settled_negative(&d, &u);
	check_negative(c.neg_after_storm, d, u, "after the storm");
}

static void kmsg_hit(const char *line)
{
	atomic_fetch_add(&c.kmsg_hits, 1);
	fail(O_KMSG, "kernel: %.200s", line);
}

static int do_mkfs(const char *fs, char *err, size_t len)
{
	char *xfs[] = { "mkfs.xfs", "-f", "-q", device, NULL };
	char *ext4[] = { "mkfs.ext4", "-F", "-q", device, NULL };
	uint64_t t0 = now_ns();
	int rc = run_cmd(strcmp(fs, "xfs") ? ext4 : xfs, (double)opt_mkfs_timeout, err, len);
	lat_add(&mkfs_lat, now_ns() - t0);
	atomic_fetch_add(&c.mkfs_runs, 1);
	return rc;
}

static int do_mount(const char *fs)
{
	char opts[64];
	uint64_t t0 = now_ns();
	int rc;
	if (!strcmp(fs, "tmpfs")) {
		snprintf(opts, sizeof(opts), "size=%ld", opt_tmpfs_size);
		rc = mount("harness-tmpfs", opt_mnt, "tmpfs", MS_NOATIME, opts);
	} else {
		rc = mount(device, opt_mnt, fs, MS_NOATIME, NULL);
	}
	lat_add(&mount_lat, now_ns() - t0);
	return rc ? errno : 0;
}

static void populate(void)
{
	char p[512];
	for (int d = 0; d < 4; d++) {
		snprintf(p, sizeof(p), "%s/d%d", opt_mnt, d);
		if (mkdir(p, 0755) && errno != EEXIST)
			fail(O_FSOP, "mkdir %s gave %s", p, errname(errno));
		for (long f = 0; f < opt_files; f++) {
			snprintf(p, sizeof(p), "%s/d%d/f%ld", opt_mnt, d, f);
			int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
			if (fd < 0)
				fail(O_FSOP, "create %s gave %s", p, errname(errno));
			else
				close(fd);
		}
	}
}

static void do_umount(const char *fs)
{
	uint64_t t0 = now_ns();
	for (int tries = 0; umount2(opt_mnt, 0); tries++) {
		int err = errno;
		if (err == EBUSY && tries < 3) {
			atomic_fetch_add(&c.umount_retries, 1);
			nap_ms(200);
			continue;
		}
		fail(O_BUSY, "umount %s (%s) gave %s with every file closed", opt_mnt, fs, errname(err));
		umount2(opt_mnt, MNT_DETACH);
		return;
	}
	lat_add(&umount_lat, now_ns() - t0);
}

/* ---------------------------------------------------------- scaling probe
 * Unmounting frees every dentry the filesystem holds
 * (shrink_dcache_for_umount), so umount's cost is O(n) on a sound kernel;
 * a kernel that rescans per dentry makes it O(n^2). The probe mounts the
 * scratch filesystem read-only, makes --scale-at negative dentries in its
 * root, and times umount alone, at each size of one run. The harness
 * judges the growth of the cost per dentry between sizes
 * (harness/scaling.py), so TCG's speed cancels.
 *
 * Negative dentries on xfs or ext4, not tmpfs: tmpfs's simple_lookup()
 * drops negative dentries at once and its files cost a create each. A
 * read-only mount: the unmount writes nothing back and flushes no journal,
 * so its fixed cost, which only blurs the per-dentry one, stays small. */
#define MAX_POINTS 8
static const char *opt_scale_at = "";
static double opt_scale_budget = 20;
/* Timings per size: one umount is one window of the host's scheduling, and a
 * window starved at the largest size alone moved a throwaway superlinear
 * kernel's ratio from x5-x10 to x2.7; the median of three is one window less
 * likely to be the odd one. */
static long opt_scale_reps = 3;
static int opt_kmsg_marks;
static long scale_at[MAX_POINTS];
static int nscale_at;
static struct point {
	long target, made, held, reps;	/* held: nr_dentry freed by the (first) umount */
	double make_s, umount_s;
	struct lat umount;
} points[MAX_POINTS];
static int npoints;
static atomic_long probe_next, probe_made;
static _Atomic uint64_t probe_until;
static int probe_dir = -1;

static void *neg_maker(void *arg)
{
	struct worker *w = arg;
	char name[32];
	struct stat st;
	long target = (long)(intptr_t)w->arg;
	doing(w, "probe: fstatat nonexistent");
	for (long k; (k = atomic_fetch_add(&probe_next, 1)) < target;) {
		if ((k & 63) == 0 && (stopping() || now_ns() > atomic_load(&probe_until)))
			break;
		snprintf(name, sizeof(name), "p%ld", k);
		if (!fstatat(probe_dir, name, &st, AT_SYMLINK_NOFOLLOW)) {
			fail(O_LOOKUP, "%s/%s exists but was never created", opt_mnt, name);
			break;
		}
		if (errno != ENOENT) {
			fail(O_FSOP, "probe: fstatat %s/%s gave %s", opt_mnt, name, errname(errno));
			break;
		}
		atomic_fetch_add(&probe_made, 1);
	}
	return NULL;
}

static void kmsg_mark(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void kmsg_mark(const char *fmt, ...)
{
	char mark[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(mark, sizeof(mark), fmt, ap);
	va_end(ap);
	if (opt_kmsg_marks)
		write_file("/dev/kmsg", mark, 0);
}

/* One timing into *p: a read-only mount, `target` negative dentries, a timed
 * umount. 0, or -1 when the probe cannot go on. */
static int probe_point(const char *fs, long target, double until_s, struct point *p)
{
	if (mount(device, opt_mnt, fs, MS_RDONLY | MS_NOATIME, NULL)) {
		note("scaling probe: read-only mount of %s gave %s: probe stopped", fs, errname(errno));
		return -1;
	}
	probe_dir = open(opt_mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (probe_dir < 0) {
		fail(O_FSOP, "open %s gave %s", opt_mnt, errname(errno));
		umount2(opt_mnt, MNT_DETACH);
		return -1;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nw = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	struct worker *ws[8];
	atomic_store(&probe_next, 0);
	atomic_store(&probe_made, 0);
	atomic_store(&probe_until, now_ns() + (uint64_t)((until_s - elapsed_s()) * 1e9));
	uint64_t t0 = now_ns();
	for (int i = 0; i < nw; i++)
		ws[i] = spawn_worker("probe-maker", i, neg_maker, (void *)(intptr_t)target);
	long stuck = 0;
	for (int i = 0; i < nw; i++)
		stuck += join_worker(ws[i]);
	p->make_s = (double)(now_ns() - t0) / 1e9;
	p->target = target;
	p->made = atomic_load(&probe_made);
	close(probe_dir);
	probe_dir = -1;
	if (stuck) {
		umount2(opt_mnt, MNT_DETACH);
		return -1;
	}
	long long d0 = -1, d1 = -1, u, n;
	if (dentry_state(&d0, &u, &n))
		d0 = -1;
	/* On the console, so the vCPU ledger (vcpu.tsv) can tell an umount
	 * the host starved from one the kernel slowed. */
	kmsg_mark("umount-check: scaling probe at %ld dentries (%s)\n", p->made, fs);
	t0 = now_ns();
	int rc = umount2(opt_mnt, 0), err = errno;
	uint64_t ns = now_ns() - t0;
	kmsg_mark("umount-check: scaling probe done in %.3fs\n", (double)ns / 1e9);
	if (rc) {
		/* As do_umount(): a transient EBUSY gets retries, but the timing is spoilt. */
		for (int tries = 0; rc && err == EBUSY && tries < 3; tries++) {
			atomic_fetch_add(&c.umount_retries, 1);
			nap_ms(200);
			rc = umount2(opt_mnt, 0);
			err = errno;
		}
		if (rc) {
			fail(O_BUSY, "umount %s (%s, read-only, nothing open) gave %s", opt_mnt, fs, errname(err));
			umount2(opt_mnt, MNT_DETACH);
		} else {
			note("scaling probe: umount needed a retry; point dropped, probe stopped");
		}
		return -1;
	}
	if (d0 >= 0 && !dentry_state(&d1, &u, &n))
		p->held = d0 > d1 ? (long)(d0 - d1) : 0;
	else
		p->held = p->made;
	lat_add(&p->umount, ns);
	p->umount_s = (double)ns / 1e9;
	p->reps = 1;
	note("scaling probe: %ld negative dentries made in %.1fs, umount freed %ld in %.3fs", p->made, p->make_s,
	     p->held, p->umount_s);
	return 0;
}

/* The probe, after the first pass over the filesystems, within
 * --scale-budget and the deadline: a size the measured rates say cannot be
 * made and unmounted in the time left is cut to what can, or not started,
 * so a short run gets fewer or smaller points. */
static void scale_probe(const char *fs)
{
	if (!nscale_at || !fs)
		return;
	double until = elapsed_s() + opt_scale_budget, rate = 0, per_dentry = 0;
	if (until > g_opt.duration - 1)
		until = g_opt.duration - 1;
	for (int i = 0; i < nscale_at && npoints < MAX_POINTS && !stopping(); i++) {
		double left = until - elapsed_s();
		/* What fits in the time left: making them at the rate measured so
		 * far, a second for the mount, and the umount at the cheapest cost
		 * per dentry seen, so a kernel whose umount is slow per dentry still
		 * gets its largest size timed (past the budget: that slowness is the
		 * finding). Host load moves the rate 3x between runs: a size that
		 * does not fit is cut to what does, unless that is under half. */
		long target = scale_at[i];
		if (rate > 0 && left > 1) {
			double fit = (left - 1) / (1 / rate + per_dentry);
			if (fit < (double)target)
				target = (long)fit;
		}
		if (left < 2 || target < scale_at[i] / 2) {
			note("scaling probe: no time left for %ld dentries (%.1fs left, %ld would fit)", scale_at[i], left,
			     target);
			break;
		}
		struct point *p = &points[npoints];
		if (probe_point(fs, target, until - 1, p))
			break;
		npoints++;
		if (p->make_s > 0)
			rate = (double)p->made / p->make_s;
		if (p->held > 0 && (per_dentry == 0 || p->umount_s / (double)p->held < per_dentry))
			per_dentry = p->umount_s / (double)p->held;
		if (p->made < scale_at[i])
			break;	/* cut short: no time for a larger size */
	}
	/* Then more timings, size after size, while one more fits: every size
	 * is timed before any is timed again, and the repeats of the sizes are
	 * interleaved, so a stretch of host load falls on all of them alike. A
	 * repeat cut short by the clock is not a timing of its size. */
	for (long rep = 1; rep < opt_scale_reps; rep++) {
		for (int i = 0; i < npoints; i++) {
			struct point *p = &points[i], again = { 0 };
			if (stopping() || elapsed_s() + p->make_s + p->umount_s + 1 >= until - 1)
				return;
			if (probe_point(fs, p->target, until - 1, &again) || again.made < p->made)
				return;
			lat_add(&p->umount, (uint64_t)(again.umount_s * 1e9));
			p->reps++;
		}
	}
}

static void parse_scale_at(void)
{
	const char *s = opt_scale_at;
	while (*s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end == s || v < 1 || nscale_at >= MAX_POINTS || (nscale_at && v <= scale_at[nscale_at - 1]) ||
		    (*end && *end != ','))
			die_setup("bad --scale-at %s: up to %d increasing sizes >= 1, comma separated", opt_scale_at,
				  MAX_POINTS);
		scale_at[nscale_at++] = v;
		s = *end == ',' ? end + 1 : end;
	}
}

static void json_scaling(struct json *j)
{
	json_open(j, "scaling", '{');
	json_str(j, "of", "dentries");
	json_open(j, "points", '[');
	for (int i = 0; i < npoints; i++) {
		json_open(j, NULL, '{');
		json_int(j, "n", points[i].held);
		json_int(j, "target", points[i].target);
		json_int(j, "made", points[i].made);
		json_num(j, "make_s", points[i].make_s);
		json_int(j, "reps", points[i].reps);
		json_lat(j, "umount", &points[i].umount);
		json_close(j, '}');
	}
	json_close(j, ']');
	json_close(j, '}');
}

static void progress(FILE *f)
{
	fprintf(f, "cycles=%lld lookups=%lld churn=%lld watches=%lld storm_ops=%lld failures=%ld",
		atomic_load(&c.cycles), atomic_load(&c.lookups), atomic_load(&c.churn), atomic_load(&c.watches),
		atomic_load(&c.storm_ops), failures());
}

/* One mount-stress-unmount cycle; returns a setup error message or NULL. */
static const char *cycle(int k, const char **on_device, int first)
{
	static char why[800];
	const char *fs = fslist[k];
	char err[300];
	int need_mkfs = strcmp(fs, "tmpfs") && (!*on_device || strcmp(*on_device, fs));
	/* mkfs and mount take seconds under TCG: say what is going on. */
	note("mount %lld: %s%s", atomic_load(&c.cycles) + 1, fs, need_mkfs ? " (mkfs first)" : "");
	if (need_mkfs) {
		int rc = do_mkfs(fs, err, sizeof(err));
		if (rc) {
			snprintf(why, sizeof(why), "mkfs.%s %s failed (%d): %s", fs, device, rc, err);
			return why;
		}
		*on_device = fs;
	}
	int e = do_mount(fs);
	if (e && first) {
		snprintf(why, sizeof(why), "cannot mount %s on %s: %s", fs, opt_mnt, strerror(e));
		return why;
	}
	if (e) {
		fail(O_FSOP, "mount %s on %s gave %s", fs, opt_mnt, errname(e));
		return NULL;
	}
	populate();
	atomic_store(&next_neg, 0);
	struct worker *ws[1024];
	for (int i = 0; i < g_opt.threads; i++)
		ws[i] = spawn_worker("stress", i, stress, NULL);
	uint64_t end = now_ns() + (uint64_t)(opt_cycle_sec * 1e9);
	while (now_ns() < end && !deadline_passed()) {
		sleep_ms(100);
		progress_tick(progress);
	}
	atomic_store(&cycle_stop, 1);
	long stuck = 0;
	for (int i = 0; i < g_opt.threads; i++)
		stuck += join_worker(ws[i]);
	atomic_store(&cycle_stop, 0);
	if (stuck)
		return NULL;	/* their fds pin the mount; the caller stops */
	if (opt_storm_sec > 0 && !deadline_passed())
		run_storm();
	do_umount(fs);
	kmsg_scan((const char *const[]){ "still in use", "Busy inodes after unmount", NULL }, kmsg_hit);
	if (opt_storm_sec > 0 && c.neg_baseline >= 0) {
		long long d = 0, unused = 0;
		c.neg_after_umount = settled_negative(&d, &unused);
		check_negative(c.neg_after_umount, d, unused, "after unmount");
	}
	atomic_fetch_add(&c.cycles, 1);
	atomic_fetch_add(&c.fs_cycles[k], 1);
	return NULL;
}

int main(int argc, char **argv)
{
	g_prog = "umount-check";
	g_opt.duration = 60;
	struct opt extra[] = {
		{ "device", OPT_STR, &opt_device, "scratch block device (or a file, attached to a loop device) for xfs/ext4" },
		{ "fs", OPT_STR, &opt_fs, "comma list of xfs, ext4, tmpfs, cycled in order (default xfs,ext4,tmpfs)" },
		{ "mountpoint", OPT_STR, &opt_mnt, "where to mount (default /mnt/harness-umount; created)" },
		{ "cycle-sec", OPT_DOUBLE, &opt_cycle_sec, "seconds of stress per mount (default 6)" },
		{ "files", OPT_INT, &opt_files, "files per directory, 4 directories (default 100)" },
		{ "negative", OPT_INT, &opt_negative, "negative dentries made per mount (default 20000)" },
		{ "storm-sec", OPT_DOUBLE, &opt_storm_sec, "seconds of create/unlink + drop_caches storm per mount, 0 = no dentry-state check (default 2)" },
		{ "storm-threads", OPT_INT, &opt_storm_threads, "create/unlink storm threads (default 4)" },
		{ "storm-files", OPT_INT, &opt_storm_files, "files each storm thread creates then unlinks (default 100)" },
		{ "neg-slack", OPT_INT, &opt_neg_slack, "allowed nr_negative growth over the baseline (default 8)" },
		{ "mkfs-timeout", OPT_INT, &opt_mkfs_timeout, "seconds mkfs may take (default 120)" },
		{ "tmpfs-size", OPT_SIZE, &opt_tmpfs_size, "tmpfs size (default 64M)" },
		{ "scale-at", OPT_STR, &opt_scale_at, "scaling probe: negative dentries held at each timed umount, comma "
		  "separated, on the xfs or ext4 last made (default \"\": no probe)" },
		{ "scale-budget", OPT_DOUBLE, &opt_scale_budget, "seconds the probe may take (default 20)" },
		{ "scale-reps", OPT_INT, &opt_scale_reps, "umounts timed per size, the median judged, as time allows (default 3)" },
		{ "kmsg-marks", OPT_FLAG, &opt_kmsg_marks, "write each probed umount's start and end to /dev/kmsg (the console)" },
		{ NULL, 0, NULL, NULL },
	};
	parse_opts(argc, argv, "Mount, stress and unmount filesystems in turn; fails on EBUSY at unmount, "
		   "on the kernel's unmount complaints and on nr_negative drift. --threads: stress threads per mount.",
		   extra);
	if (opt_files < 1 || opt_negative < 0 || opt_storm_threads < 1 || opt_storm_threads > 64 ||
	    opt_cycle_sec <= 0 || opt_storm_sec < 0 || g_opt.threads > 1024)
		die_setup("bad sizes: --files >= 1, --storm-threads 1..64, --cycle-sec > 0, --storm-sec >= 0");
	if (opt_scale_budget <= 0)
		die_setup("bad --scale-budget %g: seconds > 0", opt_scale_budget);
	if (opt_scale_reps < 1 || opt_scale_reps > 9)
		die_setup("bad --scale-reps %ld: 1 to 9", opt_scale_reps);
	parse_scale_at();
	int need_dev = 0;
	for (char *s = strdup(opt_fs), *tok; (tok = strsep(&s, ","));) {
		if (strcmp(tok, "xfs") && strcmp(tok, "ext4") && strcmp(tok, "tmpfs"))
			die_setup("--fs: unknown filesystem '%s' (known: xfs, ext4, tmpfs)", tok);
		if (nfs == MAX_FS)
			die_setup("--fs: at most %d entries", MAX_FS);
		need_dev |= strcmp(tok, "tmpfs") != 0;
		fslist[nfs++] = tok;
	}
	int looped = 0;
	struct stat st;
	if (need_dev) {
		if (!opt_device)
			die_setup("--device is required for xfs/ext4 (a scratch disk such as /dev/vdb), or pass --fs tmpfs");
		if (stat(opt_device, &st))
			die_setup("--device %s: %s", opt_device, strerror(errno));
		if (S_ISREG(st.st_mode)) {
			int e = loop_attach(opt_device, device, sizeof(device));
			if (e)
				die_setup("cannot attach %s to a loop device: %s", opt_device, strerror(e));
			looped = 1;
		} else if (S_ISBLK(st.st_mode)) {
			snprintf(device, sizeof(device), "%s", opt_device);
		} else {
			die_setup("--device %s is neither a block device nor a regular file", opt_device);
		}
	}
	if (mkdir(opt_mnt, 0755) && errno != EEXIST)
		die_setup("cannot create --mountpoint %s: %s", opt_mnt, strerror(errno));
	umount2(opt_mnt, MNT_DETACH);	/* a killed earlier run's mount */
	int kmsg = kmsg_open() == 0;
	note("%s: %d filesystems (%s) on %s, %ld stress threads, %.0fs per mount, storm %.0fs, kmsg %s", opt_mnt, nfs,
	     opt_fs, need_dev ? device : "-", g_opt.threads, opt_cycle_sec, opt_storm_sec, kmsg ? "on" : "off");

	const char *on_device = NULL, *setup_error = NULL;
	c.neg_baseline = c.neg_after_storm = c.neg_after_umount = -1;	/* -1: not measured */
	/* A cycle that would get under half its stress time before the deadline
	 * is not started: its mkfs and unmount would only overrun the duration. */
	for (long k = 0; !setup_error && !stopping() && (k == 0 || elapsed_s() + opt_cycle_sec / 2 < g_opt.duration);
	     k++) {
		setup_error = cycle((int)(k % nfs), &on_device, k < nfs);
		if (failures() && atomic_load(&c.cycles) < k + 1 && !setup_error)
			break;	/* a mount failed or a thread is stuck: nothing sane to go on with */
		/* Once every filesystem had its cycle, so the probe never costs coverage. */
		if (k == nfs - 1 && !setup_error)
			scale_probe(on_device);
	}
	mark_stress_end();
	if (looped)
		loop_detach(device);
	if (setup_error)
		fprintf(stderr, "%s: %s\n", g_prog, setup_error);

	struct json j;
	json_begin(&j);
	json_str(&j, "device", need_dev ? device : "");
	json_str(&j, "fs", opt_fs);
	json_bool(&j, "kmsg", kmsg);
	json_str(&j, "setup_error", setup_error ? setup_error : "");
	json_int(&j, "cycles", atomic_load(&c.cycles));
	for (int i = 0; i < nfs; i++) {
		char key[32];
		long long n = 0;
		int first = 1;
		for (int k = 0; k < nfs; k++)
			if (!strcmp(fslist[k], fslist[i])) {
				n += atomic_load(&c.fs_cycles[k]);
				first &= k >= i;
			}
		snprintf(key, sizeof(key), "%s_cycles", fslist[i]);
		if (first)
			json_int(&j, key, n);
	}
	json_int(&j, "mkfs_runs", atomic_load(&c.mkfs_runs));
	json_int(&j, "lookups", atomic_load(&c.lookups));
	json_int(&j, "negative_lookups", atomic_load(&c.negative));
	json_int(&j, "churn_ops", atomic_load(&c.churn));
	json_int(&j, "inotify_watches", atomic_load(&c.watches));
	json_int(&j, "held_fds", atomic_load(&c.held));
	json_int(&j, "umount_retries", atomic_load(&c.umount_retries));
	json_int(&j, "kmsg_reports", atomic_load(&c.kmsg_hits));
	json_int(&j, "storm_ops", atomic_load(&c.storm_ops));
	json_int(&j, "storm_drops", atomic_load(&c.storm_drops));
	json_int(&j, "dentry_state_samples", atomic_load(&c.samples));
	json_int(&j, "nr_negative_baseline", c.neg_baseline);
	json_int(&j, "nr_negative_after_storm", c.neg_after_storm);
	json_int(&j, "nr_negative_after_umount", c.neg_after_umount);
	json_int(&j, "nr_negative_worst_drift", c.worst_drift);
	json_lat(&j, "mkfs_latency", &mkfs_lat);
	json_lat(&j, "mount_latency", &mount_lat);
	json_lat(&j, "umount_latency", &umount_lat);
	json_int(&j, "scaling_points", npoints);
	json_scaling(&j);
	long long ops = atomic_load(&c.lookups) + atomic_load(&c.churn) + atomic_load(&c.watches) + atomic_load(&c.storm_ops);
	int rc = json_finish(&j, ops, 0);
	return setup_error ? EXIT_SETUP : rc;
}
