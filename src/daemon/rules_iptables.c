/*
 * rules_iptables.c - the iptables renderer: ipset sets plus one chain of
 * four rules per address family, never one rule per address.
 *
 * One render yields three inputs for three programs, so the file is cut
 * into sections by marker lines "# portcullis-section: NAME" (split with
 * rules_section() or the awk line in rules.h), applied in this order:
 *   ipset      `ipset restore`: each set is filled under a temporary name
 *              and swapped in whole, so a packet sees the old members or
 *              the new ones, never a half-filled or empty set;
 *   iptables   `iptables-restore --noflush`, ip6tables likewise: declaring
 *   ip6tables  the chain PORTCULLIS flushes and refills it in one commit,
 *              and --noflush leaves every other chain alone.
 * The jump into PORTCULLIS (`iptables -I FORWARD -j PORTCULLIS`, OUTPUT
 * for NftHook output) is installed once by the administrator, not here:
 * restore files cannot say "add this rule unless it is there".
 */
#include "rules.h"
#include "rules_int.h"

/* Fixed: `create -exist` fails on a live set with another maxelem. */
#define SET_MAXELEM "16777216"

static void
put_set(struct dstr *out, const char *name, const char *type, int v6,
    const struct pc_addr *a, const struct pc_net *s, size_t n)
{
	size_t i;

	dstr_appendf(out, "create %s_new %s family %s maxelem " SET_MAXELEM
	    " -exist\nflush %s_new\n", name, type, v6 ? "inet6" : "inet",
	    name);
	for (i = 0; i < n; i++) {
		dstr_appendf(out, "add %s_new ", name);
		if (a != NULL) {
			rules_put_addr(out, &a[i]);
		} else if (s[i].prefix == 0) {
			/* hash:net refuses /0: the two halves cover it. */
			dstr_puts(out, v6 ? "::/1\n" : "0.0.0.0/1\n");
			dstr_appendf(out, "add %s_new %s", name,
			    v6 ? "8000::/1" : "128.0.0.0/1");
		} else {
			rules_put_net(out, &s[i]);
		}
		dstr_putc(out, '\n');
	}
	dstr_appendf(out, "create %s %s family %s maxelem " SET_MAXELEM
	    " -exist\nswap %s_new %s\ndestroy %s_new\n", name, type,
	    v6 ? "inet6" : "inet", name, name, name);
}

static void
put_chain(struct dstr *out, const struct rules_prep *p, int v6)
{
	const char *action = p->block_drop ? "DROP" :
	    "REJECT --reject-with tcp-reset";
	char c = v6 ? '6' : '4';

	dstr_appendf(out, "# portcullis-section: ip%stables\n"
	    "# hook once: ip%stables -I %s -j PORTCULLIS\n"
	    "*filter\n:PORTCULLIS - [0:0]\n", v6 ? "6" : "", v6 ? "6" : "",
	    p->hook_output ? "OUTPUT" : "FORWARD");
	/* RETURN, not ACCEPT: the rest of the administrator's chain still
	 * sees the packet. */
	dstr_appendf(out, "-A PORTCULLIS -p tcp --dport 25 -m set "
	    "--match-set portcullis_allow%c src -j RETURN\n", c);
	dstr_appendf(out, "-A PORTCULLIS -p tcp --dport 25 -m set "
	    "--match-set portcullis_subs%c src -j %s\nCOMMIT\n", c, action);
}

void
rules_render_iptables(const struct rules_prep *p, struct dstr *out)
{
	dstr_puts(out, "# portcullis: port 25 egress whitelist (iptables).\n"
	    "# Generated; three sections, applied in order: ipset restore,\n"
	    "# iptables-restore --noflush, ip6tables-restore --noflush.\n");
	dstr_puts(out, "# portcullis-section: ipset\n");
	put_set(out, "portcullis_subs4", "hash:net", 0, NULL, p->subs,
	    p->n_subs4);
	put_set(out, "portcullis_subs6", "hash:net", 1, NULL,
	    p->subs + p->n_subs4, p->n_subs - p->n_subs4);
	put_set(out, "portcullis_allow4", "hash:ip", 0, p->allowed, NULL,
	    p->n_allowed4);
	put_set(out, "portcullis_allow6", "hash:ip", 1,
	    p->allowed + p->n_allowed4, NULL, p->n_allowed - p->n_allowed4);
	put_chain(out, p, 0);
	put_chain(out, p, 1);
}
