/* Shared helpers for the guest stress programs: options, deadline, threads,
 * latency histograms, oracle failure notes and the final JSON line.
 *
 * Contract with the harness (see harness/scenarios): exit 0 when the oracle
 * held, 1 when it broke, 2 on usage or setup error with a one-line message;
 * the last stdout line is one JSON object of counters.
 */
#ifndef HARNESS_COMMON_H
#define HARNESS_COMMON_H

#define _GNU_SOURCE
#include <pthread.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_HELD 0
#define EXIT_BROKEN 1
#define EXIT_SETUP 2

/* ---- options ---- */
enum opt_type { OPT_INT, OPT_DOUBLE, OPT_STR, OPT_FLAG, OPT_SIZE };

struct opt {
	const char *name;	/* without the leading "--" */
	enum opt_type type;
	void *ptr;		/* long *, double *, const char **, int *, long * */
	const char *help;
};

/* Options every program has; filled before parse_opts() with defaults. */
struct common_opts {
	double duration;	/* seconds of stress */
	long threads;
	long seed;
	double progress;	/* seconds between progress lines */
	double grace;		/* seconds to wait for threads after the deadline */
};

extern const char *g_prog;
extern struct common_opts g_opt;

/* Parses argv against the common options plus `extra` (NULL-name terminated).
 * Exits 2 with a one-line message on any error, 0 after --help. */
void parse_opts(int argc, char **argv, const char *summary, struct opt *extra);

/* One-line message to stderr and exit 2: the setup cannot go on. */
void die_setup(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- time ---- */
uint64_t now_ns(void);
double elapsed_s(void);		/* since start_clock() */
void start_clock(void);
extern atomic_int g_stop;	/* set at the deadline or on SIGINT/SIGTERM */
static inline int stopping(void) { return atomic_load_explicit(&g_stop, memory_order_relaxed); }
/* Sleeps up to ms, waking early when stopping. */
void sleep_ms(double ms);
int deadline_passed(void);

/* ---- randomness (per thread, seeded from --seed) ---- */
struct rng { uint64_t s; };
void rng_init(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
static inline uint64_t rng_below(struct rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }

/* ---- latency histogram: log-linear buckets, ~6% precision, lock-free add ---- */
#define LAT_SUB 16
#define LAT_BUCKETS (64 * LAT_SUB)
struct lat {
	_Atomic uint64_t b[LAT_BUCKETS];
	_Atomic uint64_t n;
	_Atomic uint64_t max;
};
void lat_add(struct lat *l, uint64_t ns);
uint64_t lat_pct(struct lat *l, double pct);	/* ns, bucket upper bound */

/* ---- oracle failures ----
 * Every failure names the oracle it broke; the names are a contract with
 * the harness (tests/bugs/README.md): messages start with "<name>: " and the
 * JSON counts them per name under "oracles". */
#define O_ENOENT "spurious-ENOENT"	/* a name that exists failed lookup with ENOENT */
#define O_LOOKUP "lookup-error"		/* ... failed otherwise, or readdir does not list it */
#define O_GHOST "ghost-file"		/* a removed name still stats/opens, or not with ENOENT */
#define O_LOOP "find-loop"		/* a directory with the dev+ino of its own ancestor */
#define O_SYMLINK "symlink-inconsistent"	/* a link resolved to something it never was */
#define O_DRIFT "nr_negative-drift"	/* dentry-state's nr_negative off after drop_caches */
#define O_BUSY "umount-busy"		/* umount EBUSY with every file closed */
#define O_KMSG "kernel-report"		/* the kernel logged a complaint the program looks for */
#define O_FSOP "fs-op-error"		/* an operation that cannot fail here failed */
#define O_SLOW "slow-op"		/* one syscall took longer than the program's bound */
#define O_ROUND "round-timeout"		/* barrier round not finished in time */
#define O_STUCK "stuck-thread"		/* a thread did not return within --grace */
#define ENOENT_OR(err) ((err) == ENOENT ? O_ENOENT : O_LOOKUP)
#define MAX_NOTES 8
void fail(const char *oracle, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Calls cb for every oracle name that failed, with its count. */
void for_each_oracle(void (*cb)(void *ctx, const char *name, long count), void *ctx);
long failures(void);
/* Copies the i-th noted failure into buf; 0 when there is none. */
int failure_note(int i, char *buf, size_t len);
/* Seconds of stress: up to the deadline once it passed, else up to now. */
double stress_elapsed(void);
double first_failure_s(void);	/* stress seconds at the first oracle failure, -1 if none */

/* ---- workers ---- */
typedef void *(*worker_fn)(void *);
/* Each worker publishes what it is doing so a stuck one can be named. */
struct worker {
	pthread_t tid;
	const char *role;
	int index;
	void *arg;
	worker_fn fn;
	_Atomic(const char *) doing;
	atomic_int done;
	int started;
};
struct worker *spawn_worker(const char *role, int index, worker_fn fn, void *arg);
static inline void doing(struct worker *w, const char *what) { atomic_store(&w->doing, what); }
/* Main thread: waits until the deadline printing progress via cb, then sets
 * g_stop and joins every worker for at most --grace seconds. Returns the
 * number of workers still stuck (each is also an oracle failure). */
typedef void (*progress_fn)(FILE *out);
long run_until_deadline(progress_fn cb);
/* Sets g_stop and joins every worker with the same bounded grace. */
long stop_and_join(void);
/* Joins one worker (told to stop by the caller's own flag) within --grace;
 * 1 and an oracle failure when it is stuck. */
int join_worker(struct worker *w);
/* Prints a progress line through cb when one is due; for programs whose
 * main thread does the work instead of run_until_deadline(). */
void progress_tick(progress_fn cb);
/* Marks the end of the stress time for ops_per_s (run_until_deadline does). */
void mark_stress_end(void);

/* ---- small file helpers ---- */
/* Writes s to path (O_WRONLY|flags). Returns 0 or an errno value. */
int write_file(const char *path, const char *s, int flags);
/* Reads up to len-1 bytes, NUL-terminates. Returns bytes or -errno. */
long read_file(const char *path, char *buf, size_t len);
/* echo 2 > /proc/sys/vm/drop_caches; 0 or errno. */
int drop_dentries(void);
long mem_available_kb(void);
/* /proc/sys/fs/dentry-state: fields 0 (nr_dentry), 1 (nr_unused), 4 (nr_negative). */
int dentry_state(long long *nr_dentry, long long *nr_unused, long long *nr_negative);
const char *errname(int err);

/* ---- the final JSON line ---- */
struct json { char *buf; size_t len, cap; int first; };
void json_begin(struct json *j);
void json_int(struct json *j, const char *key, long long v);
void json_num(struct json *j, const char *key, double v);
void json_str(struct json *j, const char *key, const char *v);
void json_bool(struct json *j, const char *key, int v);
void json_lat(struct json *j, const char *key, struct lat *l);
/* Nested containers: json_open(j, key, '{' or '['), key NULL for an array
 * element; json_close(j, '}' or ']'). */
void json_open(struct json *j, const char *key, char bracket);
void json_close(struct json *j, char bracket);
/* Adds program, seed, threads, elapsed, ops, ops_per_s, failures, notes,
 * stuck_threads and ok; prints the line; returns the exit code. */
int json_finish(struct json *j, long long ops, long stuck);

#endif
