/*
 * rlredis.c - the Redis side of RateLimitBackend: the connections, and
 * the operations of rlredis.h as commands and script calls on them.  The
 * script is in rlredis_script.c, the back-off in rlredis_health.c, and
 * the URL, keys and answers are read in rlredis_parse.c.
 *
 * Connections are per thread (pthread key, freed at thread exit): a
 * libmilter worker never waits for another's reply.  A broken connection
 * is reopened once at once (Redis restarted); when that fails too, or
 * Redis answers an error, the server is marked down for the process and
 * retried after a back-off (rlredis_health.c).  Until then nobody waits
 * for it.
 */
#include "rlredis_int.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "log.h"
#include "util.h"

#define KEY_MAX 1200

static const char *const mode_names[] = { "check", "take", "force" };

/* ---- connections ----------------------------------------------------- */

struct conn {
	redisContext *ctx;
	struct rlredis_target t;
	char sha[48];
};

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void
conn_close(struct conn *c)
{
	if (c->ctx != NULL)
		redisFree(c->ctx);
	c->ctx = NULL;
	c->sha[0] = '\0';
}

static void
conn_destroy(void *p)
{
	conn_close(p);
	free(p);
}

static void
conn_key_make(void)
{
	(void)pthread_key_create(&conn_key, conn_destroy);
}

static struct conn *
conn_get(void)
{
	struct conn *c;

	pthread_once(&conn_once, conn_key_make);
	if ((c = pthread_getspecific(conn_key)) == NULL) {
		c = xcalloc(1, sizeof(*c));
		(void)pthread_setspecific(conn_key, c);
	}
	return c;
}

void
rlredis_release(void)
{
	struct conn *c;

	pthread_once(&conn_once, conn_key_make);
	if ((c = pthread_getspecific(conn_key)) != NULL && c->ctx != NULL)
		conn_close(c);
}

static const char *
ctx_error(const redisContext *ctx)
{
	if (ctx == NULL)
		return "out of memory";
	if (ctx->err == REDIS_ERR_IO && ctx->errstr[0] != '\0' &&
	    strstr(ctx->errstr, "temporarily unavailable") != NULL)
		return "no answer in time (timeout)";
	return ctx->errstr[0] != '\0' ? ctx->errstr : "connection lost";
}

/* A command during connection set-up, whose answer must not be an error. */
static int
setup_cmd(struct conn *c, char *err, size_t errlen, const char *what,
    int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(c->ctx, argc, argv, NULL);
	const char *e;

	if (r == NULL)
		return pc_err(err, errlen, "%s: %s", what, ctx_error(c->ctx));
	if ((e = rlredis_reply_error(r)) != NULL) {
		pc_err(err, errlen, "%s: %s", what, e);
		freeReplyObject(r);
		return -1;
	}
	if (strcmp(what, "SCRIPT LOAD") == 0) {
		if (r->type != REDIS_REPLY_STRING || r->len >= sizeof(c->sha)) {
			freeReplyObject(r);
			return pc_err(err, errlen, "SCRIPT LOAD: odd answer");
		}
		memcpy(c->sha, r->str, r->len);
		c->sha[r->len] = '\0';
	}
	freeReplyObject(r);
	return 0;
}

static int
script_load(struct conn *c, char *err, size_t errlen)
{
	const char *argv[] = { "SCRIPT", "LOAD", rlredis_script };

	return setup_cmd(c, err, errlen, "SCRIPT LOAD", 3, argv);
}

static int
conn_open(struct conn *c, const struct rlredis_target *t, char *err,
    size_t errlen)
{
	struct timeval ctv = { 0, RLREDIS_CONNECT_MS * 1000 };
	struct timeval tv = { 0, RLREDIS_COMMAND_MS * 1000 };
	char db[16];
	int fl;

	conn_close(c);
	c->ctx = redisConnectWithTimeout(t->host, (int)t->port, ctv);
	if (c->ctx == NULL || c->ctx->err) {
		pc_err(err, errlen, "cannot connect: %s", ctx_error(c->ctx));
		conn_close(c);
		return -1;
	}
	/* NotifyCommand's children must not inherit it. */
	if ((fl = fcntl(c->ctx->fd, F_GETFD)) >= 0)
		(void)fcntl(c->ctx->fd, F_SETFD, fl | FD_CLOEXEC);
	(void)redisSetTimeout(c->ctx, tv);
	(void)redisEnableKeepAlive(c->ctx);
	if (t->password[0] != '\0') {
		const char *a2[] = { "AUTH", t->password };
		const char *a3[] = { "AUTH", t->user, t->password };

		if (setup_cmd(c, err, errlen, "AUTH", t->user[0] != '\0' ? 3 : 2,
		    t->user[0] != '\0' ? a3 : a2) < 0)
			goto fail;
	}
	if (t->db != 0) {
		const char *argv[] = { "SELECT", db };

		snprintf(db, sizeof(db), "%u", t->db);
		if (setup_cmd(c, err, errlen, "SELECT", 2, argv) < 0)
			goto fail;
	}
	if (script_load(c, err, errlen) < 0)
		goto fail;
	c->t = *t;
	return 0;
fail:
	conn_close(c);
	return -1;
}

