/*
 * api.c - the JSON API: /api/v1/registrations (subscribers, HTTP Basic
 * through Cyrus SASL), /api/v1/rules (edge routers, bearer tokens from
 * RouterTokenFile, ETag and If-None-Match) and /api/v1/feedback.
 * Every error is {"error": ..., "detail": ...} with its status code.
 */
#include <sys/queue.h>

#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api_json.h"
#include "ruleset.h"
#include "log.h"
#include "registry.h"
#include "throttle.h"
#include "util.h"

#define TOKEN_FILE_MAX (64 * 1024)

static void
not_allowed(struct http_req *r, const char *allow)
{
	http_set_header(r, "Allow", allow);
	http_error(r, 405, "method_not_allowed", allow);
}

static int
is_json(struct http_req *r)
{
	const char *ct = http_header(r, "Content-Type");

	if (ct != NULL && strncasecmp(ct, "application/json", 16) == 0 &&
	    (ct[16] == '\0' || ct[16] == ';' || ct[16] == ' '))
		return 1;
	http_error(r, 415, "unsupported_media_type", "send the body as "
	    "Content-Type: application/json");
	return 0;
}

static void
reply_out(struct http_req *r, struct regsvc_out *o, const char *account)
{
	struct reg_entry e;
	char why[256], num[16];

	if (o->error[0] != '\0') {
		json_t *v = http_error_body(o->error, o->detail);

		if (o->checks != NULL)
			json_object_set(v, "checks", o->checks);
		if (o->code == 503) {
			snprintf(num, sizeof(num), "%d", 300);
			http_set_header(r, "Retry-After", num);
		}
		http_json(r, o->code, v);
	} else if (o->code == 204) {
		http_reply(r, 204, NULL, NULL, 0);
	} else if (registry_get(r->svc->reg, o->id, &e, why, sizeof(why)) == 0) {
		char loc[64];

		if (strcmp(e.account, account) == 0) {
			snprintf(loc, sizeof(loc), "/api/v1/registrations/%lld",
			    (long long)e.id);
			http_set_header(r, "Location", loc);
		}
		http_json(r, o->code, regsvc_entry_json(&e));
		reg_entry_free(&e);
	} else
		http_error(r, 500, "internal", "the entry vanished");
	regsvc_out_free(o);
}

static void
registrations(struct http_req *r)
{
	char account[321], err[300], *v[4];
	struct regsvc_in in;
	struct regsvc_out o;
	struct reg_entry *list;
	size_t n, i;
	json_t *arr;

	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD &&
	    r->method != EVHTTP_REQ_POST) {
		not_allowed(r, "GET, POST");
		return;
	}
	if (http_auth_basic(r, account, sizeof(account)) < 0)
		return;
	if (r->method != EVHTTP_REQ_POST) {
		if (registry_list_account(r->svc->reg, account, &list, &n, err,
		    sizeof(err)) < 0) {
			pc_log_err("%s", err);
			http_error(r, 500, "internal", "the registry is "
			    "unavailable");
			return;
		}
		arr = json_array();
		for (i = 0; i < n; i++)
			if (list[i].status != REG_REVOKED)
				json_array_append_new(arr,
				    regsvc_entry_json(&list[i]));
		reg_entries_free(list, n);
		http_json(r, 200, json_pack("{s:o}", "registrations", arr));
		return;
	}
	if (!is_json(r))
		return;
	if (api_parse_body(r->body, r->body_len, api_registration_fields,
	    api_registration_nfields, v, err, sizeof(err)) < 0) {
		http_error(r, 400, "bad_request", err);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.account = account;
	in.address = v[0];
	in.hostname = v[1];
	in.domain = v[2];
	in.note = v[3];
	in.via = "api";
	regsvc_register(r, &in, &o);
	api_free_values(v, 4);
	reply_out(r, &o, account);
}

