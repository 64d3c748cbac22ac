/*
 * mailbox.c - envelope reverse-path and From: header parsing.
 *
 * The From: parser works in two passes: unfold and tokenise (comments and
 * white space dropped, quoted strings unescaped), then a small descent over
 * the tokens following RFC 5322 section 3.4 plus the obsolete syntax of
 * section 4.4 that real mail still carries. Encoded words are plain atoms to
 * the parser, so nothing a sender hides inside one can become syntax (and
 * one inside an address is refused, since some readers decode it anyway).
 * Both parsers end in set_mailbox(), so an address meets the same rules
 * wherever it came from.
 */
#include "mailbox.h"
#include "netaddr.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Character classes are ASCII only: the locale must not change a verdict. */
static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* RFC 5322 atext, widened by RFC 6532 to UTF-8 bytes. */
static int
is_atext(unsigned char c)
{
	return is_alnum(c) || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static unsigned char
ascii_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a && ascii_lower((unsigned char)*a) ==
	    ascii_lower((unsigned char)*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* For messages: 'c' when printable, else its code; never the raw byte. */
static const char *
charname(unsigned char c, char buf[8])
{
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", c);
	return buf;
}

/*
 * Well-formed UTF-8 only: no overlongs (a hidden NUL or '@'), surrogates,
 * code points past U+10FFFF, or C1 controls.
 */
static int
utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, len, k;

	while (i < n) {
		unsigned c = s[i], cp, min;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if ((c & 0xf0) == 0xe0)
			len = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4;
		else
			return 0;
		cp = c & (0x7fu >> len);
		min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
		if (n - i < len)
			return 0;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
		    cp <= 0x9f)
			return 0;
		i += len;
	}
	return 1;
}

/* Copies with truncation that backs off to a UTF-8 character boundary. */
static void
copy_utf8(char *buf, size_t len, const char *s, size_t n)
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
			    "literal", charname((unsigned char)buf[i], cb));
	if (strncasecmp(buf, "IPv6:", 5) != 0 && strchr(buf, ':') != NULL)
		return pc_err(err, errlen, "unsupported address literal (only "
		    "IPv4 and IPv6: are known)");
	if (pc_addr_parse(buf, &a, sub, sizeof(sub)) < 0)
		return pc_err(err, errlen, "bad address literal: %s", sub);
	return 0;
}

/* A host name (LDH labels, U-labels allowed) or an address literal. */
static int
check_domain(const char *d, size_t n, char *err, size_t errlen)
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
			    charname(c, cb));
		}
	}
	if (!utf8_valid(d, n))
		return pc_err(err, errlen, "domain is not valid UTF-8");
	return 0;
}

/* The checks every accepted address passes, envelope or header. */
static int
set_mailbox(struct pc_mailbox *m, const char *local, size_t ll,
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
	if (dl > 0 && check_domain(dom, dl, err, errlen) < 0)
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
		if (check_domain(d, (size_t)(p - d), err, errlen) < 0)
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
			    charname((unsigned char)*p, cb));
		if (++p != end)
			return pc_err(err, errlen, "junk after '>'");
	} else if (p != end && *p == '>') {
		return pc_err(err, errlen, "unbalanced '>' in address");
	} else if (p != end) {
		return pc_err(err, errlen, "unexpected %s in address",
		    charname((unsigned char)*p, cb));
	}
	return set_mailbox(out, local, ll, dom, dl, 0, err, errlen);
}

/* ---- From: header ---- */

enum { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct tok {
	int type;
	char ch;		/* T_SPECIAL */
	int ws;			/* white space or a comment came before */
	size_t off, len;	/* text in the pool */
};

struct hparse {
	struct dstr text;	/* the unfolded header */
	struct dstr pool;	/* token texts, quoted strings unescaped */
	struct tok *t;
	size_t nt, cap, i;
	struct pc_mailbox *out;
	size_t max, found;
	size_t disp_from, disp_to;	/* first mailbox's display name */
	char *err;
	size_t errlen;
};

static int
unfold(struct hparse *h, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r' || c == '\n') {
			/* MTAs hand milters CRLF or bare LF line ends. */
			size_t nl = c == '\n' ? 1 : s[1] == '\n' ? 2 : 0;

			if (nl == 0)
				return pc_err(h->err, h->errlen,
				    "bare CR in header");
			if (s[nl] != ' ' && s[nl] != '\t')
				return pc_err(h->err, h->errlen,
				    "line break in header is not folding");
			s += nl - 1;
			continue;
		}
		if (is_ctl(c) && c != '\t')
			return pc_err(h->err, h->errlen,
			    "control character in header");
		dstr_putc(&h->text, (char)c);
	}
	return 0;
}

