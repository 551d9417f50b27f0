/* Latency histograms and the final JSON line; see common.h. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- latencies */

static unsigned lat_index(uint64_t v)
{
	if (v < LAT_SUB)
		return (unsigned)v;
	unsigned msb = 63 - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - 4;	/* LAT_SUB == 16 == 1 << 4 */
	return (shift + 1) * LAT_SUB + (unsigned)((v >> shift) & (LAT_SUB - 1));
}

static uint64_t lat_upper(unsigned idx)
{
	if (idx < LAT_SUB)
		return idx;
	unsigned shift = idx / LAT_SUB - 1, sub = idx % LAT_SUB;
	return (((uint64_t)LAT_SUB + sub) << shift) + ((1ull << shift) - 1);
}

void lat_add(struct lat *l, uint64_t ns)
{
	atomic_fetch_add_explicit(&l->b[lat_index(ns)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->n, 1, memory_order_relaxed);
	uint64_t m = atomic_load_explicit(&l->max, memory_order_relaxed);
	while (ns > m && !atomic_compare_exchange_weak(&l->max, &m, ns))
		;
}

uint64_t lat_pct(struct lat *l, double pct)
{
	uint64_t n = atomic_load(&l->n), want = (uint64_t)((double)n * pct / 100.0 + 0.999999), seen = 0;
	if (!n)
		return 0;
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < LAT_BUCKETS; i++) {
		seen += atomic_load_explicit(&l->b[i], memory_order_relaxed);
		if (seen >= want) {
			uint64_t u = lat_upper(i), m = atomic_load(&l->max);
			return u < m ? u : m;
		}
	}
	return atomic_load(&l->max);
}

/* ------------------------------------------------------------------- json */

static void json_raw(struct json *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		size_t cap = (j->cap ? j->cap * 2 : 1024) + n;
		char *b = realloc(j->buf, cap);
		if (!b)
			die_setup("out of memory");
		j->buf = b;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

static void json_fmt(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void json_fmt(struct json *j, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	json_raw(j, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void json_quoted(struct json *j, const char *s)
{
	json_raw(j, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			json_raw(j, e, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			json_fmt(j, "\\u%04x", c);	/* keeps the line ASCII, whatever the kernel returned */
		} else {
			json_raw(j, (const char *)&c, 1);
		}
	}
	json_raw(j, "\"", 1);
}

static void json_key(struct json *j, const char *key)
{
	if (!j->first)
		json_raw(j, ",", 1);
	j->first = 0;
	json_quoted(j, key);
	json_raw(j, ":", 1);
}

void json_begin(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first = 1;
	json_raw(j, "{", 1);
	json_key(j, "program");
	json_quoted(j, g_prog);
}

void json_int(struct json *j, const char *key, long long v) { json_key(j, key); json_fmt(j, "%lld", v); }
void json_bool(struct json *j, const char *key, int v) { json_key(j, key); json_raw(j, v ? "true" : "false", v ? 4 : 5); }
void json_str(struct json *j, const char *key, const char *v) { json_key(j, key); json_quoted(j, v ? v : ""); }

void json_num(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (v != v || v > 1e300 || v < -1e300)
		json_raw(j, "null", 4);
	else
		json_fmt(j, "%.3f", v);
}

void json_lat(struct json *j, const char *key, struct lat *l)
{
	json_key(j, key);
	json_fmt(j, "{\"n\":%llu,\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}",
		 (unsigned long long)atomic_load(&l->n), (double)lat_pct(l, 50) / 1e3,
		 (double)lat_pct(l, 99) / 1e3, (double)atomic_load(&l->max) / 1e3);
}

void json_open(struct json *j, const char *key, char bracket)
{
	if (key) {
		json_key(j, key);
	} else {
		if (!j->first)
			json_raw(j, ",", 1);
	}
	json_raw(j, &bracket, 1);
	j->first = 1;
}

void json_close(struct json *j, char bracket)
{
	json_raw(j, &bracket, 1);
	j->first = 0;
}

static void json_oracle(void *ctx, const char *name, long count)
{
	json_int(ctx, name, count);
}

int json_finish(struct json *j, long long ops, long stuck)
{
	double el = stress_elapsed();
	json_int(j, "seed", g_opt.seed);
	json_int(j, "threads", g_opt.threads);
	json_num(j, "duration_s", g_opt.duration);
	json_num(j, "elapsed_s", el);
	json_int(j, "ops", ops);
	json_num(j, "ops_per_s", el > 0 ? (double)ops / el : 0);
	json_int(j, "stuck_threads", stuck);
	long n = failures();
	json_int(j, "oracle_failures", n);
	if (n)
		json_num(j, "first_failure_s", first_failure_s());
	json_key(j, "failures");
	json_raw(j, "[", 1);
	char line[256];
	for (int i = 0; failure_note(i, line, sizeof(line)); i++) {
		if (i)
			json_raw(j, ",", 1);
		json_quoted(j, line);
	}
	json_raw(j, "]", 1);
	json_open(j, "oracles", '{');
	for_each_oracle(json_oracle, j);
	json_close(j, '}');
	json_bool(j, "ok", n == 0);
	json_raw(j, "}", 1);
	fflush(stderr);
	printf("%s\n", j->buf);
	fflush(stdout);
	return n == 0 ? EXIT_HELD : EXIT_BROKEN;
}
