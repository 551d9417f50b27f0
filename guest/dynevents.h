/* Dynamic trace events (kprobe, synthetic, user) and their eventfs oracles. */
#ifndef HARNESS_DYNEVENTS_H
#define HARNESS_DYNEVENTS_H
#include "common.h"

enum ev_kind { KPROBE, SYNTH, USER, NKINDS };
extern const char *const kind_name[NKINDS];	/* "kprobe", "synth", "user" */
extern const char *const kind_group[NKINDS];	/* its directory under events/ */

struct ev {
	enum ev_kind kind;
	char name[32];
	char dir[400];	/* <root>/events/<group>/<name> */
};

struct ev_opts {
	const char *root;	/* tracefs root; set before ev_init() */
	const char *symbol;	/* kprobe target, default "schedule" */
	int no_truncate;	/* never clear synthetic_events with O_TRUNC */
};
extern struct ev_opts ev_opts;
extern atomic_llong ev_present_checks, ev_gone_checks;
extern struct lat ev_lookup_lat;	/* stat of the event directory when it must exist */

void ev_init(struct ev *e, enum ev_kind k, const char *name);
/* Each picks one of the kernel's interfaces at random; 0 or errno. */
int ev_add(struct ev *e, struct rng *r);
int ev_remove(struct ev *e, struct rng *r);
void ev_disable(struct ev *e);
/* Oracles for the caller that owns e: it exists (every lookup must work,
 * ENOENT is reported as spurious) or it was just removed (nothing may open). */
void ev_check_present(struct ev *e, const char *when);
void ev_check_gone(struct ev *e);
#endif