static void
push(struct hparse *h, int type, char ch, int ws, size_t off)
{
	if (h->nt == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 32;
		h->t = xrealloc(h->t, h->cap * sizeof(*h->t));
	}
	h->t[h->nt].type = type;
	h->t[h->nt].ch = ch;
	h->t[h->nt].ws = ws;
	h->t[h->nt].off = off;
	h->t[h->nt].len = h->pool.len - off;
	h->nt++;
}

/* Nested comments with quoted pairs; leaves *ip after the closing ')'. */
static int
skip_comment(const char *s, size_t n, size_t *ip)
{
	size_t i = *ip, depth = 0;

	while (i < n) {
		char c = s[i++];

		if (c == '\\') {
			if (i == n)
				break;
			i++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			*ip = i;
			return 0;
		}
	}
	return -1;
}

static int
tokenize(struct hparse *h)
{
	const char *s = h->text.buf;
	size_t n = h->text.len, i = 0, j;
	int ws = 0;
	char cb[8];

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t off = h->pool.len;

		if (c == ' ' || c == '\t') {
			ws = 1;
			i++;
			continue;
		}
		if (c == '(') {
			if (skip_comment(s, n, &i) < 0)
				return pc_err(h->err, h->errlen,
				    "unbalanced parentheses in comment");
			ws = 1;
			continue;
		}
		if (c == '"') {
			for (i++;; i++) {
				if (i < n && s[i] == '\\')
					i++;
				else if (i < n && s[i] == '"')
					break;
				if (i >= n)
					return pc_err(h->err, h->errlen,
					    "unterminated quoted string");
				dstr_putc(&h->pool, s[i]);
			}
			i++;
			push(h, T_QSTR, 0, ws, off);
		} else if (c == '[') {
			for (j = i + 1; j < n && s[j] != ']' && s[j] != '[' &&
			    s[j] != '\\'; j++)
				;
			if (j == n || s[j] != ']')
				return pc_err(h->err, h->errlen,
				    "unterminated domain literal");
			dstr_append(&h->pool, s + i, j + 1 - i);
			push(h, T_DLIT, 0, ws, off);
			i = j + 1;
		} else if (strchr("<>@,;:.", c) != NULL) {
			push(h, T_SPECIAL, (char)c, ws, off);
			i++;
		} else if (is_atext(c)) {
			for (j = i; j < n && is_atext((unsigned char)s[j]); j++)
				;
			dstr_append(&h->pool, s + i, j - i);
			push(h, T_ATOM, 0, ws, off);
			i = j;
		} else {
			return pc_err(h->err, h->errlen, "unexpected %s in "
			    "header%s", charname(c, cb), c == ')' ?
			    " (unbalanced parentheses)" : "");
		}
		ws = 0;
	}
	return 0;
}

static const struct tok *
peek(const struct hparse *h)
{
	return h->i < h->nt ? &h->t[h->i] : NULL;
}

static int
is_sp(const struct tok *t, char ch)
{
	return t != NULL && t->type == T_SPECIAL && t->ch == ch;
}

static int
is_word(const struct tok *t)
{
	return t != NULL && (t->type == T_ATOM || t->type == T_QSTR);
}

/* Names a token for an error message without echoing client text. */
static const char *
tokname(const struct tok *t, char buf[8])
{
	if (t == NULL)
		return "end of header";
	if (t->type == T_SPECIAL)
		return charname((unsigned char)t->ch, buf);
	return t->type == T_QSTR ? "quoted string" :
	    t->type == T_DLIT ? "domain literal" : "text";
}

