/*
 * dns_spf.c - RequireSPF: libspf2 evaluates the registered domain's SPF
 * for the registered address.  libspf2's own resolver layer reads the
 * system's resolv.conf, so its lookups are routed through a small DNS
 * layer of ours that calls dns_query() and hands libspf2 the records in
 * its SPF_dns_rr_t form.
 */
#include "dns.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>

#include "util.h"

/* Copies one record's data into slot i of rr; 0 ok. */
static int
put_rr(SPF_dns_rr_t *rr, int i, ns_msg *m, ns_rr *r)
{
	const unsigned char *p = ns_rr_rdata(*r), *end = p + ns_rr_rdlen(*r);
	char name[NS_MAXDNAME];
	size_t len = 0;

	switch (ns_rr_type(*r)) {
	case ns_t_a:
		if (ns_rr_rdlen(*r) != 4 ||
		    SPF_dns_rr_buf_realloc(rr, i, 4) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[i]->a, p, 4);
		return 0;
	case ns_t_aaaa:
		if (ns_rr_rdlen(*r) != 16 ||
		    SPF_dns_rr_buf_realloc(rr, i, 16) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[i]->aaaa, p, 16);
		return 0;
	case ns_t_mx:
		p += 2;		/* preference */
		/* FALLTHROUGH */
	case ns_t_ptr:
		if (p > end || ns_name_uncompress(ns_msg_base(*m), ns_msg_end(*m),
		    p, name, sizeof(name)) < 0)
			return -1;
		len = strlen(name);
		if (SPF_dns_rr_buf_realloc(rr, i, len + 1) != SPF_E_SUCCESS)
			return -1;
		memcpy(rr->rr[i]->ptr, name, len + 1);
		return 0;
	case ns_t_txt:
	case ns_t_spf: {
		/* The character-strings of one record are joined (RFC 7208 3.3). */
		struct dstr t;

		dstr_init(&t);
		while (p < end) {
			size_t n = *p++;
			if (n > (size_t)(end - p)) {
				dstr_free(&t);
				return -1;
			}
			dstr_append(&t, (const char *)p, n);
			p += n;
		}
		dstr_append(&t, "", 0);
		len = t.len;
		if (SPF_dns_rr_buf_realloc(rr, i, len + 1) != SPF_E_SUCCESS) {
			dstr_free(&t);
			return -1;
		}
		memcpy(rr->rr[i]->txt, t.buf != NULL ? t.buf : "", len + 1);
		dstr_free(&t);
		return 0;
	}
	default:
		return -1;
	}
}

static SPF_dns_rr_t *
layer_lookup(SPF_dns_server_t *server, const char *domain, ns_type type,
    int should_cache)
{
	struct dns *d = server->hook;
	SPF_dns_rr_t *rr;
	unsigned char *ans;
	char err[256];
	ns_msg m;
	ns_rr r;
	int len, rc, i, count, n = 0;

	(void)should_cache;
	rc = dns_query(d, domain, type, &ans, &len, err, sizeof(err));
	if (rc == DNS_NOTFOUND)
		return SPF_dns_rr_new_init(server, domain, type, 0,
		    HOST_NOT_FOUND);
	if (rc != DNS_OK)
		return SPF_dns_rr_new_init(server, domain, type, 0, TRY_AGAIN);
	rr = SPF_dns_rr_new_init(server, domain, type, 0, NETDB_SUCCESS);
	if (rr == NULL || ns_initparse(ans, len, &m) < 0) {
		free(ans);
		if (rr != NULL)
			rr->herrno = TRY_AGAIN;
		return rr;
	}
	count = ns_msg_count(m, ns_s_an);
	for (i = 0; i < count && n < 64; i++) {
		if (ns_parserr(&m, ns_s_an, i, &r) < 0)
			break;
		if (ns_rr_type(r) != type || ns_rr_class(r) != ns_c_in)
			continue;	/* e.g. the CNAME before the answer */
		if (put_rr(rr, n, &m, &r) == 0)
			n++;
	}
	free(ans);
	rr->num_rr = n;
	if (n == 0)
		rr->herrno = NO_DATA;
	return rr;
}

int
dns_spf(struct dns *d, const struct pc_addr *a, const char *domain,
    char *result, size_t rlen, char *err, size_t errlen)
{
	SPF_dns_server_t layer;
	SPF_server_t *server;
	SPF_request_t *req;
	SPF_response_t *resp = NULL;
	SPF_result_t res;
	char from[300];
	int rc;

	memset(&layer, 0, sizeof(layer));
	layer.lookup = layer_lookup;
	layer.name = "portcullisd";
	layer.hook = d;		/* destroy == NULL: libspf2 leaves it to us */
	if ((server = SPF_server_new_dns(&layer, 0)) == NULL)
		return pc_err(err, errlen, "cannot start libspf2"), DNS_SPF_TEMP;
	req = SPF_request_new(server);
	if (a->family == AF_INET) {
		struct in_addr in;
		memcpy(&in, a->a, 4);
		SPF_request_set_ipv4(req, in);
	} else {
		struct in6_addr in6;
		memcpy(&in6, a->a, 16);
		SPF_request_set_ipv6(req, in6);
	}
	snprintf(from, sizeof(from), "postmaster@%s", domain);
	if (SPF_request_set_env_from(req, from) != 0) {
		SPF_request_free(req);
		SPF_server_free(server);
		return pc_err(err, errlen, "%s is not a domain SPF can check",
		    domain), DNS_SPF_FAIL;
	}
	SPF_request_query_mailfrom(req, &resp);
	res = resp != NULL ? SPF_response_result(resp) : SPF_RESULT_TEMPERROR;
	pc_strlcpy(result, SPF_strresult(res), rlen);
	switch (res) {
	case SPF_RESULT_PASS:
		rc = DNS_SPF_PASS;
		break;
	case SPF_RESULT_TEMPERROR:
	case SPF_RESULT_INVALID:	/* libspf2 could not evaluate: DNS */
		pc_err(err, errlen, "the SPF lookup for %s failed "
		    "temporarily; try again later", domain);
		rc = DNS_SPF_TEMP;
		break;
	default:
		pc_err(err, errlen, "the SPF record of %s does not authorize "
		    "this address (SPF result: %s)", domain, result);
		rc = DNS_SPF_FAIL;
		break;
	}
	SPF_response_free(resp);
	SPF_request_free(req);
	SPF_server_free(server);
	return rc;
}
