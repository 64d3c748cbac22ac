/*
 * rules_plain.c - the plain renderer: one allowed address a line, sorted,
 * nothing else, for scripts and firewalls portcullis does not know.
 */
#include "rules.h"
#include "rules_int.h"

void
rules_render_plain(const struct rules_prep *p, struct dstr *out)
{
	size_t i;

	for (i = 0; i < p->n_allowed; i++) {
		rules_put_addr(out, &p->allowed[i]);
		dstr_putc(out, '\n');
	}
}