static int
unexpected(struct hparse *h, const char *where)
{
	char cb[8];

	return pc_err(h->err, h->errlen, "unexpected %s %s",
	    tokname(peek(h), cb), where);
}

/* dot-atom or obsolete "a . b" form, or a domain literal. */
static void
parse_domain(struct hparse *h, struct dstr *dom)
{
	const struct tok *t = peek(h);
	int prev_atom = 0;

	if (t != NULL && t->type == T_DLIT) {
		dstr_append(dom, h->pool.buf + t->off, t->len);
		h->i++;
		return;
	}
	while ((t = peek(h)) != NULL &&
	    ((t->type == T_ATOM && !prev_atom) || is_sp(t, '.'))) {
		if (t->type == T_ATOM)
			dstr_append(dom, h->pool.buf + t->off, t->len);
		else
			dstr_putc(dom, '.');
		prev_atom = t->type == T_ATOM;
		h->i++;
	}
}

/*
 * RFC 2047 forbids encoded words in an addr-spec, yet some mail readers
 * decode them there and would show an address we never checked.
 */
static int
has_encoded_word(const char *s, size_t n)
{
	size_t i;
	int opened = 0;

	for (i = 0; i + 1 < n; i++) {
		if (!opened && s[i] == '=' && s[i + 1] == '?') {
			opened = 1;
			i++;	/* "=?=" is not a whole word */
		} else if (opened && s[i] == '?' && s[i + 1] == '=') {
			return 1;
		}
	}
	return 0;
}

static int
parse_addr_spec(struct hparse *h)
{
	struct dstr local, dom;
	struct pc_mailbox m;
	const struct tok *t;
	int rc = -1, prev_word = 0;

	dstr_init(&local);
	dstr_init(&dom);
	/* local-part: words joined by dots (obs-local-part allows CFWS) */
	while ((t = peek(h)) != NULL &&
	    ((is_word(t) && !prev_word) || is_sp(t, '.'))) {
		if (is_word(t) && has_encoded_word(h->pool.buf + t->off,
		    t->len)) {
			pc_err(h->err, h->errlen, "encoded word in address");
			goto out;
		}
		if (is_word(t))
			dstr_append(&local, h->pool.buf + t->off, t->len);
		else
			dstr_putc(&local, '.');
		prev_word = is_word(t);
		h->i++;
	}
	if (!is_sp(peek(h), '@')) {
		if (local.len == 0)
			unexpected(h, "where an address should be");
		else
			unexpected(h, "in address (missing @domain?)");
		goto out;
	}
	h->i++;
	parse_domain(h, &dom);
	if (set_mailbox(&m, local.buf, local.len, dom.buf, dom.len, 1,
	    h->err, h->errlen) < 0)
		goto out;
	if (h->out != NULL && h->found < h->max)
		h->out[h->found] = m;
	h->found++;
	rc = 0;
out:
	dstr_free(&local);
	dstr_free(&dom);
	return rc;
}

/* After '<': [obs-route] addr-spec '>'. */
static int
parse_angle(struct hparse *h)
{
	struct dstr dom;
	int rc;

	while (is_sp(peek(h), '@')) {
		h->i++;
		dstr_init(&dom);
		parse_domain(h, &dom);
		rc = dom.len == 0 ? pc_err(h->err, h->errlen,
		    "empty domain in route") :
		    check_domain(dom.buf, dom.len, h->err, h->errlen);
		dstr_free(&dom);
		if (rc < 0)
			return -1;
		if (is_sp(peek(h), ':')) {
			h->i++;
			break;
		}
		if (!is_sp(peek(h), ','))
			return unexpected(h, "in route");
		while (is_sp(peek(h), ','))
			h->i++;
		if (!is_sp(peek(h), '@'))
			return unexpected(h, "in route");
	}
	if (is_sp(peek(h), '>'))
		return pc_err(h->err, h->errlen, "empty address <> in header");
	if (parse_addr_spec(h) < 0)
		return -1;
	if (!is_sp(peek(h), '>'))
		return peek(h) == NULL ? pc_err(h->err, h->errlen,
		    "missing '>' (unbalanced angle brackets)") :
		    unexpected(h, "in angle brackets");
	h->i++;
	return 0;
}

