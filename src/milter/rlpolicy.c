/*
 * rlpolicy.c - per-account limits, suspension and RateLimitAction.
 *
 * Counting follows the contract: a message is charged once, at the end
 * of an accepted transaction, but MAIL FROM already asks whether one
 * more would pass, so the client hears "450" before it sends DATA.  A
 * recipient is charged at each accepted RCPT TO; bytes at the end of the
 * message (MAIL FROM only refuses when the byte budget is already spent).
 *
 * A hit counts towards SuspendAfter; DistinctAddressLimit is checked at
 * MAIL FROM.  Under RateLimitAction log nothing is refused or suspended:
 * the origin line says what would have happened.
 *
 * Every count goes through rlstore.c, so with RateLimitBackend redis
 * the messages, recipients, bytes, hits and client addresses of an
 * account are counted across all nodes, and its suspension too.
 */
#include "rlpolicy.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rlconf.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "origin_log.h"
#include "ratelimit.h"
#include "rlstore.h"
#include "suspend.h"

void
ratelimit_key(const struct session *s, char *buf, size_t len)
{
	if (s->account[0] != '\0')
		pc_strlcpy(buf, s->account, len);
	else if (s->trusted && s->have_addr)
		snprintf(buf, len, "[%s]", s->ip);	/* per client address */
	else
		buf[0] = '\0';
}

static void
set_reply(struct rl_reply *r, const char *rcode, const char *xcode)
{
	pc_strlcpy(r->rcode, rcode, sizeof(r->rcode));
	pc_strlcpy(r->xcode, xcode, sizeof(r->xcode));
}

static int
suspended_reply(const char *key, struct rl_reply *r)
{
	set_reply(r, "550", "5.7.1");
	snprintf(r->text, sizeof(r->text), "Account %s suspended; contact "
	    "postmaster", key);
	return -1;
}

/* Suspends key (or, under log, only says it would) and logs event=suspend. */
static int
do_suspend(struct session *s, const char *key, const char *why,
    struct rl_reply *r)
{
	int observe = s->conf->rl->action == RLA_LOG;
	char reason[sizeof(r->reason)];

	if (observe) {
		snprintf(s->rl_note, sizeof(s->rl_note), "would suspend: %.200s", why);
		origin_log(s, "suspend", "log", s->rl_note);
		return 0;
	}
	if (suspend_account(s->conf, key, why, time(NULL)))
		origin_log(s, "suspend", "reject", why);
	snprintf(reason, sizeof(reason), "account suspended: %s", why);
	pc_strlcpy(r->reason, reason, sizeof(r->reason));
	return suspended_reply(key, r);
}

/*
 * A limit of kind was hit: count it towards SuspendAfter, notify on the
 * first hit, and answer per RateLimitAction.  retry_ns: until it passes.
 */
static int
hit(struct session *s, const char *key, const struct acct_limits *al,
    int kind, uint64_t retry_ns, struct rl_reply *r)
{
	const struct rl_conf *rc = s->conf->rl;
	struct rl_limit hl;
	struct pc_rate hr = rc->suspend_after;
	char lim[64], why[160];
	uint64_t secs = (uint64_t)((retry_ns + RL_NS - 1) / RL_NS);
	int first, over, suspend = 0;

	metrics_hit(kind);
	if (secs == 0)
		secs = 1;
	pc_rate_format(&al->rate[kind], lim, sizeof(lim));
	snprintf(why, sizeof(why), "%s %s", rl_kind_names[kind], lim);
	if (hr.count == 0) {
		/* No SuspendAfter: the hits counter only finds the first hit. */
		hr.count = 1;
		hr.seconds = al->rate[kind].seconds;
	}
	rl_limit_set(&hl, &hr);
	over = rlstore_hit(s->conf, key, &hl, &first);
	if (rc->suspend_after.count != 0 && over)
		suspend = 1;
	if (first && !suspend && rc->action != RLA_LOG)
		notify_run(rc->notify, "limit", key, why, s->ip);

	snprintf(r->text, sizeof(r->text), "Rate limit exceeded for %s: %s; "
	    "retry in %" PRIu64 " seconds", key, why, secs);
	snprintf(r->reason, sizeof(r->reason), "rate limit %s", why);
	if (suspend) {
		char sw[200];

		snprintf(sw, sizeof(sw), "SuspendAfter: %" PRIu64 " limit hits "
		    "(last: %s)", rc->suspend_after.count, why);
		if (do_suspend(s, key, sw, r) < 0)
			return -1;
	}
	switch (rc->action) {
	case RLA_TEMPFAIL:
		set_reply(r, "450", "4.7.1");
		return -1;
	case RLA_REJECT:
		set_reply(r, "550", "5.7.1");
		return -1;
	case RLA_QUARANTINE:
		s->rl_hold = 1;
		snprintf(s->rl_note, sizeof(s->rl_note), "quarantined: %.200s",
		    r->reason);
		return 0;
	default:
		if (s->rl_note[0] == '\0')
			snprintf(s->rl_note, sizeof(s->rl_note), "would tempfail "
			    "(450 4.7.1): %.200s", r->reason);
		return 0;
	}
}

