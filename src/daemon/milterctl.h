/*
 * milterctl.h - MilterControlSocket: asks portcullis-milter, over its
 * ControlSocket, whether it holds an account suspended, so that
 * portcullisd does not open port 25 for an account the milter has
 * stopped (SPEC: "The two halves together").
 *
 * The question is "usage ACCOUNT"; the answer's "suspended yes|no"
 * line decides.  The milter names the account the way it names a SASL
 * login (lower case, AccountDomain added), so the login is sent as is.
 */
#ifndef PC_MILTERCTL_H
#define PC_MILTERCTL_H

#include <stddef.h>

/* A registration waits at most this long for the milter. */
#define MILTERCTL_TIMEOUT_MS 2000

enum milterctl_status {
	MILTERCTL_NOT_SUSPENDED,
	MILTERCTL_SUSPENDED,
	MILTERCTL_UNKNOWN	/* no usable answer: unreachable, busy, ERR */
};

struct milterctl_suspension {
	char since[32];		/* "YYYY-MM-DDTHH:MM:SSZ", or "" */
	char reason[256];	/* the milter's reason (for the log), or "" */
};

/*
 * Reads the answer to "usage ACCOUNT": MILTERCTL_SUSPENDED (with s
 * filled from since= and reason= when present), MILTERCTL_NOT_SUSPENDED,
 * or MILTERCTL_UNKNOWN when no well-formed "suspended" line is there.
 */
enum milterctl_status milterctl_parse_usage(const char *answer,
    struct milterctl_suspension *s);

/*
 * Asks the milter at path about account within timeout_ms.  On
 * MILTERCTL_UNKNOWN err says why, for the log.
 */
enum milterctl_status milterctl_account(const char *path, const char *account,
    unsigned timeout_ms, struct milterctl_suspension *s, char *err,
    size_t errlen);

#endif
