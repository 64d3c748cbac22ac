/*
 * checks.c - the registration checks' decisions; see checks.h.
 */
#include "checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "maps.h"
#include "registry.h"
#include "util.h"

const char *
check_result_name(enum check_result r)
{
	switch (r) {
	case CHECK_PASS: return "pass";
	case CHECK_FAIL: return "fail";
	case CHECK_TEMP: return "temperror";
	default: return "skipped";
	}
}

static void
note(struct check_outcome *o, const char *name, enum check_result r,
    const char *detail)
{
	json_t *v = json_pack("{s:s, s:s}", "result", check_result_name(r),
	    "detail", detail);

	json_object_set_new(o->results, name, v);
	/* A failure outranks a temporary failure: retrying will not help. */
	if ((r == CHECK_FAIL && o->result != CHECK_FAIL) ||
	    (r == CHECK_TEMP && o->result == CHECK_PASS)) {
		o->result = r;
		pc_strlcpy(o->failed, name, sizeof(o->failed));
		pc_strlcpy(o->detail, detail, sizeof(o->detail));
	}
}

static void
check_networks(const struct dconf *c, const struct check_request *q,
    struct check_outcome *o)
{
	char why[512], addr[PC_ADDR_STRLEN];

	pc_addr_format(&q->addr, addr, sizeof(addr));
	if (registry_check_networks(&q->addr, &c->subscribers, &c->pools, NULL,
	    why, sizeof(why)) == 0) {
		note(o, CHECK_NETWORKS, CHECK_PASS, "the address is on one of "
		    "our subscriber networks");
		note(o, CHECK_POOLS, CHECK_PASS, "the address is not in a "
		    "dynamic pool");
	} else if (!pc_netlist_contains(&c->subscribers, &q->addr)) {
		snprintf(why, sizeof(why), "%s is not on one of our subscriber "
		    "networks; only our customers' addresses can be "
		    "registered", addr);
		note(o, CHECK_NETWORKS, CHECK_FAIL, why);
	} else {
		note(o, CHECK_NETWORKS, CHECK_PASS, "the address is on one of "
		    "our subscriber networks");
		snprintf(why, sizeof(why), "%s is a dynamic address, which "
		    "changes hands; ask for a static address first", addr);
		note(o, CHECK_POOLS, CHECK_FAIL, why);
	}
}

/* map:FILE: the account's value lists addresses or networks. */
static int
map_allows(const struct dconf *c, const char *account, const struct pc_addr *a)
{
	const char *v = pc_map_get(c->ownership_map, account);
	struct pc_netlist l;
	char why[256];
	int ok;

	if (v == NULL)
		return 0;
	pc_netlist_init(&l);
	if (pc_netlist_add(&l, v, why, sizeof(why)) < 0)
		return 0;	/* a bad line grants nothing */
	ok = pc_netlist_contains(&l, a);
	pc_netlist_free(&l);
	return ok;
}

static void
check_ownership(const struct dconf *c, const struct check_request *q,
    struct check_outcome *o)
{
	char why[512], addr[PC_ADDR_STRLEN], from[PC_ADDR_STRLEN];

	pc_addr_format(&q->addr, addr, sizeof(addr));
	switch (c->ownership) {
	case DCONF_OWN_NONE:
		note(o, CHECK_OWNERSHIP, CHECK_SKIP, "not required");
		return;
	case DCONF_OWN_SOURCE:
		if (q->client == NULL) {
			note(o, CHECK_OWNERSHIP, CHECK_SKIP, "checked when the "
			    "address was registered");
			return;
		}
		if (pc_addr_cmp(q->client, &q->addr) == 0) {
			note(o, CHECK_OWNERSHIP, CHECK_PASS, "you connected "
			    "from this address");
			return;
		}
		pc_addr_format(q->client, from, sizeof(from));
		snprintf(why, sizeof(why), "register from the server itself: "
		    "you connected from %s, not from %s", from, addr);
		note(o, CHECK_OWNERSHIP, CHECK_FAIL, why);
		return;
	case DCONF_OWN_MAP:
		if (map_allows(c, q->account, &q->addr)) {
			note(o, CHECK_OWNERSHIP, CHECK_PASS, "the address is "
			    "assigned to your account");
			return;
		}
		snprintf(why, sizeof(why), "%s is not assigned to your "
		    "account", addr);
		note(o, CHECK_OWNERSHIP, CHECK_FAIL, why);
		return;
	}
}

