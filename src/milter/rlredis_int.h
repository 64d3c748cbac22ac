/*
 * rlredis_int.h - what the files of RateLimitBackend redis share beyond
 * rlredis.h: the script (rlredis_script.c), the back-off bookkeeping
 * (rlredis_health.c) and the reading of error answers (rlredis_parse.c),
 * all used by the connections and operations in rlredis.c.  Private to
 * those files: nothing else should include it.
 */
#ifndef PC_RLREDIS_INT_H
#define PC_RLREDIS_INT_H

#include "rlredis.h"

#include <stddef.h>

/* The Lua script of every check-and-update, loaded with SCRIPT LOAD. */
extern const char rlredis_script[];

/* An error answer as text; NULL when r is not one. */
const char *rlredis_reply_error(const struct redisReply *r);

/*
 * The process-wide health of each server.  rlredis_gate(): 0, go ahead;
 * -1 with err, in back-off: do not wait for the server.  After the
 * command, rlredis_went_ok() or rlredis_went_bad() (which returns -1)
 * record the outcome and log a change.
 */
int rlredis_gate(const struct rlredis_target *t, char *err, size_t errlen);
void rlredis_went_ok(const struct rlredis_target *t);
int rlredis_went_bad(const struct rlredis_target *t, const char *why);

#endif
