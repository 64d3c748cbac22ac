/*
 * api_register.c - registering, renewing and deleting a subscriber's
 * mail server: the one path the JSON API and the sign-up page share, so
 * a check can never be skipped by choosing the other door.
 *
 * With MilterControlSocket set, an account the milter holds suspended
 * is refused (403) before any check runs, and so is its renewal: port 25
 * stays closed for an account the abuse desk has stopped.  When the
 * milter cannot say (not running, busy past the timeout, an error), the
 * answer is a temporary refusal (503), never a pass: a registration is
 * easily retried, a port opened for a spammer is not easily closed.
 *
 * A suspended entry is the abuse desk's or revalidation's decision, and
 * only an administrator's approve undoes it: its subscriber cannot
 * delete it (409 entry_suspended), which would free the address for a
 * fresh registration, and while an account holds a suspended entry a new
 * registration of it waits for an administrator (202 pending) even under
 * ApprovalMode auto.
 */
#include "http.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "milterctl.h"
#include "registry.h"
#include "util.h"

static void
out_set(struct regsvc_out *o, int code, const char *error, const char *fmt, ...)
    PC_PRINTF(4, 5);

static void
out_set(struct regsvc_out *o, int code, const char *error, const char *fmt, ...)
{
	va_list ap;

	o->code = code;
	pc_strlcpy(o->error, error, sizeof(o->error));
	va_start(ap, fmt);
	vsnprintf(o->detail, sizeof(o->detail), fmt, ap);
	va_end(ap);
}

void
regsvc_out_free(struct regsvc_out *o)
{
	if (o->checks != NULL)
		json_decref(o->checks);
	o->checks = NULL;
}

static int
dnsname_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

static void
audit_event(struct http_req *r, const char *event, const char *account,
    const char *address, const char *why)
{
	struct pc_logfield f[] = {
		{ "event", event, 1 },
		{ "account", account, 0 },
		{ "address", address, 0 },
		{ "ip", r->client_text, 1 },
		{ "reason", why, 0 },
	};

	pc_log_event(f, PC_ARRAY_LEN(f));
}

/*
 * MilterControlSocket: 0 when the milter does not hold account
 * suspended (or is not configured); else fills o (403 suspended, 503
 * unknown), puts the reason for the audit in why and returns -1.
 */
static int
milter_allows(struct http_req *r, const char *account, struct regsvc_out *o,
    char *why, size_t whylen)
{
	const struct dconf *c = r->svc->conf;
	const char *contact = c->contact_address != NULL ? c->contact_address :
	    "your provider's postmaster";
	struct milterctl_suspension s;
	enum milterctl_status st;
	char err[1024];

	if (c->milter_control_socket == NULL)
		return 0;
	http_slow_begin(r);
	st = milterctl_account(c->milter_control_socket, account,
	    MILTERCTL_TIMEOUT_MS, &s, err, sizeof(err));
	http_slow_end(r);
	switch (st) {
	case MILTERCTL_NOT_SUSPENDED:
		return 0;
	case MILTERCTL_SUSPENDED:
		out_set(o, 403, "account_suspended", "your account %s is "
		    "suspended by our mail service%s%s, so port 25 cannot be "
		    "opened for it; contact %s", account,
		    s.since[0] != '\0' ? " since " : "", s.since, contact);
		snprintf(why, whylen, "account suspended by the milter%s%s: %s",
		    s.since[0] != '\0' ? " since " : "", s.since,
		    s.reason[0] != '\0' ? s.reason : "(no reason given)");
		return -1;
	case MILTERCTL_UNKNOWN:
		break;
	}
	pc_log_warn("MilterControlSocket: %s; registrations are refused as "
	    "temporary until the milter answers", err);
	out_set(o, 503, "temporary", "whether your account may open port 25 "
	    "could not be confirmed with our mail service; please try again "
	    "later");
	snprintf(why, whylen, "account status unknown: %.400s", err);
	return -1;
}

/* Runs the checks; on anything but a pass fills o and returns -1. */
static int
run_checks(struct http_req *r, const struct check_request *q,
    struct regsvc_out *o, char **json_text)
{
	struct check_outcome co;

