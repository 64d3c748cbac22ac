/*
 * rules_int.h - shared by the renderers (rules*.c) only; callers use
 * rules.h.
 */
#ifndef PC_RULES_INT_H
#define PC_RULES_INT_H

#include <string.h>
#include <sys/socket.h>

#include "rules.h"

/*
 * For the renderers (rules_*.c), not for callers: the input made ready,
 * sorted and free of duplicates.
 */
struct rules_prep {
	struct pc_addr *allowed;	/* v4 first, then v6, sorted, unique */
	size_t n_allowed, n_allowed4;
	int own_allowed;		/* 0: borrowed from the (sorted) input */
	struct pc_net *subs;		/* sorted, none inside another */
	size_t n_subs, n_subs4;
	char table[128];		/* nft table name without family */
	int hook_output, block_drop;
};

/* pc_addr_cmp's order, inlined: a million-entry diff calls it millions
 * of times. */
static inline int
rules_addr_cmp(const struct pc_addr *a, const struct pc_addr *b)
{
	int c;

	if (a->family != b->family)
		return pc_addr_cmp(a, b);
	if (a->family == AF_INET) {
		unsigned long x = (unsigned long)a->a[0] << 24 |
		    (unsigned long)a->a[1] << 16 | (unsigned)a->a[2] << 8 |
		    a->a[3];
		unsigned long y = (unsigned long)b->a[0] << 24 |
		    (unsigned long)b->a[1] << 16 | (unsigned)b->a[2] << 8 |
		    b->a[3];

		return (x > y) - (x < y);
	}
	c = memcmp(a->a, b->a, 16);
	return (c > 0) - (c < 0);
}

int rules_prep_init(struct rules_prep *p, const struct rules_input *in,
    char *err, size_t errlen);
void rules_prep_free(struct rules_prep *p);
/* Appends the address as text; faster than pc_addr_format for v4. */
void rules_put_addr(struct dstr *out, const struct pc_addr *a);
void rules_put_net(struct dstr *out, const struct pc_net *n);

void rules_render_nft(const struct rules_prep *p, struct dstr *out);
void rules_render_iptables(const struct rules_prep *p, struct dstr *out);
void rules_render_pf(const struct rules_prep *p, struct dstr *out);
void rules_render_plain(const struct rules_prep *p, struct dstr *out);
/* Addresses in a or b but not both. */
size_t rules_count_changes(const struct rules_prep *a,
    const struct rules_prep *b);
/* Delta of the allowed sets from a to b; returns the number of changes. */
size_t rules_render_nft_delta(const struct rules_prep *a,
    const struct rules_prep *b, struct dstr *out);

#endif
