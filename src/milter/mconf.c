/*
 * mconf.c - the milter's configuration table and its reload machinery.
 *
 * The table is the single description of every key: the parser, the
 * defaults, the sample file and the man page are checked against it by
 * t/unit/test_mconf.c.  Keys of the contract that this version does not
 * implement yet are listed as such, so a file that uses one fails with a
 * clear message instead of "unknown key" or, worse, silent acceptance.
 */
#include "mconf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rlconf.h"
#include "log.h"
#include "spf.h"
#include "util.h"

static const char *const policy_names[] = { "any", "exact", "domain", "map", NULL };
static const char *const onerr_names[] = { "tempfail", "accept", NULL };

#define OFF(f) offsetof(struct mconf, f)

const struct pc_cfkey mconf_keys[] = {
	{ "Socket", PC_CF_STRING, "inet:8891@127.0.0.1", OFF(socket), NULL, 0, 0, NULL, NULL },
	{ "User", PC_CF_STRING, NULL, OFF(user), NULL, 0, 0, NULL, NULL },
	{ "PidFile", PC_CF_STRING, NULL, OFF(pidfile), NULL, 0, 0, NULL, NULL },
	{ "SyslogFacility", PC_CF_STRING, "mail", OFF(syslog_facility), NULL, 0, 0, NULL, NULL },
	{ "LogFile", PC_CF_STRING, NULL, OFF(logfile), NULL, 0, 0, NULL, NULL },
	{ "RequireAuth", PC_CF_BOOL, "yes", OFF(require_auth), NULL, 0, 0, NULL, NULL },
	{ "RequireTLS", PC_CF_BOOL, "no", OFF(require_tls), NULL, 0, 0, NULL, NULL },
	{ "TrustedNetworks", PC_CF_NETLIST, NULL, OFF(trusted), NULL, 0, 0, NULL, NULL },
	{ "AccountDomain", PC_CF_STRING, NULL, OFF(account_domain), NULL, 0, 0, NULL, NULL },
	{ "SenderPolicy", PC_CF_ENUM, "domain", OFF(sender_policy), policy_names, 0, 0, NULL, NULL },
	{ "SenderMap", PC_CF_STRING, NULL, OFF(sender_map_path), NULL, 0, 0, NULL, NULL },
	{ "CheckHeaderFrom", PC_CF_BOOL, "yes", OFF(check_header_from), NULL, 0, 0, NULL, NULL },
	{ "OnInternalError", PC_CF_ENUM, "tempfail", OFF(on_error), onerr_names, 0, 0, NULL, NULL },
	/* Rate limits and the stolen-account response: parsed in rlconf.c. */
	{ "RateLimit", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_ratelimit, limits_free },
	{ "RateLimitMap", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_map, NULL },
	{ "RateLimitAction", PC_CF_CUSTOM, "tempfail", 0, NULL, 0, 0, limits_parse_action, NULL },
	{ "RateLimitBackend", PC_CF_CUSTOM, "memory", 0, NULL, 0, 0, limits_parse_backend, NULL },
	{ "SuspendAfter", PC_CF_CUSTOM, "0", 0, NULL, 0, 0, limits_parse_suspend, NULL },
	{ "DistinctAddressLimit", PC_CF_CUSTOM, "0", 0, NULL, 0, 0, limits_parse_distinct, NULL },
	{ "NotifyCommand", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_notify, NULL },
	{ "MetricsListen", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_metrics, NULL },
	{ "ControlSocket", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_control, NULL },
	{ "StateFile", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, limits_parse_state, NULL },
	{ "SPFCheck", PC_CF_CUSTOM, "off", 0, NULL, 0, 0, spf_conf_parse_check, spf_conf_free },
	{ "SPFRelayAddress", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, spf_conf_parse_relay, NULL },
	{ "Resolver", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, spf_conf_parse_resolver, NULL },
	{ "OriginStamp", PC_CF_CUSTOM, "no", 0, NULL, 0, 0, spf_conf_parse_stamp, NULL },
	{ "OriginKeyFile", PC_CF_CUSTOM, NULL, 0, NULL, 0, 0, spf_conf_parse_keyfile, NULL },
};
const size_t mconf_nkeys = PC_ARRAY_LEN(mconf_keys);

/* Checks that need more than one key, and loads the files keys name. */
static int
mconf_finish(struct mconf *c, char *err, size_t errlen)
{
	const char *where = c->path != NULL ? c->path : "built-in defaults";
	int fac;

	if (pc_log_facility_parse(c->syslog_facility, &fac) < 0)
		return pc_err(err, errlen, "%s: SyslogFacility: unknown "
		    "facility \"%s\"", where, c->syslog_facility);
	if (strncmp(c->socket, "inet:", 5) != 0 &&
	    strncmp(c->socket, "inet6:", 6) != 0 &&
	    strncmp(c->socket, "unix:", 5) != 0 &&
	    strncmp(c->socket, "local:", 6) != 0)
		return pc_err(err, errlen, "%s: Socket: \"%s\" is not "
		    "inet:PORT@HOST, inet6:PORT@HOST or unix:PATH", where,
		    c->socket);
	if (c->sender_policy == SENDER_MAP && c->sender_map_path == NULL)
		return pc_err(err, errlen, "%s: SenderPolicy map needs "
		    "SenderMap", where);
	if (c->sender_map_path != NULL &&
	    pc_map_load(c->sender_map_path, &c->sender_map, err, errlen) < 0)
		return -1;
	if (c->account_domain != NULL)
		pc_str_lower(c->account_domain);
	if (limits_finish(c, where, err, errlen) < 0)
		return -1;
	if (spf_conf_finish(c, where, err, errlen) < 0)
		return -1;
	return 0;
}

struct mconf *
mconf_load(const char *path, char *err, size_t errlen)
{
	struct mconf *c = xcalloc(1, sizeof(*c));
	int rc;

	pc_netlist_init(&c->trusted);
	if (path != NULL)
		rc = pc_config_load(mconf_keys, mconf_nkeys, c, path, err, errlen);
	else
		rc = pc_config_defaults(mconf_keys, mconf_nkeys, c, err, errlen);
	if (rc < 0) {
		free(c);
		return NULL;
	}
	c->path = path != NULL ? xstrdup(path) : NULL;
	c->refs = 1;
	if (mconf_finish(c, err, errlen) < 0) {
		mconf_free(c);
		return NULL;
	}
	return c;
}

void
mconf_free(struct mconf *c)
{
	if (c == NULL)
		return;
	pc_config_free(mconf_keys, mconf_nkeys, c);
	if (c->sender_map != NULL)
		pc_map_free(c->sender_map);
	free(c->path);
	free(c);
}

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mconf *live;

void
mconf_install(struct mconf *c)
{
	struct mconf *old;

	pthread_mutex_lock(&live_lock);
	old = live;
	live = c;
	pthread_mutex_unlock(&live_lock);
	mconf_release(old);
}

struct mconf *
mconf_acquire(void)
{
	struct mconf *c;

	pthread_mutex_lock(&live_lock);
	c = live;
	if (c != NULL)
		c->refs++;
	pthread_mutex_unlock(&live_lock);
	return c;
}

void
mconf_release(struct mconf *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&live_lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&live_lock);
	if (last)
		mconf_free(c);
}
