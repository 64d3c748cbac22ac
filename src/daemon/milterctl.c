/*
 * milterctl.c - MilterControlSocket: is this account suspended by the
 * milter?  One "usage ACCOUNT" over the ControlSocket (control_client.c,
 * the same client portcullisctl uses), its "suspended" line read.
 *
 * What to do with MILTERCTL_UNKNOWN is the caller's policy (portcullisd
 * refuses as temporary); this file only never turns "no answer" into
 * "not suspended".
 */
#include "milterctl.h"

#include <string.h>

#include "control_client.h"
#include "util.h"

/* The milter's own refusal of a name it cannot use (control.c). */
#define MILTER_UNUSABLE "unusable account name"

/* since= as the milter writes it; anything else is dropped. */
static void
take_since(const char *v, size_t n, struct milterctl_suspension *s)
{
	size_t i;

	if (n == 0 || n >= sizeof(s->since))
		return;
	for (i = 0; i < n; i++)
		if (strchr("0123456789-:TZ", v[i]) == NULL || v[i] == '\0')
			return;
	memcpy(s->since, v, n);
	s->since[n] = '\0';
}

/* "yes[ since=T][ reason="R"]" of one line (len n, no newline). */
static void
take_details(const char *p, size_t n, struct milterctl_suspension *s)
{
	const char *end = p + n, *q, *r;
	size_t len;

	if ((q = strstr(p, " since=")) != NULL && q < end) {
		q += 7;
		for (r = q; r < end && *r != ' '; r++)
			;
		take_since(q, (size_t)(r - q), s);
	}
	if ((q = strstr(p, " reason=\"")) != NULL && q < end) {
		q += 9;
		/* The reason is not escaped: it runs to the line's last quote. */
		for (r = end; r > q && r[-1] != '"'; r--)
			;
		if (r > q) {
			len = (size_t)(r - 1 - q);
			if (len >= sizeof(s->reason))
				len = sizeof(s->reason) - 1;
			memcpy(s->reason, q, len);
			s->reason[len] = '\0';
		}
	}
}

enum milterctl_status
milterctl_parse_usage(const char *answer, struct milterctl_suspension *s)
{
	const char *line = answer, *nl, *v;
	size_t n;

	memset(s, 0, sizeof(*s));
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		n = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (n >= 10 && strncmp(line, "suspended ", 10) == 0) {
			v = line + 10;
			n -= 10;
			if (n == 2 && strncmp(v, "no", 2) == 0)
				return MILTERCTL_NOT_SUSPENDED;
			if (n >= 3 && strncmp(v, "yes", 3) == 0 &&
			    (n == 3 || v[3] == ' ')) {
				take_details(v + 3, n - 3, s);
				return MILTERCTL_SUSPENDED;
			}
			return MILTERCTL_UNKNOWN;	/* the first one decides */
		}
		if (nl == NULL)
			break;
	}
	return MILTERCTL_UNKNOWN;
}

enum milterctl_status
milterctl_account(const char *path, const char *account, unsigned timeout_ms,
    struct milterctl_suspension *s, char *err, size_t errlen)
{
	enum milterctl_status st = MILTERCTL_UNKNOWN;
	struct dstr line, out;
	char why[512];
	const char *p;

	memset(s, 0, sizeof(*s));
	/*
	 * The milter never suspends a login it cannot name (empty, spaces,
	 * control bytes: sender_account() refuses those and the mail with
	 * them), so there is nothing to ask; and sending such a name would
	 * ask about a different account.
	 */
	if (*account == '\0')
		return MILTERCTL_NOT_SUSPENDED;
	for (p = account; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return MILTERCTL_NOT_SUSPENDED;
	dstr_init(&line);
	dstr_init(&out);
	dstr_appendf(&line, "usage %s", account);
	switch (pc_control_call(path, line.buf, timeout_ms, &out, why,
	    sizeof(why))) {
	case PC_CONTROL_OK:
		if ((st = milterctl_parse_usage(out.buf, s)) == MILTERCTL_UNKNOWN)
			pc_err(err, errlen, "the milter at %s answered without "
			    "a \"suspended\" line", path);
		break;
	case PC_CONTROL_ERR:
		/* Too long once AccountDomain is added: never suspended either. */
		if (strcmp(why, MILTER_UNUSABLE) == 0)
			st = MILTERCTL_NOT_SUSPENDED;
		else
			pc_err(err, errlen, "the milter at %s refused: %s", path,
			    why);
		break;
	case PC_CONTROL_UNREACHABLE:
		pc_err(err, errlen, "cannot reach the milter at %s: %s", path,
		    why);
		break;
	case PC_CONTROL_NO_ANSWER:
		pc_err(err, errlen, "the milter at %s: %s", path, why);
		break;
	case PC_CONTROL_LOCAL:
		pc_err(err, errlen, "%s", why);
		break;
	}
	dstr_free(&line);
	dstr_free(&out);
	return st;
}
