/*
 * from.c - the RFC 5322 From: header: its mailboxes for sender checks and
 * the first display name for logs.
 *
 * The parser works in two passes: unfold and tokenise (comments and white
 * space dropped, quoted strings unescaped), then a small descent over the
 * tokens following RFC 5322 section 3.4 plus the obsolete syntax of section
 * 4.4 that real mail still carries. Encoded words are plain atoms to the
 * parser, so nothing a sender hides inside one can become syntax (and one
 * inside an address is refused, since some readers decode it anyway). Each
 * address ends in pc_mb_set_mailbox(), the same checks the envelope gets.
 */
#include "mailbox.h"
#include "mailbox_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct tok {
	int type;
	char ch;		/* T_SPECIAL */
	int ws;			/* white space or a comment came before */
	size_t off, len;	/* text in the pool */
};

/*
 * A typical From: header fits the arrays inside the struct, which lives
 * on the caller's stack: parsing one costs no malloc().
 */
#define HP_TEXT_INLINE	256
#define HP_TOKS_INLINE	16

struct hparse {
	struct dstr text;	/* the unfolded header */
	struct dstr pool;	/* token texts, quoted strings unescaped */
	struct tok *t;		/* toks, or the heap when that is too small */
	size_t nt, cap, i;
	struct pc_mailbox *out;
	size_t max, found;
	size_t disp_from, disp_to;	/* first mailbox's display name */
	char *err;
	size_t errlen;
	char text_buf[HP_TEXT_INLINE], pool_buf[HP_TEXT_INLINE];
	struct tok toks[HP_TOKS_INLINE];
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
		h->cap *= 2;
		if (h->t == h->toks) {
			h->t = xmalloc(h->cap * sizeof(*h->t));
			memcpy(h->t, h->toks, h->nt * sizeof(*h->t));
		} else {
			h->t = xrealloc(h->t, h->cap * sizeof(*h->t));
		}
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
			    "header%s", pc_mb_charname(c, cb), c == ')' ?
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
		return pc_mb_charname((unsigned char)t->ch, buf);
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
	char local_buf[HP_TEXT_INLINE], dom_buf[HP_TEXT_INLINE];
	struct pc_mailbox m;
	const struct tok *t;
	int rc = -1, prev_word = 0;

	dstr_init_buf(&local, local_buf, sizeof(local_buf));
	dstr_init_buf(&dom, dom_buf, sizeof(dom_buf));
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
	if (pc_mb_set_mailbox(&m, local.buf, local.len, dom.buf, dom.len, 1,
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
	char dom_buf[HP_TEXT_INLINE];
	int rc;

	while (is_sp(peek(h), '@')) {
		h->i++;
		dstr_init_buf(&dom, dom_buf, sizeof(dom_buf));
		parse_domain(h, &dom);
		rc = dom.len == 0 ? pc_err(h->err, h->errlen,
		    "empty domain in route") :
		    pc_mb_check_domain(dom.buf, dom.len, h->err, h->errlen);
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
	/* Field by field: clearing the arrays would cost more than the rest. */
	dstr_init_buf(&h->text, h->text_buf, sizeof(h->text_buf));
	dstr_init_buf(&h->pool, h->pool_buf, sizeof(h->pool_buf));
	h->t = h->toks;
	h->cap = HP_TOKS_INLINE;
	h->nt = h->i = 0;
	h->found = h->disp_from = h->disp_to = 0;
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
	if (h->t != h->toks)
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
		pc_mb_copy_utf8(buf, len, d.buf, d.len);
		dstr_free(&d);
		dstr_free(&w);
	}
	hparse_free(&h);
	return rc;
}
