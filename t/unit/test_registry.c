/*
 * test_registry.c - the whitelist registry: addresses as stored, the
 * status lifecycle (every action from every status, legal or not), the
 * append-only audit trail, duplicate addresses, expiry, the change
 * counter, schema migrations, the network checks of "registry add", and
 * portcullisd.conf's key table against its sample file and man page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dconf.h"
#include "registry.h"
#include "rules.h"
#include "testutil.h"
#include "util.h"

#define T0 1700000000
#define LIFE 3600

static char dbpath[64];

static int
setup_db(void **state)
{
	int fd;

	pc_strlcpy(dbpath, "/tmp/pc-test-registry-XXXXXX", sizeof(dbpath));
	fd = mkstemp(dbpath);
	assert_true(fd >= 0);
	close(fd);
	unlink(dbpath);		/* registry_open creates it */
	*state = registry_open(dbpath, LIFE, NULL, 0);
	assert_non_null(*state);
	registry_set_time(*state, T0);
	return 0;
}

static int
teardown_db(void **state)
{
	char p[96];

	registry_close(*state);
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	return 0;
}

static int64_t
add(struct registry *r, const char *address, enum reg_status st)
{
	struct reg_new n = { address, "alice", NULL, NULL, NULL, NULL, st };
	char err[512];
	int64_t id = 0;

	if (registry_add(r, &n, "tester", "test", &id, err, sizeof(err)) < 0)
		fail_msg("add %s: %s", address, err);
	return id;
}

static enum reg_status
status_of(struct registry *r, int64_t id)
{
	struct reg_entry e;
	enum reg_status s;

	assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
	s = e.status;
	reg_entry_free(&e);
	return s;
}

static size_t
audit_rows(struct registry *r, int64_t id)
{
	struct reg_audit *v;
	size_t n;

	assert_int_equal(registry_history(r, id, &v, &n, NULL, 0), 0);
	reg_audit_free(v, n);
	return n;
}

static const struct {
	const char *in;
	const char *want;	/* NULL: refused */
	int family;
} canon[] = {
	{ "192.0.2.10", "192.0.2.10", 4 },
	{ "::ffff:192.0.2.11", "192.0.2.11", 4 },
	{ "::FFFF:C000:020C", "192.0.2.12", 4 },
	{ "2001:DB8:0:0:0:0:0:1", "2001:db8::1", 6 },
	{ "2001:db8:0:0:1:0:0:2", "2001:db8::1:0:0:2", 6 },
	{ "2001:0db8:0000:0000:0000:0000:0000:0025", "2001:db8::25", 6 },
	{ "[2001:db8::26]", "2001:db8::26", 6 },
	{ "", NULL, 0 },
	{ "192.0.2", NULL, 0 },
	{ "192.0.2.256", NULL, 0 },
	{ "010.1.1.1", NULL, 0 },
	{ "192.0.2.10/32", NULL, 0 },
	{ "fe80::1%eth0", NULL, 0 },
	{ "mail.example.net", NULL, 0 },
	{ " 192.0.2.13", NULL, 0 },
	{ "192.0.2.14\n", NULL, 0 },
	{ "0.0.0.0", NULL, 0 },
	{ "::", NULL, 0 },
	{ "224.0.0.1", NULL, 0 },
	{ "255.255.255.255", NULL, 0 },
	{ "ff02::1", NULL, 0 },
};

static void
test_canonical(void **state)
{
	struct registry *r = *state;
	struct reg_entry e;
	char err[512];
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(canon); i++) {
		struct reg_new n = { canon[i].in, "alice", NULL, NULL, NULL,
		    NULL, REG_ACTIVE };
		int64_t id = 0;
		int rc = registry_add(r, &n, "tester", NULL, &id, err,
		    sizeof(err));

		if (canon[i].want == NULL) {
			if (rc == 0)
				fail_msg("accepted \"%s\"", canon[i].in);
			continue;
		}
		if (rc < 0)
			fail_msg("refused \"%s\": %s", canon[i].in, err);
		assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
		assert_string_equal(e.address, canon[i].want);
		assert_int_equal(e.family, canon[i].family);
		reg_entry_free(&e);
	}
}

