/*
 * dns.c - DNS queries for portcullisd's checks, through the libc resolver
 * (res_nquery) with a private res_state, so the Resolver key points only
 * these lookups at a given server and no global state is touched.
 */
#include "dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ANSWER_MAX 65536

struct dns {
	struct __res_state st;
};

struct dns *
dns_new(const struct pc_addr *server, unsigned port, char *err, size_t errlen)
{
	struct dns *d = xcalloc(1, sizeof(*d));
	struct sockaddr_in sin;

	if (res_ninit(&d->st) != 0) {
		free(d);
		pc_err(err, errlen, "cannot initialise the resolver");
		return NULL;
	}
	if (server != NULL) {
		if (server->family != AF_INET) {
			res_nclose(&d->st);
			free(d);
			pc_err(err, errlen, "Resolver: only IPv4 is supported");
			return NULL;
		}
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		memcpy(&sin.sin_addr, server->a, 4);
		d->st.nsaddr_list[0] = sin;
		d->st.nscount = 1;
	}
	d->st.retrans = DNS_TIMEOUT;
	d->st.retry = DNS_TRIES;
	/* Names are absolute: no search list, no default domain. */
	d->st.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	return d;
}

void
dns_free(struct dns *d)
{
	if (d == NULL)
		return;
	res_nclose(&d->st);
	free(d);
}

void
dns_reverse_name(const struct pc_addr *a, const char *suffix, char *buf,
    size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct dstr s;
	int i;

	dstr_init(&s);
	if (a->family == AF_INET) {
		dstr_appendf(&s, "%u.%u.%u.%u", a->a[3], a->a[2], a->a[1],
		    a->a[0]);
	} else {
		for (i = 15; i >= 0; i--)
			dstr_appendf(&s, "%s%c.%c", i == 15 ? "" : ".",
			    hex[a->a[i] & 0xf], hex[a->a[i] >> 4]);
	}
	dstr_appendf(&s, ".%s", suffix);
	pc_strlcpy(buf, s.buf, len);
	dstr_free(&s);
}

int
dns_query(struct dns *d, const char *name, int type, unsigned char **ans,
    int *anslen, char *err, size_t errlen)
{
	unsigned char *buf = xmalloc(ANSWER_MAX);
	int n;

	*ans = NULL;
	n = res_nquery(&d->st, name, ns_c_in, type, buf, ANSWER_MAX);
	if (n < 0) {
		free(buf);
		switch (d->st.res_h_errno) {
		case HOST_NOT_FOUND:
		case NO_DATA:
			pc_err(err, errlen, "%s: no such record", name);
			return DNS_NOTFOUND;
		default:
			pc_err(err, errlen, "%s: DNS lookup failed (%s); "
			    "try again later", name, d->st.res_h_errno ==
			    TRY_AGAIN ? "timeout or server failure" :
			    "the server refused or could not answer");
			return DNS_TEMP;
		}
	}
	if (n > ANSWER_MAX)
		n = ANSWER_MAX;
	*ans = buf;
	*anslen = n;
	return DNS_OK;
}

/* Calls fn for each answer record of type; stops at fn != 0. */
static int
each_answer(const unsigned char *ans, int len, int type,
    int (*fn)(ns_msg *m, ns_rr *rr, void *arg), void *arg)
{
	ns_msg m;
	ns_rr rr;
	int i, count, found = 0;

	if (ns_initparse(ans, len, &m) < 0)
		return -1;
	count = ns_msg_count(m, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) < 0)
			return -1;
		if ((int)ns_rr_type(rr) != type || ns_rr_class(rr) != ns_c_in)
			continue;
		found++;
		if (fn(&m, &rr, arg) != 0)
			break;
	}
	return found;
}