static void
registration(struct http_req *r, const char *idtext)
{
	char account[321], *end;
	struct regsvc_out o;
	long long id;
	int renew = 0;

	errno = 0;
	id = strtoll(idtext, &end, 10);
	if (strcmp(end, "/renew") == 0)
		renew = 1;
	else if (*end != '\0')
		id = -1;
	if (errno != 0 || end == idtext || id <= 0) {
		http_error(r, 404, "not_found", "no such registration");
		return;
	}
	if (renew && r->method != EVHTTP_REQ_POST) {
		not_allowed(r, "POST");
		return;
	}
	if (!renew && r->method != EVHTTP_REQ_GET &&
	    r->method != EVHTTP_REQ_HEAD && r->method != EVHTTP_REQ_DELETE) {
		not_allowed(r, "GET, DELETE");
		return;
	}
	if (http_auth_basic(r, account, sizeof(account)) < 0)
		return;
	if (renew)
		regsvc_renew(r, account, id, &o);
	else if (r->method == EVHTTP_REQ_DELETE)
		regsvc_delete(r, account, id, &o);
	else {
		struct reg_entry e;
		char why[256];
		int rc = registry_get(r->svc->reg, id, &e, why, sizeof(why));

		if (rc == 0 && strcmp(e.account, account) == 0 &&
		    e.status != REG_REVOKED)
			http_json(r, 200, regsvc_entry_json(&e));
		else {
			http_error(r, rc < 0 ? 500 : 404, rc < 0 ? "internal" :
			    "not_found", rc < 0 ? "the registry is unavailable" :
			    "you have no such registration");
		}
		if (rc == 0)
			reg_entry_free(&e);
		return;
	}
	reply_out(r, &o, account);
}

/* 1 if the bearer token is a line of RouterTokenFile, 0 if not, -1 error. */
static int
token_ok(const char *file, const char *token)
{
	FILE *fp = fopen(file, "r");
	char line[1024];
	size_t tl = strlen(token), total = 0;
	int ok = 0;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL && total < TOKEN_FILE_MAX) {
		char *t = pc_str_trim(line);

		total += strlen(line) + 1;
		if (*t == '\0' || *t == '#' || strlen(t) != tl)
			continue;
		if (CRYPTO_memcmp(t, token, tl) == 0)
			ok = 1;
	}
	fclose(fp);
	OPENSSL_cleanse(line, sizeof(line));
	return ok;
}

static int
etag_matches(const char *inm, const char *etag)
{
	char *copy, *p, *save = NULL;
	int hit = 0;

	if (inm == NULL || strlen(inm) > 4096)
		return 0;
	copy = xstrdup(inm);
	for (p = strtok_r(copy, ",", &save); p != NULL && !hit;
	    p = strtok_r(NULL, ",", &save)) {
		p = pc_str_trim(p);
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		hit = strcmp(p, "*") == 0 || strcmp(p, etag) == 0;
	}
	free(copy);
	return hit;
}

