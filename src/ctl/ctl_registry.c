/*
 * ctl_registry.c - "portcullisctl registry ...": list, show, add, the
 * status changes, and history, on the registry portcullisd reads.  A
 * change here reaches the firewall when portcullisd notices it (within
 * about a second) or when "rules apply" runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "daemon.h"
#include "dconf.h"
#include "log.h"
#include "registry.h"
#include "util.h"

static const char syn_list[] = "registry list [--status S] [--json]";
static const char syn_show[] = "registry show ID [--json]";
static const char syn_add[] = "registry add ADDRESS --account A "
    "[--hostname H] [--domain D] [--note T] [--skip-checks]";
static const char syn_change[] = "registry approve|suspend|revoke|renew ID "
    "[--reason T] | registry suspend --account A [--reason T]";
static const char syn_history[] = "registry history ID [--json]";

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		pc_strlcpy(buf, "-", len);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
parse_id(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*id = v;
	return 0;
}

/*
 * Run as root on a registry owned by the daemon's user, become that user
 * first: SQLite's -wal and -shm files created by root would lock the
 * daemon out of its own database.
 */
static int
become_db_owner(const struct dconf *c)
{
	char dir[4096], err[512], *slash;
	struct passwd *pw;
	struct stat sb;

	if (geteuid() != 0)
		return 0;
	if (stat(c->database, &sb) < 0) {
		pc_strlcpy(dir, c->database, sizeof(dir));
		slash = strrchr(dir, '/');
		if (slash == NULL)
			pc_strlcpy(dir, ".", sizeof(dir));
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &sb) < 0)
			return 0;	/* registry_open will say what is wrong */
	}
	if (sb.st_uid == 0)
		return 0;
	if ((pw = getpwuid(sb.st_uid)) == NULL)
		return ctl_fail("%s is owned by uid %ld, which has no name",
		    c->database, (long)sb.st_uid);
	if (pc_drop_privileges(pw->pw_name, err, sizeof(err)) < 0)
		return ctl_fail("switching to the registry's owner: %s", err);
	return 0;
}

/* The configuration and the open registry of one command. */
struct session {
	struct dconf *c;
	struct registry *r;
};

/* Called once the command line is known good: usage errors come first. */
static int
begin(const struct ctl *ctl, struct session *s)
{
	char err[1024];

	s->r = NULL;
	if ((s->c = ctl_load_conf(ctl)) == NULL)
		return -1;
	if (become_db_owner(s->c) == 0 && (s->r = registry_open(s->c->database,
	    s->c->lifetime, err, sizeof(err))) == NULL)
		ctl_fail("%s", err);
	if (s->r == NULL) {
		dconf_free(s->c);
		return -1;
	}
	return 0;
}

static int
end(struct session *s, int rc)
{
	registry_close(s->r);
	dconf_free(s->c);
	return rc;
}

static void
json_str(struct dstr *d, const char *key, const char *v, int comma)
{
	dstr_appendf(d, "%s\"%s\":", comma ? "," : "", key);
	if (v == NULL) {
		dstr_puts(d, "null");
		return;
	}
	dstr_putc(d, '"');
	pc_json_escape(d, v, PC_LOG_NO_CAP);
	dstr_putc(d, '"');
}

static void
json_time(struct dstr *d, const char *key, int64_t t)
{
	char buf[32];

	fmt_time(t, buf, sizeof(buf));
	json_str(d, key, t != 0 ? buf : NULL, 1);
}

static void
entry_json(struct dstr *d, const struct reg_entry *e)
{
	dstr_appendf(d, "{\"id\":%" PRId64, e->id);
	json_str(d, "account", e->account, 1);
	json_str(d, "address", e->address, 1);
	dstr_appendf(d, ",\"family\":%d", e->family);
	json_str(d, "hostname", e->hostname, 1);
	json_str(d, "domain", e->domain, 1);
	json_str(d, "status", reg_status_name(e->status), 1);
	json_time(d, "created", e->created);
	json_time(d, "verified", e->verified);
	json_time(d, "expires", e->expires);
	json_str(d, "checks", e->checks, 1);
	json_str(d, "note", e->note, 1);
	dstr_putc(d, '}');
}

