/*
 * registry_int.h - what the registry's files share: the handle, its clock
 * and SQLite statement helpers (registry_db.c), and the checks on what
 * callers hand in (regcheck.c).  Private to src/daemon/registry*.c and
 * regcheck.c: not part of registry.h's API, and nothing else should
 * include it.
 */
#ifndef PC_REGISTRY_INT_H
#define PC_REGISTRY_INT_H

#include "registry.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct registry {
	sqlite3 *db;
	uint64_t lifetime;	/* EntryLifetime in seconds */
	int64_t fixed_now;	/* registry_set_time(); 0 = the real clock */
};

/* registry_db.c */
/* Unix seconds now, or the time registry_set_time() fixed. */
int64_t reg_now(const struct registry *r);
/* Sets err to "registry: what: <SQLite's message>"; returns -1. */
int reg_db_err(struct registry *r, char *err, size_t errlen, const char *what);
int reg_exec(struct registry *r, const char *sql, char *err, size_t errlen);
int reg_prep(struct registry *r, const char *sql, sqlite3_stmt **st,
    char *err, size_t errlen);
/* Binds s, or SQL NULL when s is NULL. */
void reg_bind_text(sqlite3_stmt *st, int i, const char *s);
/* Runs a statement that returns no rows and finalizes it. */
int reg_step_done(struct registry *r, sqlite3_stmt *st, char *err,
    size_t errlen);
/* The one integer a PRAGMA or a one-row, one-column SELECT returns. */
int reg_pragma_int(struct registry *r, const char *sql, int64_t *out,
    char *err, size_t errlen);
/* A copy of a text column; NULL for SQL NULL. */
char *reg_col_dup(sqlite3_stmt *st, int i);

/*
 * Which stored accounts a lookup by account names (registry suspend
 * --account, the suspended-entry check of registrations).  Accounts are
 * stored and looked up in lower case.  The milter adds AccountDomain to
 * a bare login (alice -> alice@dom) while portcullisd stores the login
 * as the subscriber typed it, so the two forms name one account:
 * "alice@dom" also matches a stored bare "alice", and a bare "alice"
 * also matches "alice@ANY".  "alice@a" never matches "alice@b".
 * ?1 is the lower-case account, ?3 reg_account_local() of it (or NULL).
 */
#define REG_ACCOUNT_MATCH_SQL "(account = ?1 OR account = ?3 OR " \
	"(instr(?1, '@') = 0 AND substr(account, 1, length(?1) + 1) = " \
	"?1 || '@' AND instr(substr(account, length(?1) + 2), '@') = 0))"
/* The bare local part of a qualified lower-case account, or NULL. */
char *reg_account_local(const char *account);

/* regcheck.c */
/* Free text (notes, reasons, who): control bytes become spaces, capped. */
char *reg_clean_text(const char *s, size_t cap);
/* Accounts: printable, no white space; the caller stores them in lower case. */
int reg_check_account(const char *s, char *err, size_t errlen);
/*
 * A DNS name in letters, digits and hyphens, returned in lower case with
 * a final dot dropped; NULL with err naming what (e.g. "hostname") if s
 * is not one.
 */
char *reg_clean_dnsname(const char *s, const char *what, char *err,
    size_t errlen);
/* Parses text into a, which must be a unicast host address. */
int reg_check_host_address(const char *text, struct pc_addr *a, char *err,
    size_t errlen);

#endif
