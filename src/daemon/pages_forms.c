/*
 * pages_forms.c - the form posts behind the pages: /login, /logout,
 * /register, /renew, /delete and /feedback.
 *
 * CSRF: a signed-in form carries its session's random token; the
 * anonymous forms (login, feedback) carry the pc_csrf cookie's value
 * (double submit).  Cookies are SameSite=Strict, and a request whose
 * Origin header names another site is refused outright.
 */
#include <sys/queue.h>

#include "pages.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>

#include "log.h"
#include "registry.h"
#include "throttle.h"
#include "util.h"

static int
token_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strlen(a) == 64 && strlen(b) == 64 &&
	    CRYPTO_memcmp(a, b, 64) == 0;
}

/* An Origin, when sent, must be this site. */
static int
same_origin(struct http_req *r)
{
	const char *origin = http_header(r, "Origin");
	const char *host = http_header(r, "Host");
	char want[400];

	if (origin == NULL)
		return 1;
	if (host == NULL)
		return 0;
	snprintf(want, sizeof(want), "%s://%s", r->tls ? "https" : "http",
	    host);
	return strcmp(origin, want) == 0;
}

static void
refuse(struct http_req *r, int code, const char *text)
{
	http_reply(r, code, "text/plain; charset=utf-8", text, strlen(text));
}

static void
msg(struct page_msg *m, int error, const char *fmt, ...) PC_PRINTF(3, 4);

static void
msg(struct page_msg *m, int error, const char *fmt, ...)
{
	va_list ap;

	m->error = error;
	va_start(ap, fmt);
	vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
}

static void
set_session_cookie(struct http_req *r, const char *id, int drop)
{
	char c[200];

	snprintf(c, sizeof(c), "pc_session=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s%s", drop ? "" : id, r->tls ? "; Secure" : "",
	    drop ? "; Max-Age=0" : "");
	http_set_header(r, "Set-Cookie", c);
}

static void
see_other(struct http_req *r, const char *where)
{
	http_set_header(r, "Location", where);
	http_reply(r, 303, "text/plain; charset=utf-8", "See other\n", 10);
}

static void
do_login(struct http_req *r, struct evkeyvalq *f)
{
	const char *user = evhttp_find_header(f, "account");
	const char *pass = evhttp_find_header(f, "password");
	char detail[200], num[16], csrf[80];
	struct http_session *s;
	struct page_msg m;
	unsigned retry;
	int code;

	memset(&m, 0, sizeof(m));
	if (!token_eq(evhttp_find_header(f, "csrf"),
	    pages_cookie(r, "pc_csrf", csrf, sizeof(csrf)))) {
		refuse(r, 403, "Forbidden: the form is out of date; reload "
		    "the page and try again\n");
		return;
	}
	if (user == NULL || pass == NULL || http_login(r, user, pass, &code,
	    &retry, detail, sizeof(detail)) < 0) {
		if (user == NULL || pass == NULL) {
			code = 400;
			pc_strlcpy(detail, "give your account and password",
			    sizeof(detail));
		}
		if (code == 429) {
			snprintf(num, sizeof(num), "%u", retry);
			http_set_header(r, "Retry-After", num);
		}
		msg(&m, 1, "Sign-in failed: %s.", detail);
		pages_index(r, code, NULL, &m);
		return;
	}
	s = http_session_create(r->svc->sessions, user, (int64_t)time(NULL));
	pc_str_lower(s->account);
	set_session_cookie(r, s->id, 0);
	see_other(r, "/");
}

static int64_t
form_id(struct evkeyvalq *f)
{
	const char *v = evhttp_find_header(f, "id");
	char *end;
	long long id;

	if (v == NULL)
		return -1;
	errno = 0;
	id = strtoll(v, &end, 10);
	return errno == 0 && end != v && *end == '\0' && id > 0 ? id : -1;
}

