/* kprobe-churn: eventfs under dynamic-event churn (docs/bugs.md family 1).
 *
 * One churner thread owns each event name and cycles add -> check -> remove
 * -> check, so it alone knows whether its event exists: that is what makes
 * the oracles exact. Readers, instance create/remove, a find-style walk and
 * drop_caches only add the concurrency the 2024 eventfs bugs needed.
 * Oracles: a spurious ENOENT (or any error) on an event that exists; a ghost
 * file that still opens after its event was removed; a directory that is its
 * own ancestor (find's "File system loop detected").
 */
#include "common.h"
#include "dynevents.h"
#include "tracefs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root, *opt_tracefs;
static long opt_names = 3, opt_instances = 2, opt_drop_ms = 250, opt_live_ms = 30, opt_hold_ms = 20;
static double opt_find_every = 3;
static int opt_no_synth, opt_no_user;

#define MAX_EVS 40
static struct ev evs[MAX_EVS];
static int nevs, have[NKINDS];

static struct {
	atomic_llong adds[NKINDS], removes[NKINDS], add_errors[NKINDS], remove_busy[NKINDS], remove_errors[NKINDS];
	atomic_llong reader_ops, reader_ok, reader_enoent, reader_enodev, reader_einval, reader_other, held;
	atomic_llong inst_created, inst_removed, inst_busy, inst_errors;
	atomic_llong find_walks, find_dirs, drops;
	atomic_int drop_err;
} c;
static struct lat add_lat, remove_lat;

static void *churner(void *arg)
{
	struct worker *w = arg;
	struct ev *e = w->arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 100 + (uint64_t)w->index);
	int present = 0;
	while (!stopping()) {
		if (!present) {
			doing(w, "add");
			uint64_t t0 = now_ns();
			int err = ev_add(e, &r);
			lat_add(&add_lat, now_ns() - t0);
			if (err == EEXIST) {
				present = 1;	/* left over (a failed removal): remove it first */
				continue;
			}
			if (err) {
				if (atomic_fetch_add(&c.add_errors[e->kind], 1) < 3)
					note("adding %s %s failed: %s", kind_name[e->kind], e->name, errname(err));
				sleep_ms(20);
				continue;
			}
			present = 1;
			atomic_fetch_add(&c.adds[e->kind], 1);
			doing(w, "check after add");
			ev_check_present(e, "right after add");
		}
		doing(w, "live");
		sleep_ms((double)rng_below(&r, (uint64_t)opt_live_ms + 1));
		if (stopping())
			break;
		ev_check_present(e, "while live");
		doing(w, "remove");
		/* Not 0: when the deadline stops the loop before its first try, the
		 * event was never removed and must not be checked as gone. */
		int err = ECANCELED;
		uint64_t t0 = now_ns();
		for (int tries = 0; tries < 20 && !stopping(); tries++) {
			err = ev_remove(e, &r);
			if (err != EBUSY)
				break;
			ev_disable(e);	/* a reader enabled it; enabled events cannot go */
			sleep_ms(5);
		}
		lat_add(&remove_lat, now_ns() - t0);
		if (!err) {
			present = 0;
			atomic_fetch_add(&c.removes[e->kind], 1);
			doing(w, "check after remove");
			ev_check_gone(e);
		} else if (err == EBUSY) {
			atomic_fetch_add(&c.remove_busy[e->kind], 1);
		} else if (err == ECANCELED) {
			break;	/* the deadline came first */
		} else if (atomic_fetch_add(&c.remove_errors[e->kind], 1) < 3) {
			note("removing %s %s failed: %s", kind_name[e->kind], e->name, errname(err));
		}
	}
	return NULL;
}

static void reader_err(int err)
{
	atomic_llong *ctr = err == ENOENT ? &c.reader_enoent : err == ENODEV ? &c.reader_enodev
			  : err == EINVAL ? &c.reader_einval : &c.reader_other;
	atomic_fetch_add(ctr, 1);
}

static void read_dir(const char *p)
{
	DIR *d = opendir(p);
	if (!d)
		return reader_err(errno);
	errno = 0;
	while (readdir(d))
		;
	if (errno)
		reader_err(errno);
	else
		atomic_fetch_add(&c.reader_ok, 1);
	closedir(d);
}

/* Whatever a reader sees may be legitimate (its event can vanish at any
 * moment): readers count, KASAN and the churners judge. */
