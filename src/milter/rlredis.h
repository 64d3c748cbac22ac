/*
 * rlredis.h - RateLimitBackend redis://: the counters, the client
 * addresses of DistinctAddressLimit and the suspensions of several
 * milter nodes kept in one Redis server (hiredis).
 *
 * Every check-and-update is one Lua script run with EVALSHA, atomic in
 * Redis and timed by Redis's own clock (TIME), so nodes with skewed
 * clocks agree.  Each thread has its own connection, with short connect
 * and command timeouts.  Any failure (unreachable, timeout, an error
 * answer) returns -1 with a reason: the caller (rlstore.c) then decides
 * with this process's own limiter.  The first failure is logged loudly
 * and starts a process-wide back-off during which nobody waits for
 * Redis; the first success after it is logged too.
 *
 * Keys (any account string is safe: lowercased, bytes outside
 * [a-z0-9@._+=-] written %XX):
 *   portcullis:rl:ACCOUNT   hash of GCRA counters, expires when refilled
 *   portcullis:da:ACCOUNT   sorted set: client address -> last seen (us)
 *   portcullis:suspended    hash: ACCOUNT -> "SINCE REASON"
 */
#ifndef PC_RLREDIS_H
#define PC_RLREDIS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ratelimit.h"

struct redisReply;

#define RLREDIS_PREFIX "portcullis:"
#define RLREDIS_DEFAULT_PORT 6379
#define RLREDIS_DB_MAX 15
/* Timeouts and back-off; see portcullis-milter.conf(5). */
#define RLREDIS_CONNECT_MS 200
#define RLREDIS_COMMAND_MS 250
#define RLREDIS_BACKOFF_MIN_MS 250
#define RLREDIS_BACKOFF_MAX_MS 5000

struct rlredis_target {
	char host[256];
	unsigned port;
	unsigned db;
	char user[128];		/* "" : AUTH with the password alone */
	char password[256];	/* "" : no AUTH */
	char display[300];	/* redis://HOST:PORT/DB, never the password */
};

/*
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]; HOST a name, an IPv4
 * address or [IPv6]; PORT 1-65535 (6379); DB 0-15 (0).  %XX decodes in
 * USER and PASSWORD.  0, or -1 with the reason in err.
 */
int rlredis_parse_url(const char *url, struct rlredis_target *t, char *err,
    size_t errlen);
int rlredis_same(const struct rlredis_target *a, const struct rlredis_target *b);

/* PREFIX + the account made key-safe (see above); truncated to len. */
void rlredis_key(char *buf, size_t len, const char *prefix,
    const char *account);
/*
 * The GCRA increment of cost units under l in microseconds: *inc whole
 * us and *frac in 1/N us (exact, as ratelimit.c is in ns).  Capped so
 * that the script's doubles stay exact; a capped charge never passes.
 */
void rlredis_increment(const struct rl_limit *l, uint64_t cost,
    uint64_t *inc, uint64_t *frac);

/* What the charge script answered. */
struct rlredis_charge {
	int ok;			/* the charge passes */
	uint64_t retry_ns;	/* when it does not: until it would */
	int suspended;		/* only when asked for */
	char reason[256];
	time_t since;
};

/* The operations; 0, or -1 with err (the caller falls back). */
int rlredis_charge(const struct rlredis_target *t, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, uint64_t cost,
    enum rl_mode mode, int want_suspended, struct rlredis_charge *out,
    char *err, size_t errlen);
/*
 * A limit hit for SuspendAfter: *first when no hit was counted before,
 * *over when one more hit would exceed hl.
 */
int rlredis_hit(const struct rlredis_target *t, const char *account,
    const struct rl_limit *hl, int *first, int *over, char *err,
    size_t errlen);
/* *known: the counter exists; u as rl_usage() fills it. */
int rlredis_usage(const struct rlredis_target *t, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, int *known,
    struct rl_usage *u, char *err, size_t errlen);
/* Forgets the counters (what = "rl") or the addresses ("da"). */
int rlredis_forget(const struct rlredis_target *t, const char *account,
    const char *what, int *had, char *err, size_t errlen);
/* Records addr for account; *n: distinct addresses within window_ns. */
int rlredis_seen_from(const struct rlredis_target *t, const char *account,
    const char *addr, uint64_t window_ns, unsigned limit, unsigned *n,
    char *err, size_t errlen);
/* *fresh: it was not suspended before. */
int rlredis_suspend(const struct rlredis_target *t, const char *account,
    const char *reason, time_t since, int *fresh, char *err, size_t errlen);
int rlredis_resume(const struct rlredis_target *t, const char *account,
    int *had, char *err, size_t errlen);
int rlredis_suspended(const struct rlredis_target *t, const char *account,
    int *yes, char *reason, size_t rlen, time_t *since, char *err,
    size_t errlen);
int rlredis_suspended_count(const struct rlredis_target *t, size_t *n,
    char *err, size_t errlen);
/* Connects (or finds the back-off) and logs the outcome, for start-up. */
int rlredis_probe(const struct rlredis_target *t, char *err, size_t errlen);

/*
 * 1 when an operation on this thread failed since the last clear: the
 * control socket tells the administrator a change reached this node only.
 */
int rlredis_failed(void);
void rlredis_clear_failed(void);
/* Closes this thread's connection (the backend is no longer redis). */
void rlredis_release(void);

/* Reading the script's answers; exposed for the unit tests.  0 or -1. */
int rlredis_read_charge(const struct redisReply *r, struct rlredis_charge *out,
    char *err, size_t errlen);
int rlredis_read_hit(const struct redisReply *r, int *first, int *over,
    char *err, size_t errlen);
int rlredis_read_usage(const struct redisReply *r, const struct rl_limit *lim,
    int *known, struct rl_usage *u, char *err, size_t errlen);
int rlredis_read_integer(const struct redisReply *r, long long *v, char *err,
    size_t errlen);
/* "SINCE REASON" as stored in portcullis:suspended. */
int rlredis_read_suspension(const char *value, size_t len, time_t *since,
    char *reason, size_t rlen);

#endif