/* Hostnames, domains and accounts are checked and stored in lower case. */
static void
test_fields(void **state)
{
	struct registry *r = *state;
	struct reg_new n = { "192.0.2.30", "Alice@ISP.Example", "MX1.Example.NET.",
	    "Example.NET", "note\nwith\tcontrols", NULL, REG_ACTIVE };
	struct reg_entry e;
	char err[512];
	int64_t id;

	assert_int_equal(registry_add(r, &n, "tester", NULL, &id, err,
	    sizeof(err)), 0);
	assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
	assert_string_equal(e.account, "alice@isp.example");
	assert_string_equal(e.hostname, "mx1.example.net");
	assert_string_equal(e.domain, "example.net");
	assert_string_equal(e.note, "note with controls");
	assert_int_equal(e.created, T0);
	assert_int_equal(e.verified, T0);
	assert_int_equal(e.expires, T0 + LIFE);
	reg_entry_free(&e);

	n.address = "192.0.2.31";
	n.hostname = "bad_host.example";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "hostname"));
	n.hostname = "-bad.example";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	n.hostname = NULL;
	n.account = "two words";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "account"));
	n.account = "";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	n.account = "bob";
	n.status = REG_SUSPENDED;
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
}

/* Puts a fresh entry into status st by legal steps only. */
static int64_t
make_in(struct registry *r, enum reg_status st, unsigned k)
{
	char addr[32], err[512];
	unsigned n;
	int64_t id;

	snprintf(addr, sizeof(addr), "198.51.100.%u", k);
	id = add(r, addr, st == REG_PENDING ? REG_PENDING : REG_ACTIVE);
	if (st == REG_SUSPENDED)
		assert_int_equal(registry_change(r, id, REG_SUSPEND, "t", NULL,
		    err, sizeof(err)), 0);
	if (st == REG_REVOKED)
		assert_int_equal(registry_change(r, id, REG_REVOKE, "t", NULL,
		    err, sizeof(err)), 0);
	if (st == REG_EXPIRED) {
		registry_set_time(r, T0 + LIFE);
		assert_int_equal(registry_expire_due(r, &n, err, sizeof(err)), 0);
		assert_true(n >= 1);	/* older active entries of the loop too */
		registry_set_time(r, T0);
	}
	assert_int_equal(status_of(r, id), st);
	return id;
}

#define NO REG_NSTATUS		/* refused */

/* after[action][from]: the status after the action, or NO. */
static const enum reg_status after[REG_NACTION][REG_NSTATUS] = {
	/*              pending     active      suspended   expired     revoked */
	[REG_APPROVE] = { REG_ACTIVE, NO,       REG_ACTIVE, NO,         NO },
	[REG_RENEW]   = { NO,         REG_ACTIVE, NO,       REG_ACTIVE, NO },
	[REG_SUSPEND] = { NO,         REG_SUSPENDED, NO,    NO,         NO },
	/* expire by hand: refused while the lifetime is not over */
	[REG_EXPIRE]  = { NO,         NO,       NO,         NO,         NO },
	[REG_REVOKE]  = { REG_REVOKED, REG_REVOKED, REG_REVOKED, REG_REVOKED, NO },
};

