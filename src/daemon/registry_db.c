/*
 * registry_db.c - the registry's plumbing: its clock, and the small SQLite
 * statement helpers every registry file uses, so that an error from
 * SQLite reaches the caller the same way from all of them.
 */
#include "registry_int.h"

#include <stdlib.h>
#include <time.h>

#include "util.h"

int64_t
reg_now(const struct registry *r)
{
	return r->fixed_now != 0 ? r->fixed_now : (int64_t)time(NULL);
}

int
reg_db_err(struct registry *r, char *err, size_t errlen, const char *what)
{
	return pc_err(err, errlen, "registry: %s: %s", what,
	    sqlite3_errmsg(r->db));
}

int
reg_exec(struct registry *r, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(r->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		pc_err(err, errlen, "registry: %s", msg != NULL ? msg :
		    sqlite3_errmsg(r->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
reg_prep(struct registry *r, const char *sql, sqlite3_stmt **st, char *err,
    size_t errlen)
{
	if (sqlite3_prepare_v2(r->db, sql, -1, st, NULL) != SQLITE_OK)
		return reg_db_err(r, err, errlen, "prepare");
	return 0;
}

void
reg_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Runs a statement that returns no rows and finalizes it. */
int
reg_step_done(struct registry *r, sqlite3_stmt *st, char *err, size_t errlen)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return reg_db_err(r, err, errlen, "write");
	return 0;
}

/* The one integer a PRAGMA or a one-row, one-column SELECT returns. */
int
reg_pragma_int(struct registry *r, const char *sql, int64_t *out, char *err,
    size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (reg_prep(r, sql, &st, err, errlen) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : reg_db_err(r, err, errlen, sql);
}

char *
reg_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? xstrdup((const char *)s) : NULL;
}
