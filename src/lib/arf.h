/*
 * arf.h - finding one header field everywhere an abuse desk might keep
 * it: a raw message, a forwarded one (attached as message/rfc822 or
 * pasted into the text, possibly quoted with "> "), or an RFC 5965
 * feedback report (multipart/report with message/feedback-report and
 * message/rfc822 or text/rfc822-headers).
 *
 * Input is hostile: nesting, parts, header sizes and decoded sizes are
 * all bounded, and a broken structure (missing boundary, missing parts,
 * truncated headers) degrades to scanning the text, never to a crash.
 */
#ifndef PC_ARF_H
#define PC_ARF_H

#include <stddef.h>

#define ARF_DEPTH_MAX 8
#define ARF_PARTS_MAX 64
#define ARF_FIELD_MAX 65536	/* one unfolded header field */
#define ARF_INPUT_MAX (64u << 20)

/* Where a field was found. */
enum arf_where {
	ARF_TOP,		/* the message's own header */
	ARF_ORIGINAL,		/* the original message inside a report */
	ARF_ATTACHED,		/* a message/rfc822 part of a non-report */
	ARF_INLINE		/* pasted into a text part */
};

struct arf_report {
	int is_report;		/* multipart/report, feedback-report */
	int has_feedback;	/* a message/feedback-report part */
	int has_original;	/* message/rfc822 or text/rfc822-headers */
	char feedback_type[64];
	char user_agent[128];
	char source_ip[64];
	char original_mail_from[256];
	char arrival_date[128];
	char reported_domain[256];
	unsigned problems;	/* ARF_P_* bits */
};

#define ARF_P_NO_BOUNDARY	0x01	/* multipart without a usable boundary */
#define ARF_P_TOO_DEEP		0x02
#define ARF_P_TOO_MANY_PARTS	0x04
#define ARF_P_FIELD_TOO_LONG	0x08
#define ARF_P_NO_END		0x10	/* no closing boundary */
#define ARF_P_BAD_ENCODING	0x20

/* Called for each occurrence: the unfolded value, leading blanks removed. */
typedef void (*arf_field_cb)(void *arg, const char *value, size_t len,
    enum arf_where where);

/*
 * Walks msg[0..len) and calls cb for every field called name (any case).
 * rep (may be NULL) receives what the report says about itself.
 * Returns 0, or -1 when the input is larger than ARF_INPUT_MAX.
 */
int arf_find_field(const char *msg, size_t len, const char *name,
    arf_field_cb cb, void *arg, struct arf_report *rep);

/* A short English description of the problems bits, "" when none. */
void arf_problems_str(unsigned problems, char *buf, size_t len);

#endif