static void
test_transitions(void **state)
{
	struct registry *r = *state;
	unsigned k = 1;
	int a, s;

	for (a = REG_APPROVE; a < REG_NACTION; a++) {
		for (s = 0; s < REG_NSTATUS; s++) {
			int64_t id = make_in(r, (enum reg_status)s, k++);
			size_t before = audit_rows(r, id);
			char err[512] = "", who[32];
			int rc;

			snprintf(who, sizeof(who), "admin%d", a);
			rc = registry_change(r, id, (enum reg_action)a, who,
			    "because", err, sizeof(err));
			if (after[a][s] == NO) {
				if (rc == 0)
					fail_msg("%s from %s was allowed",
					    reg_action_name(a), reg_status_name(s));
				assert_non_null(strstr(err, "cannot"));
				assert_non_null(strstr(err, reg_action_name(a)));
				assert_int_equal(status_of(r, id), s);
				assert_int_equal(audit_rows(r, id), before);
			} else {
				if (rc != 0)
					fail_msg("%s from %s refused: %s",
					    reg_action_name(a), reg_status_name(s), err);
				assert_int_equal(status_of(r, id), after[a][s]);
				assert_int_equal(audit_rows(r, id), before + 1);
			}
		}
	}
	/* An unknown entry and a bad action are refused too. */
	{
		char err[512];

		assert_int_equal(registry_change(r, 9999, REG_REVOKE, "t", NULL,
		    err, sizeof(err)), -1);
		assert_non_null(strstr(err, "no entry 9999"));
		assert_int_equal(registry_change(r, 1, REG_ADD, "t", NULL, err,
		    sizeof(err)), -1);
	}
}

/* Approve and renew start a fresh lifetime; approve also marks verified. */
static void
test_lifetime_reset(void **state)
{
	struct registry *r = *state;
	int64_t id = add(r, "192.0.2.40", REG_PENDING);
	struct reg_entry e;

	assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
	assert_int_equal(e.verified, 0);
	assert_int_equal(e.expires, 0);
	reg_entry_free(&e);
	registry_set_time(r, T0 + 100);
	assert_int_equal(registry_change(r, id, REG_APPROVE, "t", NULL, NULL, 0), 0);
	assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
	assert_int_equal(e.verified, T0 + 100);
	assert_int_equal(e.expires, T0 + 100 + LIFE);
	reg_entry_free(&e);
	registry_set_time(r, T0 + 500);
	assert_int_equal(registry_change(r, id, REG_RENEW, "t", NULL, NULL, 0), 0);
	assert_int_equal(registry_get(r, id, &e, NULL, 0), 0);
	assert_int_equal(e.verified, T0 + 100);
	assert_int_equal(e.expires, T0 + 500 + LIFE);
	reg_entry_free(&e);
}

static void
test_audit(void **state)
{
	struct registry *r = *state;
	int64_t id = add(r, "2001:db8::77", REG_ACTIVE);
	struct reg_audit *v;
	sqlite3 *db;
	char *msg = NULL;
	size_t n;

	assert_int_equal(registry_change(r, id, REG_SUSPEND, "abuse-desk",
	    "spam run\nfrom this host", NULL, 0), 0);
	assert_int_equal(registry_change(r, id, REG_APPROVE, "bob", "cleaned up",
	    NULL, 0), 0);
	assert_int_equal(registry_change(r, id, REG_REVOKE, "carol", NULL, NULL, 0), 0);
	assert_int_equal(registry_history(r, id, &v, &n, NULL, 0), 0);
	assert_int_equal(n, 4);
	assert_string_equal(v[0].action, "add");
	assert_null(v[0].old_status);
	assert_string_equal(v[0].new_status, "active");
	assert_string_equal(v[0].who, "tester");
	assert_string_equal(v[1].action, "suspend");
	assert_string_equal(v[1].who, "abuse-desk");
	assert_string_equal(v[1].old_status, "active");
	assert_string_equal(v[1].new_status, "suspended");
	assert_string_equal(v[1].reason, "spam run from this host");
	assert_string_equal(v[2].who, "bob");
	assert_string_equal(v[2].reason, "cleaned up");
	assert_string_equal(v[3].new_status, "revoked");
	assert_null(v[3].reason);
	assert_int_equal(v[3].at, T0);
	reg_audit_free(v, n);

	/* History cannot be rewritten, not even with SQL behind our back. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET who = 'nobody'",
	    NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL,
	    &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM entries", NULL, NULL,
	    &msg), SQLITE_OK);
	sqlite3_free(msg);
	sqlite3_close(db);
	assert_int_equal(audit_rows(r, id), 4);
}

static void
test_duplicates(void **state)
{
	struct registry *r = *state;
	struct reg_new n = { "192.0.2.50", "bob", NULL, NULL, NULL, NULL, REG_ACTIVE };
	int64_t first = add(r, "192.0.2.50", REG_ACTIVE), id, v0, v1;
	unsigned count;
	char err[512];

	assert_int_equal(registry_version(r, &v0, NULL, 0), 0);
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already registered"));
	n.address = "::ffff:192.0.2.50";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	n.status = REG_PENDING;
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	/* Suspension must not be dodged by registering the address again. */
	assert_int_equal(registry_change(r, first, REG_SUSPEND, "t", NULL, NULL, 0), 0);
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), -1);
	assert_int_equal(registry_version(r, &v1, NULL, 0), 0);
	assert_int_equal(v1, v0 + 1);	/* refusals change nothing */
	assert_int_equal(registry_change(r, first, REG_REVOKE, "t", NULL, NULL, 0), 0);
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), 0);

	/* An expired entry cannot come back over a newer registration. */
	first = add(r, "192.0.2.51", REG_ACTIVE);
	registry_set_time(r, T0 + LIFE);
	assert_int_equal(registry_expire_due(r, &count, NULL, 0), 0);
	assert_int_equal(count, 1);
	n.address = "192.0.2.51";
	assert_int_equal(registry_add(r, &n, "t", NULL, &id, err, sizeof(err)), 0);
	assert_int_equal(registry_change(r, first, REG_RENEW, "t", NULL, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "registered again"));
}

