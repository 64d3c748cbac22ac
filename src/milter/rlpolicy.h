/*
 * rlpolicy.h - the rate-limit and stolen-account decisions for one
 * message: which limits apply, whether this step passes, and what the
 * configured RateLimitAction makes of a hit.  Pure policy on a session:
 * no libmilter, so milter.c turns the answer into a reply and the unit
 * tests call these directly.
 */
#ifndef PC_RLPOLICY_H
#define PC_RLPOLICY_H

#include "session.h"

struct rl_reply {
	char rcode[4];
	char xcode[8];
	char text[ACCOUNT_MAX + 128];
	char reason[ACCOUNT_MAX + 192];
};

/*
 * At MAIL FROM, after the sender checks.  0: go on (a quarantine or log
 * decision may be pending in the session); -1: refuse with *r.
 */
int ratelimit_mail(struct session *s, struct rl_reply *r);
/* At each RCPT TO: charges one recipient.  0 or -1 as above. */
int ratelimit_rcpt(struct session *s, struct rl_reply *r);
/* At end of message: charges the message and its bytes. */
void ratelimit_eom(struct session *s);

/* The key the limiter counts a session under ("" when none). */
void ratelimit_key(const struct session *s, char *buf, size_t len);

#endif
