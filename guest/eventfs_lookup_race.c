/* eventfs-lookup-race: many threads make the first lookup of the same fresh
 * eventfs name at the same moment, round after round (docs/bugs.md 1.1-1.3).
 *
 * The pre-fix eventfs_root_lookup() hashed a negative dentry through
 * simple_lookup() and instantiated a different one, so a racing lookup could
 * get ENOENT for a name that exists. Each round the coordinator makes the
 * name fresh (a new kprobe event, or dentries dropped under a static event),
 * releases every lookup thread at once, and waits for all of them before it
 * removes anything: so during a round the name exists and any error is the
 * kernel's.
 *
 * After the stress, a scaling probe times lookups against the number of
 * events in one eventfs directory (eventfs_scaling.c).
 */
#include "common.h"
#include "dynevents.h"
#include "eventfs_scaling.h"
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *opt_tracefs;
static long opt_names = 2, opt_static = 64, opt_round_timeout = 30;
static int opt_no_kprobes, opt_no_drop;
static struct scale_opts scale = { .at = "10,100,2000", .budget = 14, .point_s = 1.5 };

#define MAX_STATIC 512
static char *static_dirs[MAX_STATIC];	/* events/<system>/<event> that always exist */
static int nstatic;
#define MAX_NAMES 16
static struct ev kprobes[MAX_NAMES];
static int use_kprobes;

/* Round state, guarded by lock; workers wait for gen to move. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long gen, finished;
static long started;			/* lookers that took this round (under lock) */
static char target[512];		/* the directory every thread looks up this round */
static atomic_long armed;		/* threads at the start line */

static struct {
	atomic_llong rounds, fresh_rounds, static_rounds, lookups, enoent, other_errors, drops;
	atomic_int drop_err;
} c;
static struct lat lookup_lat, round_lat;

static void timed_wait(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&cv, &lock, &ts);
}

/* One lookup of the round's name; the four shapes reach eventfs_root_lookup
 * for the directory (and its files) through different syscalls. */
static void look(int shape, const char *dir, long round, int idx)
{
	char p[600], buf[128];
	struct stat st;
	int err = 0;
	const char *what = "stat";
	uint64_t t0 = now_ns();
	switch (shape) {
	case 0:
		if (stat(dir, &st))
			err = errno;
		break;
	case 1:
		what = "stat enable";
		snprintf(p, sizeof(p), "%s/enable", dir);
		if (stat(p, &st))
			err = errno;
		break;
	case 2: {
		what = "open+read format";
		snprintf(p, sizeof(p), "%s/format", dir);
		long n = read_file(p, buf, sizeof(buf));
		if (n < 0)
			err = (int)-n;
		break;
	}
	default: {
		what = "readdir";
		DIR *d = opendir(dir);
		int found = 0;
		if (!d) {
			err = errno;
			break;
		}
		struct dirent *de;
		errno = 0;
		while ((de = readdir(d)))
			found |= !strcmp(de->d_name, "format");
		err = errno;
		closedir(d);
		if (!err && !found) {
			fail(O_LOOKUP, "round %ld: readdir %s does not list format (thread %d)", round, dir, idx);
			return;
		}
	}
	}
	lat_add(&lookup_lat, now_ns() - t0);
	atomic_fetch_add(&c.lookups, 1);
	if (!err)
		return;
	atomic_fetch_add(err == ENOENT ? &c.enoent : &c.other_errors, 1);
	fail(ENOENT_OR(err), "round %ld: %s %s gave %s for a name that exists (thread %d)", round, what, dir,
	     errname(err), idx);
}

