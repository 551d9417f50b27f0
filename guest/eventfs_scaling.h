/* eventfs-lookup-race's scaling probe: lookup cost against the number of
 * events in one eventfs directory (harness/scaling.py judges the ratios). */
#ifndef HARNESS_EVENTFS_SCALING_H
#define HARNESS_EVENTFS_SCALING_H
#include "common.h"

struct scale_opts {
	const char *root;	/* tracefs root */
	const char *at;		/* sizes, comma separated; "" = no probe */
	const char *symbol;	/* kprobe target when kprobes are all there is */
	double budget;		/* seconds for filling and timing (removal not counted) */
	double point_s;		/* seconds of timing per size, at least */
	int kmsg_marks;		/* each point's start and end on the console */
	int kprobes_ok;		/* the stress found kprobe events usable */
};

/* Fills a directory of dynamic events (synthetic, else user, else kprobe
 * events) to each size in turn, times lookups alone at each, and removes
 * every event it made. Call with no other thread running. */
void scale_probe(const struct scale_opts *o);
/* The "scaling" block and its counters, into the final JSON line. */
void scale_json(struct json *j);
/* Nonzero when --scale-at is malformed; says why in msg. */
int scale_parse(const char *at, char *msg, size_t len);
#endif