static int
allowed_has(struct registry *r, const char *text)
{
	struct pc_addr *v, a;
	size_t n, i;
	int found = 0;

	assert_int_equal(pc_addr_parse(text, &a, NULL, 0), 0);
	assert_int_equal(registry_allowed(r, &v, &n, NULL, 0), 0);
	for (i = 0; i < n; i++)
		found |= pc_addr_cmp(&v[i], &a) == 0;
	free(v);
	return found;
}

static void
test_expiry(void **state)
{
	struct registry *r = *state;
	int64_t id, other, pend;
	struct reg_audit *v;
	unsigned count;
	size_t n;

	registry_set_lifetime(r, 2);
	id = add(r, "192.0.2.60", REG_ACTIVE);
	pend = add(r, "192.0.2.62", REG_PENDING);
	registry_set_time(r, T0 + 1);
	other = add(r, "192.0.2.61", REG_ACTIVE);
	assert_true(allowed_has(r, "192.0.2.60"));
	assert_false(allowed_has(r, "192.0.2.62"));	/* pending: never */
	assert_int_equal(registry_expire_due(r, &count, NULL, 0), 0);
	assert_int_equal(count, 0);
	registry_set_time(r, T0 + 2);
	/* Past its lifetime it leaves the rules even before the job runs. */
	assert_false(allowed_has(r, "192.0.2.60"));
	assert_true(allowed_has(r, "192.0.2.61"));
	assert_int_equal(registry_expire_due(r, &count, NULL, 0), 0);
	assert_int_equal(count, 1);
	assert_int_equal(status_of(r, id), REG_EXPIRED);
	assert_int_equal(status_of(r, other), REG_ACTIVE);
	assert_int_equal(status_of(r, pend), REG_PENDING);
	assert_int_equal(registry_history(r, id, &v, &n, NULL, 0), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].who, REG_WHO_DAEMON);
	assert_string_equal(v[1].action, "expire");
	assert_int_equal(v[1].at, T0 + 2);
	reg_audit_free(v, n);
	registry_set_time(r, T0 + 3);
	assert_int_equal(registry_change(r, id, REG_RENEW, "t", NULL, NULL, 0), 0);
	assert_true(allowed_has(r, "192.0.2.60"));
	assert_false(allowed_has(r, "192.0.2.61"));
	/* Revoked and suspended entries never reach the rules. */
	assert_int_equal(registry_change(r, id, REG_SUSPEND, "t", NULL, NULL, 0), 0);
	assert_false(allowed_has(r, "192.0.2.60"));
}

