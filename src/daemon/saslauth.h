/*
 * saslauth.h - subscriber passwords checked through Cyrus SASL
 * (sasl_server_new + sasl_checkpass), under the application name
 * SASLService, reading <SASLService>.conf from SASLConfigPath.
 *
 * Cyrus SASL is initialised once per process; a reload that changes
 * SASLService or SASLConfigPath takes effect at restart.
 */
#ifndef PC_SASLAUTH_H
#define PC_SASLAUTH_H

#include <stddef.h>

enum sasl_rc { SASLAUTH_OK = 0, SASLAUTH_BAD = 1, SASLAUTH_TEMP = -1 };

int saslauth_init(const char *service, const char *config_path, char *err,
    size_t errlen);
/* SASLAUTH_BAD for a wrong user or password, TEMP when SASL could not tell. */
int saslauth_check(const char *user, const char *password, char *err,
    size_t errlen);
void saslauth_done(void);

#endif
