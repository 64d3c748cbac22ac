/*
 * session.c - connection and message contexts.
 */
#include "session.h"

#include <stdlib.h>
#include <string.h>

struct session *
session_new(struct mconf *conf)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	dstr_init(&s->from_hdrs);
	dstr_init(&s->header_from);
	return s;
}

void
session_reset_message(struct session *s)
{
	s->qid[0] = s->from[0] = s->msgid[0] = '\0';
	dstr_clear(&s->from_hdrs);
	dstr_clear(&s->header_from);
	s->n_from_hdrs = 0;
	s->rcpts = 0;
	s->size = 0;
	s->rl_hold = 0;
	s->rl_note[0] = '\0';
	memset(&s->spf, 0, sizeof(s->spf));
	s->own_hdrs[0] = s->own_hdrs[1] = 0;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	mconf_release(s->conf);
	dstr_free(&s->from_hdrs);
	dstr_free(&s->header_from);
	free(s);
}

void
session_set(char *dst, size_t dstlen, const char *value)
{
	pc_strlcpy(dst, value != NULL ? value : "", dstlen);
}
