/*
 * dconf.c - portcullisd.conf's key table.
 *
 * The table is the single description of every key: the parser, the
 * defaults, the sample file and the man page are checked against it by
 * t/unit/test_registry.c.
 */
#include "dconf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "log.h"
#include "maps.h"
#include "registry.h"
#include "rules.h"
#include "util.h"

const char *const dconf_rule_formats[] = { "nft", "iptables", "pf", "plain", NULL };
static const char *const hook_names[] = { "forward", "output", NULL };
static const char *const block_names[] = { "reject", "drop", NULL };
static const char *const approval_names[] = { "auto", "manual", NULL };

#define OFF(f) offsetof(struct dconf, f)

const struct pc_cfkey dconf_keys[] = {
	{ "Database", PC_CF_STRING, "/var/lib/portcullis/registry.db", OFF(database), NULL, 0, 0, NULL, NULL },
	{ "User", PC_CF_STRING, NULL, OFF(user), NULL, 0, 0, NULL, NULL },
	{ "PidFile", PC_CF_STRING, NULL, OFF(pidfile), NULL, 0, 0, NULL, NULL },
	{ "SyslogFacility", PC_CF_STRING, "daemon", OFF(syslog_facility), NULL, 0, 0, NULL, NULL },
	{ "SubscriberNetworks", PC_CF_NETLIST, NULL, OFF(subscribers), NULL, 0, 0, NULL, NULL },
	{ "DynamicPools", PC_CF_NETLIST, NULL, OFF(pools), NULL, 0, 0, NULL, NULL },
	{ "EntryLifetime", PC_CF_DURATION, "90d", OFF(lifetime), NULL, 1, PC_DURATION_MAX, NULL, NULL },
	{ "RuleFormat", PC_CF_ENUM, "nft", OFF(rule_format), dconf_rule_formats, 0, 0, NULL, NULL },
	{ "RuleFile", PC_CF_STRING, "/var/lib/portcullis/egress.rules", OFF(rule_file), NULL, 0, 0, NULL, NULL },
	{ "ApplyCommand", PC_CF_STRING, NULL, OFF(apply_command), NULL, 0, 0, NULL, NULL },
	{ "NftTable", PC_CF_STRING, "inet portcullis", OFF(nft_table), NULL, 0, 0, NULL, NULL },
	{ "NftHook", PC_CF_ENUM, "forward", OFF(nft_hook), hook_names, 0, 0, NULL, NULL },
	{ "BlockAction", PC_CF_ENUM, "reject", OFF(block_action), block_names, 0, 0, NULL, NULL },
	{ "Listen", PC_CF_STRING, "127.0.0.1:8025", OFF(listen), NULL, 0, 0, NULL, NULL },
	{ "TLSCertificate", PC_CF_STRING, NULL, OFF(tls_cert), NULL, 0, 0, NULL, NULL },
	{ "TLSKey", PC_CF_STRING, NULL, OFF(tls_key), NULL, 0, 0, NULL, NULL },
	{ "TrustedProxies", PC_CF_NETLIST, NULL, OFF(trusted_proxies), NULL, 0, 0, NULL, NULL },
	{ "SASLService", PC_CF_STRING, "portcullis", OFF(sasl_service), NULL, 0, 0, NULL, NULL },
	{ "SASLConfigPath", PC_CF_STRING, NULL, OFF(sasl_config_path), NULL, 0, 0, NULL, NULL },
	{ "RouterTokenFile", PC_CF_STRING, NULL, OFF(router_token_file), NULL, 0, 0, NULL, NULL },
	{ "OwnershipCheck", PC_CF_STRING, "source-address", OFF(ownership_check), NULL, 0, 0, NULL, NULL },
	{ "RequirePTR", PC_CF_BOOL, "yes", OFF(require_ptr), NULL, 0, 0, NULL, NULL },
	{ "RequireSPF", PC_CF_BOOL, "no", OFF(require_spf), NULL, 0, 0, NULL, NULL },
	{ "DNSBL", PC_CF_STRLIST, NULL, OFF(dnsbl), NULL, 0, 0, NULL, NULL },
	{ "Resolver", PC_CF_STRING, NULL, OFF(resolver), NULL, 0, 0, NULL, NULL },
	{ "ApprovalMode", PC_CF_ENUM, "auto", OFF(approval_mode), approval_names, 0, 0, NULL, NULL },
	{ "RevalidateEvery", PC_CF_DURATION, "1d", OFF(revalidate_every), NULL, 1, PC_DURATION_MAX, NULL, NULL },
	{ "ContactAddress", PC_CF_STRING, NULL, OFF(contact_address), NULL, 0, 0, NULL, NULL },
	{ "NotifyCommand", PC_CF_STRING, NULL, OFF(notify_command), NULL, 0, 0, NULL, NULL },
	{ "MilterControlSocket", PC_CF_STRING, NULL, OFF(milter_control_socket), NULL, 0, 0, NULL, NULL },
};
const size_t dconf_nkeys = PC_ARRAY_LEN(dconf_keys);