static void
test_version_and_account(void **state)
{
	struct registry *r = *state;
	struct reg_entry e;
	int64_t v0, v1, a1, a2, a3, b1;
	unsigned count;

	assert_int_equal(registry_version(r, &v0, NULL, 0), 0);
	a1 = add(r, "192.0.2.70", REG_ACTIVE);
	a2 = add(r, "2001:db8::70", REG_ACTIVE);
	a3 = add(r, "192.0.2.71", REG_PENDING);
	{
		struct reg_new n = { "192.0.2.72", "bob", NULL, NULL, NULL,
		    NULL, REG_ACTIVE };
		assert_int_equal(registry_add(r, &n, "t", NULL, &b1, NULL, 0), 0);
	}
	assert_int_equal(registry_version(r, &v1, NULL, 0), 0);
	assert_int_equal(v1, v0 + 4);
	assert_int_equal(registry_get(r, a1, &e, NULL, 0), 0);	/* reads: no change */
	reg_entry_free(&e);
	assert_int_equal(registry_version(r, &v0, NULL, 0), 0);
	assert_int_equal(v0, v1);
	assert_int_equal(registry_suspend_account(r, "ALICE", "milter",
	    "rate limit", &count, NULL, 0), 0);
	assert_int_equal(count, 2);
	assert_int_equal(status_of(r, a1), REG_SUSPENDED);
	assert_int_equal(status_of(r, a2), REG_SUSPENDED);
	assert_int_equal(status_of(r, a3), REG_PENDING);
	assert_int_equal(status_of(r, b1), REG_ACTIVE);
	assert_int_equal(registry_suspend_account(r, "nobody", "milter", NULL,
	    &count, NULL, 0), 0);
	assert_int_equal(count, 0);
	assert_int_equal(registry_version(r, &v1, NULL, 0), 0);
	assert_int_equal(v1, v0 + 2);
}

