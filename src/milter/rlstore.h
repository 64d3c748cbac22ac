/*
 * rlstore.h - where the rate-limit counters live, per RateLimitBackend:
 * in this process (memory), or in Redis shared by several nodes with
 * this process's table as the fallback when Redis cannot answer.
 *
 * With redis, every decision is Redis's; this process's table is kept
 * as a shadow of what this node itself charged, so that when Redis goes
 * away the node falls back to limits that remember its recent traffic
 * instead of granting every account a fresh burst.  rlpolicy.c and
 * control.c count only through here; suspensions go through suspend.h.
 */
#ifndef PC_RLSTORE_H
#define PC_RLSTORE_H

#include <stdint.h>

#include "netaddr.h"
#include "ratelimit.h"

struct mconf;

/* As rl_charge(), against c's backend ("now" is the backend's). */
int rlstore_charge(const struct mconf *c, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, uint64_t cost,
    enum rl_mode mode, uint64_t *retry_ns, unsigned *flags);
/*
 * Counts a limit hit under hl (SuspendAfter).  *first: no hit was
 * counted within hl before.  Returns 1 when one more hit would exceed hl.
 */
int rlstore_hit(const struct mconf *c, const char *account,
    const struct rl_limit *hl, int *first);
/* As suspend_seen_from(), shared across nodes with redis. */
unsigned rlstore_seen_from(const struct mconf *c, const char *account,
    const struct pc_addr *addr, uint64_t window_ns, unsigned limit);
/* As rl_usage(). */
int rlstore_usage(const struct mconf *c, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, struct rl_usage *u);
/* Forgets the account's counters; 1 if it had any. */
int rlstore_reset(const struct mconf *c, const char *account);
/* Forgets the client addresses it was seen from. */
void rlstore_forget_addresses(const struct mconf *c, const char *account);

/* "memory" or the redis URL without its password. */
const char *rlstore_name(const struct mconf *c);
/* At start-up: says in the log whether the backend answers. */
void rlstore_probe(const struct mconf *c);

#endif
