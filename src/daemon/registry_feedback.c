/*
 * registry_feedback.c - what subscribers and visitors tell the ISP about
 * the port-25 policy (POST /api/v1/feedback), kept in the registry's
 * database beside the entries but apart from them: feedback changes no
 * entry, so it has no audit row and does not bump the change counter.
 */
#include "registry_int.h"

#include <stdlib.h>

#include "util.h"

int
registry_feedback_add(struct registry *r, const char *account,
    const char *address, const char *contact, const char *message,
    int64_t *id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	char *c = NULL, *m, *a = NULL;
	int rc = -1;

	if (message == NULL || *message == '\0')
		return pc_err(err, errlen, "feedback needs a message");
	m = reg_clean_text(message, REG_FEEDBACK_MAX);
	if (contact != NULL && *contact != '\0')
		c = reg_clean_text(contact, 320);
	if (account != NULL)
		a = reg_clean_text(account, 320);
	if (reg_prep(r, "INSERT INTO feedback (at, account, address, contact, "
	    "message) VALUES (?1, ?2, ?3, ?4, ?5)", &st, err, errlen) == 0) {
		sqlite3_bind_int64(st, 1, reg_now(r));
		reg_bind_text(st, 2, a);
		reg_bind_text(st, 3, address != NULL ? address : "");
		reg_bind_text(st, 4, c);
		reg_bind_text(st, 5, m);
		if (reg_step_done(r, st, err, errlen) == 0) {
			if (id != NULL)
				*id = sqlite3_last_insert_rowid(r->db);
			rc = 0;
		}
	}
	free(a);
	free(c);
	free(m);
	return rc;
}

int
registry_feedback_list(struct registry *r, struct reg_feedback **v,
    size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	if (reg_prep(r, "SELECT id, at, account, address, contact, message "
	    "FROM feedback ORDER BY id", &st, err, errlen) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_feedback *f;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*v = xrealloc(*v, cap * sizeof(**v));
		}
		f = &(*v)[(*n)++];
		f->id = sqlite3_column_int64(st, 0);
		f->at = sqlite3_column_int64(st, 1);
		f->account = reg_col_dup(st, 2);
		f->address = reg_col_dup(st, 3);
		f->contact = reg_col_dup(st, 4);
		f->message = reg_col_dup(st, 5);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		reg_feedback_free(*v, *n);
		*v = NULL;
		*n = 0;
		return reg_db_err(r, err, errlen, "feedback list");
	}
	return 0;
}

void
reg_feedback_free(struct reg_feedback *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].account);
		free(v[i].address);
		free(v[i].contact);
		free(v[i].message);
	}
	free(v);
}
