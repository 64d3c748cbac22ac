/*
 * http.h - portcullisd's HTTP server (libevent evhttp, HTTPS through
 * bufferevent_openssl): the sign-up pages and the JSON API.
 *
 * The server's event thread answers the quick requests itself and hands
 * those that may wait (a password check, a registration's DNS checks,
 * the milter's ControlSocket) to a few worker threads (http_pool.c), so
 * one slow registration never stalls the pages or other clients.  The
 * server has its own registry handle (SQLite serialises it with the
 * scheduler's), throttles and sessions, shared by its threads under a
 * state lock that handlers release around the slow calls; each worker
 * has its own resolver.  The configuration is read-locked by every
 * request for its whole life: the main thread swaps it with
 * http_set_conf() on reload, which waits for requests in flight.
 *
 * Start-up is two steps so that a privileged port and root-only key
 * files work: http_listen() before dropping privileges, http_start()
 * after.
 */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include <jansson.h>

#include "checks.h"
#include "dconf.h"
#include "netaddr.h"

/* Request bodies above this are refused with 413 and a JSON body. */
#define HTTP_BODY_MAX (64 * 1024)
/*
 * libevent's own limit, which it enforces before any callback of ours
 * with its own HTML 413 (libevent 2.1 has no hook to replace that body):
 * set above HTTP_BODY_MAX so that an oversized body up to this size
 * gets the API's JSON error, while memory per request stays bounded.
 */
#define HTTP_BODY_WIRE_MAX (256 * 1024)
/* Seconds a client has to send its request. */
#define HTTP_TIMEOUT 20
/* Worker threads for slow requests, and how many may wait for one. */
#define HTTP_WORKERS 4
#define HTTP_QUEUE_MAX 256

struct http_server;

struct http_server *http_listen(const struct dconf *c, char *err,
    size_t errlen);
int http_start(struct http_server *s, struct dconf *c, char *err,
    size_t errlen);
/* The caller frees the old configuration after this returns. */
void http_set_conf(struct http_server *s, struct dconf *c);
void http_stop(struct http_server *s);

/* ---- Below: for the request handlers (api*.c, pages*.c). ---- */

struct evhttp_request;
struct evkeyvalq;
struct registry;
struct dns;
struct throttle;
struct http_sessions;

/* The state of the server thread. */
struct http_svc {
	struct dconf *conf;
	struct registry *reg;
	struct dns *dns;
	struct check_dns dnsops;
	struct throttle *login_acct;	/* failed logins per account */
	struct throttle *login_addr;	/* ... and per client address */
	struct throttle *posts;		/* feedback per address */
	struct http_sessions *sessions;
};

struct http_req {
	struct evhttp_request *ev;
	struct http_svc *svc;
	int method;			/* enum evhttp_cmd_type */
	char *path;			/* decoded, without the query */
	struct evkeyvalq *query;
	struct pc_addr client;		/* after TrustedProxies */
	char client_text[PC_ADDR_STRLEN];
	char *body;			/* NUL-terminated copy */
	size_t body_len;
	int tls;
	int replied;
	struct check_dns *dnsops;	/* this thread's resolver */
	/* Handled by a worker: the reply is staged, the event thread sends it. */
	int deferred;
	pthread_mutex_t *state_lock;	/* held while a handler runs */
	int reply_code;
	struct evbuffer *reply_body;
};

/*
 * Around a call that may take seconds and touches none of the shared
 * state (registry, throttles, sessions): lets other requests at it.
 * Nothing read from that state before may be trusted after, except
 * copies.  No-ops on the event thread.
 */
void http_slow_begin(struct http_req *r);
void http_slow_end(struct http_req *r);

/* The worker pool (http_pool.c). */
struct event_base;
struct http_pool;
typedef void (*http_pool_fn)(void *arg, struct http_req *r);
/*
 * nworkers threads, each with a resolver per c's Resolver.  run is
 * called on a worker (with r->dnsops its resolver), then finish on the
 * event thread.
 */
struct http_pool *http_pool_new(struct event_base *base, unsigned nworkers,
    unsigned max_queue, const struct dconf *c, http_pool_fn run,
    http_pool_fn finish, void *arg, char *err, size_t errlen);
/* Queues r (setting r->deferred); -1 when the queue is full. */
int http_pool_submit(struct http_pool *p, struct http_req *r);
/*
 * Stops and joins the workers (after the event loop has stopped), then
 * hands each request never finished to drop.
 */
void http_pool_free(struct http_pool *p, http_pool_fn drop);

const char *http_header(struct http_req *r, const char *name);
void http_set_header(struct http_req *r, const char *name, const char *value);
/* Sends the reply; body may be NULL. */
void http_reply(struct http_req *r, int code, const char *content_type,
    const char *body, size_t len);
/* Sends v (reference stolen) as JSON; API replies are never cached. */
void http_json(struct http_req *r, int code, json_t *v);
/* {"error": error, "detail": detail}, the detail made valid UTF-8. */
json_t *http_error_body(const char *error, const char *detail);
void http_error(struct http_req *r, int code, const char *error,
    const char *detail);
/*
 * HTTP Basic through Cyrus SASL, throttled.  0 with the account in acct,
 * or -1 after replying (401, 429 or 503).
 */
int http_auth_basic(struct http_req *r, char *acct, size_t len);
/*
 * Checks user/password (also for the login form); on refusal sets
 * *code (401/429/503), *retry (for 429) and a detail.  0 ok, -1 refused.
 */
int http_login(struct http_req *r, const char *user, const char *password,
    int *code, unsigned *retry, char *detail, size_t dlen);
/* Throttle key of the client's address (IPv6 by /64). */
void http_client_key(struct http_req *r, char *key, size_t len);
/* RAND_bytes as hex; len is the hex length + 1. */
void http_random_hex(char *buf, size_t len);

/* Route handlers: 1 when the path was theirs (and a reply was sent). */
int api_handle(struct http_req *r);
int pages_handle(struct http_req *r);

/* The registration service behind both the API and the pages. */
struct regsvc_in {
	const char *account;
	const char *address;	/* NULL: the client's address */
	const char *hostname;
	const char *domain;
	const char *note;
	const char *via;	/* "api" or "web", for the audit */
};
struct regsvc_out {
	int code;		/* HTTP status */
	char error[32];		/* "" on success */
	char detail[600];
	int64_t id;
	json_t *checks;		/* NULL or the results; caller decrefs */
};
void regsvc_register(struct http_req *r, const struct regsvc_in *in,
    struct regsvc_out *out);
void regsvc_renew(struct http_req *r, const char *account, int64_t id,
    struct regsvc_out *out);
void regsvc_delete(struct http_req *r, const char *account, int64_t id,
    struct regsvc_out *out);
void regsvc_out_free(struct regsvc_out *out);
struct reg_entry;
json_t *regsvc_entry_json(const struct reg_entry *e);
/* RFC 3339 UTC, or "" for 0. */
void http_time(int64_t t, char *buf, size_t len);

/* Session store for the pages (http_session.c). */
struct http_session {
	char id[65];
	char csrf[65];
	char account[321];
	int64_t expires;
};
struct http_sessions *http_sessions_new(size_t max);
void http_sessions_free(struct http_sessions *s);
struct http_session *http_session_create(struct http_sessions *s,
    const char *account, int64_t now);
struct http_session *http_session_find(struct http_sessions *s,
    const char *id, int64_t now);
void http_session_drop(struct http_sessions *s, const char *id);

#endif