/*
 * Runs one command on this thread's connection to t (opened when
 * needed); a reused connection found closed is reopened once (never
 * after a timeout: the command may have run).
 * EVALSHA's script SHA is filled in at argv[1] when sha_slot.  Returns
 * the answer, or NULL with err.  Error answers are returned as answers,
 * except NOSCRIPT, which reloads the script and tries again.
 */
static redisReply *
command(const struct rlredis_target *t, int argc, const char **argv,
    const size_t *argvlen, int sha_slot, char *err, size_t errlen)
{
	struct conn *c = conn_get();
	size_t lens[16];
	redisReply *r = NULL;
	int attempt, fresh, noscript = 0, i;

	if (argc > (int)PC_ARRAY_LEN(lens))
		return NULL;
	for (attempt = 0; attempt < 3; attempt++) {
		fresh = 0;
		if (c->ctx == NULL || !rlredis_same(&c->t, t)) {
			if (conn_open(c, t, err, errlen) < 0)
				return NULL;
			fresh = 1;
		}
		if (sha_slot)
			argv[1] = c->sha;
		for (i = 0; i < argc; i++)
			lens[i] = argvlen != NULL && argvlen[i] != 0 ? argvlen[i] :
			    strlen(argv[i]);
		errno = 0;
		r = redisCommandArgv(c->ctx, argc, argv, lens);
		if (r == NULL) {
			/*
			 * Again on a new connection only when the command
			 * cannot have run: the old one was found closed (a
			 * restarted Redis).  After a timeout it may have run
			 * and only its answer be late; a charge sent twice
			 * would count twice.
			 */
			int e = errno, unsent = c->ctx->err == REDIS_ERR_EOF ||
			    (c->ctx->err == REDIS_ERR_IO &&
			    (e == ECONNRESET || e == EPIPE));

			pc_err(err, errlen, "%s", ctx_error(c->ctx));
			conn_close(c);
			if (fresh || !unsent)
				return NULL;
			continue;
		}
		if (sha_slot && !noscript && r->type == REDIS_REPLY_ERROR &&
		    strncmp(r->str, "NOSCRIPT", 8) == 0) {
			/* Redis restarted or SCRIPT FLUSH: load it again. */
			freeReplyObject(r);
			r = NULL;
			noscript = 1;
			if (script_load(c, err, errlen) < 0) {
				conn_close(c);
				return NULL;
			}
			continue;
		}
		return r;
	}
	return r;
}

/*
 * The common frame of every operation: the back-off gate, the command,
 * and error answers turned into failures.  NULL means "fall back".
 */
static redisReply *
run(const struct rlredis_target *t, int argc, const char **argv,
    const size_t *argvlen, int sha_slot, char *err, size_t errlen)
{
	redisReply *r;
	const char *e;
	char why[300];

	if (rlredis_gate(t, err, errlen) < 0)
		return NULL;
	r = command(t, argc, argv, argvlen, sha_slot, why, sizeof(why));
	if (r == NULL) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		rlredis_went_bad(t, why);
		return NULL;
	}
	if ((e = rlredis_reply_error(r)) != NULL) {
		snprintf(why, sizeof(why), "error answer: %.200s", e);
		pc_err(err, errlen, "%s: %s", t->display, why);
		freeReplyObject(r);
		rlredis_went_bad(t, why);
		return NULL;
	}
	rlredis_went_ok(t);
	return r;
}

/* A reply that run() accepted but whose shape is wrong. */
static int
odd(const struct rlredis_target *t, redisReply *r, const char *why)
{
	freeReplyObject(r);
	return rlredis_went_bad(t, why);
}

