/*
 * http.h - portcullisd's HTTP server (libevent evhttp, HTTPS through
 * bufferevent_openssl): the sign-up pages and the JSON API.
 *
 * The server runs in a thread of its own with its own registry handle
 * (SQLite serialises it with the scheduler's), its own resolver and its
 * own throttles and sessions, none of which any other thread touches.
 * The configuration is the one thing shared: the main thread swaps it
 * with http_set_conf() on reload, under a lock every request holds.
 *
 * Start-up is two steps so that a privileged port and root-only key
 * files work: http_listen() before dropping privileges, http_start()
 * after.
 */
#ifndef PC_HTTP_H
#define PC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "checks.h"
#include "dconf.h"
#include "netaddr.h"

/* Request bodies above this are refused with 413. */
#define HTTP_BODY_MAX (64 * 1024)
/* Seconds a client has to send its request. */
#define HTTP_TIMEOUT 20

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
};

const char *http_header(struct http_req *r, const char *name);
void http_set_header(struct http_req *r, const char *name, const char *value);
/* Sends the reply; body may be NULL. */
void http_reply(struct http_req *r, int code, const char *content_type,
    const char *body, size_t len);
/* Sends v (reference stolen) as JSON; API replies are never cached. */
void http_json(struct http_req *r, int code, json_t *v);
/* {"error": error, "detail": detail}. */
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
