/*
 * registry.h - the port-25 whitelist registry: subscriber mail servers,
 * their status, and an append-only audit trail of every change, kept in
 * SQLite.  portcullisd and portcullisctl both open it; SQLite's locking
 * serialises their writes.
 *
 * Status lifecycle (the transition table in registry.c is the authority):
 *
 *   add      (new)                          -> pending | active
 *   approve  pending, suspended             -> active   (fresh lifetime)
 *   renew    active, expired                -> active   (fresh lifetime)
 *   suspend  active                         -> suspended
 *   expire   active                         -> expired  (lifetime over)
 *   revoke   pending, active, suspended, expired -> revoked (final)
 *
 * A suspended entry cannot be renewed: suspension is an administrator's
 * or the abuse desk's decision, and only approve undoes it.  At most one
 * entry per address is pending, active or suspended at a time.
 */
#ifndef PC_REGISTRY_H
#define PC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"

enum reg_status {
	REG_PENDING,
	REG_ACTIVE,
	REG_SUSPENDED,
	REG_EXPIRED,
	REG_REVOKED,
	REG_NSTATUS
};

enum reg_action {
	REG_ADD,
	REG_APPROVE,
	REG_RENEW,
	REG_SUSPEND,
	REG_EXPIRE,
	REG_REVOKE,
	REG_NACTION
};

/* The most bytes kept of a note or reason; longer text is cut. */
#define REG_TEXT_MAX 1000
/* The audit's "who" for changes the daemon makes by itself. */
#define REG_WHO_DAEMON "portcullisd"

struct reg_entry {
	int64_t id;
	char *account;		/* lower case */
	char address[PC_ADDR_STRLEN];	/* canonical text */
	int family;		/* 4 or 6 */
	char *hostname;		/* NULL when not given */
	char *domain;
	enum reg_status status;
	int64_t created;	/* Unix seconds; 0 = never */
	int64_t verified;
	int64_t expires;
	char *checks;		/* JSON object text of the last checks, or NULL */
	char *note;
};

struct reg_audit {
	int64_t id;
	int64_t entry_id;
	int64_t at;
	char *who;
	char *action;
	char *old_status;	/* NULL for "add" */
	char *new_status;
	char *reason;		/* NULL when none was given */
};

/* What a new entry is made of; only account and address are required. */
struct reg_new {
	const char *address;
	const char *account;
	const char *hostname;
	const char *domain;
	const char *note;
	const char *checks;	/* JSON object text, or NULL */
	enum reg_status status;	/* REG_PENDING or REG_ACTIVE */
};

struct registry;

/*
 * Opens (creating if needed) the database at path and brings its schema
 * up to date.  lifetime is EntryLifetime in seconds.  NULL with err set on
 * failure, including a schema newer than this program knows.
 */
struct registry *registry_open(const char *path, uint64_t lifetime,
    char *err, size_t errlen);
void registry_close(struct registry *r);
void registry_set_lifetime(struct registry *r, uint64_t lifetime);
/* Fixes the clock at t (Unix seconds) for tests; 0 restores the real one. */
void registry_set_time(struct registry *r, int64_t t);
/* The schema version this program writes. */
int registry_schema_version(void);

/*
 * Adds an entry and its first audit row.  The address is canonicalised
 * (v4-mapped IPv6 becomes IPv4, IPv6 is RFC 5952 text); a second live
 * (pending, active or suspended) entry for one address is refused.
 */
int registry_add(struct registry *r, const struct reg_new *n, const char *who,
    const char *reason, int64_t *id, char *err, size_t errlen);
/*
 * Applies action to entry id if the transition table allows it from the
 * entry's status, and writes the audit row in the same transaction.
 * Refusals explain which statuses the action needs.
 */
int registry_change(struct registry *r, int64_t id, enum reg_action action,
    const char *who, const char *reason, char *err, size_t errlen);
/*
 * Suspends every active entry of account; *count says how many.  The
 * account is compared in lower case, and a bare login and the same login
 * with a domain name one account: "alice@dom" (the milter's form with
 * AccountDomain) reaches entries stored as "alice", and "alice" reaches
 * "alice@dom"; "alice@a" never reaches "alice@b".
 */
int registry_suspend_account(struct registry *r, const char *account,
    const char *who, const char *reason, unsigned *count, char *err,
    size_t errlen);
/* How many suspended entries account holds, matched as above. */
int registry_account_suspended(struct registry *r, const char *account,
    unsigned *count, char *err, size_t errlen);
/* Expires every active entry whose lifetime is over (who = portcullisd). */
int registry_expire_due(struct registry *r, unsigned *count, char *err,
    size_t errlen);

/* 0 found, 1 no such entry, -1 error. */
int registry_get(struct registry *r, int64_t id, struct reg_entry *e,
    char *err, size_t errlen);
/* status < 0 lists every entry.  Ordered by id. */
int registry_list(struct registry *r, int status, struct reg_entry **v,
    size_t *n, char *err, size_t errlen);
int registry_history(struct registry *r, int64_t id, struct reg_audit **v,
    size_t *n, char *err, size_t errlen);
/* The addresses that may send on port 25 now: active and unexpired. */
int registry_allowed(struct registry *r, struct pc_addr **v, size_t *n,
    char *err, size_t errlen);
/* A counter that every change increases, for cheap polling. */
int registry_version(struct registry *r, int64_t *version, char *err,
    size_t errlen);

void reg_entry_free(struct reg_entry *e);
void reg_entries_free(struct reg_entry *v, size_t n);
void reg_audit_free(struct reg_audit *v, size_t n);

const char *reg_status_name(enum reg_status s);
/* -1 if unknown. */
int reg_status_parse(const char *name);
const char *reg_action_name(enum reg_action a);

/*
 * This registration checks: the address must be inside one of
 * subscribers and outside every pool.  Appends the results as a JSON
 * object to checks_json (if not NULL) either way; -1 with err naming the
 * failed check.
 */
struct dstr;
int registry_check_networks(const struct pc_addr *a,
    const struct pc_netlist *subscribers, const struct pc_netlist *pools,
    struct dstr *checks_json, char *err, size_t errlen);

/*
 * Self-service registration.  registry_list_account lists every entry of
 * one account (compared in lower case), ordered by id.
 */
int registry_list_account(struct registry *r, const char *account,
    struct reg_entry **v, size_t *n, char *err, size_t errlen);
/*
 * Stores the last check results (JSON object text) of entry id; with
 * verified set, also stamps the verification time.  Not a status
 * change, so no audit row: status changes that follow a check are.
 */
int registry_set_checks(struct registry *r, int64_t id, const char *checks,
    int verified, char *err, size_t errlen);

/* Feedback about the port-25 policy; text is cleaned and capped. */
#define REG_FEEDBACK_MAX 4000
struct reg_feedback {
	int64_t id;
	int64_t at;
	char *account;		/* NULL when not logged in */
	char *address;		/* the client's address */
	char *contact;		/* NULL when none was given */
	char *message;
};
int registry_feedback_add(struct registry *r, const char *account,
    const char *address, const char *contact, const char *message,
    int64_t *id, char *err, size_t errlen);
int registry_feedback_list(struct registry *r, struct reg_feedback **v,
    size_t *n, char *err, size_t errlen);
void reg_feedback_free(struct reg_feedback *v, size_t n);

#endif
