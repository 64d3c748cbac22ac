/*
 * http.c - the HTTP server: listening (plain or TLS), the server thread,
 * per-request set-up (client address through TrustedProxies, path,
 * query, body), routing to api.c and pages.c (on the event thread, or on
 * a worker of http_pool.c for the slow routes), and the reply helpers
 * with the security headers every response carries.  Logins are in
 * http_login.c.
 */
#include "http.h"

#include <sys/queue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "api_json.h"
#include "dns.h"
#include "log.h"
#include "registry.h"
#include "saslauth.h"
#include "throttle.h"
#include "util.h"

#define CSP "default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const struct throttle_policy acct_policy = { 5, 2, 900, 3600 };
static const struct throttle_policy addr_policy = { 20, 2, 900, 3600 };

struct http_server {
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	pthread_t thread;
	int running;
	/* Read-held by every request for its life; written by a reload. */
	pthread_rwlock_t conf_lock;
	/* The registry handle, throttles and sessions of svc. */
	pthread_mutex_t state_lock;
	struct http_pool *pool;
	struct http_svc svc;
};

/* ---- listening ---- */

static struct bufferevent *
tls_bev(struct event_base *base, void *arg)
{
	SSL_CTX *ctx = arg;

	return bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *
tls_context(const struct dconf *c, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char why[256];

	if (ctx == NULL) {
		pc_err(err, errlen, "TLS: cannot create a context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		pc_err(err, errlen, "TLSCertificate %s: %s", c->tls_cert, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), why, sizeof(why));
		pc_err(err, errlen, "TLSKey %s: %s", c->tls_key, why);
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void on_request(struct evhttp_request *ev, void *arg);
static void run_deferred(void *arg, struct http_req *r);
static void finish_deferred(void *arg, struct http_req *r);
static void drop_deferred(void *arg, struct http_req *r);
static const char *reason(int code);

static int
same_resolver(const struct dconf *a, const struct dconf *b)
{
	if (a->resolver == NULL || b->resolver == NULL)
		return a->resolver == b->resolver;
	return strcmp(a->resolver, b->resolver) == 0;
}

struct http_server *
http_listen(const struct dconf *c, char *err, size_t errlen)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	char host[PC_ADDR_STRLEN];
	pthread_rwlockattr_t ra;

	/* Before the event base: workers wake the event thread (http_pool.c). */
	evthread_use_pthreads();
	/* A reload waits for requests in flight, not for a stream of new ones. */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->conf_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&s->state_lock, NULL);
	if ((s->base = event_base_new()) == NULL ||
	    (s->http = evhttp_new(s->base)) == NULL) {
		pc_err(err, errlen, "Listen: cannot start libevent");
		goto fail;
	}
	pc_addr_format(&c->listen_addr, host, sizeof(host));
	if (evhttp_bind_socket(s->http, host,
	    (unsigned short)c->listen_port) != 0) {
		pc_err(err, errlen, "Listen %s: cannot listen there (in use, "
		    "or not an address of this host)", c->listen);
		goto fail;
	}
	if (c->tls_cert != NULL) {
		if ((s->ssl = tls_context(c, err, errlen)) == NULL)
			goto fail;
		evhttp_set_bevcb(s->http, tls_bev, s->ssl);
	}
	evhttp_set_max_body_size(s->http, HTTP_BODY_WIRE_MAX);
	evhttp_set_max_headers_size(s->http, 16 * 1024);
	evhttp_set_timeout(s->http, HTTP_TIMEOUT);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	/* Read an oversized body to its end, so the client sees the 413. */
	evhttp_set_flags(s->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_gencb(s->http, on_request, s);
	return s;
fail:
	if (s->http != NULL)
		evhttp_free(s->http);
	if (s->base != NULL)
		event_base_free(s->base);
	free(s);
	return NULL;
}

static void *
run(void *arg)
{
	struct http_server *s = arg;

	event_base_dispatch(s->base);
	return NULL;
}

int
http_start(struct http_server *s, struct dconf *c, char *err, size_t errlen)
{
	struct http_svc *v = &s->svc;

	v->conf = c;
	if ((v->reg = registry_open(c->database, c->lifetime, err,
	    errlen)) == NULL)
		return -1;
	if ((v->dns = dns_new(c->resolver != NULL ? &c->resolver_addr : NULL,
	    c->resolver_port, err, errlen)) == NULL)
		return -1;
	checks_dns_ops(&v->dnsops, v->dns);
	if (saslauth_init(c->sasl_service, c->sasl_config_path, err,
	    errlen) < 0)
		return -1;
	v->login_acct = throttle_new(4096, &acct_policy);
	v->login_addr = throttle_new(4096, &addr_policy);
	v->posts = throttle_new(4096, &(struct throttle_policy){ 10, 60,
	    3600, 3600 });
	v->sessions = http_sessions_new(10000);
	if ((s->pool = http_pool_new(s->base, HTTP_WORKERS, HTTP_QUEUE_MAX, c,
	    run_deferred, finish_deferred, s, err, errlen)) == NULL)
		return -1;
	{
		/* Signals are the main thread's: it sleeps waiting for them. */
		sigset_t all, old;
		int rc;

		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&s->thread, NULL, run, s);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (rc != 0)
			return pc_err(err, errlen, "cannot start the HTTP "
			    "thread");
	}
	s->running = 1;
	pc_log_info("HTTP%s on %s", s->ssl != NULL ? "S" : "", c->listen);
	return 0;
}

void
http_set_conf(struct http_server *s, struct dconf *c)
{
	if (s == NULL)
		return;
	pthread_rwlock_wrlock(&s->conf_lock);
	if (strcmp(c->listen, s->svc.conf->listen) != 0 ||
	    (c->tls_cert == NULL) != (s->svc.conf->tls_cert == NULL))
		pc_log_warn("reload: Listen and TLS changes take effect at "
		    "restart");
	if (!same_resolver(c, s->svc.conf))
		pc_log_warn("reload: Resolver changes reach registrations at "
		    "restart (revalidation follows at its next pass)");
	s->svc.conf = c;
	/* The server's own registry handle stamps expiries too. */
	pthread_mutex_lock(&s->state_lock);
	registry_set_lifetime(s->svc.reg, c->lifetime);
	pthread_mutex_unlock(&s->state_lock);
	pthread_rwlock_unlock(&s->conf_lock);
}

void
http_stop(struct http_server *s)
{
	if (s == NULL)
		return;
	if (s->running) {
		event_base_loopbreak(s->base);
		pthread_join(s->thread, NULL);
	}
	/* After the event loop: nothing can be sent or queued any more. */
	http_pool_free(s->pool, drop_deferred);
	if (s->running)
		saslauth_done();
	evhttp_free(s->http);
	event_base_free(s->base);
	if (s->ssl != NULL)
		SSL_CTX_free(s->ssl);
	registry_close(s->svc.reg);
	dns_free(s->svc.dns);
	throttle_free(s->svc.login_acct);
	throttle_free(s->svc.login_addr);
	throttle_free(s->svc.posts);
	http_sessions_free(s->svc.sessions);
	pthread_rwlock_destroy(&s->conf_lock);
	pthread_mutex_destroy(&s->state_lock);
	free(s);
}

/* ---- per request ---- */

/*
 * The client: the peer, or when the peer is a trusted proxy, the last
 * X-Forwarded-For address that is not one (the ones before it could be
 * made up by the client).
 */
static void
client_address(struct http_req *r, const struct sockaddr *sa)
{
	const struct pc_netlist *proxies = &r->svc->conf->trusted_proxies;
	const char *xff;
	char *copy, *p, why[128];
	struct pc_addr a;

	memset(&r->client, 0, sizeof(r->client));
	if (sa != NULL)
		(void)pc_addr_from_sockaddr(sa, &r->client);
	if (proxies->n > 0 && pc_netlist_contains(proxies, &r->client) &&
	    (xff = http_header(r, "X-Forwarded-For")) != NULL &&
	    strlen(xff) < 4096) {
		copy = xstrdup(xff);
		while ((p = strrchr(copy, ',')) != NULL || *copy != '\0') {
			char *item = p != NULL ? p + 1 : copy;

			item = pc_str_trim(item);
			if (pc_addr_parse(item, &a, why, sizeof(why)) < 0)
				break;	/* garbage: stop at the last good one */
			r->client = a;
			if (!pc_netlist_contains(proxies, &a))
				break;
			if (p == NULL)
				break;
			*p = '\0';
		}
		free(copy);
	}
	pc_addr_format(&r->client, r->client_text, sizeof(r->client_text));
}

static void
req_free(struct http_req *r)
{
	evhttp_clear_headers(r->query);
	free(r->query);
	free(r->path);
	free(r->body);
	if (r->reply_body != NULL)
		evbuffer_free(r->reply_body);
	free(r);
}

/* The routes that may wait: SASL logins, registrations, renewals. */
static int
slow_route(const struct http_req *r)
{
	const char *p = r->path;

	if (strncmp(p, "/api/v1/registrations", 21) == 0 &&
	    (p[21] == '\0' || p[21] == '/'))
		return 1;
	return r->method == EVHTTP_REQ_POST && (strcmp(p, "/login") == 0 ||
	    strcmp(p, "/register") == 0 || strcmp(p, "/renew") == 0);
}

/* Routes r; the caller holds conf_lock (read) and state_lock. */
static void
dispatch(struct http_req *r)
{
	if (!api_handle(r) && !pages_handle(r))
		http_error(r, 404, "not_found", "no such page");
	if (!r->replied)
		http_error(r, 500, "internal", "the request was not answered");
}

/* On a worker. */
static void
run_deferred(void *arg, struct http_req *r)
{
	struct http_server *s = arg;

	pthread_rwlock_rdlock(&s->conf_lock);
	pthread_mutex_lock(&s->state_lock);
	dispatch(r);
	pthread_mutex_unlock(&s->state_lock);
	pthread_rwlock_unlock(&s->conf_lock);
}

/* Back on the event thread: send the staged reply. */
static void
finish_deferred(void *arg, struct http_req *r)
{
	(void)arg;
	evhttp_send_reply(r->ev, r->reply_code, reason(r->reply_code),
	    r->reply_body);
	req_free(r);
}

static void
drop_deferred(void *arg, struct http_req *r)
{
	(void)arg;
	req_free(r);
}

void
http_slow_begin(struct http_req *r)
{
	if (r->deferred)
		pthread_mutex_unlock(r->state_lock);
}

void
http_slow_end(struct http_req *r)
{
	if (r->deferred)
		pthread_mutex_lock(r->state_lock);
}

static void
on_request(struct evhttp_request *ev, void *arg)
{
	struct http_server *s = arg;
	struct http_req *r = xcalloc(1, sizeof(*r));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	struct evhttp_connection *con = evhttp_request_get_connection(ev);
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;

	r->ev = ev;
	r->svc = &s->svc;
	r->method = evhttp_request_get_command(ev);
	r->query = xcalloc(1, sizeof(*r->query));
	TAILQ_INIT(r->query);
	r->tls = s->ssl != NULL;
	r->dnsops = &s->svc.dnsops;
	r->state_lock = &s->state_lock;
	pthread_rwlock_rdlock(&s->conf_lock);
	client_address(r, con != NULL ? evhttp_connection_get_addr(con) : NULL);
	{
		size_t dn = 0;

		r->path = evhttp_uridecode(path != NULL && *path != '\0' ? path :
		    "/", 0, &dn);
		if (r->path != NULL && strlen(r->path) != dn) {
			free(r->path);	/* an encoded NUL */
			r->path = NULL;
		}
	}
	if (q != NULL && evhttp_parse_query_str(q, r->query) != 0)
		evhttp_clear_headers(r->query);	/* routes see no query */
	r->body_len = evbuffer_get_length(in);
	if (r->body_len > HTTP_BODY_MAX) {
		http_set_header(r, "Connection", "close");
		if (r->path != NULL && strncmp(r->path, "/api/", 5) == 0)
			http_error(r, 413, "too_large", "request bodies are "
			    "limited to 64 KiB");
		else
			http_reply(r, 413, "text/plain; charset=utf-8",
			    "Request bodies are limited to 64 KiB\n", 37);
		goto out;
	}
	r->body = xmalloc(r->body_len + 1);
	evbuffer_remove(in, r->body, r->body_len);
	r->body[r->body_len] = '\0';
	if (r->path == NULL || memchr(r->body, '\0', r->body_len) != NULL) {
		http_error(r, 400, "bad_request", "the request is malformed");
		goto out;
	}
	if (slow_route(r)) {
		if (http_pool_submit(s->pool, r) == 0) {
			pthread_rwlock_unlock(&s->conf_lock);
			return;		/* a worker has it now */
		}
		http_set_header(r, "Retry-After", "10");
		http_error(r, 503, "busy", "too many requests are being "
		    "checked; try again in a few seconds");
		goto out;
	}
	pthread_mutex_lock(&s->state_lock);
	dispatch(r);
	pthread_mutex_unlock(&s->state_lock);
out:
	if (!r->replied)
		http_error(r, 500, "internal", "the request was not answered");
	pthread_rwlock_unlock(&s->conf_lock);
	req_free(r);
}

/* ---- replies ---- */

const char *
http_header(struct http_req *r, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->ev),
	    name);
}

