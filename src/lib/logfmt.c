/*
 * logfmt.c - the escaping between a client's bytes and the log: logfmt
 * values (syslog), JSON strings (LogFile) and diagnostics text.
 *
 * It is the only thing standing between an SMTP client and the
 * administrator's log parser: whatever bytes a value holds, the output
 * is one line, every field boundary is ours, and the JSON file is valid
 * UTF-8.  So every value is escaped (trusted ones too, because escaping is
 * about the format, not about trust); client-supplied ones are also capped.
 */
#include "logfmt.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

enum esc_mode {
	ESC_LOGFMT,	/* body of a logfmt value; tells whether to quote */
	ESC_JSON,	/* body of a JSON string */
	ESC_TEXT	/* diagnostics: only controls and bad UTF-8 */
};

static const char hexdigits[] = "0123456789abcdef";

/*
 * Valid characters that still end or disturb a line in some viewer: the
 * C1 controls (U+0080..U+009F, e.g. NEL and the 8-bit CSI terminals obey)
 * and U+2028/U+2029.  They are escaped although they are valid UTF-8.
 */
static int
utf8_is_linebreaker(const unsigned char *s, size_t n)
{
	if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0)
		return 1;
	return n == 3 && s[0] == 0xe2 && s[1] == 0x80 &&
	    (s[2] == 0xa8 || s[2] == 0xa9);
}

static void
put_hex_bytes(struct dstr *d, const unsigned char *s, size_t n)
{
	char buf[4] = { '\\', 'x', 0, 0 };

	while (n-- > 0) {
		buf[2] = hexdigits[*s >> 4];
		buf[3] = hexdigits[*s & 0xf];
		dstr_append(d, buf, sizeof(buf));
		s++;
	}
}

static void
put_json_u(struct dstr *d, unsigned cp)
{
	char buf[6] = { '\\', 'u', hexdigits[(cp >> 12) & 0xf],
	    hexdigits[(cp >> 8) & 0xf], hexdigits[(cp >> 4) & 0xf],
	    hexdigits[cp & 0xf] };

	dstr_append(d, buf, sizeof(buf));
}

/* Escapes one ASCII control byte; JSON and logfmt share \n \r \t. */
static void
put_control(struct dstr *d, unsigned char c, enum esc_mode mode)
{
	switch (c) {
	case '\n':
		dstr_append(d, "\\n", 2);
		return;
	case '\r':
		dstr_append(d, "\\r", 2);
		return;
	case '\t':
		dstr_append(d, "\\t", 2);
		return;
	}
	if (mode == ESC_JSON)
		put_json_u(d, c);
	else
		put_hex_bytes(d, &c, 1);
}

/*
 * What escape() does with a byte at first sight: ASCII_PLAIN and
 * ASCII_SPACE (which a logfmt value must quote) are copied as they are;
 * anything else (controls, '"', '\\', bytes of 0x80 and up) takes the
 * slow path.
 */
enum { ASCII_PLAIN = 0, ASCII_SPACE = 1, ASCII_SLOW = 2 };
#define ASCII_ROW(c)	((c) < 0x20 || (c) >= 0x7f || (c) == '"' || \
    (c) == '\\' ? ASCII_SLOW : (c) == ' ' || (c) == '=' ? ASCII_SPACE : \
    ASCII_PLAIN)
#define ASCII_ROW4(c)	ASCII_ROW(c), ASCII_ROW((c) + 1), ASCII_ROW((c) + 2), \
    ASCII_ROW((c) + 3)
#define ASCII_ROW16(c)	ASCII_ROW4(c), ASCII_ROW4((c) + 4), ASCII_ROW4((c) + 8), \
    ASCII_ROW4((c) + 12)
#define ASCII_ROW64(c)	ASCII_ROW16(c), ASCII_ROW16((c) + 16), \
    ASCII_ROW16((c) + 32), ASCII_ROW16((c) + 48)
static const unsigned char ascii_class[256] = {
	ASCII_ROW64(0), ASCII_ROW64(64), ASCII_ROW64(128), ASCII_ROW64(192)
};

/*
 * Appends the escaped form of s[0..len) to d, keeping at most cap input
 * bytes and never splitting a UTF-8 sequence; a cut value ends in "...".
 * Returns nonzero when a logfmt value needs quotes.  Runs of bytes that
 * need no escaping are copied in one piece.
 */
