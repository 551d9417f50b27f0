/* symlink-reclaim: RCU path walk through symlinks whose inodes are evicted
 * and reused (docs/bugs.md family 2, the XFS ->get_link NULL call).
 *
 * Walkers follow lN (trailing and non-trailing) and readlink it while
 * mutators turn lN into nothing, a regular file's inode comes and goes, and
 * lN is a symlink again; a dropper evicts dentries and inodes every few ms.
 * A link name is only ever a symlink with its one target or absent, so the
 * oracle is exact: ENOENT is fine, anything else (another file type, a wrong
 * target, EFAULT, EIO, EINVAL...) is the kernel's inconsistency.
 */
#include "common.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *opt_dir;
static long opt_links = 64, opt_mutators = 2, opt_drop_ms = 20, opt_cgroup_mem, opt_long_targets = 1;
static int opt_keep;

#define NTARGETS 4
/* "/", "tgt", and one or two long ones past inline size: "././.../tgt" and,
 * with --long-targets 2, "././.../tg2" of the same length. */
static char *targets[NTARGETS];
static struct stat target_st[NTARGETS];
static struct stat links_dir_st; /* the directory the links live in */
static int ntargets = 3;
/* The directories the long bodies end in, one per --long-targets. */
static const char *const long_dirs[] = { "tgt", "tg2" };
static int dirfd_;

static struct {
	atomic_llong walks, walk_enoent, stats, readlinks, mut_cycles, drops;
	atomic_int drop_err;
} c;
static struct lat walk_lat, cycle_lat, drop_lat;

static int target_of(long i) { return (int)(i % ntargets); }

static void expect_dir(const struct stat *st, long i, const char *how)
{
	const struct stat *t = &target_st[target_of(i)];
	if (S_ISDIR(st->st_mode) && st->st_ino == t->st_ino && st->st_dev == t->st_dev)
		return;
	/* Every body leads to the root or to a subdirectory, never back to the
	 * links' own directory: ending there means the walk followed an empty
	 * body (a pure jump, which stays where the link is). */
	int own = st->st_ino == links_dir_st.st_ino && st->st_dev == links_dir_st.st_dev;
	fail(O_SYMLINK, "%s l%ld reached mode 0%o ino %lu dev %lx, expected its target directory (ino %lu)%s", how, i,
	     (unsigned)st->st_mode, (unsigned long)st->st_ino, (unsigned long)st->st_dev,
	     (unsigned long)t->st_ino, own ? ": the link's own directory, as if its body were empty" : "");
}

static int walk_err(int err, long i, const char *how)
{
	if (err == ENOENT) {
		atomic_fetch_add(&c.walk_enoent, 1);
		return 0;
	}
	fail(O_SYMLINK, "%s l%ld gave %s (only success or ENOENT are possible)", how, i, errname(err));
	return 1;
}

static void *walker(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 100 + (uint64_t)w->index);
	char name[64], buf[1024];
	struct stat st;
	while (!stopping()) {
		long i = (long)rng_below(&r, (uint64_t)opt_links);
		const char *tgt = targets[target_of(i)];
		ssize_t n;
		int fd;
		uint64_t t0 = now_ns();
		switch (rng_below(&r, 5)) {
		case 0:
			doing(w, "stat lN");
			snprintf(name, sizeof(name), "l%ld", i);
			if (fstatat(dirfd_, name, &st, 0))
				walk_err(errno, i, "stat");
			else
				expect_dir(&st, i, "stat");
			atomic_fetch_add(&c.stats, 1);
			break;
		case 1:
			doing(w, "stat lN/.");
			snprintf(name, sizeof(name), "l%ld/.", i);
			if (fstatat(dirfd_, name, &st, 0))
				walk_err(errno, i, "stat(lN/.)");
			else
				expect_dir(&st, i, "stat(lN/.)");
			atomic_fetch_add(&c.stats, 1);
			break;
		case 2:
			doing(w, "lstat lN");
			snprintf(name, sizeof(name), "l%ld", i);
			if (fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW))
				walk_err(errno, i, "lstat");
			else if (!S_ISLNK(st.st_mode) || (size_t)st.st_size != strlen(tgt))
				fail(O_SYMLINK, "lstat l%ld: mode 0%o size %lld, expected a symlink of %zu bytes", i,
				     (unsigned)st.st_mode, (long long)st.st_size, strlen(tgt));
			atomic_fetch_add(&c.stats, 1);
			break;
		case 3:
			doing(w, "readlink lN");
			snprintf(name, sizeof(name), "l%ld", i);
			n = readlinkat(dirfd_, name, buf, sizeof(buf) - 1);
			if (n < 0) {
				walk_err(errno, i, "readlink");
			} else {
				buf[n] = 0;
				if (strcmp(buf, tgt))
					fail(O_SYMLINK, "readlink l%ld returned %zd bytes '%.40s', expected '%.40s'", i, n, buf, tgt);
			}
			atomic_fetch_add(&c.readlinks, 1);
			break;
		default:
			doing(w, "open lN/.");
			snprintf(name, sizeof(name), "l%ld/.", i);
			fd = openat(dirfd_, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				walk_err(errno, i, "open(lN/.)");
			} else {
				if (!fstat(fd, &st))
					expect_dir(&st, i, "open(lN/.)");
				close(fd);
			}
			atomic_fetch_add(&c.stats, 1);
		}
		lat_add(&walk_lat, now_ns() - t0);
		atomic_fetch_add(&c.walks, 1);
	}
	return NULL;
}