static void *reader(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 200 + (uint64_t)w->index);
	char p[512], q[512], buf[256];
	while (!stopping()) {
		struct ev *e = &evs[rng_below(&r, (uint64_t)nevs)];
		long n;
		int fd, fd2;
		switch (rng_below(&r, 5)) {
		case 0:
			doing(w, "readdir group");
			snprintf(p, sizeof(p), "%s/events/%s", root, kind_group[e->kind]);
			read_dir(p);
			break;
		case 1:
			doing(w, "readdir event");
			read_dir(e->dir);
			break;
		case 2:
			doing(w, "read format/id");
			snprintf(p, sizeof(p), "%s/%s", e->dir, rng_below(&r, 2) ? "format" : "id");
			n = read_file(p, buf, sizeof(buf));
			if (n < 0)
				reader_err((int)-n);
			else
				atomic_fetch_add(&c.reader_ok, 1);
			break;
		case 3:
			/* Mostly 0: an enabled event cannot be removed, and the
			 * open/write of enable racing a removal is the point. */
			doing(w, "write enable");
			snprintf(p, sizeof(p), "%s/enable", e->dir);
			int on = rng_below(&r, 8) == 0;
			n = write_file(p, on ? "1" : "0", 0);
			if (n)
				reader_err((int)n);
			else
				atomic_fetch_add(&c.reader_ok, 1);
			if (on)
				write_file(p, "0", 0);
			break;
		default:
			/* Hold enable and format open across a likely removal: the
			 * CVE-2023-52879 and f_show use-after-free shapes. */
			doing(w, "hold fds");
			snprintf(p, sizeof(p), "%s/enable", e->dir);
			snprintf(q, sizeof(q), "%s/format", e->dir);
			fd = open(p, O_WRONLY | O_CLOEXEC);
			fd2 = open(q, O_RDONLY | O_CLOEXEC);
			if (fd < 0 && fd2 < 0) {
				reader_err(errno);
				break;
			}
			atomic_fetch_add(&c.held, 1);
			if (fd2 >= 0 && read(fd2, buf, 64) < 0)
				reader_err(errno);
			sleep_ms((double)rng_below(&r, (uint64_t)opt_hold_ms + 1));
			if (fd2 >= 0)
				while ((n = read(fd2, buf, sizeof(buf))) > 0)
					;
			if (fd >= 0 && write(fd, "0", 1) < 0)
				reader_err(errno);
			if (fd >= 0)
				close(fd);
			if (fd2 >= 0)
				close(fd2);
		}
		atomic_fetch_add(&c.reader_ops, 1);
	}
	return NULL;
}

static void *instancer(void *arg)
{
	struct worker *w = arg;
	struct rng r;
	rng_init(&r, (uint64_t)g_opt.seed, 300);
	char p[512], q[600], buf[256];
	struct stat st;
	while (!stopping()) {
		long k = (long)rng_below(&r, (uint64_t)opt_instances);
		snprintf(p, sizeof(p), "%s/instances/hci%ld", root, k);
		doing(w, "mkdir instance");
		if (mkdir(p, 0755) && errno != EEXIST) {
			if (atomic_fetch_add(&c.inst_errors, 1) < 3)
				note("mkdir %s failed: %s", p, errname(errno));
			sleep_ms(50);
			continue;
		}
		atomic_fetch_add(&c.inst_created, 1);
		doing(w, "check instance");
		static const char *must[] = { "events", "trace", "events/enable" };
		for (size_t i = 0; i < sizeof(must) / sizeof(*must); i++) {
			snprintf(q, sizeof(q), "%s/%s", p, must[i]);
			if (stat(q, &st))
				fail(ENOENT_OR(errno), "instance hci%ld: stat %s gave %s right after mkdir", k, must[i],
				     errname(errno));
		}
		struct ev *e = &evs[rng_below(&r, (uint64_t)nevs)];
		snprintf(q, sizeof(q), "%s/events/%s/%s/format", p, kind_group[e->kind], e->name);
		read_file(q, buf, sizeof(buf));
		if (rng_below(&r, 4) == 0) {
			snprintf(q, sizeof(q), "%s/events/%s/%s/enable", p, kind_group[e->kind], e->name);
			write_file(q, "1", 0);
			write_file(q, "0", 0);
		}
		sleep_ms((double)rng_below(&r, 20));
		doing(w, "rmdir instance");
		if (rmdir(p)) {
			atomic_fetch_add(errno == EBUSY ? &c.inst_busy : &c.inst_errors, 1);
			continue;
		}
		atomic_fetch_add(&c.inst_removed, 1);
		if (!stat(p, &st))
			fail(O_GHOST, "instance hci%ld: still stats after rmdir", k);
	}
	return NULL;
}

