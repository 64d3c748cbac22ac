/*
 * control_client.h - the client side of the milter's ControlSocket line
 * protocol (the server is src/milter/control.c): connect to the unix
 * socket, send one command line, read the answer until the milter
 * closes, all within one deadline.  `portcullisctl milter ...` and
 * portcullisd's MilterControlSocket both talk through it.
 *
 * An answer is zero or more lines of output and a last line "OK" or
 * "ERR reason".
 */
#ifndef PC_CONTROL_CLIENT_H
#define PC_CONTROL_CLIENT_H

#include <stddef.h>

#include "util.h"

enum pc_control_rc {
	PC_CONTROL_OK,		/* last line OK; body holds the lines before */
	PC_CONTROL_ERR,		/* last line "ERR reason"; err holds reason */
	PC_CONTROL_UNREACHABLE,	/* connect() failed; err holds strerror */
	PC_CONTROL_NO_ANSWER,	/* no OK/ERR line (closed, timed out) */
	PC_CONTROL_LOCAL	/* path too long, no socket, bad line */
};

/* Answers above this are cut here (and then lack their OK line). */
#define PC_CONTROL_ANSWER_MAX (1 << 20)

/*
 * Sends line (one command, without the newline: bytes below 0x20 and
 * 0x7f are refused, so nothing can smuggle in a second command) to the
 * socket at path and waits at most timeout_ms for the whole answer.
 * body (initialised by the caller) gets the output lines before OK,
 * each ending in '\n'.  err says why on anything but PC_CONTROL_OK.
 */
enum pc_control_rc pc_control_call(const char *path, const char *line,
    unsigned timeout_ms, struct dstr *body, char *err, size_t errlen);

#endif
