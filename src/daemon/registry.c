/*
 * registry.c - the whitelist registry in SQLite: opening it, schema
 * migrations, the status transition table, and change_in_tx(), the one
 * function through which every change (including the creation of an
 * entry) passes, so that no status ever changes without its audit row in
 * the same transaction.
 *
 * The audit table is append-only, enforced by triggers in the schema, not
 * by good manners: a script with the sqlite3 shell cannot rewrite history
 * either without dropping the triggers first.
 *
 * Reads are in registry_read.c, feedback in registry_feedback.c, the
 * checks on what callers hand in in regcheck.c, and the SQLite statement
 * helpers in registry_db.c; registry_int.h is what these files share.
 */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LIVE_SQL "('pending','active','suspended')"

/* migrations[i] takes the schema from user_version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta VALUES ('changes', 0);"
	"CREATE TABLE entries ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account TEXT NOT NULL CHECK (length(account) BETWEEN 1 AND 320),"
	" address TEXT NOT NULL,"
	" family INTEGER NOT NULL CHECK (family IN (4, 6)),"
	" hostname TEXT, domain TEXT,"
	" status TEXT NOT NULL CHECK (status IN ('pending','active',"
	"  'suspended','expired','revoked')),"
	" created INTEGER NOT NULL, verified INTEGER, expires INTEGER,"
	" checks TEXT, note TEXT);"
	"CREATE UNIQUE INDEX entries_live_address ON entries(address)"
	" WHERE status IN " LIVE_SQL ";"
	"CREATE INDEX entries_account ON entries(account);"
	"CREATE INDEX entries_status_expires ON entries(status, expires);"
	"CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN"
	" SELECT RAISE(ABORT, 'registry entries are never deleted; revoke them');"
	" END;"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" entry_id INTEGER NOT NULL REFERENCES entries(id),"
	" at INTEGER NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,"
	" old_status TEXT, new_status TEXT NOT NULL, reason TEXT);"
	"CREATE INDEX audit_entry ON audit(entry_id, id);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
	" SELECT RAISE(ABORT, 'the audit trail is append-only'); END;",
	/* 2: what subscribers and visitors tell the ISP (POST /api/v1/feedback). */
	"CREATE TABLE feedback ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL, account TEXT, address TEXT NOT NULL,"
	" contact TEXT, message TEXT NOT NULL);",
};

static const char *const status_names[REG_NSTATUS] = {
	"pending", "active", "suspended", "expired", "revoked"
};
static const char *const action_names[REG_NACTION] = {
	"add", "approve", "renew", "suspend", "expire", "revoke"
};

#define S(x) (1u << (x))
#define LIVE (S(REG_PENDING) | S(REG_ACTIVE) | S(REG_SUSPENDED))

/* The lifecycle as data; REG_ADD is special-cased (there is no "from"). */
static const struct transition {
	unsigned from;		/* bit set of statuses */
	enum reg_status to;
	int fresh_lifetime;	/* expires = now + EntryLifetime */
	const char *needs;	/* for refusals */
} transitions[REG_NACTION] = {
	[REG_ADD] = { 0, REG_PENDING, 0, "a new address" },
	[REG_APPROVE] = { S(REG_PENDING) | S(REG_SUSPENDED), REG_ACTIVE, 1,
	    "a pending or suspended entry" },
	[REG_RENEW] = { S(REG_ACTIVE) | S(REG_EXPIRED), REG_ACTIVE, 1,
	    "an active or expired entry" },
	[REG_SUSPEND] = { S(REG_ACTIVE), REG_SUSPENDED, 0,
	    "an active entry" },
	[REG_EXPIRE] = { S(REG_ACTIVE), REG_EXPIRED, 0, "an active entry" },
	[REG_REVOKE] = { S(REG_PENDING) | S(REG_ACTIVE) | S(REG_SUSPENDED) |
	    S(REG_EXPIRED), REG_REVOKED, 0, "an entry not yet revoked" },
};

const char *
reg_status_name(enum reg_status s)
{
	return (unsigned)s < REG_NSTATUS ? status_names[s] : "?";
}

