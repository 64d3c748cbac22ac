/*
 * rules_pf.c - the pf renderer: a table file and the anchor's rules.
 *
 * One table, portcullis_blocked, holds the subscriber ranges and each
 * allowed host as a negated entry ("!192.0.2.25").  pf looks tables up
 * by longest prefix and a negated entry matches nothing, so one block
 * rule stops port 25 from the ranges except from allowed hosts, and no
 * pass rule is needed: nothing else the administrator's ruleset decides
 * is touched.  Two sections (see rules_section()):
 *   pf-table   one entry a line:
 *              pfctl -a portcullis -t portcullis_blocked -T replace -f F
 *              (replaces the table's contents in one step);
 *   pf-anchor  for pfctl -a portcullis -f F, once or when it changes;
 *              pf.conf hooks it with: anchor "portcullis"
 */
#include "rules.h"
#include "rules_int.h"

void
rules_render_pf(const struct rules_prep *p, struct dstr *out)
{
	size_t i;

	dstr_puts(out, "# portcullis: port 25 egress whitelist (pf).\n"
	    "# Generated; two sections: pf-table, then pf-anchor.\n"
	    "# portcullis-section: pf-table\n");
	for (i = 0; i < p->n_subs; i++) {
		rules_put_net(out, &p->subs[i]);
		dstr_putc(out, '\n');
	}
	for (i = 0; i < p->n_allowed; i++) {
		dstr_putc(out, '!');
		rules_put_addr(out, &p->allowed[i]);
		dstr_putc(out, '\n');
	}
	dstr_puts(out, "# portcullis-section: pf-anchor\n"
	    "table <portcullis_blocked> persist\n");
	/* On a router, "in" catches the subscriber's packet as it arrives;
	 * "! self" spares connections to the router itself. */
	dstr_appendf(out, "block %s %s quick proto tcp from "
	    "<portcullis_blocked> to %s port 25\n",
	    p->block_drop ? "drop" : "return",
	    p->hook_output ? "out" : "in",
	    p->hook_output ? "any" : "! self");
}
