/*
 * rlstore.c - the choice between this process's limiter and Redis, and
 * the fallback from one to the other.
 *
 * Failure policy (portcullis-milter.conf(5), RateLimitBackend): mail is
 * never refused or delayed because Redis is unreachable or answers an
 * error.  The decision is then made with this node's own table, which
 * has shadowed what this node charged while Redis answered, and
 * rlredis_health.c logs the outage loudly, once when it starts, every minute
 * while it lasts, and once when Redis answers again.  OnInternalError is
 * not involved: an outage of a shared counter is not a reason to bounce
 * or to wave through mail, and per-node limits are the safe middle.
 */
#include "rlstore.h"

#include <string.h>

#include "log.h"
#include "mconf.h"
#include "rlconf.h"
#include "rlredis.h"
#include "suspend.h"

static const struct rlredis_target *
redis_of(const struct mconf *c)
{
	return c != NULL && c->rl != NULL ? c->rl->redis : NULL;
}

const char *
rlstore_name(const struct mconf *c)
{
	const struct rlredis_target *t = redis_of(c);

	return t != NULL ? t->display : "memory";
}

void
rlstore_probe(const struct mconf *c)
{
	const struct rlredis_target *t = redis_of(c);
	char err[512];

	if (t != NULL)
		(void)rlredis_probe(t, err, sizeof(err));
}

int
rlstore_charge(const struct mconf *c, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, uint64_t cost,
    enum rl_mode mode, uint64_t *retry_ns, unsigned *flags)
{
	const struct rlredis_target *t;
	struct rlredis_charge rc;
	uint64_t now;
	char err[512];

	/* No limit and no flags wanted: nothing to ask either store. */
	if (lim->count == 0 && flags == NULL) {
		if (retry_ns != NULL)
			*retry_ns = 0;
		return 1;
	}
	t = redis_of(c);
	now = rl_now();
	if (t == NULL) {
		rlredis_release();	/* a reload left redis behind */
	} else if (rlredis_charge(t, account, kind, lim, cost, mode,
	    flags != NULL, &rc, err, sizeof(err)) == 0) {
		/* The shadow: what this node charged, for a later fallback. */
		if (lim->count != 0 && (rc.ok ? mode != RL_CHECK :
		    mode == RL_FORCE))
			rl_charge(suspend_table(), account, kind, lim, cost, now,
			    RL_FORCE, NULL, NULL);
		if (flags != NULL) {
			*flags = suspend_mirror(t, account, rc.suspended,
			    rc.reason, rc.since) ? RL_F_SUSPENDED : 0;
		}
		if (retry_ns != NULL)
			*retry_ns = rc.ok ? 0 : rc.retry_ns;
		return rc.ok;
	}
	return rl_charge(suspend_table(), account, kind, lim, cost, now, mode,
	    retry_ns, flags);
}

int
rlstore_hit(const struct mconf *c, const char *account,
    const struct rl_limit *hl, int *first)
{
	const struct rlredis_target *t = redis_of(c);
	struct rl_table *tab = suspend_table();
	struct rl_usage u;
	uint64_t now = rl_now();
	char err[512];
	int over;

	if (t != NULL && rlredis_hit(t, account, hl, first, &over, err,
	    sizeof(err)) == 0) {
		rl_charge(tab, account, RL_HITS, hl, 1, now, RL_FORCE, NULL, NULL);
		return over;
	}
	*first = !rl_usage(tab, account, RL_HITS, hl, now, &u) || u.used == 0;
	rl_charge(tab, account, RL_HITS, hl, 1, now, RL_FORCE, NULL, NULL);
	return !rl_charge(tab, account, RL_HITS, hl, 1, now, RL_CHECK, NULL,
	    NULL);
}

unsigned
rlstore_seen_from(const struct mconf *c, const char *account,
    const struct pc_addr *addr, uint64_t window_ns, unsigned limit)
{
	const struct rlredis_target *t = redis_of(c);
	char ip[PC_ADDR_STRLEN], err[512];
	unsigned local, shared;

	/* This node's own view is kept in any case: the fallback's. */
	local = suspend_seen_from(account, addr, window_ns, limit, rl_now());
	if (t == NULL)
		return local;
	pc_addr_format(addr, ip, sizeof(ip));
	if (rlredis_seen_from(t, account, ip, window_ns, limit, &shared, err,
	    sizeof(err)) == 0)
		return shared;
	return local;
}

int
rlstore_usage(const struct mconf *c, const char *account, enum rl_kind kind,
    const struct rl_limit *lim, struct rl_usage *u)
{
	const struct rlredis_target *t = redis_of(c);
	char err[512];
	int known;

	if (t != NULL && rlredis_usage(t, account, kind, lim, &known, u, err,
	    sizeof(err)) == 0)
		return known;
	return rl_usage(suspend_table(), account, kind, lim, rl_now(), u);
}

int
rlstore_reset(const struct mconf *c, const char *account)
{
	const struct rlredis_target *t = redis_of(c);
	char err[512];
	int had = rl_reset(suspend_table(), account), shared;

	if (t != NULL && rlredis_forget(t, account, "rl", &shared, err,
	    sizeof(err)) == 0)
		had = had || shared;
	return had;
}

void
rlstore_forget_addresses(const struct mconf *c, const char *account)
{
	const struct rlredis_target *t = redis_of(c);
	char err[512];
	int had;

	suspend_forget_addresses(account);
	if (t != NULL)
		(void)rlredis_forget(t, account, "da", &had, err, sizeof(err));
}
