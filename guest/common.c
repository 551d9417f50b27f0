/* Shared helpers for the guest stress programs; see common.h. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *g_prog = "stress";
struct common_opts g_opt = { .duration = 30, .threads = 4, .seed = 1, .progress = 5, .grace = 30 };
atomic_int g_stop;

static uint64_t g_start_ns;
static double g_stress_s;	/* elapsed when the deadline stopped the workers */

/* ---------------------------------------------------------------- options */

static struct opt common_table[] = {
	{ "duration", OPT_DOUBLE, &g_opt.duration, "seconds of stress" },
	{ "threads", OPT_INT, &g_opt.threads, "worker threads (meaning per program)" },
	{ "seed", OPT_INT, &g_opt.seed, "random seed, for reproducible choices" },
	{ "progress", OPT_DOUBLE, &g_opt.progress, "seconds between progress lines on stderr" },
	{ "grace", OPT_DOUBLE, &g_opt.grace, "seconds to wait for threads after the deadline" },
	{ NULL, 0, NULL, NULL },
};

static void usage(FILE *f, const char *summary, struct opt *extra)
{
	fprintf(f, "usage: %s [options]\n%s\n\noptions:\n", g_prog, summary);
	for (struct opt *t = common_table; t->name; t++)
		fprintf(f, "  --%-16s %s (default %g)\n", t->name, t->help,
			t->type == OPT_INT ? (double)*(long *)t->ptr : *(double *)t->ptr);
	for (struct opt *t = extra; t && t->name; t++)
		fprintf(f, "  --%-16s %s\n", t->name, t->help);
	fprintf(f, "  --%-16s %s\n", "help", "this text");
	fprintf(f, "\nexit: 0 oracle held, 1 oracle broken, 2 usage or setup error; last stdout line is JSON\n");
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", g_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see --help)\n");
	exit(EXIT_SETUP);
}

static int parse_size(const char *s, long *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1024 * 1024; end++; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; end++; break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (long)v;
	return 0;
}

static void set_opt(struct opt *o, const char *val)
{
	char *end;
	errno = 0;
	switch (o->type) {
	case OPT_INT: {
		long v = strtol(val, &end, 0);
		if (errno || end == val || *end)
			usage_error("--%s wants an integer, got '%s'", o->name, val);
		*(long *)o->ptr = v;
		break;
	}
	case OPT_DOUBLE: {
		double v = strtod(val, &end);
		if (errno || end == val || *end)
			usage_error("--%s wants a number, got '%s'", o->name, val);
		*(double *)o->ptr = v;
		break;
	}
	case OPT_SIZE:
		if (parse_size(val, (long *)o->ptr))
			usage_error("--%s wants a size like 64M, got '%s'", o->name, val);
		break;
	case OPT_STR:
		*(const char **)o->ptr = val;
		break;
	case OPT_FLAG:
		break;
	}
}

static struct opt *find_opt(struct opt *table, const char *name, size_t len)
{
	for (struct opt *t = table; t && t->name; t++)
		if (strlen(t->name) == len && !strncmp(t->name, name, len))
			return t;
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&g_stop, 1);
}

void parse_opts(int argc, char **argv, const char *summary, struct opt *extra)
{
	const char *slash = strrchr(argv[0], '/');
	if (!g_prog || !strcmp(g_prog, "stress"))
		g_prog = slash ? slash + 1 : argv[0];
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, summary, extra);
			exit(EXIT_HELD);
		}
		if (strncmp(a, "--", 2))
			usage_error("unexpected argument '%s'", a);
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		struct opt *o = find_opt(common_table, name, len);
		if (!o)
			o = find_opt(extra, name, len);
		if (!o)
			usage_error("unknown option '--%.*s'", (int)len, name);
		if (o->type == OPT_FLAG) {
			if (eq)
				usage_error("--%s takes no value", o->name);
			*(int *)o->ptr = 1;
			continue;
		}
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!val)
			usage_error("--%s needs a value", o->name);
		set_opt(o, val);
	}
	if (g_opt.duration < 0 || g_opt.duration > 86400)
		usage_error("--duration must be between 0 and 86400 seconds");
	if (g_opt.threads < 1 || g_opt.threads > 1024)
		usage_error("--threads must be between 1 and 1024");
	if (g_opt.progress <= 0)
		g_opt.progress = 5;
	if (g_opt.grace < 0)
		usage_error("--grace must not be negative");

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Progress goes to a log the harness tails; unbuffered keeps it live. */
	setvbuf(stderr, NULL, _IONBF, 0);
	start_clock();
}