static int
escape(struct dstr *d, const char *str, size_t len, size_t cap,
    enum esc_mode mode)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, k, lim = len < cap ? len : cap;
	int quote = 0;

	while (i < len) {
		unsigned char c;
		int plain = 0;

		/*
		 * Printable ASCII other than '"' and '\\' is nearly every byte
		 * of a log line: it joins the run without a look at UTF-8.
		 */
		if (mode == ESC_LOGFMT)
			while (i < lim && ascii_class[s[i]] <= ASCII_SPACE)
				quote |= ascii_class[s[i++]];
		else
			while (i < lim && ascii_class[s[i]] <= ASCII_SPACE)
				i++;
		if (i == len)
			break;
		c = s[i];
		if (ascii_class[c] <= ASCII_SPACE)
			break;		/* plain, but past the cap */
		k = pc_utf8_len(s + i, len - i);
		if (i + (k ? k : 1) > cap)
			break;
		if (k == 0) {
			/* A stray byte: visible in logfmt, U+FFFD in JSON. */
			dstr_append(d, str + run, i - run);
			if (mode == ESC_JSON)
				dstr_append(d, "\xef\xbf\xbd", 3);
			else
				put_hex_bytes(d, &c, 1);
			quote = 1;
			k = 1;
		} else if (k > 1) {
			if (!utf8_is_linebreaker(s + i, k))
				plain = 1;
			else {
				dstr_append(d, str + run, i - run);
				if (mode == ESC_JSON)
					put_json_u(d, k == 2 ? s[i + 1] :
					    0x2000u | (s[i + 2] & 0x3fu));
				else
					put_hex_bytes(d, s + i, k);
				quote = 1;
			}
		} else if (c < 0x20 || c == 0x7f) {
			dstr_append(d, str + run, i - run);
			put_control(d, c, mode);
			quote = 1;
		} else if ((c == '"' || c == '\\') && mode != ESC_TEXT) {
			dstr_append(d, str + run, i - run);
			dstr_putc(d, '\\');
			dstr_putc(d, (char)c);
			quote = 1;
		} else {
			plain = 1;	/* '"' or '\\' in ESC_TEXT, kept as is */
		}
		i += k;
		if (!plain)
			run = i;
	}
	dstr_append(d, str + run, i - run);
	if (i < len) {
		dstr_append(d, "...", 3);
		quote = 1;
	}
	return quote;
}

/*
 * Keys come from our code, never from a client; a bad one is a bug.
 * put_key() checks each as it measures it, by table: [a-z0-9_]+.
 */
#define KEY_ROW(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || \
    (c) == '_')
#define KEY_ROW4(c)	KEY_ROW(c), KEY_ROW((c) + 1), KEY_ROW((c) + 2), \
    KEY_ROW((c) + 3)
#define KEY_ROW16(c)	KEY_ROW4(c), KEY_ROW4((c) + 4), KEY_ROW4((c) + 8), \
    KEY_ROW4((c) + 12)
#define KEY_ROW64(c)	KEY_ROW16(c), KEY_ROW16((c) + 16), KEY_ROW16((c) + 32), \
    KEY_ROW16((c) + 48)
static const unsigned char key_char[256] = {
	KEY_ROW64(0), KEY_ROW64(64), KEY_ROW64(128), KEY_ROW64(192)
};

/* Appends a key: one pass both measures and checks it. */
static void
put_key(struct dstr *d, const char *key)
{
	const unsigned char *p = (const unsigned char *)key;
	size_t n = 0;

	assert(p != NULL);
	while (key_char[p[n]])
		n++;
	assert(n > 0 && p[n] == '\0');
	dstr_append(d, key, n);
}

void
pc_json_escape_len(struct dstr *d, const char *s, size_t len, size_t cap)
{
	escape(d, s, len, cap, ESC_JSON);
}

void
pc_json_escape(struct dstr *d, const char *s, size_t cap)
{
	if (s == NULL)
		s = "";
	escape(d, s, strlen(s), cap, ESC_JSON);
}

void
pc_logfmt_value_len(struct dstr *d, const char *s, size_t len, size_t cap)
{
	size_t open = d->len;

	/*
	 * Whether quotes are needed is known only after escaping, so write
	 * the opening quote optimistically and take it back if unneeded.
	 */
	dstr_putc(d, '"');
	if (escape(d, s, len, cap, ESC_LOGFMT) || len == 0)
		dstr_putc(d, '"');
	else {
		memmove(d->buf + open, d->buf + open + 1, d->len - open - 1);
		d->len--;
		d->buf[d->len] = '\0';
	}
}

static size_t
field_cap(const struct pc_logfield *f)
{
	return f->trusted ? PC_LOG_NO_CAP : PC_LOG_VALUE_CAP;
}

void
pc_logfmt_append(struct dstr *d, const struct pc_logfield *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *v = f[i].value != NULL ? f[i].value : "";

		if (i > 0)
			dstr_putc(d, ' ');
		put_key(d, f[i].key);
		dstr_putc(d, '=');
		pc_logfmt_value_len(d, v, strlen(v), field_cap(&f[i]));
	}
}

static void
json_members(struct dstr *d, const struct pc_logfield *f, size_t n,
    int comma)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *v = f[i].value != NULL ? f[i].value : "";

		if (comma || i > 0)
			dstr_putc(d, ',');
		dstr_putc(d, '"');
		put_key(d, f[i].key);
		dstr_append(d, "\":\"", 3);
		escape(d, v, strlen(v), field_cap(&f[i]), ESC_JSON);
		dstr_putc(d, '"');
	}
}

void
pc_json_append(struct dstr *d, const struct pc_logfield *f, size_t n)
{
	dstr_putc(d, '{');
	json_members(d, f, n, 0);
	dstr_putc(d, '}');
}

void
pc_text_escape(struct dstr *d, const char *s, size_t len, size_t cap)
{
	escape(d, s, len, cap, ESC_TEXT);
}

void
pc_json_members(struct dstr *d, const struct pc_logfield *f, size_t n)
{
	json_members(d, f, n, 1);
}
