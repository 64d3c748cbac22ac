/*
 * session.h - what the milter knows about one SMTP connection and the
 * message in progress.  Callbacks fill it from macros; the decision
 * functions and the origin log read it.
 */
#ifndef PC_SESSION_H
#define PC_SESSION_H

#include <stdint.h>

#include "mailbox.h"
#include "mconf.h"
#include "netaddr.h"
#include "sender.h"
#include "spf.h"
#include "util.h"

/* Client-supplied text is capped where it is stored, escaped where logged. */
#define SESSION_TEXT_MAX 256

struct session {
	struct mconf *conf;	/* pinned for the connection's life */

	/* Connection. */
	char ip[PC_ADDR_STRLEN];
	struct pc_addr addr;
	int have_addr;
	char port[8];
	char ptr[SESSION_TEXT_MAX];
	char helo[SESSION_TEXT_MAX];
	char daemon[64];
	char tls[32];		/* protocol version, "" without TLS */
	char cipher[128];
	char account[ACCOUNT_MAX];	/* normalised; "" unauthenticated */
	char auth_type[32];
	int trusted;		/* client in TrustedNetworks */

	/* Message. */
	char qid[64];
	char from[PC_MAILBOX_FMT_MAX];
	struct dstr from_hdrs;	/* raw From: values, NUL-separated */
	unsigned n_from_hdrs;
	struct dstr header_from;	/* checked From: addresses, comma list */
	char msgid[SESSION_TEXT_MAX];
	unsigned rcpts;
	uint64_t size;
	int rl_hold;		/* rlpolicy.c: quarantine at end of message */
	char rl_note[256];	/* rlpolicy.c: what the limiter decided */
	struct spf_outcome spf;	/* spf.c: the sender's SPF, for the header */
	unsigned own_hdrs[2];	/* X-Portcullis-Origin, -SPF the client sent */
};

struct session *session_new(struct mconf *conf);
void session_free(struct session *s);
/* Forgets the message, keeps the connection (RSET, next MAIL). */
void session_reset_message(struct session *s);

/* Stores client text capped at the destination size. */
void session_set(char *dst, size_t dstlen, const char *value);

#endif