static void *finder(void *arg)
{
	struct worker *w = arg;
	char path[1024];
	while (!stopping()) {
		doing(w, "find walk");
		snprintf(path, sizeof(path), "%s/events", root);
		if (find_walk(path, &c.find_dirs) >= 0)
			atomic_fetch_add(&c.find_walks, 1);
		doing(w, "sleep");
		sleep_ms(opt_find_every * 1000);
	}
	return NULL;
}

static void *dropper(void *arg)
{
	struct worker *w = arg;
	while (!stopping()) {
		doing(w, "drop_caches");
		int err = drop_dentries();
		if (err) {
			atomic_store(&c.drop_err, err);
			note("drop_caches unavailable (%s): continuing without", errname(err));
			return NULL;
		}
		atomic_fetch_add(&c.drops, 1);
		doing(w, "sleep");
		sleep_ms((double)opt_drop_ms);
	}
	return NULL;
}

static long long sum(atomic_llong *a)
{
	long long s = 0;
	for (int k = 0; k < NKINDS; k++)
		s += atomic_load(&a[k]);
	return s;
}

static void progress(FILE *f)
{
	fprintf(f, "adds=%lld removes=%lld busy=%lld reader_ops=%lld instances=%lld walks=%lld drops=%lld failures=%ld",
		sum(c.adds), sum(c.removes), sum(c.remove_busy), atomic_load(&c.reader_ops),
		atomic_load(&c.inst_created), atomic_load(&c.find_walks), atomic_load(&c.drops), failures());
}

static void add_ev(enum ev_kind k, int i)
{
	struct ev *e = &evs[nevs++];
	e->kind = k;
	char name[32];
	snprintf(name, sizeof(name), "hc%c%d", kind_name[k][0], i);
	ev_init(e, k, name);
}

/* Leftovers of a killed earlier run, and a probe that the kernel takes both ways. */
static int preflight(struct ev *e)
{
	struct rng r;
	rng_init(&r, 7, 7);
	enum ev_kind k = e->kind;
	ev_disable(e);
	ev_remove(e, &r);
	int err = ev_add(e, &r);
	if (!err)
		for (int i = 0; i < 3 && ev_remove(e, &r); i++)
			ev_disable(e);
	if (err)
		note("%s events unavailable: adding %s gave %s", kind_name[k], e->name, errname(err));
	return err;
}

