/*
 * test_rlredis.c - RateLimitBackend redis://: the URL (good, bad and
 * hostile), the key encoding, the exact increment handed to the script,
 * the reading of every answer shape (including error answers and shapes
 * a wrong server would send), and then the Lua script itself against a
 * real redis-server on 127.0.0.1:13390 when one is installed (those
 * cases are skipped otherwise): burst then refill, the retry time, case
 * folding, expiry, NOSCRIPT after SCRIPT FLUSH, addresses, suspensions,
 * the fast failure and back-off when nothing listens, and the fallback
 * to this process's own table (rlstore.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_mseam.h"
#include "mconf.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "rlredis.h"
#include "rlstore.h"
#include "suspend.h"
#include "util.h"

#define PORT 13390
#define DEAD_PORT 13391

/* ---- URL ---------------------------------------------------------- */

static const struct {
	const char *url;
	const char *host;
	unsigned port, db;
	const char *user, *password, *display;
} good_urls[] = {
	{ "redis://127.0.0.1:6379/0", "127.0.0.1", 6379, 0, "", "", "redis://127.0.0.1:6379/0" },
	{ "redis://redis.isp.example", "redis.isp.example", 6379, 0, "", "", "redis://redis.isp.example:6379/0" },
	{ "REDIS://h:1/15", "h", 1, 15, "", "", "redis://h:1/15" },
	{ "redis://h/3", "h", 6379, 3, "", "", "redis://h:6379/3" },
	{ "redis://h:7000/", "h", 7000, 0, "", "", "redis://h:7000/0" },
	{ "redis://[::1]:6380/2", "::1", 6380, 2, "", "", "redis://[::1]:6380/2" },
	{ "redis://:s3cret@h:6379/1", "h", 6379, 1, "", "s3cret", "redis://h:6379/1" },
	{ "redis://milter:p%40ss@h", "h", 6379, 0, "milter", "p@ss", "redis://h:6379/0" },
	{ "redis://:a@b@h", "h", 6379, 0, "", "a@b", "redis://h:6379/0" },
};

static const struct {
	const char *url, *want;
} bad_urls[] = {
	{ "", "not memory or redis://" },
	{ "memcached://h", "not memory or redis://" },
	{ "rediss://h:6379", "not memory or redis://" },
	{ "redis://", "no host" },
	{ "redis://:6379/0", "no host" },
	{ "redis://h:0/0", "the port must be a number 1-65535" },
	{ "redis://h:65536", "the port must be a number 1-65535" },
	{ "redis://h:99999999999999999999", "the port must be" },
	{ "redis://h:-1", "the port must be" },
	{ "redis://h:port", "the port must be" },
	{ "redis://h:", "the port must be" },
	{ "redis://h:6379/16", "the database must be a number 0-15" },
	{ "redis://h:6379/-1", "the database must be" },
	{ "redis://h:6379/x", "the database must be" },
	{ "redis://h:6379/0/extra", "the database must be" },
	{ "redis://h:6379/0000", "the database must be" },
	{ "redis://h;rm -rf:6379", "is not a host name" },
	{ "redis://h\n:6379", "is not a host name" },
	{ "redis://[::1:6379", "no ']'" },
	{ "redis://[nothost]:6379", "is not a host name" },
	{ "redis://pw@h", "[USER]:PASSWORD@" },
	{ "redis://user:@h", "[USER]:PASSWORD@" },
	{ "redis://:p%4@h", "bad or too long" },
	{ "redis://:p%00@h", "bad or too long" },
	{ "redis://h:6379?db=1", "the port must be" },
};

