/*
 * mailbox.c - the envelope reverse-path parser, and the address checks,
 * formatting and comparison that every mailbox shares.
 *
 * Both this parser and the From: header parser (from.c) end in
 * pc_mb_set_mailbox(), so an address meets the same rules wherever it came
 * from.
 */
#include "mailbox.h"
#include "mailbox_int.h"
#include "netaddr.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- checks shared with from.c ---- */

/* For messages: 'c' when printable, else its code; never the raw byte. */
const char *
pc_mb_charname(unsigned char c, char buf[8])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

/*
 * Well-formed UTF-8 only (pc_utf8_len: no overlongs, which could hide a
 * NUL or an '@', no surrogates, nothing past U+10FFFF), and no C1
 * controls (U+0080 to U+009F, encoded C2 80 to C2 9F).
 */
static int
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	while (i < n) {
		if (s[i] < 0x80) {	/* nearly every address is ASCII */
			i++;
			continue;
		}
		if ((k = pc_utf8_len(s + i, n - i)) == 0)
			return 0;
		if (k == 2 && s[i] == 0xc2 && s[i + 1] <= 0x9f)
			return 0;
		i += k;
	}
	return 1;
}

/* Copies with truncation that backs off to a UTF-8 character boundary. */
void
pc_mb_copy_utf8(char *buf, size_t len, const char *s, size_t n)
{
	if (len == 0)
		return;
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* "[192.0.2.1]" or "[IPv6:...]"; other standardized tags are unknown. */
static int
check_literal(const char *d, size_t n, char *err, size_t errlen)
{
	char buf[64], sub[128], cb[8];
	struct pc_addr a;
	size_t i;

	if (n < 2 || d[n - 1] != ']')
		return pc_err(err, errlen, "unterminated address literal");
	if (n - 2 >= sizeof(buf))
		return pc_err(err, errlen, "address literal too long");
	memcpy(buf, d + 1, n - 2);
	buf[n - 2] = '\0';
	for (i = 0; buf[i] != '\0'; i++)
		if (!is_alnum((unsigned char)buf[i]) && buf[i] != '.' &&
		    buf[i] != ':')
			return pc_err(err, errlen, "bad character %s in address "
			    "literal",
			    pc_mb_charname((unsigned char)buf[i], cb));
	if (strncasecmp(buf, "IPv6:", 5) != 0 && strchr(buf, ':') != NULL)
		return pc_err(err, errlen, "unsupported address literal (only "
		    "IPv4 and IPv6: are known)");
	if (pc_addr_parse(buf, &a, sub, sizeof(sub)) < 0)
		return pc_err(err, errlen, "bad address literal: %s", sub);
	return 0;
}

/* A host name (LDH labels, U-labels allowed) or an address literal. */
int
pc_mb_check_domain(const char *d, size_t n, char *err, size_t errlen)
{
	size_t i, start = 0;
	char cb[8];

	if (n > PC_DOMAIN_MAX)
		return pc_err(err, errlen, "domain longer than %d bytes",
		    PC_DOMAIN_MAX);
	if (n > 0 && d[0] == '[')
		return check_literal(d, n, err, errlen);
	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)d[i] : '.';

		if (c == '.') {
			if (i == start)
				return pc_err(err, errlen,
				    "empty label in domain");
			if (i - start > 63)
				return pc_err(err, errlen,
				    "domain label longer than 63 bytes");
			if (d[start] == '-' || d[i - 1] == '-')
				return pc_err(err, errlen, "domain label starts "
				    "or ends with '-'");
			start = i + 1;
		} else if (!is_alnum(c) && c != '-' && c < 0x80) {
			return pc_err(err, errlen, "bad character %s in domain",
			    pc_mb_charname(c, cb));
		}
	}
	if (!utf8_valid(d, n))
		return pc_err(err, errlen, "domain is not valid UTF-8");
	return 0;
}

/* The checks every accepted address passes, envelope or header. */
int
pc_mb_set_mailbox(struct pc_mailbox *m, const char *local, size_t ll,
    const char *dom, size_t dl, int need_domain, char *err, size_t errlen)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	if (ll == 0)
		return pc_err(err, errlen, "empty local part");
	if (ll > PC_LOCAL_MAX)
		return pc_err(err, errlen, "local part longer than %d bytes",
		    PC_LOCAL_MAX);
	for (i = 0; i < ll; i++)
		if (is_ctl((unsigned char)local[i]))
			return pc_err(err, errlen,
			    "control character in local part");
	if (!utf8_valid(local, ll))
		return pc_err(err, errlen, "local part is not valid UTF-8");
	if (dl == 0 && need_domain)
		return pc_err(err, errlen, "address has no domain");
	if (dl > 0 && pc_mb_check_domain(dom, dl, err, errlen) < 0)
		return -1;
	memcpy(m->local, local, ll);
	for (i = 0; i < dl; i++)
		m->domain[i] = (char)ascii_lower((unsigned char)dom[i]);
	return 0;
}

/* ---- envelope ---- */

/* Obsolete "@a,@b:" before the mailbox: checked, then dropped. */
static int
skip_route(const char **pp, const char *end, char *err, size_t errlen)
{
	const char *p = *pp, *d;

	for (;;) {
		if (p == end || *p != '@')
			return pc_err(err, errlen, "bad source route");
		d = ++p;
		if (p < end && *p == '[') {
			while (p < end && *p != ']')
				p++;
			p += p < end;
		}
		while (p < end && *p != ',' && *p != ':' && *p != '>')
			p++;
		if (p == d)
			return pc_err(err, errlen,
			    "empty domain in source route");
		if (pc_mb_check_domain(d, (size_t)(p - d), err, errlen) < 0)
			return -1;
		if (p < end && *p == ',') {
			p++;
			continue;
		}
		if (p < end && *p == ':') {
			*pp = p + 1;
			return 0;
		}
		return pc_err(err, errlen, "bad source route");
	}
}