static int
same_name(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);

	if (na > 0 && a[na - 1] == '.')
		na--;
	if (nb > 0 && b[nb - 1] == '.')
		nb--;
	return na == nb && strncasecmp(a, b, na) == 0;
}

/* Forward-confirmed reverse DNS naming q->hostname. */
static void
check_ptr(const struct check_dns *dns, const struct check_request *q,
    struct check_outcome *o)
{
	struct pc_strlist names = { NULL, 0 };
	struct pc_addr *v = NULL;
	char why[512], err[256], addr[PC_ADDR_STRLEN];
	size_t i, j, n;
	int rc, named = 0, temp = 0;

	pc_addr_format(&q->addr, addr, sizeof(addr));
	if (q->hostname == NULL) {
		note(o, CHECK_PTR, CHECK_FAIL, "give the server's host name: "
		    "its reverse DNS must name it");
		return;
	}
	rc = dns->ptr(dns->ctx, &q->addr, &names, err, sizeof(err));
	if (rc == DNS_TEMP) {
		snprintf(why, sizeof(why), "the reverse DNS lookup of %s "
		    "failed; try again later", addr);
		note(o, CHECK_PTR, CHECK_TEMP, why);
		return;
	}
	if (rc == DNS_NOTFOUND) {
		snprintf(why, sizeof(why), "%s has no reverse DNS (PTR) "
		    "record; set it to %s", addr, q->hostname);
		note(o, CHECK_PTR, CHECK_FAIL, why);
		return;
	}
	for (i = 0; i < names.n && i < 16; i++) {
		if (!same_name(names.v[i], q->hostname))
			continue;
		named = 1;
		rc = dns->addrs(dns->ctx, names.v[i], &v, &n, err, sizeof(err));
		if (rc == DNS_TEMP)
			temp = 1;
		for (j = 0; rc == DNS_OK && j < n; j++) {
			if (pc_addr_cmp(&v[j], &q->addr) == 0) {
				free(v);
				pc_strlist_free(&names);
				snprintf(why, sizeof(why), "%s points back to "
				    "%s", addr, q->hostname);
				note(o, CHECK_PTR, CHECK_PASS, why);
				return;
			}
		}
		free(v);
		v = NULL;
	}
	if (temp)
		snprintf(why, sizeof(why), "the address lookup of %s failed; "
		    "try again later", q->hostname);
	else if (!named)
		snprintf(why, sizeof(why), "the reverse DNS of %s names %s, "
		    "not %s", addr, names.n > 0 ? names.v[0] : "nothing",
		    q->hostname);
	else
		snprintf(why, sizeof(why), "%s does not resolve back to %s; "
		    "its A or AAAA record must hold that address",
		    q->hostname, addr);
	note(o, CHECK_PTR, temp ? CHECK_TEMP : CHECK_FAIL, why);
	pc_strlist_free(&names);
}

static void
check_spf(const struct check_dns *dns, const struct check_request *q,
    struct check_outcome *o)
{
	char why[512], err[400], result[32] = "";
	int rc;

	if (q->domain == NULL) {
		note(o, CHECK_SPF, CHECK_FAIL, "give your mail domain: its SPF "
		    "record must authorize the server");
		return;
	}
	rc = dns->spf(dns->ctx, &q->addr, q->domain, result, sizeof(result),
	    err, sizeof(err));
	switch (rc) {
	case DNS_SPF_PASS:
		snprintf(why, sizeof(why), "the SPF record of %s authorizes "
		    "the address", q->domain);
		note(o, CHECK_SPF, CHECK_PASS, why);
		break;
	case DNS_SPF_FAIL:
		snprintf(why, sizeof(why), "the SPF record of %s does not "
		    "authorize the address (SPF says %s)", q->domain,
		    result[0] != '\0' ? result : "fail");
		note(o, CHECK_SPF, CHECK_FAIL, why);
		break;
	default:
		snprintf(why, sizeof(why), "the SPF lookup for %s failed; try "
		    "again later", q->domain);
		note(o, CHECK_SPF, CHECK_TEMP, why);
		break;
	}
}