static int
put(struct dstr *d)
{
	if (fwrite(d->buf, 1, d->len, stdout) != d->len || fflush(stdout) != 0)
		return ctl_fail("write: %s", strerror(errno));
	return CTL_OK;
}

static int
cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *status = NULL;
	int json = 0, st = -1, rc;
	struct ctl_opt opts[] = { { "status", &status, NULL }, { "json", NULL, &json } };
	struct session ss;
	struct reg_entry *v;
	char err[1024], exp[32], *pos[1];
	struct dstr d;
	size_t n, i;

	if (ctl_parse(syn_list, argc, argv, opts, 2, pos, 0, &n) < 0)
		return CTL_USAGE;
	if (status != NULL && (st = reg_status_parse(status)) < 0)
		return ctl_usage(syn_list, "unknown status \"%.32s\" (pending, "
		    "active, suspended, expired, revoked)", status);
	if (begin(ctl, &ss) < 0)
		return CTL_FAIL;
	if (registry_list(ss.r, st, &v, &n, err, sizeof(err)) < 0)
		return end(&ss, ctl_fail("%s", err));
	dstr_init(&d);
	if (json) {
		dstr_putc(&d, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				dstr_putc(&d, ',');
			entry_json(&d, &v[i]);
		}
		dstr_puts(&d, "]\n");
	} else {
		dstr_appendf(&d, "%-6s %-9s %-39s %-24s %-20s %s\n", "ID",
		    "STATUS", "ADDRESS", "ACCOUNT", "EXPIRES", "HOSTNAME");
		for (i = 0; i < n; i++) {
			fmt_time(v[i].expires, exp, sizeof(exp));
			dstr_appendf(&d, "%-6" PRId64 " %-9s %-39s %-24s %-20s %s\n",
			    v[i].id, reg_status_name(v[i].status), v[i].address,
			    v[i].account, exp,
			    v[i].hostname != NULL ? v[i].hostname : "-");
		}
	}
	rc = put(&d);
	dstr_free(&d);
	reg_entries_free(v, n);
	return end(&ss, rc);
}

/* show and history: one ID, optionally --json. */
static int
id_and_json(const char *syn, int argc, char **argv, int64_t *id, int *json)
{
	struct ctl_opt opts[] = { { "json", NULL, json } };
	char *pos[1];
	size_t n;

	if (ctl_parse(syn, argc, argv, opts, 1, pos, 1, &n) < 0)
		return CTL_USAGE;
	if (n != 1)
		return ctl_usage(syn, "missing ID");
	if (parse_id(pos[0], id) < 0)
		return ctl_usage(syn, "\"%.32s\" is not an entry id", pos[0]);
	return CTL_OK;
}

/* 0 when entry id exists, else prints why and returns CTL_FAIL. */
static int
get_entry(struct registry *r, int64_t id, struct reg_entry *e)
{
	char err[1024];
	int rc = registry_get(r, id, e, err, sizeof(err));

	if (rc == 0)
		return 0;
	return rc < 0 ? ctl_fail("%s", err) : ctl_fail("no entry %" PRId64, id);
}

static int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	struct session ss;
	struct reg_entry e;
	char t1[32], t2[32], t3[32];
	int64_t id;
	int json = 0, rc;
	struct dstr d;

	if ((rc = id_and_json(syn_show, argc, argv, &id, &json)) != CTL_OK)
		return rc;
	if (begin(ctl, &ss) < 0)
		return CTL_FAIL;
	if (get_entry(ss.r, id, &e) != 0)
		return end(&ss, CTL_FAIL);
	dstr_init(&d);
	if (json) {
		entry_json(&d, &e);
		dstr_putc(&d, '\n');
	} else {
		fmt_time(e.created, t1, sizeof(t1));
		fmt_time(e.verified, t2, sizeof(t2));
		fmt_time(e.expires, t3, sizeof(t3));
		dstr_appendf(&d, "id:       %" PRId64 "\naccount:  %s\n"
		    "address:  %s (IPv%d)\nhostname: %s\ndomain:   %s\n"
		    "status:   %s\ncreated:  %s\nverified: %s\nexpires:  %s\n"
		    "checks:   %s\nnote:     %s\n", e.id, e.account, e.address,
		    e.family, e.hostname ? e.hostname : "-",
		    e.domain ? e.domain : "-", reg_status_name(e.status), t1, t2,
		    t3, e.checks ? e.checks : "-", e.note ? e.note : "-");
	}
	rc = put(&d);
	dstr_free(&d);
	reg_entry_free(&e);
	return end(&ss, rc);
}

