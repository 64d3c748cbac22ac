/*
 * dconf.h - portcullisd.conf: the key table and loading.  portcullisd
 * and portcullisctl read the same file, through the same table.
 */
#ifndef PC_DCONF_H
#define PC_DCONF_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "netaddr.h"

#define DCONF_DEFAULT_PATH PC_SYSCONFDIR "/portcullisd.conf"

enum dconf_hook { DCONF_HOOK_FORWARD, DCONF_HOOK_OUTPUT };
enum dconf_block { DCONF_BLOCK_REJECT, DCONF_BLOCK_DROP };
enum dconf_ownership { DCONF_OWN_SOURCE, DCONF_OWN_MAP, DCONF_OWN_NONE };
enum dconf_approval { DCONF_APPROVAL_AUTO, DCONF_APPROVAL_MANUAL };

struct pc_map;

struct dconf {
	char *database;
	char *user;
	char *pidfile;
	char *syslog_facility;
	struct pc_netlist subscribers;	/* required */
	struct pc_netlist pools;
	uint64_t lifetime;		/* seconds */
	int rule_format;		/* index into dconf_rule_formats */
	char *rule_file;
	char *apply_command;
	char *nft_table;
	int nft_hook;
	int block_action;
	/* Self-service registration: the HTTP server, login and checks. */
	char *listen;			/* ADDRESS:PORT */
	struct pc_addr listen_addr;
	unsigned listen_port;
	char *tls_cert, *tls_key;
	struct pc_netlist trusted_proxies;
	char *sasl_service;
	char *sasl_config_path;
	char *router_token_file;
	char *ownership_check;		/* as written */
	int ownership;			/* enum dconf_ownership */
	struct pc_map *ownership_map;	/* OwnershipCheck map:FILE */
	int require_ptr, require_spf;
	struct pc_strlist dnsbl;
	char *resolver;			/* NULL: the system's resolv.conf */
	struct pc_addr resolver_addr;
	unsigned resolver_port;
	int approval_mode;		/* enum dconf_approval */
	uint64_t revalidate_every;	/* seconds */
	char *contact_address;
	char *notify_command;
	char *milter_control_socket;	/* NULL: the milter is not asked */

	char *path;			/* the file this came from */
};

extern const struct pc_cfkey dconf_keys[];
extern const size_t dconf_nkeys;
/* RuleFormat's spellings, in the order of enum rules_format. */
extern const char *const dconf_rule_formats[];

/* Reads path; every error names the file, the line and the key. */
struct dconf *dconf_load(const char *path, char *err, size_t errlen);
void dconf_free(struct dconf *c);
/*
 * "ADDRESS[:PORT]" or "[IPv6][:PORT]" (Listen, Resolver); a bare IPv6
 * address takes dflt_port.  0, or -1 with err naming the value.
 */
int dconf_parse_hostport(const char *s, unsigned dflt_port,
    struct pc_addr *a, unsigned *port, char *err, size_t errlen);


#endif
