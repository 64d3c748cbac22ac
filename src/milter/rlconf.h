/*
 * rlconf.h - the rate-limit and stolen-account settings of the milter
 * configuration (RateLimit, RateLimitMap, RateLimitAction, SuspendAfter,
 * DistinctAddressLimit, NotifyCommand, MetricsListen, ControlSocket,
 * StateFile, RateLimitBackend) and the policy question "which limits apply to this
 * account?".  The keys' parse functions live here so mconf.c only lists
 * them; everything they fill hangs off struct mconf's rl pointer.
 */
#ifndef PC_RLCONF_H
#define PC_RLCONF_H

#include <stddef.h>

#include "config.h"
#include "duration.h"
#include "maps.h"
#include "ratelimit.h"

struct mconf;
struct rlredis_target;

enum rl_action { RLA_TEMPFAIL, RLA_REJECT, RLA_QUARANTINE, RLA_LOG };

/* The limits of the three counted kinds: RL_MESSAGES .. RL_BYTES. */
#define RL_NLIMITS 3

struct rl_conf {
	struct pc_rate rate[RL_NLIMITS];	/* RateLimit, as given */
	int rate_set[RL_NLIMITS];
	struct rl_limit dflt[RL_NLIMITS];	/* built from rate[] */
	char *map_path;
	struct pc_map *map;
	int action;
	struct pc_rate suspend_after;
	struct pc_rate distinct;
	char *notify;
	char *metrics_listen;
	char *control_socket;	/* NULL: none */
	char *state_file;	/* NULL: none */
	struct rlredis_target *redis;	/* RateLimitBackend; NULL: memory */
};

/* What applies to one account. */
struct acct_limits {
	int unlimited;
	struct rl_limit l[RL_NLIMITS];
	struct pc_rate rate[RL_NLIMITS];	/* for the reply text */
};

#define LIMITS_CONTROL_DEFAULT "/run/portcullis/control.sock"
#define LIMITS_STATE_DEFAULT "/var/lib/portcullis/milter.state"

/* Key parsers for mconf_keys[] (obj is the struct mconf). */
int limits_parse_ratelimit(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_map(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_action(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_suspend(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_distinct(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_notify(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_metrics(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_control(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_state(void *obj, const char *v, char *err, size_t errlen);
int limits_parse_backend(void *obj, const char *v, char *err, size_t errlen);
void limits_free(void *obj);

/* After parsing: defaults, the map file, cross-key checks. */
int limits_finish(struct mconf *c, const char *where, char *err, size_t errlen);

/*
 * One RateLimitMap value ("messages 10/1h; recipients 50/1d" or
 * "unlimited") applied over the defaults in *out.
 */
int limits_parse_spec(const char *spec, struct acct_limits *out, char *err,
    size_t errlen);

/* The limits for account: the map's account entry, else its @domain, else defaults. */
void limits_for(const struct mconf *c, const char *account,
    struct acct_limits *out);

/* "ADDRESS:PORT" of MetricsListen ("[v6]:port" too); 0 or -1. */
int limits_split_hostport(const char *s, char *host, size_t hlen,
    unsigned *port);

#endif
