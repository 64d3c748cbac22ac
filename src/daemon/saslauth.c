/*
 * saslauth.c - HTTP Basic credentials checked by Cyrus SASL; see saslauth.h.
 */
#include "saslauth.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sasl/sasl.h>

#include "log.h"
#include "util.h"

static char *conf_path;
static char *service;
/*
 * Cyrus SASL's own locking is a no-op unless sasl_set_mutex() is given
 * functions, and auxprop back ends (sasldb) are not all thread-safe:
 * the HTTP workers check one password at a time.
 */
static pthread_mutex_t check_lock = PTHREAD_MUTEX_INITIALIZER;

static int
get_path(void *context, const char **path)
{
	(void)context;
	*path = conf_path;
	return SASL_OK;
}

static int
sasl_log(void *context, int level, const char *message)
{
	(void)context;
	if (level <= SASL_LOG_ERR)
		pc_log_err("sasl: %s", message != NULL ? message : "");
	else if (level <= SASL_LOG_WARN)
		pc_log_warn("sasl: %s", message != NULL ? message : "");
	return SASL_OK;
}

typedef int (*sasl_cb_fn)(void);

static sasl_callback_t callbacks[] = {
	{ SASL_CB_LOG, (sasl_cb_fn)(void (*)(void))sasl_log, NULL },
	{ SASL_CB_GETCONFPATH, NULL, NULL },
	{ SASL_CB_LIST_END, NULL, NULL },
};

int
saslauth_init(const char *svc, const char *config_path, char *err,
    size_t errlen)
{
	int rc;

	service = xstrdup(svc);
	if (config_path != NULL) {
		conf_path = xstrdup(config_path);
		callbacks[1].proc = (sasl_cb_fn)(void (*)(void))get_path;
	} else
		callbacks[1].id = SASL_CB_LIST_END;
	if ((rc = sasl_server_init(callbacks, service)) != SASL_OK)
		return pc_err(err, errlen, "Cyrus SASL: cannot initialise (%s)",
		    sasl_errstring(rc, NULL, NULL));
	return 0;
}

int
saslauth_check(const char *user, const char *password, char *err,
    size_t errlen)
{
	sasl_conn_t *conn = NULL;
	int rc;

	pthread_mutex_lock(&check_lock);
	rc = sasl_server_new(service, NULL, NULL, NULL, NULL, NULL, 0, &conn);
	if (rc != SASL_OK) {
		pc_err(err, errlen, "Cyrus SASL: %s",
		    sasl_errstring(rc, NULL, NULL));
		pthread_mutex_unlock(&check_lock);
		return SASLAUTH_TEMP;
	}
	rc = sasl_checkpass(conn, user, (unsigned)strlen(user), password,
	    (unsigned)strlen(password));
	if (rc != SASL_OK)
		pc_err(err, errlen, "%s", sasl_errdetail(conn));
	sasl_dispose(&conn);
	pthread_mutex_unlock(&check_lock);
	switch (rc) {
	case SASL_OK:
		return SASLAUTH_OK;
	case SASL_BADAUTH:
	case SASL_NOUSER:
	case SASL_NOAUTHZ:
	case SASL_DISABLED:
	case SASL_EXPIRED:
	case SASL_BADPARAM:
		return SASLAUTH_BAD;
	default:
		return SASLAUTH_TEMP;
	}
}

void
saslauth_done(void)
{
	sasl_server_done();
	free(conf_path);
	free(service);
	conf_path = service = NULL;
}