void
http_set_header(struct http_req *r, const char *name, const char *value)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);

	evhttp_remove_header(h, name);
	evhttp_add_header(h, name, value);
}

static const char *
reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void
http_reply(struct http_req *r, int code, const char *content_type,
    const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->ev);
	struct evbuffer *b;

	if (r->replied)
		return;
	r->replied = 1;
	if (content_type != NULL)
		http_set_header(r, "Content-Type", content_type);
	http_set_header(r, "X-Content-Type-Options", "nosniff");
	http_set_header(r, "X-Frame-Options", "DENY");
	/* same-origin, not no-referrer: Chromium then sends "Origin: null" on form posts. */
	http_set_header(r, "Referrer-Policy", "same-origin");
	http_set_header(r, "Content-Security-Policy", CSP);
	if (evhttp_find_header(h, "Cache-Control") == NULL)
		http_set_header(r, "Cache-Control", "no-store");
	if (r->tls)
		http_set_header(r, "Strict-Transport-Security",
		    "max-age=31536000");
	b = evbuffer_new();
	if (body != NULL && len > 0 && code != 204 && code != 304)
		evbuffer_add(b, body, len);
	if (r->deferred) {	/* a worker: the event thread sends it */
		r->reply_code = code;
		r->reply_body = b;
		return;
	}
	evhttp_send_reply(r->ev, code, reason(code), b);
	evbuffer_free(b);
}

