/*
 * ruleset.h - from the registry to the firewall: the allowed addresses
 * as a rules_input, rendered and applied in full or, for a few changes
 * under nft, as element additions and deletions.
 */
#ifndef PC_RULESET_H
#define PC_RULESET_H

#include <stddef.h>

#include "dconf.h"
#include "rules.h"

struct registry;

/* Above this many changed addresses a full reload is cheaper to reason about. */
#define RULESET_DELTA_MAX 1000

/* What was applied last: the base of the next delta. */
struct ruleset_state {
	struct rules_input in;		/* in.allowed owned; NULL: nothing applied */
	struct pc_netlist subs;		/* copy: a reload frees the old dconf */
	char *nft_table;
};

/* The registry's active, unexpired addresses for c; free in->allowed. */
int ruleset_input(const struct dconf *c, struct registry *r,
    struct rules_input *in, char *err, size_t errlen);

/* The registry rendered in format (-1: RuleFormat); count: addresses. */
int ruleset_render(const struct dconf *c, struct registry *r, int format,
    struct dstr *out, size_t *count, char *err, size_t errlen);
/* Writes text to RuleFile atomically and runs ApplyCommand. */
int ruleset_apply(const struct dconf *c, const struct dstr *text,
    char *err, size_t errlen);

/*
 * Renders the registry in full into text and applies it: as a delta from
 * st when st holds the last applied state, the format is nft, ApplyCommand
 * runs nft on this host and at most RULESET_DELTA_MAX addresses changed;
 * in full otherwise.  Does nothing (returns 0, *applied 0) when the text
 * equals last and force is 0.  On success st becomes the new state.
 */
int ruleset_update(const struct dconf *c, struct registry *r,
    struct ruleset_state *st, const struct dstr *last, int force,
    struct dstr *text, int *applied, size_t *changes, char *err,
    size_t errlen);

void ruleset_state_free(struct ruleset_state *st);

#endif
