/*
 * mailbox_int.h - what mailbox.c (envelope paths, shared address checks)
 * and from.c (the From: header) share. Private to those two files: not part
 * of the library's API, and nothing else should include it.
 */
#ifndef PC_MAILBOX_INT_H
#define PC_MAILBOX_INT_H

#include "mailbox.h"

#include <stddef.h>
#include <string.h>

/* Character classes are ASCII only: the locale must not change a verdict. */
static inline int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static inline int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext, widened by RFC 6532 to UTF-8 bytes. */
static inline int
is_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static inline unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* For messages: 'c' when printable, else its code; never the raw byte. */
const char *pc_mb_charname(unsigned char c, char buf[8]);

/* Copies with truncation that backs off to a UTF-8 character boundary. */
void pc_mb_copy_utf8(char *buf, size_t len, const char *s, size_t n);

/* A host name (LDH labels, U-labels allowed) or an address literal. */
int pc_mb_check_domain(const char *d, size_t n, char *err, size_t errlen);

/*
 * The checks every accepted address passes, envelope or header; fills *m
 * (zeroed first) from the unquoted local part and the domain as written.
 * Returns 0, or -1 with err set.
 */
int pc_mb_set_mailbox(struct pc_mailbox *m, const char *local, size_t ll,
    const char *dom, size_t dl, int need_domain, char *err, size_t errlen);

#endif