static void *looker(void *arg)
{
	struct worker *w = arg;
	long seen = 0;
	char dir[512];
	for (;;) {
		doing(w, "wait for round");
		pthread_mutex_lock(&lock);
		while (gen == seen && !stopping())
			timed_wait();
		seen = gen;
		snprintf(dir, sizeof(dir), "%s", target);
		/* Decided under the lock: the coordinator removes the round's kprobe
		 * only once every looker that took the round has finished it. */
		int stop = stopping();
		if (!stop)
			started++;
		pthread_mutex_unlock(&lock);
		if (stop)
			break;
		/* The start line: condvar wake-ups trickle in one by one, a spin
		 * (bounded, yielding) lines the threads up for the same instant. */
		atomic_fetch_add(&armed, 1);
		uint64_t until = now_ns() + 2000000000ull;
		while (atomic_load(&armed) < g_opt.threads && now_ns() < until && !stopping())
			sched_yield();
		doing(w, "lookup");
		look((int)((seen + w->index) % 4), dir, seen, w->index);
		pthread_mutex_lock(&lock);
		finished++;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static void drop(void)
{
	if (opt_no_drop || atomic_load(&c.drop_err))
		return;
	int err = drop_dentries();
	if (err) {
		atomic_store(&c.drop_err, err);
		note("drop_caches unavailable (%s): rounds go on without", errname(err));
		return;
	}
	atomic_fetch_add(&c.drops, 1);
}

static void *coordinator(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 1);
	for (long round = 1; !stopping(); round++) {
		int fresh = use_kprobes && (nstatic == 0 || round % 2);
		struct ev *e = NULL;
		if (fresh) {
			doing(w, "add kprobe");
			e = &kprobes[rng_below(&r, (uint64_t)opt_names)];
			int err = ev_add(e, &r);
			if (err) {
				if (err == EEXIST)
					ev_remove(e, &r);	/* left over: fresh next time */
				note("round %ld: adding kprobe %s failed: %s", round, e->name, errname(err));
				sleep_ms(50);
				continue;
			}
		}
		doing(w, "drop_caches");
		drop();
		pthread_mutex_lock(&lock);
		snprintf(target, sizeof(target), "%s", fresh ? e->dir : static_dirs[rng_below(&r, (uint64_t)nstatic)]);
		atomic_store(&armed, 0);
		finished = 0;
		started = 0;
		gen = round;
		pthread_cond_broadcast(&cv);
		uint64_t t0 = now_ns(), limit = t0 + (uint64_t)opt_round_timeout * 1000000000ull;
		doing(w, "wait for lookups");
		while (finished < g_opt.threads && !stopping() && now_ns() < limit)
			timed_wait();
		int complete = finished >= g_opt.threads;
		/* At the deadline, lookers already in the round still look: removing
		 * the name under them would be our own ENOENT, not the kernel's. */
		while (finished < started && now_ns() < limit)
			timed_wait();
		/* Lookers still in the round past the limit (a hung lookup at the
		 * deadline, or the round-timeout below) keep their name: main removes
		 * it once they are joined, so a late one cannot get our ENOENT. */
		int settled = finished >= started;
		pthread_mutex_unlock(&lock);
		if (complete) {
			lat_add(&round_lat, now_ns() - t0);
			atomic_fetch_add(&c.rounds, 1);
			atomic_fetch_add(fresh ? &c.fresh_rounds : &c.static_rounds, 1);
		} else if (!stopping()) {
			fail(O_ROUND, "round %ld: lookups of %s did not finish within %lds", round, target, opt_round_timeout);
			atomic_store(&g_stop, 1);
		}
		if (fresh && settled) {
			doing(w, "remove kprobe");
			for (int tries = 0; tries < 20 && ev_remove(e, &r) == EBUSY; tries++)
				sleep_ms(5);
		}
	}
	return NULL;
}

/* Event directories that exist for the whole run: events/<system>/<event>. */
static void collect_static(const char *root, struct rng *r)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/events", root);
	DIR *top = opendir(p);
	if (!top)
		die_setup("cannot read %s: %s", p, strerror(errno));
	struct dirent *s, *ev;
	long seen = 0;
	while ((s = readdir(top))) {
		if (s->d_type != DT_DIR || s->d_name[0] == '.' || !strcmp(s->d_name, "kprobes"))
			continue;
		char sys[800];
		snprintf(sys, sizeof(sys), "%s/%s", p, s->d_name);
		DIR *d = opendir(sys);
		if (!d)
			continue;
		while ((ev = readdir(d))) {
			if (ev->d_type != DT_DIR || ev->d_name[0] == '.')
				continue;
			char *path = NULL, *enable = NULL;
			if (asprintf(&path, "%s/%s", sys, ev->d_name) < 0 || asprintf(&enable, "%s/enable", path) < 0)
				die_setup("out of memory");
			/* The ftrace system's internal events have no enable file. */
			int usable = access(enable, F_OK) == 0;
			free(enable);
			if (!usable) {
				free(path);
				continue;
			}
			/* Reservoir sampling: an even spread over all systems. */
			long slot = seen < opt_static ? seen : (long)rng_below(r, (uint64_t)seen + 1);
			seen++;
			if (slot < opt_static && slot < MAX_STATIC) {
				if (slot < nstatic)
					free(static_dirs[slot]);
				else
					nstatic++;
				static_dirs[slot] = path;
			} else {
				free(path);
			}
		}
		closedir(d);
	}
	closedir(top);
}

static void progress(FILE *f)
{
	fprintf(f, "rounds=%lld (fresh %lld, static %lld) lookups=%lld enoent=%lld drops=%lld failures=%ld",
		atomic_load(&c.rounds), atomic_load(&c.fresh_rounds), atomic_load(&c.static_rounds),
		atomic_load(&c.lookups), atomic_load(&c.enoent), atomic_load(&c.drops), failures());
}