int
reg_status_parse(const char *name)
{
	int i;

	for (i = 0; i < REG_NSTATUS; i++)
		if (strcmp(name, status_names[i]) == 0)
			return i;
	return -1;
}

const char *
reg_action_name(enum reg_action a)
{
	return (unsigned)a < REG_NACTION ? action_names[a] : "?";
}

int
registry_schema_version(void)
{
	return (int)PC_ARRAY_LEN(migrations);
}

static int
migrate(struct registry *r, const char *path, char *err, size_t errlen)
{
	int64_t v;
	char sql[64];
	size_t i;

	/* The common case, an up-to-date schema, takes no write lock. */
	if (reg_pragma_int(r, "PRAGMA user_version", &v, err, errlen) < 0)
		return -1;
	if (v == registry_schema_version())
		return 0;
	if (reg_exec(r, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (reg_pragma_int(r, "PRAGMA user_version", &v, err, errlen) < 0)
		goto fail;
	if (v < 0 || v > (int64_t)PC_ARRAY_LEN(migrations)) {
		pc_err(err, errlen, "%s: registry schema version %lld is newer "
		    "than this portcullis knows (%d); upgrade portcullis", path,
		    (long long)v, registry_schema_version());
		goto fail;
	}
	for (i = (size_t)v; i < PC_ARRAY_LEN(migrations); i++) {
		if (reg_exec(r, migrations[i], err, errlen) < 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    registry_schema_version());
	if (reg_exec(r, sql, err, errlen) < 0 ||
	    reg_exec(r, "COMMIT", err, errlen) < 0)
		goto fail;
	return 0;
fail:
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

struct registry *
registry_open(const char *path, uint64_t lifetime, char *err, size_t errlen)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	char why[512];
	int64_t fk;

	r->lifetime = lifetime;
	if (sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		pc_err(err, errlen, "%s: cannot open the registry: %s", path,
		    r->db != NULL ? sqlite3_errmsg(r->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 5000);
	if (reg_exec(r, "PRAGMA foreign_keys = ON", why, sizeof(why)) < 0 ||
	    reg_pragma_int(r, "PRAGMA foreign_keys", &fk, why,
	    sizeof(why)) < 0 ||
	    reg_exec(r, "PRAGMA journal_mode = WAL", why, sizeof(why)) < 0 ||
	    migrate(r, path, why, sizeof(why)) < 0) {
		pc_err(err, errlen, "%s: %s", path, why);
		goto fail;
	}
	if (fk != 1) {
		pc_err(err, errlen, "%s: this SQLite cannot enforce foreign keys",
		    path);
		goto fail;
	}
	return r;
fail:
	sqlite3_close(r->db);
	free(r);
	return NULL;
}

void
registry_close(struct registry *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r);
}

void
registry_set_lifetime(struct registry *r, uint64_t lifetime)
{
	r->lifetime = lifetime;
}

void
registry_set_time(struct registry *r, int64_t t)
{
	r->fixed_now = t;
}

/* The live entry holding address, other than id: 0 none, 1 found, -1 error. */
static int
live_holder(struct registry *r, const char *address, int64_t id,
    int64_t *other, char *status, size_t slen, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (reg_prep(r, "SELECT id, status FROM entries WHERE address = ?1 AND "
	    "id != ?2 AND status IN " LIVE_SQL, &st, err, errlen) < 0)
		return -1;
	reg_bind_text(st, 1, address);
	sqlite3_bind_int64(st, 2, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*other = sqlite3_column_int64(st, 0);
		pc_strlcpy(status, (const char *)sqlite3_column_text(st, 1), slen);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return reg_db_err(r, err, errlen, "lookup");
	return rc == SQLITE_ROW;
}

static int
insert_entry(struct registry *r, const struct reg_new *n, int64_t t,
    int64_t *id, char *err, size_t errlen)
{
	char addr[PC_ADDR_STRLEN], holder[16], *account = NULL;
	char *host = NULL, *dom = NULL, *note = NULL;
	struct pc_addr a;
	sqlite3_stmt *st;
	int64_t other;
	int rc = -1, found;

	if (n->status != REG_PENDING && n->status != REG_ACTIVE)
		return pc_err(err, errlen, "a new entry is pending or active");
	if (n->address == NULL || n->account == NULL)
		return pc_err(err, errlen, "an entry needs an address and an "
		    "account");
	if (reg_check_host_address(n->address, &a, err, errlen) < 0 ||
	    reg_check_account(n->account, err, errlen) < 0)
		return -1;
	if (n->hostname != NULL && (host = reg_clean_dnsname(n->hostname,
	    "hostname", err, errlen)) == NULL)
		goto out;
	if (n->domain != NULL && (dom = reg_clean_dnsname(n->domain, "domain",
	    err, errlen)) == NULL)
		goto out;
	pc_addr_format(&a, addr, sizeof(addr));
	account = xstrdup(n->account);
	pc_str_lower(account);
	note = n->note != NULL ? reg_clean_text(n->note, REG_TEXT_MAX) : NULL;
	found = live_holder(r, addr, 0, &other, holder, sizeof(holder), err,
	    errlen);
	if (found != 0) {
		if (found > 0)
			pc_err(err, errlen, "%s is already registered (entry "
			    "%lld, %s)", addr, (long long)other, holder);
		goto out;
	}
	if (reg_prep(r, "INSERT INTO entries (account, address, family,"
	    " hostname, domain, status, created, verified, expires, checks,"
	    " note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	    &st, err, errlen) < 0)
		goto out;
	reg_bind_text(st, 1, account);
	reg_bind_text(st, 2, addr);
	sqlite3_bind_int(st, 3, a.family == AF_INET ? 4 : 6);
	reg_bind_text(st, 4, host);
	reg_bind_text(st, 5, dom);
	reg_bind_text(st, 6, status_names[n->status]);
	sqlite3_bind_int64(st, 7, t);
	if (n->status == REG_ACTIVE) {
		sqlite3_bind_int64(st, 8, t);
		sqlite3_bind_int64(st, 9, t + (int64_t)r->lifetime);
	}
	reg_bind_text(st, 10, n->checks);
	reg_bind_text(st, 11, note);
	if (reg_step_done(r, st, err, errlen) == 0) {
		*id = sqlite3_last_insert_rowid(r->db);
		rc = 0;
	}
out:
	free(account);
	free(host);
	free(dom);
	free(note);
	return rc;
}

/*
 * THE change function: checks the transition table, updates (or, for
 * REG_ADD, inserts) the entry, writes the audit row and bumps the change
 * counter.  The caller holds a write transaction and commits or rolls
 * back the lot.
 */
static int
change_in_tx(struct registry *r, int64_t *id, enum reg_action action,
    const struct reg_new *n, const char *who, const char *reason,
    char *err, size_t errlen)
{
	const struct transition *t = &transitions[action];
	const char *old = NULL;
	enum reg_status from = REG_NSTATUS, to;
	char address[PC_ADDR_STRLEN] = "", holder[16], *w, *why;
	int64_t ts = reg_now(r), expires = 0, other;
	sqlite3_stmt *st;
	int rc, found;

	if (action == REG_ADD) {
		if (insert_entry(r, n, ts, id, err, errlen) < 0)
			return -1;
		to = n->status;
	} else {
		if (reg_prep(r, "SELECT status, expires, address FROM entries "
		    "WHERE id = ?1", &st, err, errlen) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, *id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			from = (enum reg_status)reg_status_parse(
			    (const char *)sqlite3_column_text(st, 0));
			expires = sqlite3_column_int64(st, 1);
			pc_strlcpy(address, (const char *)sqlite3_column_text(st,
			    2), sizeof(address));
		}
		sqlite3_finalize(st);
		if (rc == SQLITE_DONE)
			return pc_err(err, errlen, "no entry %lld", (long long)*id);
		if (rc != SQLITE_ROW || (int)from < 0)
			return reg_db_err(r, err, errlen, "read entry");
		if ((t->from & S(from)) == 0)
			return pc_err(err, errlen, "cannot %s entry %lld: it is "
			    "%s, and %s needs %s", action_names[action],
			    (long long)*id, status_names[from],
			    action_names[action], t->needs);
		if (action == REG_EXPIRE && expires > ts)
			return pc_err(err, errlen, "cannot expire entry %lld: "
			    "its lifetime is not over", (long long)*id);
		to = t->to;
		if ((S(to) & LIVE) != 0 && (S(from) & LIVE) == 0) {
			found = live_holder(r, address, *id, &other, holder,
			    sizeof(holder), err, errlen);
			if (found < 0)
				return -1;
			if (found > 0)
				return pc_err(err, errlen, "cannot %s entry "
				    "%lld: %s is registered again as entry %lld "
				    "(%s)", action_names[action], (long long)*id,
				    address, (long long)other, holder);
		}
		if (reg_prep(r, "UPDATE entries SET status = ?1,"
		    " verified = CASE WHEN ?2 THEN ?3 ELSE verified END,"
		    " expires = CASE WHEN ?4 THEN ?3 + ?5 ELSE expires END"
		    " WHERE id = ?6", &st, err, errlen) < 0)
			return -1;
		reg_bind_text(st, 1, status_names[to]);
		sqlite3_bind_int(st, 2, action == REG_APPROVE);
		sqlite3_bind_int64(st, 3, ts);
		sqlite3_bind_int(st, 4, t->fresh_lifetime);
		sqlite3_bind_int64(st, 5, (int64_t)r->lifetime);
		sqlite3_bind_int64(st, 6, *id);
		if (reg_step_done(r, st, err, errlen) < 0)
			return -1;
		old = status_names[from];
	}
	if (reg_prep(r, "INSERT INTO audit (entry_id, at, who, action,"
	    " old_status, new_status, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7)", &st, err, errlen) < 0)
		return -1;
	w = reg_clean_text(who != NULL && *who != '\0' ? who : "unknown", 256);
	why = reason != NULL && *reason != '\0' ?
	    reg_clean_text(reason, REG_TEXT_MAX) : NULL;
	sqlite3_bind_int64(st, 1, *id);
	sqlite3_bind_int64(st, 2, ts);
	reg_bind_text(st, 3, w);
	reg_bind_text(st, 4, action_names[action]);
	reg_bind_text(st, 5, old);
	reg_bind_text(st, 6, status_names[to]);
	reg_bind_text(st, 7, why);
	free(w);
	free(why);
	if (reg_step_done(r, st, err, errlen) < 0)
		return -1;
	return reg_exec(r, "UPDATE meta SET value = value + 1 "
	    "WHERE key = 'changes'", err, errlen);
}

static int
tx_end(struct registry *r, int rc, char *err, size_t errlen)
{
	if (rc == 0 && reg_exec(r, "COMMIT", err, errlen) == 0)
		return 0;
	sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
registry_add(struct registry *r, const struct reg_new *n, const char *who,
    const char *reason, int64_t *id, char *err, size_t errlen)
{
	if (reg_exec(r, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	return tx_end(r, change_in_tx(r, id, REG_ADD, n, who, reason, err,
	    errlen), err, errlen);
}

int
registry_change(struct registry *r, int64_t id, enum reg_action action,
    const char *who, const char *reason, char *err, size_t errlen)
{
	if ((unsigned)action >= REG_NACTION || action == REG_ADD)
		return pc_err(err, errlen, "registry_change: bad action");
	if (reg_exec(r, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	return tx_end(r, change_in_tx(r, &id, action, NULL, who, reason, err,
	    errlen), err, errlen);
}

/*
 * Reads the ids a query returns (one int64 column); ?1 is text, ?2 num
 * and ?3 text2, when the query uses them.
 */
static int
select_ids(struct registry *r, const char *sql, const char *text,
    const char *text2, int64_t num, int64_t **ids, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*ids = NULL;
	*n = 0;
	if (reg_prep(r, sql, &st, err, errlen) < 0)
		return -1;
	if (sqlite3_bind_parameter_count(st) >= 1)
		reg_bind_text(st, 1, text);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int64(st, 2, num);
	if (sqlite3_bind_parameter_count(st) >= 3)
		reg_bind_text(st, 3, text2);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
		(*ids)[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		return reg_db_err(r, err, errlen, "select");
	}
	return 0;
}

/* Applies action to every id the query selects, in one transaction. */
static int
change_many(struct registry *r, const char *sql, const char *text,
    const char *text2, enum reg_action action, const char *who, const char *reason,
    unsigned *count, char *err, size_t errlen)
{
	int64_t *ids;
	size_t n, i;
	int rc = 0;

	*count = 0;
	/* The usual answer is "none": find that out without a write lock. */
	if (select_ids(r, sql, text, text2, reg_now(r), &ids, &n, err,
	    errlen) < 0)
		return -1;
	free(ids);
	if (n == 0)
		return 0;
	if (reg_exec(r, "BEGIN IMMEDIATE", err, errlen) < 0)
		return -1;
	if (select_ids(r, sql, text, text2, reg_now(r), &ids, &n, err,
	    errlen) < 0)
		return tx_end(r, -1, err, errlen);
	for (i = 0; i < n && rc == 0; i++)
		rc = change_in_tx(r, &ids[i], action, NULL, who, reason, err,
		    errlen);
	free(ids);
	if (tx_end(r, rc, err, errlen) < 0)
		return -1;
	*count = (unsigned)n;
	return 0;
}

/*
 * The two forms REG_ACCOUNT_MATCH_SQL compares: the account lowercased,
 * and its part before '@' (see reg_account_local()).  Both to free.
 */
static int
account_forms(const char *account, char **lower, char **local, char *err,
    size_t errlen)
{
	if (reg_check_account(account, err, errlen) < 0)
		return -1;
	*lower = xstrdup(account);
	pc_str_lower(*lower);
	*local = reg_account_local(*lower);
	return 0;
}

int
registry_suspend_account(struct registry *r, const char *account,
    const char *who, const char *reason, unsigned *count, char *err,
    size_t errlen)
{
	char *lower, *local;
	int rc;

	if (account_forms(account, &lower, &local, err, errlen) < 0)
		return -1;
	rc = change_many(r, "SELECT id FROM entries WHERE status = 'active' "
	    "AND " REG_ACCOUNT_MATCH_SQL " ORDER BY id", lower, local,
	    REG_SUSPEND, who, reason, count, err, errlen);
	free(local);
	free(lower);
	return rc;
}

int
registry_account_suspended(struct registry *r, const char *account,
    unsigned *count, char *err, size_t errlen)
{
	char *lower, *local;
	int64_t *ids;
	size_t n;
	int rc;

	*count = 0;
	if (account_forms(account, &lower, &local, err, errlen) < 0)
		return -1;
	rc = select_ids(r, "SELECT id FROM entries WHERE status = 'suspended' "
	    "AND " REG_ACCOUNT_MATCH_SQL, lower, local, 0, &ids, &n, err,
	    errlen);
	free(local);
	free(lower);
	if (rc == 0) {
		free(ids);
		*count = (unsigned)n;
	}
	return rc;
}

int
registry_expire_due(struct registry *r, unsigned *count, char *err,
    size_t errlen)
{
	return change_many(r, "SELECT id FROM entries WHERE status = 'active' "
	    "AND expires <= ?2 ORDER BY id", NULL, NULL, REG_EXPIRE,
	    REG_WHO_DAEMON, "lifetime over (EntryLifetime)", count, err, errlen);
}

/* Not a status change, so it goes around change_in_tx() (see registry.h). */
int
registry_set_checks(struct registry *r, int64_t id, const char *checks,
    int verified, char *err, size_t errlen)
{
	sqlite3_stmt *st;

	if (reg_prep(r, "UPDATE entries SET checks = ?1, verified = CASE WHEN "
	    "?2 THEN ?3 ELSE verified END WHERE id = ?4", &st, err,
	    errlen) < 0)
		return -1;
	reg_bind_text(st, 1, checks);
	sqlite3_bind_int(st, 2, verified);
	sqlite3_bind_int64(st, 3, reg_now(r));
	sqlite3_bind_int64(st, 4, id);
	if (reg_step_done(r, st, err, errlen) < 0)
		return -1;
	if (sqlite3_changes(r->db) == 0)
		return pc_err(err, errlen, "no entry %lld", (long long)id);
	return 0;
}
