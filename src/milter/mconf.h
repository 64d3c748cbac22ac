/*
 * mconf.h - portcullis-milter's configuration: the key table, loading,
 * and the reference-counted "current" configuration that reload swaps.
 * A connection keeps the configuration it started with until it ends.
 */
#ifndef PC_MCONF_H
#define PC_MCONF_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "maps.h"
#include "netaddr.h"

enum sender_policy { SENDER_ANY, SENDER_EXACT, SENDER_DOMAIN, SENDER_MAP };
enum on_error { ONERR_TEMPFAIL, ONERR_ACCEPT };

struct rl_conf;
struct spf_conf;

#define MCONF_DEFAULT_PATH PC_SYSCONFDIR "/portcullis-milter.conf"

struct mconf {
	char *socket;
	char *user;
	char *pidfile;
	char *syslog_facility;
	char *logfile;
	int require_auth;
	int require_tls;
	struct pc_netlist trusted;
	char *account_domain;
	int sender_policy;
	char *sender_map_path;
	int check_header_from;
	int on_error;

	/* Built from the keys above after parsing. */
	struct pc_map *sender_map;
	struct rl_conf *rl;	/* rate limits etc.: limits.h */
	struct spf_conf *spf;	/* SPF and the origin stamp: spf_conf.c */
	char *path;		/* the file this came from, or NULL */
	unsigned refs;		/* guarded by the lock in mconf.c */
};

extern const struct pc_cfkey mconf_keys[];
extern const size_t mconf_nkeys;

/* Reads path (NULL: built-in defaults only) and the files it names. */
struct mconf *mconf_load(const char *path, char *err, size_t errlen);
void mconf_free(struct mconf *c);

/* The live configuration: install() takes ownership; acquire() pins it. */
void mconf_install(struct mconf *c);
struct mconf *mconf_acquire(void);
void mconf_release(struct mconf *c);

#endif