void die_setup(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", g_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_SETUP);
}

void note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: [%6.1fs] %s\n", g_prog, elapsed_s(), line);
}

/* ------------------------------------------------------------------- time */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void start_clock(void) { g_start_ns = now_ns(); }
double elapsed_s(void) { return (double)(now_ns() - g_start_ns) / 1e9; }

int deadline_passed(void)
{
	return stopping() || elapsed_s() >= g_opt.duration;
}

void sleep_ms(double ms)
{
	/* Slices keep a sleeping thread responsive to the stop flag. */
	uint64_t end = now_ns() + (uint64_t)(ms * 1e6);
	while (!stopping()) {
		uint64_t n = now_ns();
		if (n >= end)
			return;
		uint64_t left = end - n;
		if (left > 50000000ull)
			left = 50000000ull;
		struct timespec ts = { (time_t)(left / 1000000000ull), (long)(left % 1000000000ull) };
		nanosleep(&ts, NULL);
	}
}

/* ------------------------------------------------------------- randomness */

void rng_init(struct rng *r, uint64_t seed, uint64_t stream)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED03ull + 1;
	rng_next(r);
}

uint64_t rng_next(struct rng *r)
{
	/* splitmix64: tiny, decent, and deterministic per (seed, stream) */
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* --------------------------------------------------------------- failures */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long fail_count;
static double first_fail_s = -1;
static char fail_notes[MAX_NOTES][256];
static int fail_noted;

#define MAX_ORACLES 16
static struct { const char *name; long count; } oracles[MAX_ORACLES];

double first_failure_s(void) { return first_fail_s; }

void fail(const char *oracle, const char *fmt, ...)
{
	char line[256];
	int n0 = snprintf(line, sizeof(line), "%s: ", oracle);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + n0, sizeof(line) - (size_t)n0, fmt, ap);
	va_end(ap);
	long n = atomic_fetch_add(&fail_count, 1) + 1;
	pthread_mutex_lock(&fail_lock);
	if (first_fail_s < 0)
		first_fail_s = stress_elapsed(); /* time to detection, for the bug-corpus table */
	if (fail_noted < MAX_NOTES)
		memcpy(fail_notes[fail_noted++], line, sizeof(line));
	for (int i = 0; i < MAX_ORACLES; i++)
		if (!oracles[i].name || !strcmp(oracles[i].name, oracle)) {
			oracles[i].name = oracle;
			oracles[i].count++;
			break;
		}
	pthread_mutex_unlock(&fail_lock);
	/* Said as it happens, so the console/log shows when the oracle broke. */
	if (n <= 20)
		note("ORACLE %s", line);
	else if (n == 21)
		note("ORACLE: further failures are only counted");
}

void for_each_oracle(void (*cb)(void *ctx, const char *name, long count), void *ctx)
{
	pthread_mutex_lock(&fail_lock);
	for (int i = 0; i < MAX_ORACLES && oracles[i].name; i++)
		cb(ctx, oracles[i].name, oracles[i].count);
	pthread_mutex_unlock(&fail_lock);
}

long failures(void) { return atomic_load(&fail_count); }

int failure_note(int i, char *buf, size_t len)
{
	pthread_mutex_lock(&fail_lock);
	int have = i < fail_noted;
	if (have)
		snprintf(buf, len, "%s", fail_notes[i]);
	pthread_mutex_unlock(&fail_lock);
	return have;
}

void mark_stress_end(void) { g_stress_s = elapsed_s(); }

double stress_elapsed(void) { return g_stress_s ? g_stress_s : elapsed_s(); }

/* ---------------------------------------------------------------- workers */

#define MAX_WORKERS 1100
static struct worker *workers[MAX_WORKERS];
static int nworkers;