static int
cmd_history(struct ctl *ctl, int argc, char **argv)
{
	struct session ss;
	struct reg_audit *v;
	struct reg_entry e;
	char err[1024], when[32];
	int64_t id;
	int json = 0, rc;
	struct dstr d;
	size_t n, i;

	if ((rc = id_and_json(syn_history, argc, argv, &id, &json)) != CTL_OK)
		return rc;
	if (begin(ctl, &ss) < 0)
		return CTL_FAIL;
	if (get_entry(ss.r, id, &e) != 0)
		return end(&ss, CTL_FAIL);
	reg_entry_free(&e);
	if (registry_history(ss.r, id, &v, &n, err, sizeof(err)) < 0)
		return end(&ss, ctl_fail("%s", err));
	dstr_init(&d);
	if (json)
		dstr_putc(&d, '[');
	for (i = 0; i < n; i++) {
		fmt_time(v[i].at, when, sizeof(when));
		if (json) {
			dstr_appendf(&d, "%s{\"when\":\"%s\"", i ? "," : "", when);
			json_str(&d, "who", v[i].who, 1);
			json_str(&d, "action", v[i].action, 1);
			json_str(&d, "old_status", v[i].old_status, 1);
			json_str(&d, "new_status", v[i].new_status, 1);
			json_str(&d, "reason", v[i].reason, 1);
			dstr_putc(&d, '}');
		} else {
			dstr_appendf(&d, "%s  %-8s %-9s -> %-9s by %s%s%s\n",
			    when, v[i].action, v[i].old_status ?
			    v[i].old_status : "(new)", v[i].new_status, v[i].who,
			    v[i].reason ? ": " : "", v[i].reason ? v[i].reason : "");
		}
	}
	if (json)
		dstr_puts(&d, "]\n");
	rc = put(&d);
	dstr_free(&d);
	reg_audit_free(v, n);
	return end(&ss, rc);
}

static int
cmd_add(struct ctl *ctl, int argc, char **argv)
{
	struct reg_new nw;
	int skip = 0;
	struct ctl_opt opts[] = {
		{ "account", &nw.account, NULL }, { "hostname", &nw.hostname, NULL },
		{ "domain", &nw.domain, NULL }, { "note", &nw.note, NULL },
		{ "skip-checks", NULL, &skip },
	};
	char err[1024], exp[32], *pos[1];
	struct session ss;
	struct reg_entry e;
	struct pc_addr a;
	struct dstr checks;
	int64_t id;
	size_t n;
	int rc;

	memset(&nw, 0, sizeof(nw));
	if (ctl_parse(syn_add, argc, argv, opts, PC_ARRAY_LEN(opts), pos, 1, &n) < 0)
		return CTL_USAGE;
	if (n != 1)
		return ctl_usage(syn_add, "missing ADDRESS");
	if (nw.account == NULL)
		return ctl_usage(syn_add, "--account is required");
	if (pc_addr_parse(pos[0], &a, err, sizeof(err)) < 0)
		return ctl_fail("refused: %s", err);
	if (begin(ctl, &ss) < 0)
		return CTL_FAIL;
	dstr_init(&checks);
	if (skip) {
		dstr_puts(&checks, "{\"skipped\":\"--skip-checks\"}");
	} else if (registry_check_networks(&a, &ss.c->subscribers, &ss.c->pools,
	    &checks, err, sizeof(err)) < 0) {
		dstr_free(&checks);
		return end(&ss, ctl_fail("refused: %s", err));
	}
	nw.address = pos[0];
	nw.checks = checks.buf;
	nw.status = REG_ACTIVE;	/* an administrator adding it approves it */
	rc = registry_add(ss.r, &nw, ctl->who, skip ? "added with --skip-checks: "
	    "SubscriberNetworks and DynamicPools not checked" :
	    "added by an administrator", &id, err, sizeof(err));
	dstr_free(&checks);
	if (rc < 0)
		return end(&ss, ctl_fail("refused: %s", err));
	if (get_entry(ss.r, id, &e) != 0)
		return end(&ss, CTL_FAIL);
	fmt_time(e.expires, exp, sizeof(exp));
	printf("entry %" PRId64 " added: %s %s, expires %s\n", id, e.address,
	    reg_status_name(e.status), exp);
	reg_entry_free(&e);
	return end(&ss, CTL_OK);
}

