/*
 * spf.c - SPF evaluation for submission: libspf2 over the screening DNS
 * layer, a bounded result cache with the DNS TTL, the time budget and
 * the concurrency cap, and the decision SPFCheck asks for.
 *
 * Thread safety: each milter worker thread has its own SPF_server_t and
 * DNS layer stack (a pthread key, built on first use, rebuilt when the
 * Resolver changes).  The per-evaluation budget lives in those layers, so
 * a shared server would need a lock held across a whole evaluation,
 * which is exactly what the concurrency cap is meant to avoid; libspf2's
 * server objects are never shared between threads.  The result cache is
 * shared and guarded by one mutex held only to copy an entry.
 */
#include "spf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spf_dns.h"
#include "spf_resolver.h"
#include "util.h"

/* ---- per-thread libspf2 servers ---- */

struct tserver {
	SPF_server_t *server;
	SPF_dns_server_t *screen, *net;
	struct spf_budget budget;
	struct sockaddr_storage ns;	/* the resolver this was built for */
	socklen_t nslen;
	SPF_dns_server_t *below;	/* a test zone, when set */
};

static pthread_key_t tkey;
static pthread_once_t tonce = PTHREAD_ONCE_INIT;
static SPF_dns_server_t *test_below;

static void
tserver_free(void *p)
{
	struct tserver *t = p;

	if (t == NULL)
		return;
	if (t->server != NULL)
		SPF_server_free(t->server);
	spf_dns_layer_free(t->screen);
	spf_dns_layer_free(t->net);
	free(t);
}

/* libspf2's chatter would let a hostile record fill the log: drop it. */
static void
quiet(const char *file, int line, const char *msg)
{
	(void)file; (void)line; (void)msg;
}

static void
tinit(void)
{
	pthread_key_create(&tkey, tserver_free);
	SPF_warning_handler = quiet;
	SPF_info_handler = quiet;
	SPF_debug_handler = quiet;
}

void
spf_use_dns_below(struct SPF_dns_server_struct *below)
{
	pthread_once(&tonce, tinit);
	test_below = below;
	tserver_free(pthread_getspecific(tkey));
	pthread_setspecific(tkey, NULL);
}

static struct tserver *
tserver_get(const struct spf_conf *sc)
{
	struct tserver *t;
	char host[256];

	pthread_once(&tonce, tinit);
	t = pthread_getspecific(tkey);
	if (t != NULL && t->below == test_below && (test_below != NULL ||
	    (t->nslen == sc->nslen && memcmp(&t->ns, &sc->ns, sc->nslen) == 0)))
		return t;
	tserver_free(t);
	t = xcalloc(1, sizeof(*t));
	t->ns = sc->ns;
	t->nslen = sc->nslen;
	t->below = test_below;
	if (test_below == NULL)
		t->net = spf_dns_net_new(&sc->ns, sc->nslen, &t->budget);
	t->screen = spf_dns_screen_new(test_below != NULL ? test_below : t->net,
	    &t->budget);
	if ((t->server = SPF_server_new_dns(t->screen, 0)) == NULL) {
		tserver_free(t);
		pthread_setspecific(tkey, NULL);
		return NULL;
	}
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		SPF_server_set_rec_dom(t->server, host);
	}
	SPF_server_set_sanitize(t->server, 1);
	pthread_setspecific(tkey, t);
	return t;
}

/* ---- the cache ---- */

struct centry {
	char key[PC_MAILBOX_FMT_MAX + sizeof(((struct spf_conf *)0)->relay_key)];
	time_t expires;			/* CLOCK_MONOTONIC seconds */
	int by_sender;			/* only a marker: look up the sender */
	enum spf_result result;
	char relay[PC_ADDR_STRLEN];
	char reason[192];
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct centry *cache;	/* SPF_CACHE_SLOTS, direct-mapped */

static time_t
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static size_t
slot_of(const char *key)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % SPF_CACHE_SLOTS);
}