static void
rules(struct http_req *r)
{
	const struct dconf *c = r->svc->conf;
	const char *auth = http_header(r, "Authorization");
	const char *fmt = evhttp_find_header(r->query, "format");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0, i;
	char etag[40], err[512], tok[513];
	struct dstr text;
	size_t count;
	int format = -1, ok;

	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD) {
		not_allowed(r, "GET");
		return;
	}
	if (c->router_token_file == NULL) {
		http_error(r, 403, "forbidden", "rules are not served here: "
		    "RouterTokenFile is not set");
		return;
	}
	ok = 0;
	if (auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0 &&
	    strlen(auth + 7) < sizeof(tok)) {
		pc_strlcpy(tok, auth + 7, sizeof(tok));
		if (*pc_str_trim(tok) != '\0')
			ok = token_ok(c->router_token_file, pc_str_trim(tok));
		OPENSSL_cleanse(tok, sizeof(tok));
	}
	if (ok == 0) {
		http_set_header(r, "WWW-Authenticate", "Bearer realm=\"portcullis\"");
		http_error(r, 401, "unauthorized", "a router token from "
		    "RouterTokenFile is required");
		return;
	}
	if (ok < 0) {
		pc_log_err("RouterTokenFile %s: cannot read it",
		    c->router_token_file);
		http_error(r, 503, "unavailable", "the token file is "
		    "unreadable");
		return;
	}
	if (fmt != NULL) {
		for (i = 0; dconf_rule_formats[i] != NULL; i++)
			if (strcmp(fmt, dconf_rule_formats[i]) == 0)
				format = (int)i;
		if (format < 0) {
			http_error(r, 400, "bad_request", "format must be nft, "
			    "iptables, pf or plain");
			return;
		}
	}
	dstr_init(&text);
	if (ruleset_render(c, r->svc->reg, format, &text, &count, err,
	    sizeof(err)) < 0) {
		pc_log_err("rules: %s", err);
		http_error(r, 500, "internal", err);
		dstr_free(&text);
		return;
	}
	EVP_Digest(text.buf != NULL ? text.buf : "", text.len, md, &mdlen,
	    EVP_sha256(), NULL);
	etag[0] = '"';
	for (i = 0; i < 16 && i < mdlen; i++)
		snprintf(etag + 1 + 2 * i, 3, "%02x", md[i]);
	pc_strlcat(etag, "\"", sizeof(etag));
	http_set_header(r, "ETag", etag);
	http_set_header(r, "Cache-Control", "no-cache");
	if (etag_matches(http_header(r, "If-None-Match"), etag))
		http_reply(r, 304, NULL, NULL, 0);
	else
		http_reply(r, 200, "text/plain; charset=utf-8", text.buf,
		    text.len);
	dstr_free(&text);
}

static void
feedback(struct http_req *r)
{
	char err[300], key[THROTTLE_KEY_MAX], num[16], *v[2];
	int64_t now = (int64_t)time(NULL), id;
	unsigned wait;

	if (r->method != EVHTTP_REQ_POST) {
		not_allowed(r, "POST");
		return;
	}
	if (!is_json(r))
		return;
	http_client_key(r, key, sizeof(key));
	if ((wait = throttle_wait(r->svc->posts, key, now)) > 0) {
		snprintf(num, sizeof(num), "%u", wait);
		http_set_header(r, "Retry-After", num);
		http_error(r, 429, "too_many_requests", "thank you; please "
		    "wait before sending more feedback");
		return;
	}
	if (api_parse_body(r->body, r->body_len, api_feedback_fields,
	    api_feedback_nfields, v, err, sizeof(err)) < 0) {
		http_error(r, 400, "bad_request", err);
		return;
	}
	if (registry_feedback_add(r->svc->reg, NULL, r->client_text, v[1],
	    v[0], &id, err, sizeof(err)) < 0) {
		pc_log_err("feedback: %s", err);
		http_error(r, 500, "internal", "the feedback could not be "
		    "stored");
	} else {
		throttle_failure(r->svc->posts, key, now);	/* counts posts */
		http_json(r, 201, json_pack("{s:I, s:s}", "id", (json_int_t)id,
		    "status", "received"));
	}
	api_free_values(v, 2);
}

int
api_handle(struct http_req *r)
{
	const char *p = r->path;

	if (strncmp(p, "/api/", 5) != 0 && strcmp(p, "/api") != 0)
		return 0;
	if (strcmp(p, "/api/v1/registrations") == 0)
		registrations(r);
	else if (strncmp(p, "/api/v1/registrations/", 22) == 0)
		registration(r, p + 22);
	else if (strcmp(p, "/api/v1/rules") == 0)
		rules(r);
	else if (strcmp(p, "/api/v1/feedback") == 0)
		feedback(r);
	else
		http_error(r, 404, "not_found", "no such API endpoint");
	return 1;
}
