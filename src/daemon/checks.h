/*
 * checks.h - the verification checks a registration must pass before
 * port 25 opens, as pure decision code: the DNS comes in through a
 * small table of functions (struct check_dns), so the unit tests feed
 * answers directly and the daemon plugs in dns.c.
 *
 * The checks, in order: SubscriberNetworks and DynamicPools, then
 * OwnershipCheck, then (only when those pass, so portcullisd cannot be
 * used to make queries about arbitrary addresses) RequirePTR,
 * RequireSPF and each DNSBL zone.  Each one's result is kept with a
 * sentence a subscriber can act on.
 */
#ifndef PC_CHECKS_H
#define PC_CHECKS_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "dconf.h"
#include "netaddr.h"
#include "util.h"

enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_TEMP, CHECK_SKIP };

/* The DNS as the checks need it; return values are enum dns_rc. */
struct check_dns {
	int (*ptr)(void *ctx, const struct pc_addr *a, struct pc_strlist *names,
	    char *err, size_t errlen);
	int (*addrs)(void *ctx, const char *name, struct pc_addr **v,
	    size_t *n, char *err, size_t errlen);
	int (*dnsbl)(void *ctx, const struct pc_addr *a, const char *zone,
	    char *answer, size_t alen, char *err, size_t errlen);
	/* enum dns_spf_result */
	int (*spf)(void *ctx, const struct pc_addr *a, const char *domain,
	    char *result, size_t rlen, char *err, size_t errlen);
	void *ctx;
};

struct check_request {
	struct pc_addr addr;		/* the address to open port 25 for */
	const char *account;
	const char *hostname;		/* NULL when not given */
	const char *domain;		/* NULL when not given */
	/* The client's address (after TrustedProxies); NULL at revalidation. */
	const struct pc_addr *client;
};

struct check_outcome {
	enum check_result result;	/* PASS, FAIL or TEMP overall */
	char failed[32];		/* the first failing (or temp) check */
	char detail[512];		/* its sentence */
	json_t *results;		/* { name: {"result":..,"detail":..} } */
};

/* The checks' names, as stored and as the API reports them. */
#define CHECK_NETWORKS "subscriber_networks"
#define CHECK_POOLS "dynamic_pools"
#define CHECK_OWNERSHIP "ownership"
#define CHECK_PTR "ptr"
#define CHECK_SPF "spf"
#define CHECK_DNSBL "dnsbl"

/*
 * Runs every check c asks for; o->results is always set (the caller
 * json_decref()s it).  Returns o->result.
 */
enum check_result checks_run(const struct dconf *c, const struct check_dns *dns,
    const struct check_request *q, struct check_outcome *o);

/* "pass", "fail", "temperror" (try again), "skipped". */
const char *check_result_name(enum check_result r);

/* The plain-words list of failed checks in a stored results object. */
void checks_describe_failures(const char *checks_json, struct dstr *out);

struct dns;
/* Fills ops with dns.c's lookups on d. */
void checks_dns_ops(struct check_dns *ops, struct dns *d);

#endif