int main(int argc, char **argv)
{
	g_prog = "kprobe-churn";
	g_opt.duration = 60;
	struct opt extra[] = {
		{ "tracefs", OPT_STR, &opt_tracefs, "tracefs mount (default /sys/kernel/tracing)" },
		{ "names", OPT_INT, &opt_names, "kprobe event names, one churner each (default 3)" },
		{ "symbol", OPT_STR, &ev_opts.symbol, "function the kprobes sit on (default schedule)" },
		{ "instances", OPT_INT, &opt_instances, "tracefs instance names to mkdir/rmdir, 0 = none (default 2)" },
		{ "drop-ms", OPT_INT, &opt_drop_ms, "ms between drop_caches writes, 0 = none (default 250)" },
		{ "live-ms", OPT_INT, &opt_live_ms, "max ms an event lives between add and remove (default 30)" },
		{ "hold-ms", OPT_INT, &opt_hold_ms, "max ms a reader holds fds across removal (default 20)" },
		{ "find-every", OPT_DOUBLE, &opt_find_every, "seconds between find-style loop walks, 0 = none (default 3)" },
		{ "no-synth", OPT_FLAG, &opt_no_synth, "skip synthetic events" },
		{ "no-user", OPT_FLAG, &opt_no_user, "skip user events" },
		{ "no-truncate", OPT_FLAG, &ev_opts.no_truncate, "never clear synthetic_events with O_TRUNC" },
		{ NULL, 0, NULL, NULL },
	};
	parse_opts(argc, argv, "Churn kprobe/synthetic/user events and tracefs instances while readers race; "
		   "checks for spurious ENOENT, ghost files and find loops.", extra);
	if (opt_names < 1 || opt_names > 32 || opt_instances < 0 || opt_instances > 16)
		die_setup("--names must be 1..32 and --instances 0..16 (see --help)");
	if (opt_live_ms < 0 || opt_hold_ms < 0 || opt_drop_ms < 0)
		die_setup("--live-ms, --hold-ms and --drop-ms must not be negative");
	root = ev_opts.root = tracefs_root(opt_tracefs);
	if (!tfs_has(root, "kprobe_events"))
		die_setup("%s/kprobe_events missing: the kernel needs CONFIG_KPROBE_EVENTS", root);

	for (int i = 0; i < opt_names; i++) {
		add_ev(KPROBE, i);
		if (preflight(&evs[i]))
			die_setup("cannot add kprobe 'p:%s %s' (see above): is --symbol probeable?", evs[i].name,
				  ev_opts.symbol);
	}
	have[KPROBE] = 1;
	if (!opt_no_synth && tfs_has(root, "synthetic_events")) {
		add_ev(SYNTH, 0);
		have[SYNTH] = !preflight(&evs[nevs - 1]);
		nevs -= !have[SYNTH];
	}
	if (!opt_no_user && tfs_has(root, "user_events_data") && tfs_has(root, "dynamic_events")) {
		add_ev(USER, 0);
		have[USER] = !preflight(&evs[nevs - 1]);
		nevs -= !have[USER];
	}
	int inst = opt_instances > 0 && tfs_has(root, "instances");
	note("tracefs %s: %d events (kprobe x%ld%s%s), %ld readers, instances %s, drop every %ld ms",
	     root, nevs, opt_names, have[SYNTH] ? ", synth" : "", have[USER] ? ", user" : "", g_opt.threads,
	     inst ? "on" : "off", opt_drop_ms);

	for (int i = 0; i < nevs; i++)
		spawn_worker("churner", i, churner, &evs[i]);
	for (int i = 0; i < g_opt.threads; i++)
		spawn_worker("reader", i, reader, NULL);
	if (inst)
		spawn_worker("instances", 0, instancer, NULL);
	if (opt_find_every > 0)
		spawn_worker("find", 0, finder, NULL);
	if (opt_drop_ms > 0)
		spawn_worker("dropper", 0, dropper, NULL);
	long stuck = run_until_deadline(progress);

	if (!stuck) {
		struct rng r;
		rng_init(&r, 9, 9);
		for (int i = 0; i < nevs; i++) {
			ev_disable(&evs[i]);
			ev_remove(&evs[i], &r);
		}
		char p[512];
		for (long k = 0; inst && k < opt_instances; k++)
			rmdir(tfs_path(p, sizeof(p), root, "instances/hci%ld", k));
	}

	struct json j;
	json_begin(&j);
	json_str(&j, "tracefs", root);
	json_bool(&j, "synth", have[SYNTH]);
	json_bool(&j, "user_events", have[USER]);
	json_bool(&j, "instances", inst);
	for (int k = 0; k < NKINDS; k++) {
		char key[40];
		snprintf(key, sizeof(key), "%s_adds", kind_name[k]);
		json_int(&j, key, atomic_load(&c.adds[k]));
		snprintf(key, sizeof(key), "%s_removes", kind_name[k]);
		json_int(&j, key, atomic_load(&c.removes[k]));
	}
	json_int(&j, "adds", sum(c.adds));
	json_int(&j, "removes", sum(c.removes));
	json_int(&j, "add_errors", sum(c.add_errors));
	json_int(&j, "remove_busy", sum(c.remove_busy));
	json_int(&j, "remove_errors", sum(c.remove_errors));
	json_int(&j, "present_checks", atomic_load(&ev_present_checks));
	json_int(&j, "gone_checks", atomic_load(&ev_gone_checks));
	json_int(&j, "reader_ops", atomic_load(&c.reader_ops));
	json_int(&j, "reader_ok", atomic_load(&c.reader_ok));
	json_int(&j, "reader_enoent", atomic_load(&c.reader_enoent));
	json_int(&j, "reader_enodev", atomic_load(&c.reader_enodev));
	json_int(&j, "reader_einval", atomic_load(&c.reader_einval));
	json_int(&j, "reader_other_errors", atomic_load(&c.reader_other));
	json_int(&j, "held_fds", atomic_load(&c.held));
	json_int(&j, "instances_created", atomic_load(&c.inst_created));
	json_int(&j, "instances_removed", atomic_load(&c.inst_removed));
	json_int(&j, "instances_busy", atomic_load(&c.inst_busy));
	json_int(&j, "instance_errors", atomic_load(&c.inst_errors));
	json_int(&j, "find_walks", atomic_load(&c.find_walks));
	json_int(&j, "find_dirs", atomic_load(&c.find_dirs));
	json_int(&j, "drops", atomic_load(&c.drops));
	json_str(&j, "drop_error", atomic_load(&c.drop_err) ? errname(atomic_load(&c.drop_err)) : "");
	json_lat(&j, "add_latency", &add_lat);
	json_lat(&j, "remove_latency", &remove_lat);
	json_lat(&j, "lookup_latency", &ev_lookup_lat);
	long long ops = sum(c.adds) + sum(c.removes) + atomic_load(&c.reader_ops) + atomic_load(&c.inst_created) +
			atomic_load(&c.find_dirs);
	return json_finish(&j, ops, stuck);
}