void
http_json(struct http_req *r, int code, json_t *v)
{
	char *text = v != NULL ?
	    json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;

	/*
	 * json_pack() refuses invalid UTF-8 (client text cut mid-character)
	 * and returns NULL: answer with a fixed body rather than stop.
	 */
	if (text == NULL) {
		pc_log_warn("cannot encode a JSON reply; sent a generic one");
		json_decref(v);
		code = 500;
		text = xstrdup("{\"error\":\"internal\",\"detail\":"
		    "\"the reply could not be encoded\"}");
	} else {
		json_decref(v);
	}
	{
		size_t n = strlen(text);
		char *t = xmalloc(n + 2);
		memcpy(t, text, n);
		t[n] = '\n';
		t[n + 1] = '\0';
		http_reply(r, code, "application/json", t, n + 1);
		free(t);
	}
	free(text);
}

json_t *
http_error_body(const char *error, const char *detail)
{
	char d[2048];

	/* Details quote client text: keep them valid UTF-8, or no JSON. */
	api_utf8_cut(d, sizeof(d), detail != NULL ? detail : "", sizeof(d) - 1);
	return json_pack("{s:s, s:s}", "error", error, "detail", d);
}

void
http_error(struct http_req *r, int code, const char *error, const char *detail)
{
	http_json(r, code, http_error_body(error, detail));
}

void
http_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL) {
		pc_strlcpy(buf, "", len);
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
http_random_hex(char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[64];
	size_t n = (len - 1) / 2, i;

	if (n > sizeof(raw))
		n = sizeof(raw);
	if (RAND_bytes(raw, (int)n) != 1)
		pc_log_fatal("RAND_bytes failed");
	for (i = 0; i < n; i++) {
		buf[2 * i] = hex[raw[i] >> 4];
		buf[2 * i + 1] = hex[raw[i] & 15];
	}
	buf[2 * n] = '\0';
}