/* ---- operations ------------------------------------------------------ */

struct args {
	const char *v[16];
	char num[6][24];
	char key[KEY_MAX], key2[KEY_MAX], field[KEY_MAX];
	int n;
};

static const char *
argnum(struct args *a, int slot, uint64_t v)
{
	snprintf(a->num[slot], sizeof(a->num[slot]), "%" PRIu64, v);
	return a->num[slot];
}

/* EVALSHA - 2 KEY KEY2 op: the frame of every script call. */
static void
script_args(struct args *a, const char *prefix, const char *account,
    const char *op)
{
	rlredis_key(a->key, sizeof(a->key), prefix, account);
	pc_strlcpy(a->key2, RLREDIS_PREFIX "suspended", sizeof(a->key2));
	a->v[0] = "EVALSHA";
	a->v[1] = "";
	a->v[2] = "2";
	a->v[3] = a->key;
	a->v[4] = a->key2;
	a->v[5] = op;
	a->n = 6;
}

static void
limit_args(struct args *a, enum rl_kind kind, const struct rl_limit *lim,
    uint64_t cost)
{
	uint64_t inc, frac;

	rlredis_increment(lim, cost, &inc, &frac);
	a->v[a->n++] = rl_kind_names[kind];
	a->v[a->n++] = argnum(a, 0, lim->count);
	a->v[a->n++] = argnum(a, 1, lim->window_ns / 1000);
	a->v[a->n++] = argnum(a, 2, inc);
	a->v[a->n++] = argnum(a, 3, frac);
}

int
rlredis_charge(const struct rlredis_target *t, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, uint64_t cost,
    enum rl_mode mode, int want_suspended, struct rlredis_charge *out,
    char *err, size_t errlen)
{
	struct args a;
	redisReply *r;
	char why[200];

	script_args(&a, RLREDIS_PREFIX "rl:", account, "charge");
	limit_args(&a, kind, lim, cost);
	a.v[a.n++] = mode_names[mode];
	if (want_suspended)
		rlredis_key(a.field, sizeof(a.field), "", account);
	else
		a.field[0] = '\0';
	a.v[a.n++] = a.field;
	if ((r = run(t, a.n, a.v, NULL, 1, err, errlen)) == NULL)
		return -1;
	if (rlredis_read_charge(r, out, why, sizeof(why)) < 0) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		return odd(t, r, why);
	}
	freeReplyObject(r);
	return 0;
}

int
rlredis_hit(const struct rlredis_target *t, const char *account,
    const struct rl_limit *hl, int *first, int *over, char *err,
    size_t errlen)
{
	struct args a;
	redisReply *r;
	char why[200];

	script_args(&a, RLREDIS_PREFIX "rl:", account, "hit");
	limit_args(&a, RL_HITS, hl, 1);
	if ((r = run(t, a.n, a.v, NULL, 1, err, errlen)) == NULL)
		return -1;
	if (rlredis_read_hit(r, first, over, why, sizeof(why)) < 0) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		return odd(t, r, why);
	}
	freeReplyObject(r);
	return 0;
}

int
rlredis_usage(const struct rlredis_target *t, const char *account,
    enum rl_kind kind, const struct rl_limit *lim, int *known,
    struct rl_usage *u, char *err, size_t errlen)
{
	struct args a;
	redisReply *r;
	char why[200];

	script_args(&a, RLREDIS_PREFIX "rl:", account, "usage");
	limit_args(&a, kind, lim, 1);
	if ((r = run(t, a.n, a.v, NULL, 1, err, errlen)) == NULL)
		return -1;
	if (rlredis_read_usage(r, lim, known, u, why, sizeof(why)) < 0) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		return odd(t, r, why);
	}
	freeReplyObject(r);
	return 0;
}

int
rlredis_seen_from(const struct rlredis_target *t, const char *account,
    const char *addr, uint64_t window_ns, unsigned limit, unsigned *n,
    char *err, size_t errlen)
{
	struct args a;
	redisReply *r;
	long long v;
	char why[200];

	script_args(&a, RLREDIS_PREFIX "da:", account, "seen");
	a.v[a.n++] = addr;
	a.v[a.n++] = argnum(&a, 0, window_ns / 1000);
	a.v[a.n++] = argnum(&a, 1, (uint64_t)limit + 1);
	if ((r = run(t, a.n, a.v, NULL, 1, err, errlen)) == NULL)
		return -1;
	if (rlredis_read_integer(r, &v, why, sizeof(why)) < 0 || v < 0) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		return odd(t, r, "odd answer to the address script");
	}
	*n = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
	freeReplyObject(r);
	return 0;
}