	http_slow_begin(r);
	checks_run(r->svc->conf, r->dnsops, q, &co);
	http_slow_end(r);
	*json_text = json_dumps(co.results, JSON_COMPACT | JSON_SORT_KEYS);
	o->checks = co.results;
	if (co.result == CHECK_FAIL) {
		out_set(o, 422, "check_failed", "%s check failed: %s",
		    co.failed, co.detail);
		return -1;
	}
	if (co.result == CHECK_TEMP) {
		out_set(o, 503, "temporary", "%s check could not be "
		    "completed: %s", co.failed, co.detail);
		return -1;
	}
	return 0;
}

void
regsvc_register(struct http_req *r, const struct regsvc_in *in,
    struct regsvc_out *o)
{
	const struct dconf *c = r->svc->conf;
	struct check_request q;
	struct reg_new n;
	char why[512], reason[128], addr[PC_ADDR_STRLEN], *checks = NULL;
	int manual = c->approval_mode == DCONF_APPROVAL_MANUAL, held_back = 0;

	memset(o, 0, sizeof(*o));
	memset(&q, 0, sizeof(q));
	if (in->address != NULL && *in->address != '\0') {
		if (pc_addr_parse(in->address, &q.addr, why, sizeof(why)) < 0) {
			out_set(o, 400, "bad_request", "address: %s", why);
			return;
		}
	} else
		q.addr = r->client;
	pc_addr_format(&q.addr, addr, sizeof(addr));
	if (in->hostname != NULL && *in->hostname != '\0' &&
	    !dnsname_ok(in->hostname)) {
		out_set(o, 400, "bad_request", "hostname: not a DNS name");
		return;
	}
	if (in->domain != NULL && *in->domain != '\0' &&
	    !dnsname_ok(in->domain)) {
		out_set(o, 400, "bad_request", "domain: not a DNS name");
		return;
	}
	q.account = in->account;
	q.hostname = in->hostname != NULL && *in->hostname != '\0' ?
	    in->hostname : NULL;
	q.domain = in->domain != NULL && *in->domain != '\0' ? in->domain :
	    NULL;
	q.client = &r->client;
	if (milter_allows(r, in->account, o, why, sizeof(why)) < 0) {
		audit_event(r, "registration-refused", in->account, addr, why);
		return;
	}
	if (run_checks(r, &q, o, &checks) < 0) {
		audit_event(r, "registration-refused", in->account, addr,
		    o->detail);
		free(checks);
		return;
	}
	if (!manual) {
		unsigned held = 0;

		if (registry_account_suspended(r->svc->reg, in->account, &held,
		    why, sizeof(why)) < 0) {
			pc_log_err("registration: %s", why);
			out_set(o, 500, "internal", "the registry is "
			    "unavailable; try again later");
			free(checks);
			return;
		}
		if (held > 0) {
			manual = 1;
			held_back = 1;
		}
	}
	memset(&n, 0, sizeof(n));
	n.address = addr;
	n.account = in->account;
	n.hostname = q.hostname;
	n.domain = q.domain;
	n.note = in->note != NULL && *in->note != '\0' ? in->note : NULL;
	n.checks = checks;
	n.status = manual ? REG_PENDING : REG_ACTIVE;
	snprintf(reason, sizeof(reason), "self-service registration (%s), "
	    "checks passed%s", in->via, held_back ? "; pending: the account "
	    "holds a suspended entry" : "");
	if (registry_add(r->svc->reg, &n, in->account, reason, &o->id, why,
	    sizeof(why)) < 0) {
		free(checks);
		if (strstr(why, "already registered") != NULL)
			out_set(o, 409, "conflict", "%s", why);
		else if (strncmp(why, "registry:", 9) == 0) {
			pc_log_err("registration: %s", why);
			out_set(o, 500, "internal", "the registry is "
			    "unavailable; try again later");
		} else
			out_set(o, 400, "bad_request", "%s", why);
		return;
	}
	free(checks);
	audit_event(r, "registered", in->account, addr, held_back ?
	    "pending approval (the account holds a suspended entry)" : manual ?
	    "pending approval" : "active");
	o->code = manual ? 202 : 201;
}

/* The entry id of account, or 404 in o. */
static int
own_entry(struct http_req *r, const char *account, int64_t id,
    struct reg_entry *e, struct regsvc_out *o)
{
	char why[256];
	int rc = registry_get(r->svc->reg, id, e, why, sizeof(why));

