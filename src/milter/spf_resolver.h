/*
 * spf_resolver.h - portcullis' stub resolver: the lowest DNS layer under
 * libspf2 in the milter, asking the one recursive server of the Resolver
 * key and never waiting past the evaluation's deadline (spf_dns.h's
 * budget).  The wire functions are here for the fuzz target that feeds
 * them hostile replies (t/fuzz, target dns).
 */
#ifndef PC_SPF_RESOLVER_H
#define PC_SPF_RESOLVER_H

#include "spf_dns.h"

/* The layer: each lookup is one question to ns, within b's deadline. */
SPF_dns_server_t *spf_dns_net_new(const struct sockaddr_storage *ns,
    socklen_t nslen, struct spf_budget *b);

/*
 * "ADDRESS", "ADDRESS:PORT", "[IPV6]:PORT" or a bare IPv6 address; NULL
 * means the first nameserver of /etc/resolv.conf (127.0.0.1 without one).
 */
int spf_dns_resolver_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);

/* Writes the query (RD, EDNS0) for domain and type; its length or -1. */
int spf_resolver_query(unsigned char *q, size_t cap, uint16_t id,
    const char *domain, ns_type type);
/* 1 when a answers q: same id, a response, the same question. */
int spf_resolver_matches(const unsigned char *q, size_t qlen,
    const unsigned char *a, size_t alen);
/*
 * Turns a reply that matches (so at least 12 bytes) into libspf2's form:
 * the answers of the asked type, the TTL, NXDOMAIN or NODATA with the
 * negative TTL, or TRY_AGAIN for a server failure.
 */
SPF_dns_rr_t *spf_resolver_parse(SPF_dns_server_t *d, const char *domain,
    ns_type type, const unsigned char *m, size_t mlen);

#endif