int main(int argc, char **argv)
{
	g_prog = "eventfs-lookup-race";
	g_opt.duration = 60;
	g_opt.threads = 8;
	struct opt extra[] = {
		{ "tracefs", OPT_STR, &opt_tracefs, "tracefs mount (default /sys/kernel/tracing)" },
		{ "names", OPT_INT, &opt_names, "kprobe names made fresh in turn (default 2)" },
		{ "static", OPT_INT, &opt_static, "existing event directories sampled for static rounds (default 64)" },
		{ "symbol", OPT_STR, &ev_opts.symbol, "function the kprobes sit on (default schedule)" },
		{ "round-timeout", OPT_INT, &opt_round_timeout, "seconds a round may take before it fails (default 30)" },
		{ "no-kprobes", OPT_FLAG, &opt_no_kprobes, "only static event names" },
		{ "no-drop", OPT_FLAG, &opt_no_drop, "do not drop dentries between rounds" },
		{ "scale-at", OPT_STR, &scale.at, "after the stress, time lookups with this many events in one "
		  "eventfs directory, comma separated; \"\" = no probe (default 10,100,2000)" },
		{ "scale-budget", OPT_DOUBLE, &scale.budget, "seconds the probe may spend filling and timing; "
		  "past it the last size is the count reached (default 14)" },
		{ "scale-point-s", OPT_DOUBLE, &scale.point_s, "seconds of timing at each size, at least (default 1.5)" },
		{ "kmsg-marks", OPT_FLAG, &scale.kmsg_marks, "write each probe's start and end to /dev/kmsg (the console)" },
		{ NULL, 0, NULL, NULL },
	};
	parse_opts(argc, argv, "Barrier-synchronised first lookups of fresh eventfs names; "
		   "fails on ENOENT (or any error) for a name that exists.", extra);
	if (opt_names < 1 || opt_names > MAX_NAMES || opt_static < 0 || opt_static > MAX_STATIC)
		die_setup("--names must be 1..%d and --static 0..%d", MAX_NAMES, MAX_STATIC);
	if (opt_round_timeout < 1)
		die_setup("--round-timeout must be at least 1 second");
	char why[160];
	if (scale_parse(scale.at, why, sizeof(why)))
		die_setup("%s", why);
	if (scale.budget <= 0 || scale.point_s < 0)
		die_setup("--scale-budget must be > 0 and --scale-point-s >= 0");
	const char *root = ev_opts.root = tracefs_root(opt_tracefs);
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 2);
	collect_static(root, &r);
	for (int i = 0; i < opt_names; i++) {
		char name[32];
		snprintf(name, sizeof(name), "hcl%d", i);
		ev_init(&kprobes[i], KPROBE, name);
	}
	if (!opt_no_kprobes && tfs_has(root, "kprobe_events")) {
		use_kprobes = 1;
		for (int i = 0; i < opt_names; i++) {
			ev_remove(&kprobes[i], &r);	/* a killed earlier run's leftovers */
			int err = ev_add(&kprobes[i], &r);
			if (err || ev_remove(&kprobes[i], &r)) {
				note("kprobe events unusable (%s): static rounds only", errname(err ? err : EBUSY));
				use_kprobes = 0;
				break;
			}
		}
	}
	if (!use_kprobes && !nstatic)
		die_setup("nothing to look up: no kprobe_events and no event directories under %s/events", root);
	note("tracefs %s: %d lookup threads, kprobes %s, %d static event dirs", root, (int)g_opt.threads,
	     use_kprobes ? "on" : "off", nstatic);

	for (int i = 0; i < g_opt.threads; i++)
		spawn_worker("lookup", i, looker, NULL);
	spawn_worker("coordinator", 0, coordinator, NULL);
	long stuck = run_until_deadline(progress);
	if (!stuck && use_kprobes)
		for (int i = 0; i < opt_names; i++)
			ev_remove(&kprobes[i], &r);
	/* Alone, once the lookers are joined; not with a thread stuck in the kernel. */
	if (!stuck) {
		scale.root = root;
		scale.symbol = ev_opts.symbol;
		scale.kprobes_ok = use_kprobes;
		scale_probe(&scale);
	}

	struct json j;
	json_begin(&j);
	json_str(&j, "tracefs", root);
	json_bool(&j, "kprobes", use_kprobes);
	json_int(&j, "static_dirs", nstatic);
	json_int(&j, "rounds", atomic_load(&c.rounds));
	json_int(&j, "fresh_rounds", atomic_load(&c.fresh_rounds));
	json_int(&j, "static_rounds", atomic_load(&c.static_rounds));
	json_int(&j, "lookups", atomic_load(&c.lookups));
	json_int(&j, "enoent", atomic_load(&c.enoent));
	json_int(&j, "other_errors", atomic_load(&c.other_errors));
	json_int(&j, "drops", atomic_load(&c.drops));
	json_str(&j, "drop_error", atomic_load(&c.drop_err) ? errname(atomic_load(&c.drop_err)) : "");
	json_lat(&j, "lookup_latency", &lookup_lat);
	json_lat(&j, "round_latency", &round_lat);
	scale_json(&j);
	return json_finish(&j, atomic_load(&c.lookups), stuck);
}