/* symlink -> (gone) -> regular file inode -> (gone) -> symlink: the freed
 * inode numbers are what XFS hands out next. Whole cycles only, so every
 * link is a symlink again once the mutators are joined. */
static void *mutator(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 300 + (uint64_t)w->index);
	long mine = (opt_links - w->index + opt_mutators - 1) / opt_mutators;
	char l[32], f[32];
	while (!stopping() && mine > 0) {
		long i = w->index + opt_mutators * (long)rng_below(&r, (uint64_t)mine);
		snprintf(l, sizeof(l), "l%ld", i);
		snprintf(f, sizeof(f), "f%ld", i);
		uint64_t t0 = now_ns();
		doing(w, "unlink symlink");
		if (unlinkat(dirfd_, l, 0)) {
			fail(O_FSOP, "mutator: unlink %s: %s", l, errname(errno));
			break;
		}
		doing(w, "create file");
		int fd = openat(dirfd_, f, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) {
			fail(O_FSOP, "mutator: create %s: %s", f, errname(errno));
		} else {
			if (write(fd, "x", 1) != 1)
				fail(O_FSOP, "mutator: write %s: %s", f, errname(errno));
			close(fd);
			doing(w, "unlink file");
			if (unlinkat(dirfd_, f, 0))
				fail(O_FSOP, "mutator: unlink %s: %s", f, errname(errno));
		}
		doing(w, "symlink");
		if (symlinkat(targets[target_of(i)], dirfd_, l)) {
			fail(O_FSOP, "mutator: symlink %s: %s", l, errname(errno));
			break;
		}
		lat_add(&cycle_lat, now_ns() - t0);
		atomic_fetch_add(&c.mut_cycles, 1);
	}
	return NULL;
}

static void *dropper(void *arg)
{
	struct worker *w = arg;
	while (!stopping()) {
		doing(w, "drop_caches");
		uint64_t t0 = now_ns();
		int err = drop_dentries();
		if (err) {
			atomic_store(&c.drop_err, err);
			note("drop_caches unavailable (%s): continuing without", errname(err));
			return NULL;
		}
		lat_add(&drop_lat, now_ns() - t0);
		atomic_fetch_add(&c.drops, 1);
		doing(w, "sleep");
		sleep_ms((double)opt_drop_ms);
	}
	return NULL;
}

static void progress(FILE *f)
{
	fprintf(f, "walks=%lld (enoent %lld) mutations=%lld drops=%lld failures=%ld", atomic_load(&c.walks),
		atomic_load(&c.walk_enoent), atomic_load(&c.mut_cycles), atomic_load(&c.drops), failures());
}

static void setup_dir(void)
{
	if (mkdir(opt_dir, 0755) && errno != EEXIST)
		die_setup("cannot create --dir %s: %s", opt_dir, strerror(errno));
	/* Not sticky, so may_follow_link() stays out of the race window. */
	dirfd_ = open(opt_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd_ < 0)
		die_setup("cannot open --dir %s: %s", opt_dir, strerror(errno));
	if (fstat(dirfd_, &links_dir_st))
		die_setup("cannot stat --dir %s: %s", opt_dir, strerror(errno));
	ntargets = 2 + (int)opt_long_targets;
	for (long d = 0; d < opt_long_targets; d++)
		if (mkdirat(dirfd_, long_dirs[d], 0755) && errno != EEXIST)
			die_setup("cannot create %s/%s: %s", opt_dir, long_dirs[d], strerror(errno));
	targets[0] = "/";
	targets[1] = "tgt";
	if (stat("/", &target_st[0]) || fstatat(dirfd_, "tgt", &target_st[1], 0))
		die_setup("cannot stat the symlink targets: %s", strerror(errno));
	/* Longer than any inline symlink area (XFS literal area, ext4 60 bytes).
	 * Two long bodies differ only in their last byte: a walk that reads a
	 * block reused for the other body mid-walk ends in the wrong directory. */
	for (int t = 2; t < ntargets; t++) {
		char *lng = malloc(700);
		if (!lng)
			die_setup("out of memory");
		lng[0] = 0;
		for (int k = 0; k < 340; k++)
			strcat(lng, "./");
		strcat(lng, long_dirs[t - 2]);
		targets[t] = lng;
		if (fstatat(dirfd_, long_dirs[t - 2], &target_st[t], 0))
			die_setup("cannot stat the symlink targets: %s", strerror(errno));
	}
	char name[32];
	for (long i = 0; i < opt_links; i++) {
		snprintf(name, sizeof(name), "f%ld", i);
		unlinkat(dirfd_, name, 0);
		snprintf(name, sizeof(name), "l%ld", i);
		unlinkat(dirfd_, name, 0);
		if (symlinkat(targets[target_of(i)], dirfd_, name))
			die_setup("cannot create symlink %s/%s: %s", opt_dir, name, strerror(errno));
	}
}