static void
test_url(void **state)
{
	struct rlredis_target t, u;
	char err[512], huge[2000];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(good_urls); i++) {
		if (rlredis_parse_url(good_urls[i].url, &t, err, sizeof(err)) < 0)
			fail_msg("%s: %s", good_urls[i].url, err);
		assert_string_equal(t.host, good_urls[i].host);
		assert_int_equal(t.port, good_urls[i].port);
		assert_int_equal(t.db, good_urls[i].db);
		assert_string_equal(t.user, good_urls[i].user);
		assert_string_equal(t.password, good_urls[i].password);
		assert_string_equal(t.display, good_urls[i].display);
		/* The password never reaches what the logs print. */
		if (t.password[0] != '\0')
			assert_null(strstr(t.display, t.password));
	}
	for (i = 0; i < PC_ARRAY_LEN(bad_urls); i++) {
		err[0] = '\0';
		if (rlredis_parse_url(bad_urls[i].url, &t, err, sizeof(err)) == 0)
			fail_msg("\"%s\" was accepted", bad_urls[i].url);
		if (strstr(err, bad_urls[i].want) == NULL)
			fail_msg("\"%s\": \"%s\" lacks \"%s\"", bad_urls[i].url,
			    err, bad_urls[i].want);
	}
	/* An error never repeats the password. */
	assert_int_equal(rlredis_parse_url("redis://:topsecret@h:99999/0", &t,
	    err, sizeof(err)), -1);
	assert_null(strstr(err, "topsecret"));
	assert_int_equal(rlredis_parse_url("redis://u:topsecret@bad host/0",
	    &t, err, sizeof(err)), -1);
	assert_null(strstr(err, "topsecret"));
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "redis://", 8);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(rlredis_parse_url(huge, &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));

	assert_int_equal(rlredis_parse_url("redis://h:1/0", &t, NULL, 0), 0);
	assert_int_equal(rlredis_parse_url("redis://h:1/0", &u, NULL, 0), 0);
	assert_true(rlredis_same(&t, &u));
	assert_int_equal(rlredis_parse_url("redis://h:1/1", &u, NULL, 0), 0);
	assert_false(rlredis_same(&t, &u));
	assert_int_equal(rlredis_parse_url("redis://:x@h:1/0", &u, NULL, 0), 0);
	assert_false(rlredis_same(&t, &u));
}

/* ---- keys and arithmetic ---------------------------------------------- */

