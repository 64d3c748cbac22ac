/*
 * dns.h - the DNS lookups behind portcullisd's checks (forward-confirmed
 * reverse DNS, DNSBL, and SPF through libspf2), against the Resolver key
 * or the system's resolv.conf.
 *
 * Every lookup answers one of three things, kept apart on purpose:
 * DNS_OK (an answer), DNS_NOTFOUND (the name or the record type does not
 * exist: NXDOMAIN or NODATA) and DNS_TEMP (timeout, SERVFAIL, refused,
 * anything else).  A check never turns DNS_TEMP into a pass.
 *
 * A struct dns is used by one thread at a time (it owns a res_state).
 */
#ifndef PC_DNS_H
#define PC_DNS_H

#include <stddef.h>

#include "config.h"
#include "netaddr.h"

enum dns_rc { DNS_TEMP = -1, DNS_OK = 0, DNS_NOTFOUND = 1 };

/* Per try and tries; a lookup fails after about DNS_TIMEOUT * DNS_TRIES s. */
#define DNS_TIMEOUT 2
#define DNS_TRIES 2

struct dns;

/* server NULL: resolv.conf.  NULL with err set on failure. */
struct dns *dns_new(const struct pc_addr *server, unsigned port,
    char *err, size_t errlen);
void dns_free(struct dns *d);

/* PTR names of a (lower case, no final dot), appended to names. */
int dns_ptr(struct dns *d, const struct pc_addr *a, struct pc_strlist *names,
    char *err, size_t errlen);
/* A and AAAA of name; DNS_NOTFOUND when it has neither. */
int dns_addrs(struct dns *d, const char *name, struct pc_addr **v, size_t *n,
    char *err, size_t errlen);
/*
 * DNSBL: DNS_OK when a's reversed form under zone has an A record in
 * 127.0.0.0/8 (answer gets it), DNS_NOTFOUND when not listed.
 */
int dns_dnsbl(struct dns *d, const struct pc_addr *a, const char *zone,
    char *answer, size_t alen, char *err, size_t errlen);

/* The reverse name of a under suffix ("in-addr.arpa", "ip6.arpa" or a zone). */
void dns_reverse_name(const struct pc_addr *a, const char *suffix, char *buf,
    size_t len);

/* SPF results as the checks see them. */
enum dns_spf_result { DNS_SPF_PASS, DNS_SPF_FAIL, DNS_SPF_TEMP };
/*
 * Evaluates domain's SPF for a sender at a (MAIL FROM postmaster@domain)
 * with libspf2, its lookups going through d.  result gets libspf2's word
 * for it ("pass", "softfail", "temperror" ...).
 */
int dns_spf(struct dns *d, const struct pc_addr *a, const char *domain,
    char *result, size_t rlen, char *err, size_t errlen);

/* Low level, for dns_spf.c: one query; *ans is malloc'd. */
int dns_query(struct dns *d, const char *name, int type, unsigned char **ans,
    int *anslen, char *err, size_t errlen);

#endif
