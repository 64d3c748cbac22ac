/*
 * registry_read.c - reading the registry: one entry, the entries of a
 * status or of an account, an entry's audit trail, the addresses allowed
 * on port 25 now, and the change counter pollers watch.  Nothing here
 * writes; every change goes through registry.c.
 */
#include "registry_int.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The columns row_entry() reads, in its order. */
#define ENTRY_COLS "id, account, address, family, hostname, domain, status, " \
	"created, verified, expires, checks, note"

/* A status this program does not know reads as revoked, never as live. */
static void
row_entry(sqlite3_stmt *st, struct reg_entry *e)
{
	const char *s = (const char *)sqlite3_column_text(st, 6);
	int status = reg_status_parse(s != NULL ? s : "");

	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->account = reg_col_dup(st, 1);
	s = (const char *)sqlite3_column_text(st, 2);
	pc_strlcpy(e->address, s != NULL ? s : "", sizeof(e->address));
	e->family = sqlite3_column_int(st, 3);
	e->hostname = reg_col_dup(st, 4);
	e->domain = reg_col_dup(st, 5);
	e->status = status >= 0 ? (enum reg_status)status : REG_REVOKED;
	e->created = sqlite3_column_int64(st, 7);
	e->verified = sqlite3_column_int64(st, 8);
	e->expires = sqlite3_column_int64(st, 9);
	e->checks = reg_col_dup(st, 10);
	e->note = reg_col_dup(st, 11);
}

int
registry_get(struct registry *r, int64_t id, struct reg_entry *e, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (reg_prep(r, "SELECT " ENTRY_COLS " FROM entries WHERE id = ?1", &st,
	    err, errlen) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_entry(st, e);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE)
		return 1;
	return reg_db_err(r, err, errlen, "read entry");
}

int
registry_list(struct registry *r, int status, struct reg_entry **v, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (reg_prep(r, "SELECT " ENTRY_COLS " FROM entries WHERE ?1 IS NULL "
	    "OR status = ?1 ORDER BY id", &st, err, errlen) < 0)
		return -1;
	reg_bind_text(st, 1, status >= 0 && status < REG_NSTATUS ?
	    reg_status_name((enum reg_status)status) : NULL);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		row_entry(st, &(*v)[(*n)++]);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		reg_entries_free(*v, *n);
		*v = NULL;
		*n = 0;
		return reg_db_err(r, err, errlen, "list");
	}
	return 0;
}

int
registry_list_account(struct registry *r, const char *account,
    struct reg_entry **v, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	char *lower = xstrdup(account);
	int rc;

	*v = NULL;
	*n = 0;
	pc_str_lower(lower);
	if (reg_prep(r, "SELECT " ENTRY_COLS " FROM entries WHERE account = ?1 "
	    "ORDER BY id", &st, err, errlen) < 0) {
		free(lower);
		return -1;
	}
	reg_bind_text(st, 1, lower);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		row_entry(st, &(*v)[(*n)++]);
	}
	sqlite3_finalize(st);
	free(lower);
	if (rc != SQLITE_DONE) {
		reg_entries_free(*v, *n);
		*v = NULL;
		*n = 0;
		return reg_db_err(r, err, errlen, "list");
	}
	return 0;
}

int
registry_history(struct registry *r, int64_t id, struct reg_audit **v,
    size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	*v = NULL;
	*n = 0;
	if (reg_prep(r, "SELECT id, entry_id, at, who, action, old_status, "
	    "new_status, reason FROM audit WHERE entry_id = ?1 ORDER BY id",
	    &st, err, errlen) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_audit *a;

		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		a = &(*v)[(*n)++];
		a->id = sqlite3_column_int64(st, 0);
		a->entry_id = sqlite3_column_int64(st, 1);
		a->at = sqlite3_column_int64(st, 2);
		a->who = reg_col_dup(st, 3);
		a->action = reg_col_dup(st, 4);
		a->old_status = reg_col_dup(st, 5);
		a->new_status = reg_col_dup(st, 6);
		a->reason = reg_col_dup(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		reg_audit_free(*v, *n);
		*v = NULL;
		*n = 0;
		return reg_db_err(r, err, errlen, "history");
	}
	return 0;
}

int
registry_allowed(struct registry *r, struct pc_addr **v, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (reg_prep(r, "SELECT address FROM entries WHERE status = 'active' "
	    "AND expires > ?1 ORDER BY address", &st, err, errlen) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, reg_now(r));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		/* Stored canonical by us; a row that does not parse is skipped. */
		if (s != NULL && pc_addr_parse(s, &(*v)[*n], NULL, 0) == 0)
			(*n)++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*v);
		*v = NULL;
		*n = 0;
		return reg_db_err(r, err, errlen, "allowed addresses");
	}
	return 0;
}

int
registry_version(struct registry *r, int64_t *version, char *err,
    size_t errlen)
{
	return reg_pragma_int(r, "SELECT value FROM meta WHERE key = 'changes'",
	    version, err, errlen);
}

void
reg_entry_free(struct reg_entry *e)
{
	if (e == NULL)
		return;
	free(e->account);
	free(e->hostname);
	free(e->domain);
	free(e->checks);
	free(e->note);
	memset(e, 0, sizeof(*e));
}

void
reg_entries_free(struct reg_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		reg_entry_free(&v[i]);
	free(v);
}

void
reg_audit_free(struct reg_audit *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].who);
		free(v[i].action);
		free(v[i].old_status);
		free(v[i].new_status);
		free(v[i].reason);
	}
	free(v);
}