static void
test_migrations(void **state)
{
	struct registry *r = *state;
	char err[512], *msg = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t id = add(r, "192.0.2.80", REG_ACTIVE);
	FILE *fp;

	/* A fresh database got the whole schema, in WAL mode. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), registry_schema_version());
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* Re-opening keeps the data. */
	registry_close(r);
	r = registry_open(dbpath, LIFE, err, sizeof(err));
	*state = r;
	if (r == NULL)
		fail_msg("reopen: %s", err);
	assert_int_equal(status_of(r, id), REG_ACTIVE);
	assert_int_equal(audit_rows(r, id), 1);

	/* A schema from a newer portcullis is refused, not scribbled on. */
	assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, &msg), SQLITE_OK);
	sqlite3_close(db);
	assert_null(registry_open(dbpath, LIFE, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));

	/* Not a database at all. */
	fp = fopen("/tmp/pc-test-registry-junk", "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, not even close, no.......\n", fp);
	fclose(fp);
	assert_null(registry_open("/tmp/pc-test-registry-junk", LIFE, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/tmp/pc-test-registry-junk"));
	unlink("/tmp/pc-test-registry-junk");
	assert_null(registry_open("/nonexistent/dir/registry.db", LIFE, err,
	    sizeof(err)));
}

static const struct {
	const char *addr;
	const char *err;	/* NULL: passes */
	const char *json;
} netcheck[] = {
	{ "192.0.2.10", NULL, "{\"subscriber_networks\":\"pass\",\"dynamic_pools\":\"pass\"}" },
	{ "2001:db8:1::25", NULL, NULL },
	{ "203.0.113.5", "not inside SubscriberNetworks", "{\"subscriber_networks\":\"fail\",\"dynamic_pools\":\"pass\"}" },
	{ "2001:db9::1", "not inside SubscriberNetworks", NULL },
	{ "192.0.2.200", "inside DynamicPools (192.0.2.128/25)", "{\"subscriber_networks\":\"pass\",\"dynamic_pools\":\"fail\"}" },
	{ "::ffff:192.0.2.129", "inside DynamicPools", NULL },
	{ "2001:db8:ff::1", "inside DynamicPools (2001:db8:ff::/48)", NULL },
};

static void
test_check_networks(void **state)
{
	struct pc_netlist subs, pools;
	struct pc_addr a;
	char err[512];
	size_t i;

	(void)state;
	pc_netlist_init(&subs);
	pc_netlist_init(&pools);
	assert_int_equal(pc_netlist_add(&subs, "192.0.2.0/24, 2001:db8::/32",
	    NULL, 0), 0);
	assert_int_equal(pc_netlist_add(&pools, "192.0.2.128/25 2001:db8:ff::/48",
	    NULL, 0), 0);
	for (i = 0; i < PC_ARRAY_LEN(netcheck); i++) {
		struct dstr d;
		int rc;

		dstr_init(&d);
		assert_int_equal(pc_addr_parse(netcheck[i].addr, &a, NULL, 0), 0);
		rc = registry_check_networks(&a, &subs, &pools, &d, err, sizeof(err));
		if (netcheck[i].err == NULL && rc != 0)
			fail_msg("%s refused: %s", netcheck[i].addr, err);
		if (netcheck[i].err != NULL && (rc == 0 ||
		    strstr(err, netcheck[i].err) == NULL))
			fail_msg("%s: \"%s\" lacks \"%s\"", netcheck[i].addr,
			    rc == 0 ? "(passed)" : err, netcheck[i].err);
		if (netcheck[i].json != NULL)
			assert_string_equal(d.buf, netcheck[i].json);
		dstr_free(&d);
	}
	pc_netlist_free(&subs);
	pc_netlist_free(&pools);
}

/* ---- portcullisd.conf ---- */

static void
test_keys_documented(void **state)
{
	(void)state;
	tu_keys_documented(dconf_keys, dconf_nkeys, "conf/portcullisd.conf",
	    "doc/portcullisd.conf.5");
}

static void
test_sample_loads(void **state)
{
	char path[4096], err[1024];
	struct dconf *c;

	(void)state;
	tu_src_path(path, sizeof(path), "conf/portcullisd.conf");
	if ((c = dconf_load(path, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	dconf_free(c);
}

static void
test_conf_defaults(void **state)
{
	char *path = tu_write_tmp("dconf", "SubscriberNetworks 192.0.2.0/24\n"
	    "subscribernetworks 2001:db8::/32\n");
	struct dconf *c;
	char err[1024];

	(void)state;
	if ((c = dconf_load(path, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->database, "/var/lib/portcullis/registry.db");
	assert_string_equal(c->rule_file, "/var/lib/portcullis/egress.rules");
	assert_string_equal(dconf_rule_formats[c->rule_format], "nft");
	assert_string_equal(c->nft_table, "inet portcullis");
	assert_int_equal(c->nft_hook, DCONF_HOOK_FORWARD);
	assert_int_equal(c->block_action, DCONF_BLOCK_REJECT);
	assert_int_equal(c->lifetime, 90 * 86400);
	assert_int_equal(c->subscribers.n, 2);
	assert_int_equal(c->pools.n, 0);
	assert_null(c->apply_command);
	assert_null(c->user);
	assert_null(c->milter_control_socket);	/* the milter is not asked */
	dconf_free(c);
	unlink(path);
	free(path);
}

static void
test_conf_milter_socket(void **state)
{
	char *path = tu_write_tmp("dconf", "SubscriberNetworks 192.0.2.0/24\n"
	    "miltercontrolsocket /run/portcullis/control.sock # the milter's\n");
	struct dconf *c;
	char err[1024];

	(void)state;
	if ((c = dconf_load(path, err, sizeof(err))) == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->milter_control_socket,
	    "/run/portcullis/control.sock");
	dconf_free(c);
	unlink(path);
	free(path);
}

/* 100 bytes: with "/run/" and ".sock" past a unix socket's 107. */
#define LONG_NAME "0123456789012345678901234567890123456789" \
	"0123456789012345678901234567890123456789" "01234567890123456789"

static const struct {
	const char *text;
	const char *want;
} bad[] = {
	{ "Database /tmp/x.db\n", "SubscriberNetworks: required" },
	{ "SubscriberNetworks 192.0.2.1/24\n", ":1: SubscriberNetworks:" },
	{ "SubscriberNetworks 192.0.2.0/24\nDynamicPools nonsense\n", ":2: DynamicPools:" },
	{ "SubscriberNetworks 192.0.2.0/24\nRuleFormat ipfw\n", ":2: RuleFormat: \"ipfw\" is not one of nft, iptables, pf, plain" },
	{ "SubscriberNetworks 192.0.2.0/24\nNftHook input\n", ":2: NftHook:" },
	{ "SubscriberNetworks 192.0.2.0/24\nBlockAction tarpit\n", ":2: BlockAction:" },
	{ "SubscriberNetworks 192.0.2.0/24\nEntryLifetime 0\n", ":2: EntryLifetime:" },
	{ "SubscriberNetworks 192.0.2.0/24\nEntryLifetime forever\n", ":2: EntryLifetime:" },
	{ "SubscriberNetworks 192.0.2.0/24\nNftTable portcullis\n", "NftTable: \"portcullis\" is not" },
	{ "SubscriberNetworks 192.0.2.0/24\nNftTable inet port;cullis\n", "NftTable:" },
	{ "SubscriberNetworks 192.0.2.0/24\nSyslogFacility kern-ish\n", "SyslogFacility: unknown" },
	{ "SubscriberNetworks 192.0.2.0/24\nMilterControlSocket run/x.sock\n", "MilterControlSocket: \"run/x.sock\" is not an absolute path" },
	{ "SubscriberNetworks 192.0.2.0/24\nMilterControlSocket none\n", "MilterControlSocket: \"none\" is not an absolute path" },
	{ "SubscriberNetworks 192.0.2.0/24\nMilterControlSocket /run/" LONG_NAME ".sock\n", "MilterControlSocket: longer than the 107 bytes" },
	{ "SubscriberNetworks 192.0.2.0/24\nMilterControlSocket /a\nMilterControlSocket /b\n", ":3: MilterControlSocket: given twice" },
	{ "SubscriberNetworks 192.0.2.0/24\nListen 127.0.0.1\n", "Listen: \"127.0.0.1\" needs a port" },
	{ "SubscriberNetworks 192.0.2.0/24\nOwnershipCheck dns\n", "OwnershipCheck: \"dns\" is not" },
	{ "SubscriberNetworks 192.0.2.0/24\nTLSKey /k.pem\n", "TLSCertificate and TLSKey go together" },
	{ "SubscriberNetworks 192.0.2.0/24\nApprovalMode sometimes\n", ":2: ApprovalMode:" },
	{ "SubscriberNetworks 192.0.2.0/24\nRuleFile a\nRuleFile b\n", ":3: RuleFile: given twice" },
	{ "SubscriberNetwork 192.0.2.0/24\n", ":1: SubscriberNetwork: unknown key" },
};

static void
test_conf_bad(void **state)
{
	char err[1024];
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(bad); i++) {
		char *path = tu_write_tmp("dconf", bad[i].text);
		struct dconf *c = dconf_load(path, err, sizeof(err));

		if (c != NULL)
			fail_msg("accepted: %s", bad[i].text);
		if (strstr(err, bad[i].want) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", err, bad[i].want);
		if (strstr(err, path) == NULL)
			fail_msg("\"%s\" does not name the file", err);
		unlink(path);
		free(path);
	}
	assert_null(dconf_load("/nonexistent/portcullisd.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/portcullisd.conf"));
}

static int64_t
add_as(struct registry *r, const char *address, const char *account)
{
	struct reg_new n = { address, account, NULL, NULL, NULL, NULL,
	    REG_ACTIVE };
	char err[512];
	int64_t id = 0;

	if (registry_add(r, &n, "tester", "test", &id, err, sizeof(err)) < 0)
		fail_msg("add %s: %s", address, err);
	return id;
}

/*
 * The milter names a bare login "alice" as "alice@AccountDomain", and its
 * NotifyCommand suspends by that name: it must reach the entry that
 * portcullisd stored under the login the subscriber typed, and back.
 */
static void
test_account_forms(void **state)
{
	struct registry *r = *state;
	int64_t bare, qual, other, dave, deep;
	unsigned count;

	bare = add_as(r, "192.0.2.80", "Alice");
	qual = add_as(r, "192.0.2.81", "bob@test.example");
	other = add_as(r, "192.0.2.82", "alice@other.example");
	dave = add_as(r, "192.0.2.83", "dave@test.example");
	deep = add_as(r, "192.0.2.84", "x@y@test.example");
	assert_int_equal(registry_account_suspended(r, "alice@test.example",
	    &count, NULL, 0), 0);
	assert_int_equal(count, 0);
	/* The milter's form reaches the bare login, and only it. */
	assert_int_equal(registry_suspend_account(r, "Alice@Test.Example",
	    "portcullis-milter", "rate limit", &count, NULL, 0), 0);
	assert_int_equal(count, 1);
	assert_int_equal(status_of(r, bare), REG_SUSPENDED);
	assert_int_equal(status_of(r, other), REG_ACTIVE);
	assert_int_equal(registry_account_suspended(r, "ALICE@test.example",
	    &count, NULL, 0), 0);
	assert_int_equal(count, 1);
	assert_int_equal(registry_account_suspended(r, "alice", &count, NULL,
	    0), 0);
	assert_int_equal(count, 1);
	assert_int_equal(registry_account_suspended(r, "alice@other.example",
	    &count, NULL, 0), 0);
	assert_int_equal(count, 1);	/* the bare "alice" it also names */
	/* A bare name reaches the qualified entry. */
	assert_int_equal(registry_suspend_account(r, "BOB", "t", NULL, &count,
	    NULL, 0), 0);
	assert_int_equal(count, 1);
	assert_int_equal(status_of(r, qual), REG_SUSPENDED);
	/* Another domain is another account; a prefix is not a match. */
	assert_int_equal(registry_suspend_account(r, "dave@else.example", "t",
	    NULL, &count, NULL, 0), 0);
	assert_int_equal(count, 0);
	assert_int_equal(registry_suspend_account(r, "dav", "t", NULL, &count,
	    NULL, 0), 0);
	assert_int_equal(count, 0);
	assert_int_equal(registry_suspend_account(r, "x", "t", NULL, &count,
	    NULL, 0), 0);
	assert_int_equal(count, 0);
	assert_int_equal(status_of(r, dave), REG_ACTIVE);
	assert_int_equal(status_of(r, deep), REG_ACTIVE);
	assert_int_equal(registry_suspend_account(r, "X@Y@test.example", "t",
	    NULL, &count, NULL, 0), 0);
	assert_int_equal(count, 1);
}

/*
 * ApplyCommand that closes its output and then hangs: EOF comes at once,
 * but the deadline still holds, the group is killed, the apply fails and
 * the old rules stay in force.
 */
static void
test_apply_deadline_after_eof(void **state)
{
	char dir[] = "/tmp/pc-test-apply-XXXXXX", rf[128], buf[64], err[1200];
	struct rules_apply_opts o;
	time_t t0;
	FILE *fp;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(rf, sizeof(rf), "%s/egress.rules", dir);
	memset(&o, 0, sizeof(o));
	o.rule_file = rf;
	o.apply_command = "true";
	o.timeout = 1;
	assert_int_equal(rules_apply(&o, "old\n", 4, err, sizeof(err)), 0);
	o.apply_command = "exec >/dev/null 2>&1; sleep 30";
	t0 = time(NULL);
	assert_int_equal(rules_apply(&o, "new\n", 4, err, sizeof(err)), -1);
	assert_true(time(NULL) - t0 < 6);
	assert_non_null(strstr(err, "timed out"));
	fp = fopen(rf, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, "old\n");
	unlink(rf);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_canonical, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_fields, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_transitions, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_lifetime_reset, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_audit, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_duplicates, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_expiry, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_version_and_account, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_account_forms, setup_db, teardown_db),
		cmocka_unit_test_setup_teardown(test_migrations, setup_db, teardown_db),
		cmocka_unit_test(test_check_networks),
		cmocka_unit_test(test_apply_deadline_after_eof),
		cmocka_unit_test(test_keys_documented),
		cmocka_unit_test(test_sample_loads),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_milter_socket),
		cmocka_unit_test(test_conf_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