static int
quoted_local(const char **pp, const char *end, char *local, size_t *llp,
    char *err, size_t errlen)
{
	const char *p = *pp + 1;
	size_t ll = 0;
	char c;

	for (;;) {
		if (p == end)
			return pc_err(err, errlen,
			    "unterminated quoted local part");
		c = *p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (p == end)
				return pc_err(err, errlen,
				    "unterminated quoted local part");
			c = *p++;
		}
		if (ll == PC_LOCAL_MAX)
			return pc_err(err, errlen,
			    "local part longer than %d bytes", PC_LOCAL_MAX);
		local[ll++] = c;
	}
	*pp = p;
	*llp = ll;
	return 0;
}

int
pc_path_parse(const char *in, struct pc_mailbox *out, char *err,
    size_t errlen)
{
	char local[PC_LOCAL_MAX], cb[8];
	const char *p, *end, *dom = NULL;
	size_t n, i, ll = 0, dl = 0;
	int bracketed;

	memset(out, 0, sizeof(*out));
	if (in == NULL || *in == '\0')
		return pc_err(err, errlen, "empty address");
	n = strlen(in);
	for (i = 0; i < n; i++)
		if (is_ctl((unsigned char)in[i]))
			return pc_err(err, errlen,
			    "control character in address");
	if (in[0] == ' ' || in[n - 1] == ' ')
		return pc_err(err, errlen, "white space around address");
	p = in;
	end = in + n;
	bracketed = *p == '<';
	if (bracketed) {
		p++;
		if (p < end && *p == '>') {
			if (p + 1 != end)
				return pc_err(err, errlen, "junk after '<>'");
			out->null_path = 1;
			return 0;
		}
		if (p < end && *p == '@' && skip_route(&p, end, err,
		    errlen) < 0)
			return -1;
	}
	if (p < end && *p == '"') {
		if (quoted_local(&p, end, local, &ll, err, errlen) < 0)
			return -1;
	} else {
		/* Dots are not policed: Postfix passes "a..b" and so must we. */
		for (; p < end && (is_atext((unsigned char)*p) || *p == '.');
		    p++) {
			if (ll == PC_LOCAL_MAX)
				return pc_err(err, errlen, "local part longer "
				    "than %d bytes", PC_LOCAL_MAX);
			local[ll++] = *p;
		}
	}
	if (p < end && *p == '@') {
		dom = ++p;
		if (p < end && *p == '[') {
			p = memchr(p, ']', (size_t)(end - p));
			if (p == NULL)
				return pc_err(err, errlen,
				    "unterminated address literal");
			p++;
		} else {
			while (p < end && *p != '>')
				p++;
		}
		dl = (size_t)(p - dom);
		if (dl == 0)
			return pc_err(err, errlen, "empty domain");
	}
	if (bracketed) {
		if (p == end)
			return pc_err(err, errlen,
			    "missing '>' (unbalanced angle brackets)");
		if (*p != '>')
			return pc_err(err, errlen, "unexpected %s in address",
			    pc_mb_charname((unsigned char)*p, cb));
		if (++p != end)
			return pc_err(err, errlen, "junk after '>'");
	} else if (p != end && *p == '>') {
		return pc_err(err, errlen, "unbalanced '>' in address");
	} else if (p != end) {
		return pc_err(err, errlen, "unexpected %s in address",
		    pc_mb_charname((unsigned char)*p, cb));
	}
	return pc_mb_set_mailbox(out, local, ll, dom, dl, 0, err, errlen);
}

/* ---- output and comparison ---- */

static int
is_dot_atom(const char *s)
{
	int prev_dot = 1;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (prev_dot)
				return 0;
			prev_dot = 1;
		} else if (is_atext((unsigned char)*s)) {
			prev_dot = 0;
		} else {
			return 0;
		}
	}
	return !prev_dot;
}

void
pc_mailbox_format(const struct pc_mailbox *m, char *buf, size_t len)
{
	struct dstr d;
	char tmp[256];
	const char *p;

	if (len == 0)
		return;
	if (m->null_path) {
		buf[0] = '\0';
		return;
	}
	dstr_init_buf(&d, tmp, sizeof(tmp));
	if (is_dot_atom(m->local)) {
		dstr_puts(&d, m->local);
	} else {
		dstr_putc(&d, '"');
		for (p = m->local; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				dstr_putc(&d, '\\');
			dstr_putc(&d, *p);
		}
		dstr_putc(&d, '"');
	}
	if (m->domain[0] != '\0') {
		dstr_putc(&d, '@');
		dstr_puts(&d, m->domain);
	}
	pc_mb_copy_utf8(buf, len, d.buf, d.len);
	dstr_free(&d);
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a && ascii_lower((unsigned char)*a) ==
	    ascii_lower((unsigned char)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

int
pc_mailbox_eq(const struct pc_mailbox *a, const struct pc_mailbox *b)
{
	if (a->null_path || b->null_path)
		return a->null_path && b->null_path;
	return ascii_caseeq(a->local, b->local) &&
	    ascii_caseeq(a->domain, b->domain);
}