static void
check_dnsbl(const struct dconf *c, const struct check_dns *dns,
    const struct check_request *q, struct check_outcome *o)
{
	char why[512], err[256], answer[32], addr[PC_ADDR_STRLEN];
	enum check_result worst = CHECK_PASS;
	const char *detail = "the address is not on any block list we use";
	char first[512] = "";
	size_t i;
	int rc;

	pc_addr_format(&q->addr, addr, sizeof(addr));
	for (i = 0; i < c->dnsbl.n; i++) {
		rc = dns->dnsbl(dns->ctx, &q->addr, c->dnsbl.v[i], answer,
		    sizeof(answer), err, sizeof(err));
		if (rc == DNS_OK) {
			snprintf(why, sizeof(why), "%s is listed on %s (%s); "
			    "get it delisted first", addr, c->dnsbl.v[i],
			    answer);
			if (worst != CHECK_FAIL)
				pc_strlcpy(first, why, sizeof(first));
			worst = CHECK_FAIL;
		} else if (rc == DNS_TEMP && worst == CHECK_PASS) {
			snprintf(first, sizeof(first), "the block list lookup "
			    "on %s failed; try again later", c->dnsbl.v[i]);
			worst = CHECK_TEMP;
		}
	}
	note(o, CHECK_DNSBL, worst, worst == CHECK_PASS ? detail : first);
}

enum check_result
checks_run(const struct dconf *c, const struct check_dns *dns,
    const struct check_request *q, struct check_outcome *o)
{
	memset(o, 0, sizeof(*o));
	o->result = CHECK_PASS;
	o->results = json_object();
	check_networks(c, q, o);
	if (o->result == CHECK_PASS)
		check_ownership(c, q, o);
	if (o->result != CHECK_PASS)
		return o->result;	/* no DNS queries for strangers */
	if (c->require_ptr)
		check_ptr(dns, q, o);
	if (c->require_spf)
		check_spf(dns, q, o);
	if (c->dnsbl.n > 0)
		check_dnsbl(c, dns, q, o);
	return o->result;
}

void
checks_describe_failures(const char *checks_json, struct dstr *out)
{
	json_t *root, *v;
	const char *name, *r, *d;

	if (checks_json == NULL ||
	    (root = json_loads(checks_json, 0, NULL)) == NULL)
		return;
	json_object_foreach(root, name, v) {
		if (json_unpack(v, "{s:s, s:s}", "result", &r, "detail", &d) < 0)
			continue;
		if (strcmp(r, "fail") != 0 && strcmp(r, "temperror") != 0)
			continue;
		if (out->len > 0)
			dstr_puts(out, "; ");
		dstr_puts(out, d);
	}
	json_decref(root);
}

static int
ops_ptr(void *ctx, const struct pc_addr *a, struct pc_strlist *names,
    char *err, size_t errlen)
{
	return dns_ptr(ctx, a, names, err, errlen);
}

static int
ops_addrs(void *ctx, const char *name, struct pc_addr **v, size_t *n,
    char *err, size_t errlen)
{
	return dns_addrs(ctx, name, v, n, err, errlen);
}

static int
ops_dnsbl(void *ctx, const struct pc_addr *a, const char *zone, char *answer,
    size_t alen, char *err, size_t errlen)
{
	return dns_dnsbl(ctx, a, zone, answer, alen, err, errlen);
}

static int
ops_spf(void *ctx, const struct pc_addr *a, const char *domain, char *result,
    size_t rlen, char *err, size_t errlen)
{
	return dns_spf(ctx, a, domain, result, rlen, err, errlen);
}

void
checks_dns_ops(struct check_dns *ops, struct dns *d)
{
	ops->ptr = ops_ptr;
	ops->addrs = ops_addrs;
	ops->dnsbl = ops_dnsbl;
	ops->spf = ops_spf;
	ops->ctx = d;
}