	if (rc < 0) {
		pc_log_err("%s", why);
		out_set(o, 500, "internal", "the registry is unavailable");
		return -1;
	}
	if (rc > 0 || strcmp(e->account, account) != 0 ||
	    e->status == REG_REVOKED) {
		if (rc == 0)
			reg_entry_free(e);
		out_set(o, 404, "not_found", "you have no entry %lld",
		    (long long)id);
		return -1;
	}
	return 0;
}

void
regsvc_renew(struct http_req *r, const char *account, int64_t id,
    struct regsvc_out *o)
{
	struct check_request q;
	struct reg_entry e;
	char why[512], *checks = NULL;

	memset(o, 0, sizeof(*o));
	if (own_entry(r, account, id, &e, o) < 0)
		return;
	if (e.status != REG_ACTIVE && e.status != REG_EXPIRED) {
		out_set(o, 409, "conflict", "entry %lld is %s; only active or "
		    "expired entries can be renewed", (long long)id,
		    reg_status_name(e.status));
		reg_entry_free(&e);
		return;
	}
	if (milter_allows(r, account, o, why, sizeof(why)) < 0) {
		audit_event(r, "renewal-refused", account, e.address, why);
		o->id = id;
		reg_entry_free(&e);
		return;
	}
	memset(&q, 0, sizeof(q));
	(void)pc_addr_parse(e.address, &q.addr, why, sizeof(why));
	q.account = account;
	q.hostname = e.hostname;
	q.domain = e.domain;
	q.client = NULL;	/* ownership was proven at registration */
	/*
	 * The renewal first: the registry refuses it if the entry was
	 * suspended while the checks ran, and then the results that
	 * suspended it must stay as they are.
	 */
	if (run_checks(r, &q, o, &checks) == 0) {
		if (registry_change(r->svc->reg, id, REG_RENEW, account,
		    "renewed by the subscriber, checks passed", why,
		    sizeof(why)) < 0 || registry_set_checks(r->svc->reg, id,
		    checks, 1, why, sizeof(why)) < 0)
			out_set(o, 409, "conflict", "%s", why);
		else
			o->code = 200;
	}
	o->id = id;
	free(checks);
	reg_entry_free(&e);
}

void
regsvc_delete(struct http_req *r, const char *account, int64_t id,
    struct regsvc_out *o)
{
	struct reg_entry e;
	char why[512];

	memset(o, 0, sizeof(*o));
	if (own_entry(r, account, id, &e, o) < 0)
		return;
	if (e.status == REG_SUSPENDED) {
		const struct dconf *c = r->svc->conf;

		out_set(o, 409, "entry_suspended", "entry %lld is suspended; a "
		    "suspended entry cannot be deleted, only reviewed by our "
		    "staff: contact %s", (long long)id,
		    c->contact_address != NULL ? c->contact_address :
		    "your provider's postmaster");
		audit_event(r, "delete-refused", account, e.address,
		    "the entry is suspended");
		o->id = id;
		reg_entry_free(&e);
		return;
	}
	if (registry_change(r->svc->reg, id, REG_REVOKE, account,
	    "deleted by the subscriber", why, sizeof(why)) < 0)
		out_set(o, 409, "conflict", "%s", why);
	else {
		audit_event(r, "deleted", account, e.address, "by subscriber");
		o->code = 204;
	}
	o->id = id;
	reg_entry_free(&e);
}

json_t *
regsvc_entry_json(const struct reg_entry *e)
{
	char created[32], verified[32], expires[32];
	json_t *checks = e->checks != NULL ? json_loads(e->checks, 0, NULL) :
	    NULL;

	http_time(e->created, created, sizeof(created));
	http_time(e->verified, verified, sizeof(verified));
	http_time(e->expires, expires, sizeof(expires));
	return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s?, s:s?, "
	    "s:o}", "id", (json_int_t)e->id, "account", e->account,
	    "address", e->address, "hostname", e->hostname, "domain",
	    e->domain, "status", reg_status_name(e->status), "created",
	    created, "verified", e->verified ? verified : NULL, "expires",
	    e->expires ? expires : NULL, "checks",
	    checks != NULL ? checks : json_object());
}