/* "FAMILY NAME" as nft spells a table: inet, ip or ip6, then an identifier. */
static int
nft_table_ok(const char *s)
{
	static const char *const families[] = { "inet ", "ip ", "ip6 " };
	size_t i, n;

	for (i = 0; i < PC_ARRAY_LEN(families); i++) {
		n = strlen(families[i]);
		if (strncmp(s, families[i], n) == 0)
			break;
	}
	if (i == PC_ARRAY_LEN(families))
		return 0;
	s += n;
	if (!isalpha((unsigned char)*s) || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return 0;
	return 1;
}

int
dconf_parse_hostport(const char *s, unsigned dflt_port, struct pc_addr *a,
    unsigned *port, char *err, size_t errlen)
{
	char host[PC_ADDR_STRLEN + 2], why[256];
	const char *colon = strrchr(s, ':'), *p = NULL;
	unsigned long v;
	char *end;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return pc_err(err, errlen, "\"%s\" is not [ADDRESS]:PORT", s);
		n = (size_t)(rb - s - 1);
		p = rb[1] == ':' ? rb + 2 : NULL;
		s++;
	} else if (colon != NULL && strchr(s, ':') == colon) {
		n = (size_t)(colon - s);	/* IPv4:PORT */
		p = colon + 1;
	} else
		n = strlen(s);			/* IPv4 or bare IPv6 */
	if (n == 0 || n >= sizeof(host))
		return pc_err(err, errlen, "\"%s\" has no address", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (pc_addr_parse(host, a, why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s", why);
	*port = dflt_port;
	if (p != NULL) {
		v = strtoul(p, &end, 10);
		if (*p == '\0' || *end != '\0' || v == 0 || v > 65535 ||
		    !isdigit((unsigned char)*p))
			return pc_err(err, errlen, "\"%s\" is not a port "
			    "number", p);
		*port = (unsigned)v;
	}
	if (*port == 0)
		return pc_err(err, errlen, "\"%s\" needs a port", host);
	return 0;
}

/* OwnershipCheck, Listen, Resolver and the TLS pair. */
static int
dconf_finish_http(struct dconf *c, char *err, size_t errlen)
{
	const char *o = c->ownership_check;
	char why[512];

	if (dconf_parse_hostport(c->listen, 0, &c->listen_addr,
	    &c->listen_port, why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s: Listen: %s", c->path, why);
	if (c->resolver != NULL && dconf_parse_hostport(c->resolver, 53,
	    &c->resolver_addr, &c->resolver_port, why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s: Resolver: %s", c->path, why);
	if (c->resolver != NULL && c->resolver_addr.family != AF_INET)
		return pc_err(err, errlen, "%s: Resolver: only an IPv4 "
		    "resolver address is supported", c->path);
	if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		return pc_err(err, errlen, "%s: TLSCertificate and TLSKey go "
		    "together", c->path);
	if (strcmp(o, "source-address") == 0)
		c->ownership = DCONF_OWN_SOURCE;
	else if (strcmp(o, "none") == 0)
		c->ownership = DCONF_OWN_NONE;
	else if (strncmp(o, "map:", 4) == 0 && o[4] != '\0') {
		c->ownership = DCONF_OWN_MAP;
		if (pc_map_load(o + 4, &c->ownership_map, why, sizeof(why)) < 0)
			return pc_err(err, errlen, "%s: OwnershipCheck: %s",
			    c->path, why);
	} else
		return pc_err(err, errlen, "%s: OwnershipCheck: \"%s\" is not "
		    "source-address, map:FILE or none", c->path, o);
	return 0;
}

/* MilterControlSocket: a unix socket's absolute path. */
static int
milter_socket_ok(const struct dconf *c, char *err, size_t errlen)
{
	const char *p = c->milter_control_socket;
	struct sockaddr_un sun;

	if (p == NULL)
		return 0;
	if (p[0] != '/')
		return pc_err(err, errlen, "%s: MilterControlSocket: \"%s\" is "
		    "not an absolute path (the milter's ControlSocket)", c->path,
		    p);
	if (strlen(p) >= sizeof(sun.sun_path))
		return pc_err(err, errlen, "%s: MilterControlSocket: longer than "
		    "the %zu bytes of a unix socket path", c->path,
		    sizeof(sun.sun_path) - 1);
	return 0;
}

/* Checks that need more than one key. */
static int
dconf_finish(struct dconf *c, char *err, size_t errlen)
{
	int fac;

	if (c->subscribers.n == 0)
		return pc_err(err, errlen, "%s: SubscriberNetworks: required "
		    "(the customer ranges port 25 is blocked for)", c->path);
	if (pc_log_facility_parse(c->syslog_facility, &fac) < 0)
		return pc_err(err, errlen, "%s: SyslogFacility: unknown "
		    "facility \"%s\"", c->path, c->syslog_facility);
	if (!nft_table_ok(c->nft_table))
		return pc_err(err, errlen, "%s: NftTable: \"%s\" is not "
		    "\"inet|ip|ip6 NAME\"", c->path, c->nft_table);
	if (*c->database == '\0' || *c->rule_file == '\0')
		return pc_err(err, errlen, "%s: Database and RuleFile need a "
		    "file name", c->path);
	if (milter_socket_ok(c, err, errlen) < 0)
		return -1;
	return dconf_finish_http(c, err, errlen);
}

struct dconf *
dconf_load(const char *path, char *err, size_t errlen)
{
	struct dconf *c = xcalloc(1, sizeof(*c));

	pc_netlist_init(&c->subscribers);
	pc_netlist_init(&c->pools);
	pc_netlist_init(&c->trusted_proxies);
	if (pc_config_load(dconf_keys, dconf_nkeys, c, path, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	c->path = xstrdup(path);
	if (dconf_finish(c, err, errlen) < 0) {
		dconf_free(c);
		return NULL;
	}
	return c;
}

void
dconf_free(struct dconf *c)
{
	if (c == NULL)
		return;
	pc_config_free(dconf_keys, dconf_nkeys, c);
	pc_map_free(c->ownership_map);
	free(c->path);
	free(c);
}
