/*
 * spf_dns.h - the DNS under libspf2: a screening layer that treats every
 * answer as hostile, over portcullis' own stub resolver (spf_resolver.h,
 * the Resolver key) or, in tests, libspf2's in-memory zone.
 *
 * libspf2 1.2.10 as shipped in Debian 12 has no fix for CVE-2023-42118
 * (integer underflow in macro parsing, reachable from a sender's own
 * record).  The screening layer therefore checks every TXT string before
 * libspf2 compiles it: length, characters, and the macro grammar of RFC
 * 7208 section 7.1 with small bounds.  A refused SPF record becomes a
 * permerror.  The layer also enforces the per-evaluation limits: the
 * time budget, a total query cap and RFC 7208's two void lookups.
 */
#ifndef PC_SPF_DNS_H
#define PC_SPF_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <netinet/in.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <spf2/spf.h>
#include <spf2/spf_dns_zone.h>

/* A record libspf2 may see: bytes, macros per string, digits in a macro. */
#define SPF_SCREEN_LEN_MAX 1024
#define SPF_SCREEN_MACROS_MAX 16
#define SPF_SCREEN_DIGITS_MAX 128
/* Queries per evaluation (RFC 7208's 10 terms, plus MX/PTR follow-ups). */
#define SPF_QUERIES_MAX 40
#define SPF_VOID_MAX 2

/* Per-evaluation state, shared by the layers of one thread's server. */
struct spf_budget {
	struct timespec deadline;	/* CLOCK_MONOTONIC */
	unsigned queries, voids;
	int abort;			/* 0, or an enum spf_result to force */
	char why[160];
	uint32_t min_ttl;		/* UINT32_MAX: no TTL seen */
	int sender_dependent;		/* a record used %{l} or %{s} */
	unsigned dns_errors;		/* lookups that failed (TRY_AGAIN) */
};

void spf_budget_start(struct spf_budget *b, unsigned ms);
/* Milliseconds left before the deadline (at most 60000), 0 when past. */
int spf_budget_remaining_ms(const struct spf_budget *b);

/*
 * Checks one TXT string.  spf: it is an SPF record (starts "v=spf1").
 * Returns 0 if libspf2 may see it, -1 with why set.  *uses_local is set
 * when a macro depends on the sender's local part.
 */
int spf_screen_txt(const char *txt, size_t len, int spf, int *uses_local,
    char *why, size_t whylen);

SPF_dns_server_t *spf_dns_screen_new(SPF_dns_server_t *below,
    struct spf_budget *b);
/* Frees one layer (not the layers below it). */
void spf_dns_layer_free(SPF_dns_server_t *d);

#endif
