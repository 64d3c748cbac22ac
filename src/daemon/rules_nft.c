/*
 * rules_nft.c - the nft renderer: one table, four sets, one chain.
 *
 * Subscriber ranges go into interval sets (they are prefixes); allowed
 * hosts go into plain hash sets without the interval flag, because
 * changing one element of an interval set costs about 0.9 s at 100,000
 * elements and over a minute at 1,000,000, while a hash set takes
 * milliseconds at any size (doc/performance.md).  That is what makes the
 * delta (`add element` / `delete element`) cheap.
 */
#include "rules.h"
#include "rules_int.h"

#include <stdlib.h>
#include <string.h>

/* Elements per `add element` / `delete element` command in a delta. */
#define DELTA_CHUNK 256

static void
put_set_head(struct dstr *out, const char *name, int v6, int interval)
{
	dstr_appendf(out, "\tset %s {\n\t\ttype %s\n", name,
	    v6 ? "ipv6_addr" : "ipv4_addr");
	if (interval)
		dstr_puts(out, "\t\tflags interval\n");
}

static void
put_addr_set(struct dstr *out, const char *name, int v6,
    const struct pc_addr *a, size_t n)
{
	size_t i;

	put_set_head(out, name, v6, 0);
	/* nft refuses "elements = { }": an empty set has no such line. */
	if (n > 0) {
		dstr_puts(out, "\t\telements = {\n");
		for (i = 0; i < n; i++) {
			dstr_puts(out, "\t\t\t");
			rules_put_addr(out, &a[i]);
			dstr_puts(out, i + 1 < n ? ",\n" : "\n");
		}
		dstr_puts(out, "\t\t}\n");
	}
	dstr_puts(out, "\t}\n");
}

static void
put_net_set(struct dstr *out, const char *name, int v6,
    const struct pc_net *s, size_t n)
{
	size_t i;

	put_set_head(out, name, v6, 1);
	if (n > 0) {
		dstr_puts(out, "\t\telements = {\n");
		for (i = 0; i < n; i++) {
			dstr_puts(out, "\t\t\t");
			rules_put_net(out, &s[i]);
			dstr_puts(out, i + 1 < n ? ",\n" : "\n");
		}
		dstr_puts(out, "\t\t}\n");
	}
	dstr_puts(out, "\t}\n");
}

void
rules_render_nft(const struct rules_prep *p, struct dstr *out)
{
	const char *verdict = p->block_drop ? "drop" : "reject with tcp reset";

	/*
	 * `nft -f` sends the whole file to the kernel as one netlink batch
	 * and the kernel commits a batch as one generation: packets see the
	 * old table or the new one, never an empty whitelist in between, and
	 * if any command fails nothing changes.  The first line creates the
	 * table when it does not exist yet (and is a no-op when it does), so
	 * that the delete never fails on a first apply; the delete drops the
	 * old contents, chains and sets included, so nothing stale survives.
	 */
	dstr_puts(out, "# portcullis: port 25 egress whitelist (nft).\n"
	    "# Generated; apply with nft -f (one atomic transaction).\n");
	dstr_appendf(out, "table inet %s\ndelete table inet %s\n", p->table,
	    p->table);
	dstr_appendf(out, "table inet %s {\n", p->table);
	put_net_set(out, "subscribers_v4", 0, p->subs, p->n_subs4);
	put_net_set(out, "subscribers_v6", 1, p->subs + p->n_subs4,
	    p->n_subs - p->n_subs4);
	put_addr_set(out, "allowed_v4", 0, p->allowed, p->n_allowed4);
	put_addr_set(out, "allowed_v6", 1, p->allowed + p->n_allowed4,
	    p->n_allowed - p->n_allowed4);
	/* "fwd" is an nft keyword; "port25" is not. */
	dstr_appendf(out, "\tchain port25 {\n"
	    "\t\ttype filter hook %s priority filter; policy accept;\n",
	    p->hook_output ? "output" : "forward");
	dstr_puts(out,
	    "\t\ttcp dport 25 ip saddr @allowed_v4 accept\n"
	    "\t\ttcp dport 25 ip6 saddr @allowed_v6 accept\n");
	dstr_appendf(out,
	    "\t\ttcp dport 25 ip saddr @subscribers_v4 %s\n"
	    "\t\ttcp dport 25 ip6 saddr @subscribers_v6 %s\n", verdict,
	    verdict);
	dstr_puts(out, "\t}\n}\n");
}

static void
put_elements(struct dstr *out, const char *verb, const char *table,
    const char *set, const struct pc_addr *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i % DELTA_CHUNK == 0)
			dstr_appendf(out, "%s element inet %s %s { ", verb,
			    table, set);
		rules_put_addr(out, v[i]);
		dstr_puts(out, i + 1 == n || (i + 1) % DELTA_CHUNK == 0 ?
		    " }\n" : ", ");
	}
}

size_t
rules_count_changes(const struct rules_prep *a, const struct rules_prep *b)
{
	size_t i = 0, j = 0, n = 0;

	while (i < a->n_allowed || j < b->n_allowed) {
		int c = i == a->n_allowed ? 1 : j == b->n_allowed ? -1 :
		    rules_addr_cmp(&a->allowed[i], &b->allowed[j]);

		n += c != 0;
		i += c <= 0;
		j += c >= 0;
	}
	return n;
}

static const struct pc_addr **
push(const struct pc_addr **v, size_t *n, size_t *cap, const struct pc_addr *a)
{
	if (*n == *cap) {
		*cap = *cap * 2 + 16;
		v = xrealloc(v, *cap * sizeof(*v));
	}
	v[(*n)++] = a;
	return v;
}

/* Walks both sorted lists once; gathers what leaves and what comes. */
size_t
rules_render_nft_delta(const struct rules_prep *a, const struct rules_prep *b,
    struct dstr *out)
{
	const struct pc_addr **del = NULL, **add = NULL;
	size_t i = 0, j = 0, nd = 0, na = 0, cd = 0, ca = 0, nd4, na4;

	while (i < a->n_allowed || j < b->n_allowed) {
		int c = i == a->n_allowed ? 1 : j == b->n_allowed ? -1 :
		    rules_addr_cmp(&a->allowed[i], &b->allowed[j]);

		if (c < 0)
			del = push(del, &nd, &cd, &a->allowed[i]);
		else if (c > 0)
			add = push(add, &na, &ca, &b->allowed[j]);
		i += c <= 0;
		j += c >= 0;
	}
	for (nd4 = 0; nd4 < nd && del[nd4]->family == AF_INET; nd4++)
		;
	for (na4 = 0; na4 < na && add[na4]->family == AF_INET; na4++)
		;
	/* One file, one `nft -f`, one transaction: all of it or none. */
	dstr_appendf(out, "# portcullis delta: %zu removed, %zu added\n", nd,
	    na);
	put_elements(out, "delete", b->table, "allowed_v4", del, nd4);
	put_elements(out, "delete", b->table, "allowed_v6", del + nd4,
	    nd - nd4);
	put_elements(out, "add", b->table, "allowed_v4", add, na4);
	put_elements(out, "add", b->table, "allowed_v6", add + na4, na - na4);
	free(del);
	free(add);
	return nd + na;
}