/* After the join every link must be back, with its target. */
static void final_check(void)
{
	char name[32], buf[1024];
	for (long i = 0; i < opt_links; i++) {
		snprintf(name, sizeof(name), "l%ld", i);
		ssize_t n = readlinkat(dirfd_, name, buf, sizeof(buf) - 1);
		if (n < 0) {
			fail(O_SYMLINK, "final: readlink l%ld gave %s", i, errname(errno));
			continue;
		}
		buf[n] = 0;
		if (strcmp(buf, targets[target_of(i)]))
			fail(O_SYMLINK, "final: l%ld points to '%.40s'", i, buf);
		if (!opt_keep)
			unlinkat(dirfd_, name, 0);
	}
	for (long d = 0; !opt_keep && d < opt_long_targets; d++)
		unlinkat(dirfd_, long_dirs[d], AT_REMOVEDIR);
}

int main(int argc, char **argv)
{
	g_prog = "symlink-reclaim";
	g_opt.duration = 60;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	g_opt.threads = 4 * (ncpu > 0 ? ncpu : 1);
	struct opt extra[] = {
		{ "dir", OPT_STR, &opt_dir, "directory on the filesystem under test (required; created)" },
		{ "links", OPT_INT, &opt_links, "number of symlinks (default 64)" },
		{ "mutators", OPT_INT, &opt_mutators, "threads turning symlinks into files and back (default 2)" },
		{ "drop-ms", OPT_INT, &opt_drop_ms, "ms between drop_caches writes, 0 = none (default 20)" },
		{ "cgroup-mem", OPT_SIZE, &opt_cgroup_mem, "run in a cgroup2 memory cgroup of this memory.max, e.g. 64M (default off)" },
		{ "long-targets", OPT_INT, &opt_long_targets, "1 or 2 distinct long (block-stored) targets (default 1)" },
		{ "keep", OPT_FLAG, &opt_keep, "leave the links in place at the end" },
		{ NULL, 0, NULL, NULL },
	};
	parse_opts(argc, argv, "Walkers stat/readlink symlinks while mutators recycle their inodes and a "
		   "dropper evicts; fails on any result but the link's target or ENOENT. "
		   "--threads is the number of walkers (default 4 x CPUs).", extra);
	if (!opt_dir)
		die_setup("--dir is required (a directory on the filesystem under test)");
	if (opt_links < 1 || opt_links > 100000 || opt_mutators < 0 || opt_mutators > opt_links)
		die_setup("--links must be 1..100000 and --mutators 0..links");
	if (opt_drop_ms < 0)
		die_setup("--drop-ms must not be negative");
	if (opt_long_targets < 1 || opt_long_targets > 2)
		die_setup("--long-targets must be 1 or 2");
	setup_dir();
	char fsbuf[32];
	const char *fs = fs_type_name(opt_dir, fsbuf, sizeof(fsbuf));
	const char *cg = "off";
	if (opt_cgroup_mem > 0) {
		const char *why = "";
		int err = memcg_enter("symlink-reclaim", opt_cgroup_mem, &why);
		cg = err ? "unavailable" : "on";
		if (err)
			note("memory cgroup unavailable: %s (%s); continuing without", why, errname(err));
	}
	note("%s (%s): %ld links, %ld walkers, %ld mutators, drop every %ld ms, memcg %s", opt_dir, fs, opt_links,
	     g_opt.threads, opt_mutators, opt_drop_ms, cg);

	for (int i = 0; i < g_opt.threads; i++)
		spawn_worker("walker", i, walker, NULL);
	for (int i = 0; i < opt_mutators; i++)
		spawn_worker("mutator", i, mutator, NULL);
	if (opt_drop_ms > 0)
		spawn_worker("dropper", 0, dropper, NULL);
	long stuck = run_until_deadline(progress);
	long cg_hits = opt_cgroup_mem > 0 ? memcg_leave() : -1;
	if (!stuck)
		final_check();

	struct json j;
	json_begin(&j);
	json_str(&j, "dir", opt_dir);
	json_str(&j, "fs", fs);
	json_int(&j, "links", opt_links);
	json_int(&j, "walks", atomic_load(&c.walks));
	json_int(&j, "walk_enoent", atomic_load(&c.walk_enoent));
	json_int(&j, "stats", atomic_load(&c.stats));
	json_int(&j, "readlinks", atomic_load(&c.readlinks));
	json_int(&j, "mutations", atomic_load(&c.mut_cycles));
	json_int(&j, "drops", atomic_load(&c.drops));
	json_str(&j, "drop_error", atomic_load(&c.drop_err) ? errname(atomic_load(&c.drop_err)) : "");
	json_str(&j, "memcg", cg);
	json_int(&j, "memcg_max_hits", cg_hits);
	json_lat(&j, "walk_latency", &walk_lat);
	json_lat(&j, "mutation_latency", &cycle_lat);
	json_lat(&j, "drop_latency", &drop_lat);
	return json_finish(&j, atomic_load(&c.walks) + atomic_load(&c.mut_cycles), stuck);
}