/* A plain command whose answer is an integer. */
static int
int_command(const struct rlredis_target *t, int argc, const char **argv,
    long long *v, char *err, size_t errlen)
{
	redisReply *r;
	char why[200];

	if ((r = run(t, argc, argv, NULL, 0, err, errlen)) == NULL)
		return -1;
	if (rlredis_read_integer(r, v, why, sizeof(why)) < 0) {
		pc_err(err, errlen, "%s: %s", t->display, why);
		return odd(t, r, why);
	}
	freeReplyObject(r);
	return 0;
}

int
rlredis_forget(const struct rlredis_target *t, const char *account,
    const char *what, int *had, char *err, size_t errlen)
{
	char key[KEY_MAX], prefix[32];
	const char *argv[] = { "DEL", key };
	long long v;

	snprintf(prefix, sizeof(prefix), RLREDIS_PREFIX "%s:", what);
	rlredis_key(key, sizeof(key), prefix, account);
	if (int_command(t, 2, argv, &v, err, errlen) < 0)
		return -1;
	*had = v > 0;
	return 0;
}

int
rlredis_suspend(const struct rlredis_target *t, const char *account,
    const char *reason, time_t since, int *fresh, char *err, size_t errlen)
{
	char field[KEY_MAX], value[320];
	const char *argv[] = { "HSETNX", RLREDIS_PREFIX "suspended", field,
	    value };
	long long v;

	rlredis_key(field, sizeof(field), "", account);
	snprintf(value, sizeof(value), "%lld %s", (long long)since,
	    reason != NULL ? reason : "");
	if (int_command(t, 4, argv, &v, err, errlen) < 0)
		return -1;
	*fresh = v == 1;
	return 0;
}

int
rlredis_resume(const struct rlredis_target *t, const char *account, int *had,
    char *err, size_t errlen)
{
	char field[KEY_MAX];
	const char *argv[] = { "HDEL", RLREDIS_PREFIX "suspended", field };
	long long v;

	rlredis_key(field, sizeof(field), "", account);
	if (int_command(t, 3, argv, &v, err, errlen) < 0)
		return -1;
	*had = v > 0;
	return 0;
}

int
rlredis_suspended(const struct rlredis_target *t, const char *account,
    int *yes, char *reason, size_t rlen, time_t *since, char *err,
    size_t errlen)
{
	char field[KEY_MAX];
	const char *argv[] = { "HGET", RLREDIS_PREFIX "suspended", field };
	redisReply *r;

	rlredis_key(field, sizeof(field), "", account);
	if ((r = run(t, 3, argv, NULL, 0, err, errlen)) == NULL)
		return -1;
	*yes = 0;
	if (r->type == REDIS_REPLY_STRING) {
		*yes = 1;
		if (rlredis_read_suspension(r->str, r->len, since, reason,
		    rlen) < 0) {
			*since = 0;
			pc_strlcpy(reason, "suspended", rlen);
		}
	} else if (r->type != REDIS_REPLY_NIL) {
		pc_err(err, errlen, "%s: odd answer to HGET", t->display);
		return odd(t, r, "odd answer to HGET");
	}
	freeReplyObject(r);
	return 0;
}

int
rlredis_suspended_count(const struct rlredis_target *t, size_t *n, char *err,
    size_t errlen)
{
	const char *argv[] = { "HLEN", RLREDIS_PREFIX "suspended" };
	long long v;

	if (int_command(t, 2, argv, &v, err, errlen) < 0)
		return -1;
	*n = v < 0 ? 0 : (size_t)v;
	return 0;
}

int
rlredis_probe(const struct rlredis_target *t, char *err, size_t errlen)
{
	const char *argv[] = { "PING" };
	redisReply *r;

	if ((r = run(t, 1, argv, NULL, 0, err, errlen)) == NULL)
		return -1;
	freeReplyObject(r);
	pc_log_info("RateLimitBackend %s: connected; rate limits and "
	    "suspensions are shared through it", t->display);
	return 0;
}
