/*
 * origin_log.h - one line per decision, so the abuse desk can trace any
 * message back to the account and connection it came from.
 */
#ifndef PC_ORIGIN_LOG_H
#define PC_ORIGIN_LOG_H

#include "session.h"

/* event: origin, reject, tempfail or suspend; action: what the MTA was told. */
void origin_log(const struct session *s, const char *event,
    const char *action, const char *reason);

#endif
