/*
 * checks_revalidate.c - periodic revalidation; see checks_revalidate.h.
 */
#include "checks_revalidate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "dns.h"
#include "log.h"
#include "registry.h"
#include "spawn.h"
#include "util.h"

#define NOTIFY_TIMEOUT_MS 10000

struct revalidator {
	int64_t next_pass;	/* when the next pass starts */
	int64_t cursor;		/* the last id checked in this pass; -1 idle */
	struct dns *dns;
};

struct revalidator *
revalidator_new(void)
{
	struct revalidator *v = xcalloc(1, sizeof(*v));

	v->cursor = -1;
	return v;
}

void
revalidator_free(struct revalidator *v)
{
	if (v == NULL)
		return;
	dns_free(v->dns);
	free(v);
}

/* "NAME=value" in a fresh string. */
static char *
env_entry(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *e = xmalloc(n);

	snprintf(e, n, "%s=%s", name, value);
	return e;
}

int
checks_notify_run(const char *command, unsigned timeout_ms,
    const char *event, int64_t id, const char *account, const char *address,
    const char *reason, char *err, size_t errlen)
{
	char num[32], *env[6];
	size_t i;
	int rc;

	snprintf(num, sizeof(num), "%lld", (long long)id);
	/* Made before the fork: the child of a threaded process may not. */
	env[0] = env_entry("PORTCULLIS_EVENT", event);
	env[1] = env_entry("PORTCULLIS_ENTRY", num);
	env[2] = env_entry("PORTCULLIS_ACCOUNT", account);
	env[3] = env_entry("PORTCULLIS_ADDRESS", address);
	env[4] = env_entry("PORTCULLIS_REASON", reason);
	env[5] = NULL;
	rc = spawn_run("NotifyCommand", command, timeout_ms,
	    (const char *const *)env, err, errlen);
	for (i = 0; i < 5; i++)
		free(env[i]);
	return rc;
}

void
checks_notify(const struct dconf *c, const char *event, int64_t id,
    const char *account, const char *address, const char *reason)
{
	char err[1200];

	if (c->notify_command == NULL)
		return;
	if (checks_notify_run(c->notify_command, NOTIFY_TIMEOUT_MS, event, id,
	    account, address, reason, err, sizeof(err)) < 0)
		pc_log_warn("%s", err);
}

static void
recheck(struct revalidator *v, const struct dconf *c, struct registry *reg,
    const struct reg_entry *e)
{
	struct check_request q;
	struct check_outcome o;
	struct check_dns ops;
	char why[700], err[512], *text;

	memset(&q, 0, sizeof(q));
	if (pc_addr_parse(e->address, &q.addr, err, sizeof(err)) < 0)
		return;
	q.account = e->account;
	q.hostname = e->hostname;
	q.domain = e->domain;
	q.client = NULL;
	checks_dns_ops(&ops, v->dns);
	checks_run(c, &ops, &q, &o);
	text = json_dumps(o.results, JSON_COMPACT | JSON_SORT_KEYS);
	if (registry_set_checks(reg, e->id, text, o.result == CHECK_PASS, err,
	    sizeof(err)) < 0)
		pc_log_err("revalidation of entry %lld: %s", (long long)e->id,
		    err);
	free(text);
	if (o.result == CHECK_TEMP)
		pc_log_warn("revalidation of entry %lld (%s) could not finish, "
		    "trying next time: %s", (long long)e->id, e->address,
		    o.detail);
	if (o.result == CHECK_FAIL) {
		snprintf(why, sizeof(why), "revalidation: %s check failed: %s",
		    o.failed, o.detail);
		if (registry_change(reg, e->id, REG_SUSPEND, REG_WHO_DAEMON,
		    why, err, sizeof(err)) < 0)
			pc_log_err("revalidation: cannot suspend entry %lld: "
			    "%s", (long long)e->id, err);
		else {
			pc_log_info("entry %lld (%s, %s) suspended: %s",
			    (long long)e->id, e->address, e->account, why);
			checks_notify(c, "revalidation-suspend", e->id,
			    e->account, e->address, why);
		}
	}
	json_decref(o.results);
}

int
revalidate_step(struct revalidator *v, const struct dconf *c,
    struct registry *reg, int64_t now, char *err, size_t errlen)
{
	struct reg_entry *list;
	size_t n, i, done = 0;

	if (v->cursor < 0) {
		if (v->next_pass == 0)
			v->next_pass = now + (int64_t)c->revalidate_every;
		if (now < v->next_pass)
			return 0;
		/* A fresh resolver per pass follows a reloaded Resolver. */
		dns_free(v->dns);
		if ((v->dns = dns_new(c->resolver != NULL ? &c->resolver_addr :
		    NULL, c->resolver_port, err, errlen)) == NULL)
			return -1;
		v->cursor = 0;
	}
	if (registry_list(reg, REG_ACTIVE, &list, &n, err, errlen) < 0)
		return -1;
	for (i = 0; i < n && done < REVALIDATE_BATCH; i++) {
		if (list[i].id <= v->cursor)
			continue;
		recheck(v, c, reg, &list[i]);
		v->cursor = list[i].id;
		done++;
	}
	if (i == n) {	/* the pass is over */
		v->cursor = -1;
		v->next_pass = now + (int64_t)c->revalidate_every;
	}
	reg_entries_free(list, n);
	return 0;
}