static void
do_session_form(struct http_req *r, struct evkeyvalq *f, const char *what)
{
	struct http_session *s = pages_session(r), copy;
	struct regsvc_out o;
	struct regsvc_in in;
	struct page_msg m;
	int64_t id;

	memset(&m, 0, sizeof(m));
	/*
	 * A copy: the registration lets go of the state lock during its
	 * checks (http_slow_begin), and the table's slot may be reused.
	 */
	if (s != NULL) {
		copy = *s;
		s = &copy;
	}
	if (s == NULL) {
		msg(&m, 1, "Your session has ended; please sign in again.");
		pages_index(r, 401, NULL, &m);
		return;
	}
	if (!token_eq(evhttp_find_header(f, "csrf"), s->csrf)) {
		refuse(r, 403, "Forbidden: the form is out of date; reload "
		    "the page and try again\n");
		return;
	}
	if (strcmp(what, "logout") == 0) {
		http_session_drop(r->svc->sessions, s->id);
		set_session_cookie(r, "", 1);
		see_other(r, "/");
		return;
	}
	if (strcmp(what, "register") == 0) {
		memset(&in, 0, sizeof(in));
		in.account = s->account;
		in.address = evhttp_find_header(f, "address");
		in.hostname = evhttp_find_header(f, "hostname");
		in.domain = evhttp_find_header(f, "domain");
		in.via = "web";
		regsvc_register(r, &in, &o);
		if (o.code == 201)
			msg(&m, 0, "Registered: port 25 is open for your "
			    "server within a minute.");
		else if (o.code == 202)
			msg(&m, 0, "Registered: the checks passed, and our "
			    "staff will approve the request.");
		else
			msg(&m, 1, "Not registered: %s", o.detail);
	} else {
		if ((id = form_id(f)) < 0) {
			refuse(r, 400, "Bad request\n");
			return;
		}
		if (strcmp(what, "renew") == 0)
			regsvc_renew(r, s->account, id, &o);
		else
			regsvc_delete(r, s->account, id, &o);
		if (o.error[0] == '\0')
			msg(&m, 0, strcmp(what, "renew") == 0 ? "Renewed." :
			    "Deleted: port 25 closes for that address within "
			    "a minute.");
		else
			msg(&m, 1, "%s", o.detail);
	}
	m.checks = o.error[0] != '\0' ? o.checks : NULL;
	pages_index(r, o.error[0] == '\0' ? 200 : o.code, s, &m);
	regsvc_out_free(&o);
}

static void
do_feedback(struct http_req *r, struct evkeyvalq *f)
{
	const char *text = evhttp_find_header(f, "message");
	const char *contact = evhttp_find_header(f, "contact");
	struct http_session *s = pages_session(r);
	char key[THROTTLE_KEY_MAX], csrf[80], err[256];
	int64_t now = (int64_t)time(NULL);
	struct page_msg m;

	memset(&m, 0, sizeof(m));
	if (!token_eq(evhttp_find_header(f, "csrf"),
	    pages_cookie(r, "pc_csrf", csrf, sizeof(csrf)))) {
		refuse(r, 403, "Forbidden: the form is out of date; reload "
		    "the page and try again\n");
		return;
	}
	http_client_key(r, key, sizeof(key));
	if (throttle_wait(r->svc->posts, key, now) > 0)
		msg(&m, 1, "Thank you; please wait a while before sending "
		    "more feedback.");
	else if (text == NULL || *text == '\0' || strlen(text) > 4000 ||
	    (contact != NULL && strlen(contact) > 320))
		msg(&m, 1, "Please write a message (up to 4000 characters).");
	else if (registry_feedback_add(r->svc->reg, s != NULL ? s->account :
	    NULL, r->client_text, contact, text, NULL, err, sizeof(err)) < 0) {
		pc_log_err("feedback: %s", err);
		msg(&m, 1, "Your feedback could not be stored; please try "
		    "again later.");
	} else {
		throttle_failure(r->svc->posts, key, now);
		msg(&m, 0, "Thank you for your feedback.");
	}
	pages_policy(r, &m);
}

int
pages_forms(struct http_req *r)
{
	static const char *const paths[] = { "/login", "/logout", "/register",
	    "/renew", "/delete", "/feedback" };
	const char *ct = http_header(r, "Content-Type");
	struct evkeyvalq f;
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(paths); i++)
		if (strcmp(r->path, paths[i]) == 0)
			break;
	if (i == PC_ARRAY_LEN(paths))
		return 0;
	if (r->method != EVHTTP_REQ_POST) {
		http_set_header(r, "Allow", "POST");
		refuse(r, 405, "Method not allowed\n");
		return 1;
	}
	if (!same_origin(r)) {
		refuse(r, 403, "Forbidden: cross-site form post\n");
		return 1;
	}
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded",
	    33) != 0) {
		refuse(r, 415, "Unsupported media type\n");
		return 1;
	}
	TAILQ_INIT(&f);
	if (evhttp_parse_query_str(r->body, &f) != 0) {
		evhttp_clear_headers(&f);
		refuse(r, 400, "Bad request\n");
		return 1;
	}
	if (i == 0)
		do_login(r, &f);
	else if (i == 5)
		do_feedback(r, &f);
	else
		do_session_form(r, &f, paths[i] + 1);
	evhttp_clear_headers(&f);
	return 1;
}