static int
cache_get(const char *key, struct centry *out)
{
	struct centry *e;
	int hit = 0;

	pthread_mutex_lock(&cache_lock);
	if (cache != NULL) {
		e = &cache[slot_of(key)];
		if (strcmp(e->key, key) == 0 && e->expires > mono_now()) {
			*out = *e;
			hit = 1;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
cache_put(const struct centry *in)
{
	pthread_mutex_lock(&cache_lock);
	if (cache == NULL)
		cache = xcalloc(SPF_CACHE_SLOTS, sizeof(*cache));
	cache[slot_of(in->key)] = *in;
	pthread_mutex_unlock(&cache_lock);
}

void
spf_cache_flush(void)
{
	pthread_mutex_lock(&cache_lock);
	free(cache);
	cache = NULL;
	pthread_mutex_unlock(&cache_lock);
}

/* ---- evaluation ---- */

static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned running;

static int
enter(void)
{
	int ok;

	pthread_mutex_lock(&running_lock);
	if ((ok = running < SPF_CONCURRENT_MAX))
		running++;
	pthread_mutex_unlock(&running_lock);
	return ok;
}

static void
leave(void)
{
	pthread_mutex_lock(&running_lock);
	running--;
	pthread_mutex_unlock(&running_lock);
}

const char *
spf_result_name(enum spf_result r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail",
	    "softfail", "permerror", "temperror" };

	return (size_t)r < PC_ARRAY_LEN(names) ? names[r] : "temperror";
}

/* How bad a result is for "do the relays get through": higher is worse. */
static int
severity(enum spf_result r)
{
	static const int sev[] = { 2, 3, 0, 6, 5, 4, 7 };

	return (size_t)r < PC_ARRAY_LEN(sev) ? sev[r] : 7;
}

static enum spf_result
from_libspf2(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return SPFR_PASS;
	case SPF_RESULT_FAIL: return SPFR_FAIL;
	case SPF_RESULT_SOFTFAIL: return SPFR_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return SPFR_NEUTRAL;
	case SPF_RESULT_NONE: return SPFR_NONE;
	case SPF_RESULT_PERMERROR: return SPFR_PERMERROR;
	default: return SPFR_TEMPERROR;
	}
}

/* One relay address; the budget runs across calls. */
static enum spf_result
eval_one(struct tserver *t, const struct pc_addr *relay, const char *sender,
    char *reason, size_t rlen)
{
	SPF_request_t *req = SPF_request_new(t->server);
	SPF_response_t *resp = NULL;
	enum spf_result r;
	SPF_errcode_t ec;

	if (req == NULL) {
		pc_strlcpy(reason, "out of memory", rlen);
		return SPFR_TEMPERROR;
	}
	if (relay->family == AF_INET)
		ec = SPF_request_set_ipv4(req, *(const struct in_addr *)(const void *)relay->a);
	else
		ec = SPF_request_set_ipv6(req, *(const struct in6_addr *)(const void *)relay->a);
	if (ec != SPF_E_SUCCESS || SPF_request_set_env_from(req, sender) != 0) {
		SPF_request_free(req);
		pc_err(reason, rlen, "libspf2 refused the request");
		return SPFR_PERMERROR;
	}
	ec = SPF_request_query_mailfrom(req, &resp);
	r = resp != NULL ? from_libspf2(SPF_response_result(resp)) :
	    SPFR_TEMPERROR;
	/* A record libspf2 cannot compile comes back as "invalid". */
	if (resp != NULL && SPF_response_result(resp) == SPF_RESULT_INVALID &&
	    ec != SPF_E_SUCCESS)
		r = t->budget.dns_errors > 0 || ec == SPF_E_NO_MEMORY ||
		    ec == SPF_E_INTERNAL_ERROR ? SPFR_TEMPERROR : SPFR_PERMERROR;
	if (t->budget.abort != 0) {
		r = (enum spf_result)t->budget.abort;
		pc_strlcpy(reason, t->budget.why, rlen);
	} else if (resp != NULL && SPF_response_get_smtp_comment(resp) != NULL &&
	    r != SPFR_PASS) {
		pc_strlcpy(reason, SPF_response_get_smtp_comment(resp), rlen);
	} else {
		snprintf(reason, rlen, "SPF %s", spf_result_name(r));
	}
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_request_free(req);
	return r;
}

void
spf_evaluate(const struct spf_conf *sc, const char *sender, const char *domain,
    struct spf_outcome *out)
{
	struct centry e, marker;
	struct tserver *t;
	char key[sizeof(e.key)], reason[192];
	uint32_t ttl;
	size_t i;
	int worst = -1;

	memset(out, 0, sizeof(*out));
	memset(&e, 0, sizeof(e));
	out->checked = 1;
	pc_strlcpy(out->domain, domain, sizeof(out->domain));
	snprintf(key, sizeof(key), "%s|%s", sc->relay_key, domain);
	if (cache_get(key, &e) && e.by_sender) {
		snprintf(key, sizeof(key), "%s|%s", sc->relay_key, sender);
		if (!cache_get(key, &e))
			e.key[0] = '\0';
	}
	if (strcmp(e.key, key) == 0 && !e.by_sender) {
		out->result = e.result;
		out->cached = 1;
		pc_strlcpy(out->relay, e.relay, sizeof(out->relay));
		pc_strlcpy(out->reason, e.reason, sizeof(out->reason));
		return;
	}
	if (!enter()) {
		out->result = SPFR_TEMPERROR;
		pc_strlcpy(out->reason, "too many SPF evaluations at once",
		    sizeof(out->reason));
		return;
	}
	if ((t = tserver_get(sc)) == NULL) {
		leave();
		out->result = SPFR_TEMPERROR;
		pc_strlcpy(out->reason, "cannot create an SPF server",
		    sizeof(out->reason));
		return;
	}
	spf_budget_start(&t->budget, SPF_BUDGET_MS);
	for (i = 0; i < sc->nrelays; i++) {
		enum spf_result r = eval_one(t, &sc->relays[i], sender, reason,
		    sizeof(reason));

		if (worst < 0 || severity(r) > severity(out->result)) {
			worst = 1;
			out->result = r;
			pc_addr_format(&sc->relays[i], out->relay,
			    sizeof(out->relay));
			pc_strlcpy(out->reason, reason, sizeof(out->reason));
		}
		if (r == SPFR_TEMPERROR)
			break;
	}
	leave();
	if (out->result == SPFR_TEMPERROR)
		return;		/* never cached: the next message asks again */
	ttl = t->budget.min_ttl == UINT32_MAX ? SPF_TTL_NEGATIVE :
	    t->budget.min_ttl;
	if (ttl < SPF_TTL_MIN)
		ttl = SPF_TTL_MIN;
	if (ttl > SPF_TTL_MAX)
		ttl = SPF_TTL_MAX;
	memset(&e, 0, sizeof(e));
	e.expires = mono_now() + (time_t)ttl;
	e.result = out->result;
	pc_strlcpy(e.relay, out->relay, sizeof(e.relay));
	pc_strlcpy(e.reason, out->reason, sizeof(e.reason));
	if (t->budget.sender_dependent) {
		marker = e;
		marker.by_sender = 1;
		snprintf(marker.key, sizeof(marker.key), "%s|%s", sc->relay_key,
		    domain);
		cache_put(&marker);
		snprintf(e.key, sizeof(e.key), "%s|%s", sc->relay_key, sender);
	} else {
		pc_strlcpy(e.key, key, sizeof(e.key));
	}
	cache_put(&e);
}

enum spf_action
spf_decide(const struct mconf *c, const struct pc_mailbox *mb,
    struct spf_outcome *out)
{
	const struct spf_conf *sc = c->spf;
	char sender[PC_MAILBOX_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (sc == NULL || sc->mode == SPF_OFF || mb->null_path ||
	    mb->domain[0] == '\0' || mb->domain[0] == '[')
		return SPF_ACT_CONTINUE;
	snprintf(sender, sizeof(sender), "%s@%s", mb->local, mb->domain);
	spf_evaluate(sc, sender, mb->domain, out);
	pc_log_info("spf: domain=%s result=%s relay=%s cached=%d", out->domain,
	    spf_result_name(out->result), out->relay, out->cached);
	if (sc->mode == SPF_LOG)
		return SPF_ACT_CONTINUE;
	if (out->result == SPFR_TEMPERROR)
		return SPF_ACT_DNSERR;
	if (sc->mode == SPF_REJECT && (out->result == SPFR_FAIL ||
	    out->result == SPFR_SOFTFAIL || out->result == SPFR_PERMERROR))
		return SPF_ACT_REJECT;
	return SPF_ACT_CONTINUE;
}

/* Header text: printable ASCII, no comment delimiters. */
static void
header_safe(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < len; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = (c < 0x20 || c > 0x7e || c == '(' || c == ')' ||
		    c == '\\' || c == ';') ? '?' : (char)c;
	}
	dst[i] = '\0';
}

void
spf_header_value(const struct spf_outcome *o, char *buf, size_t len)
{
	char why[sizeof(o->reason)], dom[sizeof(o->domain)];

	header_safe(why, sizeof(why), o->reason);
	header_safe(dom, sizeof(dom), o->domain);
	snprintf(buf, len, "%s domain=%s; relay=%s (%s)",
	    spf_result_name(o->result), dom,
	    o->relay[0] != '\0' ? o->relay : "-", why);
}