static int parse_group(struct hparse *);

/* mailbox, or (outside a group) a group: decided by what ends the phrase. */
static int
parse_address(struct hparse *h, int in_group)
{
	size_t start = h->i, words = 0;
	const struct tok *t;

	/* phrase, with obs-phrase's dots ("John Q. Public") */
	while ((t = peek(h)) != NULL && (is_word(t) || is_sp(t, '.'))) {
		if (is_word(t))
			words++;
		h->i++;
	}
	if (is_sp(t, '<')) {
		if (h->found == 0) {
			h->disp_from = start;
			h->disp_to = h->i;
		}
		h->i++;
		return parse_angle(h);
	}
	if (is_sp(t, ':')) {
		if (in_group)
			return pc_err(h->err, h->errlen, "nested group");
		if (words == 0)
			return pc_err(h->err, h->errlen, "group without a name");
		h->i++;
		return parse_group(h);
	}
	h->i = start;
	return parse_addr_spec(h);
}

static int
parse_group(struct hparse *h)
{
	for (;;) {
		while (is_sp(peek(h), ','))
			h->i++;
		if (peek(h) == NULL)
			return pc_err(h->err, h->errlen,
			    "unterminated group (missing ';')");
		if (is_sp(peek(h), ';')) {
			h->i++;
			return 0;
		}
		if (parse_address(h, 1) < 0)
			return -1;
		if (peek(h) == NULL)
			return pc_err(h->err, h->errlen,
			    "unterminated group (missing ';')");
		if (!is_sp(peek(h), ',') && !is_sp(peek(h), ';'))
			return unexpected(h, "after address");
	}
}

/* Empty list elements (", ,") are obsolete syntax receivers must accept. */
static int
parse_list(struct hparse *h)
{
	for (;;) {
		while (is_sp(peek(h), ','))
			h->i++;
		if (peek(h) == NULL)
			break;
		if (parse_address(h, 0) < 0)
			return -1;
		if (peek(h) != NULL && !is_sp(peek(h), ','))
			return unexpected(h, "after address");
	}
	if (h->found == 0)
		return pc_err(h->err, h->errlen, "no address in header");
	return 0;
}

static void
hparse_init(struct hparse *h, struct pc_mailbox *out, size_t max, char *err,
    size_t errlen)
{
	memset(h, 0, sizeof(*h));
	dstr_init(&h->text);
	dstr_init(&h->pool);
	h->out = out;
	h->max = max;
	h->err = err;
	h->errlen = errlen;
}

static void
hparse_free(struct hparse *h)
{
	dstr_free(&h->text);
	dstr_free(&h->pool);
	free(h->t);
}

static int
hparse_run(struct hparse *h, const char *hdr)
{
	if (hdr == NULL || hdr[strspn(hdr, " \t\r\n")] == '\0')
		return pc_err(h->err, h->errlen, "empty header");
	if (unfold(h, hdr) < 0 || tokenize(h) < 0)
		return -1;
	return parse_list(h);
}

int
pc_from_parse(const char *hdr, struct pc_mailbox *out, size_t max,
    size_t *n, char *err, size_t errlen)
{
	struct hparse h;
	int rc;

	hparse_init(&h, out, max, err, errlen);
	rc = hparse_run(&h, hdr);
	*n = rc == 0 ? h.found : 0;
	if (rc == 0 && h.found > max)
		rc = pc_err(err, errlen, "too many addresses");
	hparse_free(&h);
	return rc;
}

/* ---- display names ---- */

static int
b64val(char c)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(tab, c) : NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

static int
hexdig(char c)
{
	static const char tab[] = "0123456789abcdef";
	const char *p = c != '\0' ? strchr(tab, ascii_lower((unsigned char)c)) :
	    NULL;

	return p != NULL ? (int)(p - tab) : -1;
}

/*
 * RFC 2047 "=?charset?B|Q?text?=" in UTF-8 or US-ASCII, into out.
 * -1 means "show it as written" (other charsets, malformed words).
 */