static void *worker_main(void *p)
{
	struct worker *w = p;
	void *r = w->fn(w);
	atomic_store(&w->done, 1);
	return r;
}

struct worker *spawn_worker(const char *role, int index, worker_fn fn, void *arg)
{
	int slot = nworkers;
	/* Programs that start threads per cycle reuse the slots of joined ones. */
	for (int i = 0; i < nworkers; i++)
		if (!workers[i]->started) {
			slot = i;
			break;
		}
	if (slot >= MAX_WORKERS)
		die_setup("too many threads (max %d)", MAX_WORKERS);
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		die_setup("out of memory");
	w->role = role;
	w->index = index;
	w->fn = fn;
	w->arg = arg;
	atomic_store(&w->doing, "starting");
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	/* Small stacks: hundreds of threads fit in a 2 GiB KASAN guest. */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	int err = pthread_create(&w->tid, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
	if (err)
		die_setup("cannot start %s thread: %s", role, strerror(err));
	w->started = 1;
	if (slot < nworkers)
		free(workers[slot]);
	else
		nworkers++;
	workers[slot] = w;
	return w;
}

static struct timespec realtime_in(double s)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += (time_t)s;
	t.tv_nsec += (long)((s - (double)(long)s) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int join_until(struct worker *w, const struct timespec *until)
{
	if (!w->started)
		return 0;
	if (pthread_timedjoin_np(w->tid, NULL, until) == 0) {
		w->started = 0;
		return 0;
	}
	fail(O_STUCK, "%s thread %d stuck in %s for %.0fs after it was told to stop", w->role, w->index,
	     atomic_load(&w->doing), g_opt.grace);
	return 1;
}

int join_worker(struct worker *w)
{
	struct timespec until = realtime_in(g_opt.grace);
	return join_until(w, &until);
}

long stop_and_join(void)
{
	if (!g_stress_s)
		g_stress_s = elapsed_s();
	atomic_store(&g_stop, 1);
	struct timespec until = realtime_in(g_opt.grace);
	long stuck = 0;
	for (int i = 0; i < nworkers; i++)
		stuck += join_until(workers[i], &until);
	return stuck;
}

void progress_tick(progress_fn cb)
{
	static double next;
	double e = elapsed_s();
	if (!next)
		next = g_opt.progress;
	if (e < next || !cb)
		return;
	fprintf(stderr, "%s: [%6.1f/%.0fs] ", g_prog, e, g_opt.duration);
	cb(stderr);
	fputc('\n', stderr);
	next = e + g_opt.progress;
}

long run_until_deadline(progress_fn cb)
{
	while (!deadline_passed()) {
		sleep_ms(100);
		progress_tick(cb);
	}
	g_stress_s = elapsed_s();
	note("deadline: stopping %d threads", nworkers);
	return stop_and_join();
}

/* ------------------------------------------------------------ file helpers */

int write_file(const char *path, const char *s, int flags)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return errno;
	size_t len = strlen(s);
	ssize_t n = write(fd, s, len);
	int err = n < 0 ? errno : ((size_t)n != len ? EIO : 0);
	if (close(fd) && !err)
		err = errno;
	return err;
}

long read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t got = 0;
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);
		if (n < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (!n)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	close(fd);
	return (long)got;
}

int drop_dentries(void)
{
	return write_file("/proc/sys/vm/drop_caches", "2", 0);
}

long mem_available_kb(void)
{
	char buf[4096];
	if (read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	char *p = strstr(buf, "MemAvailable:");
	return p ? strtol(p + 13, NULL, 10) : -1;
}

int dentry_state(long long *nr_dentry, long long *nr_unused, long long *nr_negative)
{
	char buf[256];
	long long f[6] = { 0 };
	if (read_file("/proc/sys/fs/dentry-state", buf, sizeof(buf)) <= 0)
		return -1;
	if (sscanf(buf, "%lld %lld %lld %lld %lld %lld", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5]) < 5)
		return -1;
	*nr_dentry = f[0];
	*nr_unused = f[1];
	*nr_negative = f[4];
	return 0;
}

const char *errname(int err)
{
	const char *n = strerrorname_np(err);
	return n ? n : "E?";
}

