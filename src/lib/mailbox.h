/*
 * mailbox.h - mailboxes from the SMTP envelope (MAIL FROM as libmilter
 * passes it) and from the RFC 5322 From: header, for sender checks.
 *
 * Both parsers refuse anything ambiguous instead of guessing: a sender check
 * is only as good as the agreement between what we parse and what the MTA
 * and the recipient's mail reader show.
 */
#ifndef PC_MAILBOX_H
#define PC_MAILBOX_H

#include <stddef.h>

/* Bytes of local part we accept (RFC 5321 says 64; real systems exceed it). */
#define PC_LOCAL_MAX 256
#define PC_DOMAIN_MAX 255
#define PC_MAILBOX_MAX (PC_LOCAL_MAX + 1 + PC_DOMAIN_MAX + 1)
/* pc_mailbox_format() worst case: every local byte escaped, plus quotes. */
#define PC_MAILBOX_FMT_MAX (2 * PC_LOCAL_MAX + 2 + 1 + PC_DOMAIN_MAX + 1)

struct pc_mailbox {
	/* unquoted, as the mailbox's owner wrote it (case kept) */
	char local[PC_LOCAL_MAX + 1];
	/* ASCII-lowercased; empty only for <> or a local-only address */
	char domain[PC_DOMAIN_MAX + 1];
	int null_path;			/* MAIL FROM:<> */
};

/*
 * An RFC 5321 reverse-path as libmilter gives it in xxfi_envfrom argv[0]:
 * "<user@dom>", "<>", "<@a,@b:user@dom>" (route dropped), "user@dom",
 * quoted local parts, address literals "[192.0.2.1]"/"[IPv6:...]" (kept as
 * text), SMTPUTF8. A local-only "<postmaster>" gives an empty domain.
 * Returns 0, or -1 with err set.
 */
int pc_path_parse(const char *in, struct pc_mailbox *out, char *err,
    size_t errlen);

/*
 * The value of a From: header (folding allowed): mailbox-list with groups,
 * display names, comments, obsolete routes. Encoded words are never
 * decoded while parsing. Stores up to max mailboxes in out (out may be NULL
 * when max is 0) and the number found in *n; more than max is an error
 * ("too many addresses") with *n still the number found. On any other
 * error *n is 0. Returns 0 or -1 with err set.
 */
int pc_from_parse(const char *hdr, struct pc_mailbox *out, size_t max,
    size_t *n, char *err, size_t errlen);

/*
 * Display name of the first mailbox in a From: header, for logs: encoded
 * words in UTF-8/US-ASCII are decoded (others are kept as written),
 * decoded control characters become '?', and truncation never splits a
 * UTF-8 sequence. "" if there is none. -1 (and "") if the header does not
 * parse. The result is still client data: escape it before logging.
 */
int pc_from_display(const char *hdr, char *buf, size_t len);

/* "local@domain" with the local part quoted if it needs it; "" for <>. */
void pc_mailbox_format(const struct pc_mailbox *m, char *buf, size_t len);

/* Whole-address equality, ASCII case-insensitive (as ISPs treat mailboxes). */
int pc_mailbox_eq(const struct pc_mailbox *a, const struct pc_mailbox *b);

#endif
