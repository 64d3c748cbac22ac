/*
 * suspend.h - the stolen-account response: suspended accounts (with who
 * suspended them, when and why), the client addresses an account was
 * seen from (DistinctAddressLimit), and the one place a suspension is
 * made: flag in the limiter, log line, metrics, NotifyCommand.
 *
 * With RateLimitBackend redis the suspensions live in Redis, shared by
 * every node: suspend_account(), suspend_is(), suspend_info(),
 * suspend_resume() and suspend_count() ask it (those without a
 * configuration argument use the live one), and this process keeps a
 * mirror of the suspensions it has seen, used only while Redis cannot
 * answer.  suspend_restore() and suspend_foreach() are StateFile's and
 * only ever touch that local copy: a node coming back must not undo, in
 * Redis, a resume made on another node while it was away.
 */
#ifndef PC_SUSPEND_H
#define PC_SUSPEND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "netaddr.h"

struct rlredis_target;

struct mconf;
struct rl_table;

/* The process's limiter, made by suspend_init() (idempotent). */
void suspend_init(size_t max_accounts);
struct rl_table *suspend_table(void);

int suspend_is(const char *account);
/*
 * Suspends account (a no-op returning 0 when it already is), records
 * reason and since, and runs c's NotifyCommand.  Returns 1 when newly
 * suspended.
 */
int suspend_account(const struct mconf *c, const char *account,
    const char *reason, time_t since);
/* Restores a suspension from StateFile: no log, no notification. */
void suspend_restore(const char *account, const char *reason, time_t since);
/*
 * Brings the local mirror in line with what Redis said (rlstore.c), and
 * returns whether the account is suspended: a suspension this node made
 * while Redis failed outlives Redis's "no" and is written to t then.
 */
int suspend_mirror(const struct rlredis_target *t, const char *account,
    int on, const char *reason, time_t since);
/* Forgets the addresses this process saw an account use. */
void suspend_forget_addresses(const char *account);
/* 1 when the account was suspended. */
int suspend_resume(const char *account);
/* Reason and start of a suspension; 0 when not suspended. */
int suspend_info(const char *account, char *reason, size_t rlen,
    time_t *since);
/* Every suspension (for StateFile); fn must not call back. */
void suspend_foreach(void (*fn)(const char *account, const char *reason,
    time_t since, void *arg), void *arg);
size_t suspend_count(void);

/*
 * Notes that account used addr now; returns the number of distinct
 * addresses seen within window_ns (addr included).  Bounded: at most
 * limit + 1 addresses are remembered per account.
 */
unsigned suspend_seen_from(const char *account, const struct pc_addr *addr,
    uint64_t window_ns, unsigned limit, uint64_t now);

#endif
