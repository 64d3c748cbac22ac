/*
 * ruleset.c - keeps the firewall in step with the registry.
 *
 * The registry is the source of truth: a delta is the difference between
 * the addresses applied last (kept here) and the registry now, never a
 * listing read back from the kernel.  Deltas are used only when
 * ApplyCommand runs nft on this host ("nft ..."): an ApplyCommand that
 * ships the file to a router gets the full file every time, since only it
 * knows how to reach the router.
 */
#include "ruleset.h"

#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

int
ruleset_input(const struct dconf *c, struct registry *r, struct rules_input *in,
    char *err, size_t errlen)
{
	struct pc_addr *allowed;
	size_t n;

	if (registry_allowed(r, &allowed, &n, err, errlen) < 0)
		return -1;
	memset(in, 0, sizeof(*in));
	in->allowed = allowed;
	in->n_allowed = n;
	in->subscribers = &c->subscribers;
	in->nft_table = c->nft_table;
	in->hook_output = c->nft_hook == DCONF_HOOK_OUTPUT;
	in->block_drop = c->block_action == DCONF_BLOCK_DROP;
	return 0;
}

int
ruleset_render(const struct dconf *c, struct registry *r, int format,
    struct dstr *out, size_t *count, char *err, size_t errlen)
{
	struct rules_input in;
	enum rules_format f;
	int rc;

	if (format < 0)
		format = c->rule_format;
	if (rules_format_parse(dconf_rule_formats[format], &f) < 0)
		return pc_err(err, errlen, "rule format %s is not built in",
		    dconf_rule_formats[format]);
	if (ruleset_input(c, r, &in, err, errlen) < 0)
		return -1;
	rc = rules_render(f, &in, out, err, errlen);
	if (count != NULL)
		*count = in.n_allowed;
	free((void *)in.allowed);
	return rc;
}

int
ruleset_apply(const struct dconf *c, const struct dstr *text, char *err,
    size_t errlen)
{
	struct rules_apply_opts o;

	memset(&o, 0, sizeof(o));
	o.rule_file = c->rule_file;
	o.apply_command = c->apply_command;
	return rules_apply(&o, text->buf != NULL ? text->buf : "", text->len,
	    err, errlen);
}

void
ruleset_state_free(struct ruleset_state *st)
{
	free((void *)st->in.allowed);
	pc_netlist_free(&st->subs);
	free(st->nft_table);
	memset(st, 0, sizeof(*st));
}

/* Keeps next (taking its allowed array) as the base of the next delta. */
static void
keep(struct ruleset_state *st, struct rules_input *next)
{
	size_t i;

	ruleset_state_free(st);
	st->in = *next;
	pc_netlist_init(&st->subs);
	for (i = 0; i < next->subscribers->n; i++) {
		char buf[PC_NET_STRLEN];

		pc_net_format(&next->subscribers->v[i], buf, sizeof(buf));
		pc_netlist_add(&st->subs, buf, NULL, 0);
	}
	st->in.subscribers = &st->subs;
	st->nft_table = xstrdup(next->nft_table);
	st->in.nft_table = st->nft_table;
	next->allowed = NULL;
}

static int
delta_possible(const struct dconf *c, const struct ruleset_state *st)
{
	return st->in.allowed != NULL && c->apply_command != NULL &&
	    strncmp(c->apply_command, "nft ", 4) == 0 &&
	    strcmp(dconf_rule_formats[c->rule_format], "nft") == 0;
}

int
ruleset_update(const struct dconf *c, struct registry *r,
    struct ruleset_state *st, const struct dstr *last, int force,
    struct dstr *text, int *applied, size_t *changes, char *err,
    size_t errlen)
{
	struct rules_apply_opts o;
	struct rules_input next;
	enum rules_format f;
	struct dstr delta;
	int rc;

	*applied = 0;
	*changes = 0;
	if (rules_format_parse(dconf_rule_formats[c->rule_format], &f) < 0)
		return pc_err(err, errlen, "rule format %s is not built in",
		    dconf_rule_formats[c->rule_format]);
	if (ruleset_input(c, r, &next, err, errlen) < 0)
		return -1;
	if (rules_render(f, &next, text, err, errlen) < 0) {
		free((void *)next.allowed);
		return -1;
	}
	if (!force && st->in.allowed != NULL && last->len == text->len &&
	    memcmp(last->buf, text->buf, text->len) == 0) {
		free((void *)next.allowed);
		return 0;	/* e.g. only a pending entry was added */
	}
	memset(&o, 0, sizeof(o));
	o.rule_file = c->rule_file;
	o.apply_command = c->apply_command;
	rc = RULES_DELTA_FULL;
	dstr_init(&delta);
	if (!force && delta_possible(c, st) &&
	    rules_render_delta(f, &st->in, &next, RULESET_DELTA_MAX, &delta,
	    changes, err, errlen) == RULES_DELTA_OK)
		rc = RULES_DELTA_OK;
	if (rc == RULES_DELTA_OK)
		rc = rules_apply_delta(&o, delta.buf, delta.len, text->buf,
		    text->len, err, errlen) < 0 ? -1 : 0;
	else
		rc = rules_apply(&o, text->buf, text->len, err, errlen);
	dstr_free(&delta);
	if (rc < 0) {
		free((void *)next.allowed);
		ruleset_state_free(st);	/* the next attempt applies in full */
		return -1;
	}
	keep(st, &next);
	*applied = 1;
	return 0;
}