static int
ew_decode(const char *s, size_t n, struct dstr *out)
{
	const char *cs = s + 2, *q, *text, *tend, *star;
	size_t cslen, i;
	unsigned acc = 0;
	int bits = 0;

	if (n < 8 || memcmp(s, "=?", 2) != 0 || memcmp(s + n - 2, "?=", 2) != 0)
		return -1;
	tend = s + n - 2;
	q = memchr(cs, '?', (size_t)(tend - cs));
	if (q == NULL || q + 3 >= tend || q[2] != '?')
		return -1;
	cslen = (size_t)(q - cs);
	star = memchr(cs, '*', cslen);	/* RFC 2231 language suffix */
	if (star != NULL)
		cslen = (size_t)(star - cs);
	if (!(cslen == 5 && strncasecmp(cs, "utf-8", 5) == 0) &&
	    !(cslen == 8 && strncasecmp(cs, "us-ascii", 8) == 0))
		return -1;
	text = q + 3;
	if (memchr(text, '?', (size_t)(tend - text)) != NULL)
		return -1;
	for (i = 0; text + i < tend; i++) {
		char c = text[i];

		if (q[1] == 'B' || q[1] == 'b') {
			if (c == '=')
				break;
			if (b64val(c) < 0)
				return -1;
			acc = (acc << 6 | (unsigned)b64val(c)) & 0xffffff;
			if ((bits += 6) >= 8) {
				bits -= 8;
				dstr_putc(out, (char)(acc >> bits));
			}
		} else if (q[1] == 'Q' || q[1] == 'q') {
			if (c == '=') {
				if (text + i + 2 >= tend ||
				    hexdig(text[i + 1]) < 0 ||
				    hexdig(text[i + 2]) < 0)
					return -1;
				dstr_putc(out, (char)(hexdig(text[i + 1]) << 4 |
				    hexdig(text[i + 2])));
				i += 2;
			} else {
				dstr_putc(out, c == '_' ? ' ' : c);
			}
		} else {
			return -1;
		}
	}
	return 0;
}

int
pc_from_display(const char *hdr, char *buf, size_t len)
{
	struct hparse h;
	struct dstr d, w;
	size_t k, i;
	int prev_ew = 0, rc;

	if (len > 0)
		buf[0] = '\0';
	hparse_init(&h, NULL, 0, NULL, 0);
	rc = hparse_run(&h, hdr);
	if (rc == 0) {
		dstr_init(&d);
		dstr_init(&w);
		for (k = h.disp_from; k < h.disp_to; k++) {
			const struct tok *t = &h.t[k];
			int ew;

			dstr_clear(&w);
			ew = t->type == T_ATOM &&
			    ew_decode(h.pool.buf + t->off, t->len, &w) == 0;
			if (!ew) {
				dstr_clear(&w);
				if (t->type == T_SPECIAL)
					dstr_putc(&w, t->ch);
				else
					dstr_append(&w, h.pool.buf + t->off,
					    t->len);
			}
			/* RFC 2047 6.2: space between encoded words goes. */
			if (t->ws && k > h.disp_from && !(ew && prev_ew))
				dstr_putc(&d, ' ');
			dstr_append(&d, w.buf, w.len);
			prev_ew = ew;
		}
		/* Decoding can produce anything; keep the line a line. */
		for (i = 0; i < d.len; i++)
			if (is_ctl((unsigned char)d.buf[i]))
				d.buf[i] = d.buf[i] == '\t' ? ' ' : '?';
		copy_utf8(buf, len, d.buf, d.len);
		dstr_free(&d);
		dstr_free(&w);
	}
	hparse_free(&h);
	return rc;
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
	const char *p;

	if (len == 0)
		return;
	if (m->null_path) {
		buf[0] = '\0';
		return;
	}
	dstr_init(&d);
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
	copy_utf8(buf, len, d.buf, d.len);
	dstr_free(&d);
}

int
pc_mailbox_eq(const struct pc_mailbox *a, const struct pc_mailbox *b)
{
	if (a->null_path || b->null_path)
		return a->null_path && b->null_path;
	return ascii_caseeq(a->local, b->local) &&
	    ascii_caseeq(a->domain, b->domain);
}