static int
add_ptr(ns_msg *m, ns_rr *rr, void *arg)
{
	char name[NS_MAXDNAME];
	size_t n;

	if (ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m), ns_rr_rdata(*rr),
	    name, sizeof(name)) < 0)
		return 0;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[n - 1] = '\0';
	pc_str_lower(name);
	pc_strlist_add(arg, name);
	return 0;
}

int
dns_ptr(struct dns *d, const struct pc_addr *a, struct pc_strlist *names,
    char *err, size_t errlen)
{
	char qname[128];
	unsigned char *ans;
	int len, rc;

	dns_reverse_name(a, a->family == AF_INET ? "in-addr.arpa" : "ip6.arpa",
	    qname, sizeof(qname));
	if ((rc = dns_query(d, qname, ns_t_ptr, &ans, &len, err, errlen)) != 0)
		return rc;
	rc = each_answer(ans, len, ns_t_ptr, add_ptr, names);
	free(ans);
	if (rc < 0)
		return pc_err(err, errlen, "%s: malformed DNS answer", qname),
		    DNS_TEMP;
	if (rc == 0)
		return pc_err(err, errlen, "%s: no PTR record", qname),
		    DNS_NOTFOUND;
	return DNS_OK;
}

struct addrs {
	struct pc_addr *v;
	size_t n;
};

static int
add_addr(ns_msg *m, ns_rr *rr, void *arg)
{
	struct addrs *l = arg;
	struct pc_addr a;
	int type = ns_rr_type(*rr);

	(void)m;
	memset(&a, 0, sizeof(a));
	if (type == ns_t_a && ns_rr_rdlen(*rr) == 4) {
		a.family = AF_INET;
		memcpy(a.a, ns_rr_rdata(*rr), 4);
	} else if (type == ns_t_aaaa && ns_rr_rdlen(*rr) == 16) {
		a.family = AF_INET6;
		memcpy(a.a, ns_rr_rdata(*rr), 16);
	} else
		return 0;
	if (l->n >= 64)
		return 1;	/* enough to decide; bounds a hostile answer */
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = a;
	return 0;
}

int
dns_addrs(struct dns *d, const char *name, struct pc_addr **v, size_t *n,
    char *err, size_t errlen)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	struct addrs l = { NULL, 0 };
	unsigned char *ans;
	int len, rc, temp = 0;
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(types); i++) {
		rc = dns_query(d, name, types[i], &ans, &len, err, errlen);
		if (rc == DNS_TEMP)
			temp = 1;
		if (rc != DNS_OK)
			continue;
		if (each_answer(ans, len, types[i], add_addr, &l) < 0)
			temp = 1;
		free(ans);
	}
	*v = l.v;
	*n = l.n;
	if (temp)
		return DNS_TEMP;	/* a half answer is no answer */
	if (l.n == 0)
		return pc_err(err, errlen, "%s has no address record", name),
		    DNS_NOTFOUND;
	return DNS_OK;
}

static int
first_a(ns_msg *m, ns_rr *rr, void *arg)
{
	(void)m;
	if (ns_rr_rdlen(*rr) == 4)
		memcpy(arg, ns_rr_rdata(*rr), 4);
	return 1;
}

int
dns_dnsbl(struct dns *d, const struct pc_addr *a, const char *zone,
    char *answer, size_t alen, char *err, size_t errlen)
{
	char qname[NS_MAXDNAME];
	unsigned char *ans, ip[4] = { 0, 0, 0, 0 };
	int len, rc;

	dns_reverse_name(a, zone, qname, sizeof(qname));
	if ((rc = dns_query(d, qname, ns_t_a, &ans, &len, err, errlen)) != 0)
		return rc;
	rc = each_answer(ans, len, ns_t_a, first_a, ip);
	free(ans);
	if (rc < 0)
		return pc_err(err, errlen, "%s: malformed DNS answer", qname),
		    DNS_TEMP;
	if (rc == 0 || ip[0] != 127)
		return DNS_NOTFOUND;	/* not a listing answer */
	snprintf(answer, alen, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return DNS_OK;
}
