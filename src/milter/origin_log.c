/*
 * origin_log.c - builds the contract's origin fields from a session and
 * hands them to the shared logger, which escapes and caps everything the
 * client could have chosen.
 */
#include "origin_log.h"

#include "log.h"
#include "util.h"

void
origin_log(const struct session *s, const char *event, const char *action,
    const char *reason)
{
	char rcpts[PC_U64_STRLEN], size[PC_U64_STRLEN];

	pc_u64_str(rcpts, s->rcpts);
	pc_u64_str(size, s->size);
	{
		/* trusted = 1: we produced the value; 0: the client chose it. */
		const struct pc_logfield f[] = {
			{ "event", event, 1 },
			{ "qid", s->qid, 0 },
			{ "account", s->account, 0 },
			{ "auth_type", s->auth_type, 0 },
			{ "ip", s->ip, 1 },
			{ "port", s->port, 1 },
			{ "ptr", s->ptr, 0 },
			{ "helo", s->helo, 0 },
			{ "daemon", s->daemon, 0 },
			{ "tls", s->tls[0] != '\0' ? s->tls : "none", 0 },
			{ "cipher", s->cipher, 0 },
			{ "from", s->from, 0 },
			{ "header_from", s->header_from.buf, 0 },
			{ "rcpts", rcpts, 1 },
			{ "size", size, 1 },
			{ "msgid", s->msgid, 0 },
			{ "action", action, 1 },
			{ "reason", reason, 0 },
		};

		pc_log_event(f, PC_ARRAY_LEN(f));
	}
}