static void
test_key(void **state)
{
	char k[64], big[3000];

	(void)state;
	rlredis_key(k, sizeof(k), "portcullis:rl:", "Alice@Test.Example");
	assert_string_equal(k, "portcullis:rl:alice@test.example");
	rlredis_key(k, sizeof(k), "p:", "a b\r\n%:*\x7f\xc3\xa9");
	assert_string_equal(k, "p:a%20b%0d%0a%25%3a%2a%7f%c3%a9");
	rlredis_key(k, sizeof(k), "p:", "[192.0.2.1]");
	assert_string_equal(k, "p:%5b192.0.2.1%5d");
	/* Truncated, never overflowing, never half an escape. */
	memset(big, '%', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	rlredis_key(k, sizeof(k), "p:", big);
	assert_true(strlen(k) < sizeof(k));
	assert_int_equal((strlen(k) - 2) % 3, 0);
	rlredis_key(k, 4, "portcullis:", "x");
	assert_string_equal(k, "por");
}

static void
test_increment(void **state)
{
	struct pc_rate r;
	struct rl_limit l;
	uint64_t inc, frac;

	(void)state;
	r.count = 3; r.seconds = 3600;
	rl_limit_set(&l, &r);
	rlredis_increment(&l, 1, &inc, &frac);
	assert_true(inc == 1200000000ULL && frac == 0);
	r.count = 7;
	rl_limit_set(&l, &r);
	rlredis_increment(&l, 1, &inc, &frac);
	assert_true(inc == 514285714ULL && frac == 2);
	rlredis_increment(&l, 7, &inc, &frac);
	assert_true(inc == 3600000000ULL && frac == 0);
	/* Bytes: 10 MB per day, a 25 MB message. */
	r.count = 10000000; r.seconds = 86400;
	rl_limit_set(&l, &r);
	rlredis_increment(&l, 25000000, &inc, &frac);
	assert_true(inc == 216000000000ULL && frac == 0);
	/* A cost beyond any window is capped, so doubles stay exact. */
	r.count = 1; r.seconds = PC_DURATION_MAX;
	rl_limit_set(&l, &r);
	rlredis_increment(&l, UINT64_MAX, &inc, &frac);
	assert_true(inc == ((uint64_t)1 << 50) && frac == 0);
	memset(&l, 0, sizeof(l));
	rlredis_increment(&l, 5, &inc, &frac);
	assert_true(inc == 0 && frac == 0);
}

/* ---- answers ----------------------------------------------------------- */

static redisReply ints[4], nil = { .type = REDIS_REPLY_NIL };

static redisReply *
mkint(int i, long long v)
{
	ints[i].type = REDIS_REPLY_INTEGER;
	ints[i].integer = v;
	return &ints[i];
}

static void
test_read_answers(void **state)
{
	char text[] = "1700000000 SuspendAfter: 4 limit hits", e[] = "OOM command not allowed";
	redisReply str = { .type = REDIS_REPLY_STRING, .len = sizeof(text) - 1, .str = text };
	redisReply errr = { .type = REDIS_REPLY_ERROR, .len = sizeof(e) - 1, .str = e };
	redisReply *el[3];
	redisReply arr = { .type = REDIS_REPLY_ARRAY, .elements = 3, .element = el };
	struct rlredis_charge ch;
	struct rl_limit l;
	struct pc_rate r = { 3, 3600 };
	struct rl_usage u;
	char err[256];
	int first, over, known;
	long long v;

	(void)state;
	el[0] = mkint(0, 1); el[1] = mkint(1, 0); el[2] = &nil;
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok && !ch.suspended && ch.retry_ns == 0);

	el[0] = mkint(0, 0); el[1] = mkint(1, 5000001); el[2] = &str;
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), 0);
	assert_false(ch.ok);
	assert_true(ch.retry_ns == 5000001000ULL);
	assert_true(ch.suspended);
	assert_true(ch.since == 1700000000);
	assert_string_equal(ch.reason, "SuspendAfter: 4 limit hits");

	/* An error answer, and shapes no script of ours sends. */
	assert_int_equal(rlredis_read_charge(&errr, &ch, err, sizeof(err)), -1);
	assert_string_equal(err, e);
	assert_int_equal(rlredis_read_charge(mkint(3, 1), &ch, err, sizeof(err)), -1);
	el[0] = mkint(0, 2); el[1] = mkint(1, 0); el[2] = &nil;
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), -1);
	el[0] = mkint(0, 1); el[1] = mkint(1, -5);
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), -1);
	el[1] = mkint(1, 0); el[2] = mkint(2, 7);
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), -1);
	arr.elements = 2;
	assert_int_equal(rlredis_read_charge(&arr, &ch, err, sizeof(err)), -1);

	el[0] = mkint(0, 1); el[1] = mkint(1, 0);
	assert_int_equal(rlredis_read_hit(&arr, &first, &over, err, sizeof(err)), 0);
	assert_true(first && !over);
	el[1] = mkint(1, 1); el[0] = mkint(0, 0);
	assert_int_equal(rlredis_read_hit(&arr, &first, &over, err, sizeof(err)), 0);
	assert_true(!first && over);
	el[1] = &str;
	assert_int_equal(rlredis_read_hit(&arr, &first, &over, err, sizeof(err)), -1);
	assert_int_equal(rlredis_read_hit(&errr, &first, &over, err, sizeof(err)), -1);

	/* usage: 2400 s owed of 3/1h is 2 messages in use. */
	rl_limit_set(&l, &r);
	arr.elements = 3;
	el[0] = mkint(0, 1); el[1] = mkint(1, 2400000000LL); el[2] = mkint(2, 0);
	assert_int_equal(rlredis_read_usage(&arr, &l, &known, &u, err, sizeof(err)), 0);
	assert_true(known && u.used == 2 && u.refill_ns == 2400000000000ULL);
	el[1] = mkint(1, 1);
	assert_int_equal(rlredis_read_usage(&arr, &l, &known, &u, err, sizeof(err)), 0);
	assert_true(u.used == 1);
	el[0] = mkint(0, 0); el[1] = mkint(1, 0);
	assert_int_equal(rlredis_read_usage(&arr, &l, &known, &u, err, sizeof(err)), 0);
	assert_true(!known && u.used == 0 && u.refill_ns == 0);
	assert_int_equal(rlredis_read_usage(&nil, &l, &known, &u, err, sizeof(err)), -1);

	assert_int_equal(rlredis_read_integer(mkint(0, 42), &v, err, sizeof(err)), 0);
	assert_true(v == 42);
	assert_int_equal(rlredis_read_integer(&str, &v, err, sizeof(err)), -1);
	assert_int_equal(rlredis_read_integer(&errr, &v, err, sizeof(err)), -1);
}