static int
cmd_change(struct ctl *ctl, enum reg_action action, int argc, char **argv)
{
	const char *reason = NULL, *account = NULL;
	struct ctl_opt opts[] = { { "reason", &reason, NULL }, { "account", &account, NULL } };
	char err[1024], *pos[1];
	struct session ss;
	struct reg_entry e;
	unsigned count;
	int64_t id = 0;
	size_t n;

	if (ctl_parse(syn_change, argc, argv, opts, action == REG_SUSPEND ? 2 : 1,
	    pos, 1, &n) < 0)
		return CTL_USAGE;
	if (account != NULL && n != 0)
		return ctl_usage(syn_change, "give an ID or --account, not both");
	if (account == NULL && n != 1)
		return ctl_usage(syn_change, "missing ID");
	if (account == NULL && parse_id(pos[0], &id) < 0)
		return ctl_usage(syn_change, "\"%.32s\" is not an entry id", pos[0]);
	if (begin(ctl, &ss) < 0)
		return CTL_FAIL;
	if (account != NULL) {
		if (registry_suspend_account(ss.r, account, ctl->who, reason,
		    &count, err, sizeof(err)) < 0)
			return end(&ss, ctl_fail("refused: %s", err));
		printf("suspended %u active entr%s of account %s\n", count,
		    count == 1 ? "y" : "ies", account);
		return end(&ss, CTL_OK);
	}
	if (registry_change(ss.r, id, action, ctl->who, reason, err,
	    sizeof(err)) < 0)
		return end(&ss, ctl_fail("refused: %s", err));
	if (get_entry(ss.r, id, &e) != 0)
		return end(&ss, CTL_FAIL);
	fmt_time(e.expires, err, sizeof(err));
	printf("entry %" PRId64 " %s: %s %s, expires %s\n", id,
	    reg_action_name(action), e.address, reg_status_name(e.status), err);
	reg_entry_free(&e);
	return end(&ss, CTL_OK);
}

int
ctl_registry(struct ctl *ctl, int argc, char **argv)
{
	static const char syn[] = "registry list|show|add|approve|suspend|"
	    "revoke|renew|history ...";
	static const struct { const char *name; enum reg_action action; } changes[] = {
		{ "approve", REG_APPROVE }, { "suspend", REG_SUSPEND },
		{ "revoke", REG_REVOKE }, { "renew", REG_RENEW },
	};
	size_t i;

	if (argc < 1)
		return ctl_usage(syn, "registry: missing command");
	for (i = 0; i < PC_ARRAY_LEN(changes); i++)
		if (strcmp(argv[0], changes[i].name) == 0)
			return cmd_change(ctl, changes[i].action, argc - 1, argv + 1);
	if (strcmp(argv[0], "list") == 0)
		return cmd_list(ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "history") == 0)
		return cmd_history(ctl, argc - 1, argv + 1);
	if (strcmp(argv[0], "add") == 0)
		return cmd_add(ctl, argc - 1, argv + 1);
	return ctl_usage(syn, "registry: unknown command \"%.64s\"", argv[0]);
}