/* Empty strings; the whole struct is a kilobyte, cleared twice a message. */
static void
rl_reply_clear(struct rl_reply *r)
{
	r->rcode[0] = r->xcode[0] = r->text[0] = r->reason[0] = '\0';
}

int
ratelimit_mail(struct session *s, struct rl_reply *r)
{
	static const struct rl_limit no_limit;	/* only the flags wanted */
	const struct rl_conf *rc = s->conf->rl;
	struct acct_limits al;
	char key[ACCOUNT_MAX + 2];
	uint64_t now = rl_now(), retry = 0;
	unsigned flags = 0;
	int rv = 0;

	rl_reply_clear(r);
	s->rl_hold = 0;
	s->rl_note[0] = '\0';
	ratelimit_key(s, key, sizeof(key));
	if (key[0] == '\0' || rc == NULL)
		return 0;
	limits_for(s->conf, key, &al);
	/* One lock or one round trip: the message check brings the flags. */
	if (!rlstore_charge(s->conf, key, RL_MESSAGES, al.unlimited ?
	    &no_limit : &al.l[RL_MESSAGES], 1, RL_CHECK, &retry, &flags))
		rv = 1;
	if (flags & RL_F_SUSPENDED) {
		snprintf(r->reason, sizeof(r->reason), "account suspended");
		rv = suspended_reply(key, r);
		goto out;
	}
	if (rc->distinct.count != 0 && s->have_addr) {
		struct rl_limit dl;
		unsigned n;

		rl_limit_set(&dl, &rc->distinct);
		n = rlstore_seen_from(s->conf, key, &s->addr, dl.window_ns,
		    (unsigned)(rc->distinct.count > 100000 ? 100000 :
		    rc->distinct.count));
		if (n > rc->distinct.count) {
			char lim[64], why[160];

			pc_rate_format(&rc->distinct, lim, sizeof(lim));
			snprintf(why, sizeof(why), "DistinctAddressLimit %s: "
			    "seen from %u client addresses", lim, n);
			if ((rv = do_suspend(s, key, why, r)) < 0)
				goto out;
		}
	}
	if (al.unlimited) {
		rv = 0;
		goto out;
	}
	if (rv == 1) {
		rv = hit(s, key, &al, RL_MESSAGES, retry, r);
		goto out;
	}
	if (!rlstore_charge(s->conf, key, RL_BYTES, &al.l[RL_BYTES], 1,
	    RL_CHECK, &retry, NULL))
		rv = hit(s, key, &al, RL_BYTES, retry, r);
out:
	metrics_decision_ns(rl_now() - now);
	return rv;
}

int
ratelimit_rcpt(struct session *s, struct rl_reply *r)
{
	struct acct_limits al;
	char key[ACCOUNT_MAX + 2];
	uint64_t now = rl_now(), retry = 0;
	int rv = 0;

	rl_reply_clear(r);
	ratelimit_key(s, key, sizeof(key));
	if (key[0] == '\0' || s->conf->rl == NULL)
		return 0;
	limits_for(s->conf, key, &al);
	if (!al.unlimited && !rlstore_charge(s->conf, key, RL_RECIPIENTS,
	    &al.l[RL_RECIPIENTS], 1, RL_TAKE, &retry, NULL))
		rv = hit(s, key, &al, RL_RECIPIENTS, retry, r);
	metrics_decision_ns(rl_now() - now);
	return rv;
}

void
ratelimit_eom(struct session *s)
{
	struct acct_limits al;
	char key[ACCOUNT_MAX + 2];

	ratelimit_key(s, key, sizeof(key));
	if (key[0] == '\0' || s->conf->rl == NULL)
		return;
	limits_for(s->conf, key, &al);
	if (al.unlimited)
		return;
	rlstore_charge(s->conf, key, RL_MESSAGES, &al.l[RL_MESSAGES], 1,
	    RL_FORCE, NULL, NULL);
	if (s->size > 0)
		rlstore_charge(s->conf, key, RL_BYTES, &al.l[RL_BYTES], s->size,
		    RL_FORCE, NULL, NULL);
}