static void
test_read_suspension(void **state)
{
	char reason[8];
	time_t since;

	(void)state;
	assert_int_equal(rlredis_read_suspension("12 abuse desk", 13, &since,
	    reason, sizeof(reason)), 0);
	assert_true(since == 12);
	assert_string_equal(reason, "abuse d");	/* capped */
	assert_int_equal(rlredis_read_suspension("12", 2, &since, reason,
	    sizeof(reason)), 0);
	assert_string_equal(reason, "");
	assert_int_equal(rlredis_read_suspension("x 1", 3, &since, reason,
	    sizeof(reason)), -1);
	assert_int_equal(rlredis_read_suspension("12x", 3, &since, reason,
	    sizeof(reason)), -1);
	assert_int_equal(rlredis_read_suspension("", 0, &since, reason,
	    sizeof(reason)), -1);
}

/* ---- against a real redis-server ---------------------------------------- */

static pid_t redis_pid = -1;
static char redis_dir[] = "/tmp/pc-test-rlredis-XXXXXX";
static struct rlredis_target live;

static int
start_redis(void **state)
{
	char port[16];
	struct timeval tv = { 0, 200000 };
	int i;

	(void)state;
	if (mkdtemp(redis_dir) == NULL)
		return -1;
	if (rlredis_parse_url("redis://127.0.0.1:13390/0", &live, NULL, 0) < 0)
		return -1;
	/* Someone else's server on our port: never test against it. */
	{
		redisContext *c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
		int busy = c != NULL && !c->err;

		if (c != NULL)
			redisFree(c);
		if (busy) {
			print_message("port %d is in use: the cases that need "
			    "redis-server are skipped\n", PORT);
			return 0;
		}
	}
	snprintf(port, sizeof(port), "%d", PORT);
	redis_pid = fork();
	if (redis_pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(126);
		execlp("redis-server", "redis-server", "--port", port,
		    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		    "--dir", redis_dir, "--daemonize", "no", "--loglevel",
		    "warning", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && redis_pid > 0; i++) {
		redisContext *c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
		int up = c != NULL && !c->err;
		int st;

		if (c != NULL)
			redisFree(c);
		if (up)
			break;
		if (waitpid(redis_pid, &st, WNOHANG) == redis_pid) {
			redis_pid = -1;	/* not installed, or the port is taken */
			break;
		}
		usleep(50000);
	}
	return 0;
}

static int
stop_redis(void **state)
{
	char cmd[128];

	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", redis_dir);
	if (system(cmd) != 0)
		return -1;
	return 0;
}

static void
need_redis(void)
{
	if (redis_pid <= 0) {
		print_message("redis-server is not installed or did not start: "
		    "skipped\n");
		skip();
	}
}

/* A raw command on a connection of the test's own. */
static long long
raw_int(const char *fmt, const char *arg)
{
	struct timeval tv = { 1, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
	redisReply *r;
	long long v = -99;

	assert_true(c != NULL && !c->err);
	r = redisCommand(c, fmt, arg);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_INTEGER)
		v = r->integer;
	freeReplyObject(r);
	redisFree(c);
	return v;
}

static void
test_live_gcra(void **state)
{
	struct pc_rate r = { 3, 3600 };
	struct rl_limit l;
	struct rlredis_charge ch;
	struct rl_usage u;
	char err[512];
	int i, known;
	long long ttl;

	(void)state;
	need_redis();
	rl_limit_set(&l, &r);
	/* A burst of 3, then 1200 s until the next. */
	for (i = 0; i < 3; i++) {
		if (rlredis_charge(&live, i == 1 ? "ALICE@x.example" : "alice@x.example",
		    RL_MESSAGES, &l, 1, RL_TAKE, 1, &ch, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		assert_true(ch.ok);
		assert_false(ch.suspended);
	}
	assert_int_equal(rlredis_charge(&live, "Alice@X.Example", RL_MESSAGES,
	    &l, 1, RL_CHECK, 0, &ch, err, sizeof(err)), 0);
	assert_false(ch.ok);
	assert_true(ch.retry_ns > 1199 * RL_NS && ch.retry_ns <= 1200 * RL_NS);
	/* TAKE over the limit records nothing; FORCE does. */
	assert_int_equal(rlredis_charge(&live, "alice@x.example", RL_MESSAGES,
	    &l, 1, RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_false(ch.ok);
	assert_int_equal(rlredis_usage(&live, "alice@x.example", RL_MESSAGES,
	    &l, &known, &u, err, sizeof(err)), 0);
	assert_true(known && u.used == 3);
	assert_true(u.refill_ns > 3599 * RL_NS && u.refill_ns <= 3600 * RL_NS);
	assert_int_equal(rlredis_charge(&live, "alice@x.example", RL_MESSAGES,
	    &l, 1, RL_FORCE, 0, &ch, err, sizeof(err)), 0);
	assert_int_equal(rlredis_usage(&live, "alice@x.example", RL_MESSAGES,
	    &l, &known, &u, err, sizeof(err)), 0);
	assert_true(u.used == 4);
	/* The key expires when it has refilled (4 x 1200 s), not before. */
	ttl = raw_int("PTTL %s", "portcullis:rl:alice@x.example");
	assert_true(ttl > 4799000 && ttl <= 4800001);
	/* Other kinds and accounts are untouched. */
	assert_int_equal(rlredis_usage(&live, "bob@x.example", RL_MESSAGES,
	    &l, &known, &u, err, sizeof(err)), 0);
	assert_true(!known && u.used == 0);
	assert_int_equal(rlredis_charge(&live, "alice@x.example",
	    RL_RECIPIENTS, &l, 1, RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok);
	/* A limit of 0 only asks for the flags. */
	memset(&l, 0, sizeof(l));
	assert_int_equal(rlredis_charge(&live, "alice@x.example", RL_BYTES,
	    &l, 99, RL_FORCE, 1, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok);

	assert_int_equal(rlredis_forget(&live, "ALICE@x.example", "rl", &known,
	    err, sizeof(err)), 0);
	assert_true(known);
	rl_limit_set(&l, &r);
	assert_int_equal(rlredis_charge(&live, "alice@x.example", RL_MESSAGES,
	    &l, 1, RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok);
	assert_false(rlredis_failed());
}

static void
test_live_exact_and_noscript(void **state)
{
	struct pc_rate r = { 7, 3600 };
	struct rl_limit l;
	struct rlredis_charge ch;
	redisContext *c;
	struct timeval tv = { 1, 0 };
	char err[512];
	int i;

	(void)state;
	need_redis();
	/* 7 per hour: W/N is not whole; still exactly 7 in a burst. */
	rl_limit_set(&l, &r);
	for (i = 0; i < 7; i++) {
		assert_int_equal(rlredis_charge(&live, "seven@x", RL_MESSAGES, &l,
		    1, RL_TAKE, 0, &ch, err, sizeof(err)), 0);
		assert_true(ch.ok);
	}
	assert_int_equal(rlredis_charge(&live, "seven@x", RL_MESSAGES, &l, 1,
	    RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_false(ch.ok);
	/* Bytes: a cost of many units at once. */
	r.count = 1000; r.seconds = 60;
	rl_limit_set(&l, &r);
	assert_int_equal(rlredis_charge(&live, "bytes@x", RL_BYTES, &l, 1000,
	    RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok);
	assert_int_equal(rlredis_charge(&live, "bytes@x", RL_BYTES, &l, 1,
	    RL_CHECK, 0, &ch, err, sizeof(err)), 0);
	assert_false(ch.ok);

	/* Redis forgets the script (restart, SCRIPT FLUSH): loaded again. */
	c = redisConnectWithTimeout("127.0.0.1", PORT, tv);
	assert_true(c != NULL && !c->err);
	freeReplyObject(redisCommand(c, "SCRIPT FLUSH"));
	redisFree(c);
	assert_int_equal(rlredis_charge(&live, "after-flush@x", RL_BYTES, &l,
	    1, RL_TAKE, 0, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok);
}

static void
test_live_hits_addresses_suspensions(void **state)
{
	struct pc_rate r = { 2, 3600 };
	struct rl_limit l;
	struct rlredis_charge ch;
	struct pc_addr a;
	char err[512], reason[64];
	int first, over, fresh, had, yes;
	unsigned n;
	time_t since;
	size_t cnt;

	(void)state;
	need_redis();
	rl_limit_set(&l, &r);
	assert_int_equal(rlredis_hit(&live, "dave@x", &l, &first, &over, err,
	    sizeof(err)), 0);
	assert_true(first && !over);
	assert_int_equal(rlredis_hit(&live, "DAVE@x", &l, &first, &over, err,
	    sizeof(err)), 0);
	assert_true(!first && over);

	(void)a;
	assert_int_equal(rlredis_seen_from(&live, "frank@x", "192.0.2.1",
	    3600 * RL_NS, 2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rlredis_seen_from(&live, "frank@x", "192.0.2.1",
	    3600 * RL_NS, 2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rlredis_seen_from(&live, "Frank@x", "2001:db8::1",
	    3600 * RL_NS, 2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rlredis_seen_from(&live, "frank@x", "192.0.2.3",
	    3600 * RL_NS, 2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	/* At most limit + 1 are remembered. */
	assert_int_equal(rlredis_seen_from(&live, "frank@x", "192.0.2.4",
	    3600 * RL_NS, 2, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rlredis_forget(&live, "frank@x", "da", &had, err,
	    sizeof(err)), 0);
	assert_true(had);

	assert_int_equal(rlredis_suspend(&live, "Eve@x", "stolen\r\npassword",
	    1234, &fresh, err, sizeof(err)), 0);
	assert_true(fresh);
	assert_int_equal(rlredis_suspend(&live, "eve@x", "again", 99, &fresh,
	    err, sizeof(err)), 0);
	assert_false(fresh);
	assert_int_equal(rlredis_suspended(&live, "EVE@X", &yes, reason,
	    sizeof(reason), &since, err, sizeof(err)), 0);
	assert_true(yes && since == 1234);
	assert_string_equal(reason, "stolen\r\npassword");
	memset(&l, 0, sizeof(l));
	assert_int_equal(rlredis_charge(&live, "eve@x", RL_MESSAGES, &l, 1,
	    RL_CHECK, 1, &ch, err, sizeof(err)), 0);
	assert_true(ch.ok && ch.suspended && ch.since == 1234);
	assert_int_equal(rlredis_suspended_count(&live, &cnt, err, sizeof(err)), 0);
	assert_int_equal(cnt, 1);
	assert_int_equal(rlredis_resume(&live, "eve@X", &had, err, sizeof(err)), 0);
	assert_true(had);
	assert_int_equal(rlredis_resume(&live, "eve@x", &had, err, sizeof(err)), 0);
	assert_false(had);
	assert_int_equal(rlredis_suspended(&live, "eve@x", &yes, reason,
	    sizeof(reason), &since, err, sizeof(err)), 0);
	assert_false(yes);
}

/* Nothing listens: fast failure, then back-off without connecting. */
static void
test_unreachable(void **state)
{
	struct rlredis_target dead;
	struct pc_rate r = { 3, 3600 };
	struct rl_limit l;
	struct rlredis_charge ch;
	char err[512];
	uint64_t t0;

	(void)state;
	assert_int_equal(rlredis_parse_url("redis://127.0.0.1:13391/0", &dead,
	    NULL, 0), 0);
	rl_limit_set(&l, &r);
	rlredis_clear_failed();
	t0 = rl_now();
	assert_int_equal(rlredis_charge(&dead, "a@x", RL_MESSAGES, &l, 1,
	    RL_TAKE, 1, &ch, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "redis://127.0.0.1:13391/0"));
	assert_true(rlredis_failed());
	assert_int_equal(rlredis_charge(&dead, "a@x", RL_MESSAGES, &l, 1,
	    RL_TAKE, 1, &ch, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unreachable"));
	assert_true(rl_now() - t0 < 1000 * 1000000ULL);
	rlredis_clear_failed();
	assert_false(rlredis_failed());
	/* The live server is a different target: it is asked at once. */
	if (redis_pid > 0) {
		assert_int_equal(rlredis_charge(&live, "a@x", RL_MESSAGES, &l,
		    1, RL_TAKE, 1, &ch, err, sizeof(err)), 0);
		assert_false(rlredis_failed());
	}
	rlredis_release();
}

static struct mconf *
conf_with(const char *backend)
{
	char text[256];

	snprintf(text, sizeof(text), "RateLimitBackend %s\nControlSocket none\n"
	    "StateFile none\n", backend);
	return fake_load_conf(text);
}

/*
 * The failure policy through rlstore.c: what this node charged while
 * Redis answered is remembered by its own table, so when Redis goes away
 * the fallback does not hand out a fresh burst; suspensions seen in
 * Redis hold too; a resume seen in Redis clears this node's copy.
 */
static void
test_store_fallback(void **state)
{
	struct mconf *up, *down;
	struct pc_rate r = { 3, 3600 };
	struct rl_limit l, none;
	uint64_t retry = 0;
	unsigned flags = 0;
	char err[256];
	int had;

	(void)state;
	need_redis();
	up = conf_with("redis://127.0.0.1:13390/0");
	down = conf_with("redis://127.0.0.1:13391/0");
	assert_string_equal(rlstore_name(up), "redis://127.0.0.1:13390/0");
	rl_limit_set(&l, &r);
	memset(&none, 0, sizeof(none));
	assert_true(rlstore_charge(up, "shadow@x", RL_MESSAGES, &l, 1, RL_TAKE,
	    &retry, NULL));
	assert_true(rlstore_charge(up, "Shadow@X", RL_MESSAGES, &l, 1, RL_TAKE,
	    &retry, NULL));
	/* Redis is away: this node's own limit, with its 2 remembered. */
	assert_true(rlstore_charge(down, "shadow@x", RL_MESSAGES, &l, 1,
	    RL_TAKE, &retry, NULL));
	assert_false(rlstore_charge(down, "shadow@x", RL_MESSAGES, &l, 1,
	    RL_TAKE, &retry, NULL));
	assert_true(retry > 1100 * RL_NS && retry <= 1200 * RL_NS);
	/* Only 2 reached Redis: its shared count goes on from there. */
	assert_true(rlstore_charge(up, "shadow@x", RL_MESSAGES, &l, 1, RL_TAKE,
	    &retry, NULL));
	assert_false(rlstore_charge(up, "shadow@x", RL_MESSAGES, &l, 1,
	    RL_CHECK, &retry, NULL));

	/* A suspension made through Redis holds while it is away. */
	assert_int_equal(suspend_account(up, "thief@x", "test", 5), 1);
	assert_int_equal(suspend_account(up, "THIEF@x", "test", 5), 0);
	assert_true(rlstore_charge(down, "thief@x", RL_MESSAGES, &none, 1,
	    RL_CHECK, NULL, &flags));
	assert_true(flags & RL_F_SUSPENDED);
	/* Another node resumed it in Redis: the next look clears our copy. */
	assert_int_equal(rlredis_resume(&live, "thief@x", &had, err,
	    sizeof(err)), 0);
	assert_true(had);
	assert_true(rlstore_charge(up, "thief@x", RL_MESSAGES, &none, 1,
	    RL_CHECK, NULL, &flags));
	assert_false(flags & RL_F_SUSPENDED);
	assert_true(rlstore_charge(down, "thief@x", RL_MESSAGES, &none, 1,
	    RL_CHECK, NULL, &flags));
	assert_false(flags & RL_F_SUSPENDED);

	/*
	 * A suspension made while Redis is away stays when Redis answers
	 * "not suspended" (it never heard of it), and is written there.
	 */
	assert_int_equal(suspend_account(down, "stolen@x", "while down", 7), 1);
	assert_true(rlstore_charge(up, "stolen@x", RL_MESSAGES, &none, 1,
	    RL_CHECK, NULL, &flags));
	assert_true(flags & RL_F_SUSPENDED);
	{
		char reason[64];
		time_t since = 0;
		int yes = 0;

		assert_int_equal(rlredis_suspended(&live, "stolen@x", &yes,
		    reason, sizeof(reason), &since, err, sizeof(err)), 0);
		assert_true(yes);
		assert_string_equal(reason, "while down");
	}
	/* Once shared, a resume in Redis lifts it here as before. */
	assert_int_equal(rlredis_resume(&live, "stolen@x", &had, err,
	    sizeof(err)), 0);
	assert_true(had);
	assert_true(rlstore_charge(up, "stolen@x", RL_MESSAGES, &none, 1,
	    RL_CHECK, NULL, &flags));
	assert_false(flags & RL_F_SUSPENDED);

	/* reset reaches both. */
	assert_int_equal(rlstore_reset(up, "shadow@x"), 1);
	assert_true(rlstore_charge(down, "shadow@x", RL_MESSAGES, &l, 1,
	    RL_CHECK, &retry, NULL));
	assert_true(rlstore_charge(up, "shadow@x", RL_MESSAGES, &l, 3,
	    RL_CHECK, &retry, NULL));
	mconf_free(up);
	mconf_free(down);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_increment),
		cmocka_unit_test(test_read_answers),
		cmocka_unit_test(test_read_suspension),
		cmocka_unit_test(test_live_gcra),
		cmocka_unit_test(test_live_exact_and_noscript),
		cmocka_unit_test(test_live_hits_addresses_suspensions),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_store_fallback),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_redis, stop_redis);
}
