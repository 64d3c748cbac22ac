/*
 * spf.h - SPF on submission: does the envelope sender's domain authorize
 * the ISP's outbound relays (SPFRelayAddress)?  Evaluated with libspf2
 * over portcullis' own screening DNS layer (spf_dns.h), cached per domain
 * for the DNS TTL, bounded in time and in concurrency.
 *
 * Also the configuration of the SPF and origin stamp keys (spf_conf.c).
 */
#ifndef PC_SPF_H
#define PC_SPF_H

#include <stddef.h>
#include <sys/socket.h>

#include "mailbox.h"
#include "mconf.h"
#include "netaddr.h"
#include "stamp.h"

enum spf_mode { SPF_OFF, SPF_LOG, SPF_HEADER, SPF_REJECT };

enum spf_result {
	SPFR_NONE, SPFR_NEUTRAL, SPFR_PASS, SPFR_FAIL, SPFR_SOFTFAIL,
	SPFR_PERMERROR, SPFR_TEMPERROR
};

/* What the milter does with a sender after SPF. */
enum spf_action { SPF_ACT_CONTINUE, SPF_ACT_REJECT, SPF_ACT_DNSERR };

#define SPF_HEADER_NAME "X-Portcullis-SPF"
#define SPF_RELAYS_MAX 16
/* Total time for one sender, all relays and lookups together. */
#define SPF_BUDGET_MS 5000
/* Evaluations running at once; one more gets the DNS-error action. */
#define SPF_CONCURRENT_MAX 16
/* Result cache: entries, and the bounds put on a DNS TTL. */
#define SPF_CACHE_SLOTS 4096
#define SPF_TTL_MIN 30
#define SPF_TTL_MAX 3600
#define SPF_TTL_NEGATIVE 300

struct spf_conf {
	int mode;			/* enum spf_mode */
	struct pc_addr relays[SPF_RELAYS_MAX];
	size_t nrelays;
	char relay_key[SPF_RELAYS_MAX * (PC_ADDR_STRLEN + 1)];	/* cache key part */
	char *resolver;			/* Resolver as written, NULL: system */
	struct sockaddr_storage ns;	/* built from it */
	socklen_t nslen;
	int origin_stamp;
	char *key_file;
	struct stamp_keyring keys;	/* loaded when OriginStamp is yes */
};

/* The outcome of one sender's evaluation, kept for the header at EOM. */
struct spf_outcome {
	int checked;			/* 0: SPF off or nothing to check */
	enum spf_result result;
	int cached;			/* answered from the cache */
	char domain[PC_DOMAIN_MAX + 1];
	char relay[PC_ADDR_STRLEN];	/* the relay the result is about */
	char reason[192];
};

/* Key parsers, the free hook and the cross-key checks (spf_conf.c). */
int spf_conf_parse_check(void *obj, const char *v, char *err, size_t errlen);
int spf_conf_parse_relay(void *obj, const char *v, char *err, size_t errlen);
int spf_conf_parse_resolver(void *obj, const char *v, char *err, size_t errlen);
int spf_conf_parse_stamp(void *obj, const char *v, char *err, size_t errlen);
int spf_conf_parse_keyfile(void *obj, const char *v, char *err, size_t errlen);
void spf_conf_free(void *obj);
int spf_conf_finish(struct mconf *c, const char *where, char *err,
    size_t errlen);

/*
 * Evaluates the SPF of domain (sender: the whole envelope address, for
 * macros) for every relay of sc, within the time budget.  The combined
 * result is the least favourable one: a temperror first, then fail,
 * softfail, permerror, neutral, none; pass only when every relay passes.
 */
void spf_evaluate(const struct spf_conf *sc, const char *sender,
    const char *domain, struct spf_outcome *out);

/* The whole decision for an envelope sender under c's SPFCheck. */
enum spf_action spf_decide(const struct mconf *c, const struct pc_mailbox *mb,
    struct spf_outcome *out);

const char *spf_result_name(enum spf_result r);
/* The X-Portcullis-SPF header value for an outcome. */
void spf_header_value(const struct spf_outcome *o, char *buf, size_t len);

/* Tests and benchmarks: empty the cache; use an in-memory zone for DNS. */
void spf_cache_flush(void);
struct SPF_dns_server_struct;
void spf_use_dns_below(struct SPF_dns_server_struct *below);

#endif
