/*
 * arf.c - a bounded MIME walker for abuse reports (see arf.h).
 *
 * Only what tracing needs: header fields, Content-Type with its boundary
 * and report-type, base64 and quoted-printable bodies, multipart nesting,
 * message/rfc822, text/rfc822-headers and message/feedback-report.
 */
#include "arf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "util.h"

struct walk {
	const char *name;
	size_t namelen;
	arf_field_cb cb;
	void *arg;
	struct arf_report *rep;
	size_t parts;
};

struct entity {
	char type[64];		/* "text/plain", lowercase */
	char boundary[80];
	char report_type[64];
	int b64, qp;
};

/* Copies a header value into dst, unfolded, blanks at both ends trimmed. */
static void
set_field(char *dst, size_t dlen, const char *v, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 1 < dlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r' || c == '\n')
			continue;
		dst[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	while (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	{
		const char *t = pc_str_trim(dst);

		memmove(dst, t, strlen(t) + 1);
	}
}

/* Reads "name=value" or name="value" params of a Content-Type. */
static void
param(const char *v, size_t n, const char *want, char *out, size_t olen)
{
	size_t wl = strlen(want), i = 0, o;

	out[0] = '\0';
	while (i < n) {
		while (i < n && v[i] != ';' && v[i] != '"')
			i++;
		if (i < n && v[i] == '"') {	/* skip a quoted string */
			for (i++; i < n && v[i] != '"'; i++)
				if (v[i] == '\\')
					i++;
			i++;
			continue;
		}
		if (i >= n)
			return;
		i++;
		while (i < n && isspace((unsigned char)v[i]))
			i++;
		if (i + wl < n && strncasecmp(v + i, want, wl) == 0) {
			size_t j = i + wl;

			while (j < n && isspace((unsigned char)v[j]))
				j++;
			if (j >= n || v[j] != '=')
				continue;
			j++;
			while (j < n && isspace((unsigned char)v[j]))
				j++;
			o = 0;
			if (j < n && v[j] == '"') {
				for (j++; j < n && v[j] != '"' && o + 1 < olen; j++) {
					if (v[j] == '\\' && j + 1 < n)
						j++;
					if (v[j] != '\r' && v[j] != '\n')
						out[o++] = v[j];
				}
			} else {
				for (; j < n && v[j] != ';' &&
				    !isspace((unsigned char)v[j]) && o + 1 < olen; j++)
					out[o++] = v[j];
			}
			out[o] = '\0';
			return;
		}
	}
}

static void
content_type(struct entity *e, const char *v, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n && isspace((unsigned char)v[i]))
		i++;
	for (; i < n && v[i] != ';' && !isspace((unsigned char)v[i]) &&
	    o + 1 < sizeof(e->type); i++)
		e->type[o++] = (char)tolower((unsigned char)v[i]);
	e->type[o] = '\0';
	param(v, n, "boundary", e->boundary, sizeof(e->boundary));
	param(v, n, "report-type", e->report_type, sizeof(e->report_type));
}

static void
feedback_field(struct arf_report *r, const char *name, size_t nl,
    const char *v, size_t vl)
{
	static const struct { const char *n; size_t off, len; } f[] = {
#define F(n, m) { n, offsetof(struct arf_report, m), \
    sizeof(((struct arf_report *)0)->m) }
		F("Feedback-Type", feedback_type),
		F("User-Agent", user_agent),
		F("Source-IP", source_ip),
		F("Original-Mail-From", original_mail_from),
		F("Arrival-Date", arrival_date),
		F("Reported-Domain", reported_domain),
#undef F
	};
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(f); i++)
		if (strlen(f[i].n) == nl && strncasecmp(f[i].n, name, nl) == 0 &&
		    ((char *)r + f[i].off)[0] == '\0')
			set_field((char *)r + f[i].off, f[i].len, v, vl);
}

/* Unfolds v[0..n) into a bounded buffer and hands it to the callback. */
static void
emit(struct walk *w, const char *v, size_t n, enum arf_where where)
{
	char *buf;
	size_t o = 0, i;

	if (n > ARF_FIELD_MAX) {
		if (w->rep != NULL)
			w->rep->problems |= ARF_P_FIELD_TOO_LONG;
		n = ARF_FIELD_MAX;
	}
	buf = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		if (v[i] != '\r' && v[i] != '\n')
			buf[o++] = v[i];
	while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t'))
		o--;
	buf[o] = '\0';
	i = 0;
	while (i < o && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	w->cb(w->arg, buf + i, o - i, where);
	free(buf);
}

static const char *
line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl + 1 : end;
}

static int
blank_line(const char *p, const char *e)
{
	return (e - p == 1 && p[0] == '\n') ||
	    (e - p == 2 && p[0] == '\r' && p[1] == '\n') || e == p;
}

/*
 * Reads the header block at [p, end): fields go to the callback (name
 * match), into e (Content-*), or into the report (feedback).  Returns the
 * start of the body.
 */
static const char *
header_block(struct walk *w, const char *p, const char *end, struct entity *e,
    enum arf_where where, int feedback)
{
	while (p < end) {
		const char *le = line_end(p, end), *colon, *v, *fe;

		if (blank_line(p, le))
			return le;
		if (*p == ' ' || *p == '\t') {	/* stray continuation */
			p = le;
			continue;
		}
		/* The field runs on over continuation lines. */
		fe = le;
		while (fe < end && (*fe == ' ' || *fe == '\t'))
			fe = line_end(fe, end);
		colon = memchr(p, ':', (size_t)(le - p));
		if (colon == NULL) {
			if (where == ARF_TOP && p == le)
				return le;
			p = fe;		/* not a field: a broken header */
			continue;
		}
		v = colon + 1;
		if (w->namelen > 0 && (size_t)(colon - p) == w->namelen &&
		    strncasecmp(p, w->name, w->namelen) == 0)
			emit(w, v, (size_t)(fe - v), where);
		if (e != NULL && colon - p == 12 &&
		    strncasecmp(p, "Content-Type", 12) == 0)
			content_type(e, v, (size_t)(fe - v));
		if (e != NULL && colon - p == 25 &&
		    strncasecmp(p, "Content-Transfer-Encoding", 25) == 0) {
			char cte[32];

			set_field(cte, sizeof(cte), v, (size_t)(fe - v));
			e->b64 = strcasecmp(cte, "base64") == 0;
			e->qp = strcasecmp(cte, "quoted-printable") == 0;
		}
		if (feedback && w->rep != NULL)
			feedback_field(w->rep, p, (size_t)(colon - p), v,
			    (size_t)(fe - v));
		p = fe;
	}
	return end;
}

static int
hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decoded copy of a base64 or quoted-printable body; NULL if neither. */
static char *
decode(struct walk *w, const struct entity *e, const char *p, size_t n,
    size_t *outlen)
{
	char *out;
	size_t i, o = 0;

	if (!e->b64 && !e->qp)
		return NULL;
	out = xmalloc(n + 1);
	if (e->b64) {
		long r = pc_b64_decode(p, n, (unsigned char *)out, n, 0);

		if (r < 0) {
			if (w->rep != NULL)
				w->rep->problems |= ARF_P_BAD_ENCODING;
			r = 0;
		}
		o = (size_t)r;
	} else {
		for (i = 0; i < n; i++) {
			if (p[i] == '=' && i + 2 < n && hexv(p[i + 1]) >= 0 &&
			    hexv(p[i + 2]) >= 0) {
				out[o++] = (char)(hexv(p[i + 1]) << 4 | hexv(p[i + 2]));
				i += 2;
			} else if (p[i] == '=' && i + 1 < n && p[i + 1] == '\n') {
				i += 1;
			} else if (p[i] == '=' && i + 2 < n && p[i + 1] == '\r' &&
			    p[i + 2] == '\n') {
				i += 2;
			} else {
				out[o++] = p[i];
			}
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

/*
 * A forwarded message pasted into text: any line that, after quote
 * marks and blanks, starts with the field name and a colon.
 */
static void
scan_inline(struct walk *w, const char *p, const char *end)
{
	while (p < end) {
		const char *le = line_end(p, end), *q = p, *fe;

		while (q < le && (*q == '>' || *q == ' ' || *q == '\t'))
			q++;
		if ((size_t)(le - q) > w->namelen &&
		    strncasecmp(q, w->name, w->namelen) == 0 &&
		    q[w->namelen] == ':') {
			/* Continuations: quoted lines whose text starts blank. */
			fe = le;
			while (fe < end) {
				const char *r = fe, *nle = line_end(fe, end);
				int quoted = 0;

				while (r < nle && *r == '>') {
					r++;
					quoted = 1;
				}
				if (quoted && r < nle && *r == ' ')
					r++;
				if (r >= nle || (*r != ' ' && *r != '\t') ||
				    blank_line(r, nle))
					break;
				fe = nle;
			}
			if (fe == le) {
				emit(w, q + w->namelen + 1,
				    (size_t)(le - q - w->namelen - 1), ARF_INLINE);
			} else {
				/* Drop the quote marks of the continuation lines. */
				struct dstr d;
				const char *r;

				dstr_init(&d);
				dstr_append(&d, q + w->namelen + 1,
				    (size_t)(le - q - w->namelen - 1));
				for (r = le; r < fe; ) {
					const char *nle = line_end(r, fe), *s = r;

					while (s < nle && *s == '>')
						s++;
					if (d.len < ARF_FIELD_MAX)
						dstr_append(&d, s, (size_t)(nle - s));
					r = nle;
				}
				emit(w, d.buf, d.len, ARF_INLINE);
				dstr_free(&d);
			}
			p = fe;
			continue;
		}
		p = le;
	}
}

static void entity(struct walk *w, const char *p, const char *end, int depth,
    enum arf_where where, int headers_only);

/* Is [p, le) the line "--boundary" or "--boundary--"?  1, 2 (close), 0. */
static int
boundary_line(const char *p, const char *le, const char *b, size_t bl)
{
	const char *q;

	if ((size_t)(le - p) < 2 + bl || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, b, bl) != 0)
		return 0;
	q = p + 2 + bl;
	if (le - q >= 2 && q[0] == '-' && q[1] == '-')
		return 2;
	for (; q < le; q++)
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
			return 0;
	return 1;
}

static void
multipart(struct walk *w, const struct entity *e, const char *p,
    const char *end, int depth, enum arf_where where)
{
	size_t bl = strlen(e->boundary);
	const char *part = NULL, *start = p;
	int closed = 0, any = 0;

	if (bl == 0) {
		if (w->rep != NULL)
			w->rep->problems |= ARF_P_NO_BOUNDARY;
		scan_inline(w, p, end);
		return;
	}
	while (p < end && !closed) {
		const char *le = line_end(p, end);
		int k = boundary_line(p, le, e->boundary, bl);

		if (k != 0) {
			if (part != NULL) {
				/* The CRLF before the boundary belongs to it. */
				const char *pe = p;

				if (pe > part && pe[-1] == '\n')
					pe--;
				if (pe > part && pe[-1] == '\r')
					pe--;
				if (++w->parts > ARF_PARTS_MAX) {
					if (w->rep != NULL)
						w->rep->problems |=
						    ARF_P_TOO_MANY_PARTS;
					return;
				}
				entity(w, part, pe, depth + 1, where, 0);
			}
			any = 1;
			part = le;
			closed = k == 2;
		}
		p = le;
	}
	if (!any) {
		if (w->rep != NULL)
			w->rep->problems |= ARF_P_NO_BOUNDARY;
		scan_inline(w, start, end);
		return;
	}
	if (!closed) {
		if (w->rep != NULL)
			w->rep->problems |= ARF_P_NO_END;
		if (part != NULL && part < end && ++w->parts <= ARF_PARTS_MAX)
			entity(w, part, end, depth + 1, where, 0);
	}
}

static void
entity(struct walk *w, const char *p, const char *end, int depth,
    enum arf_where where, int headers_only)
{
	struct entity e;
	const char *body;
	char *dec;
	size_t declen = 0;
	int is_report, feedback = 0;

	if (depth > ARF_DEPTH_MAX) {
		if (w->rep != NULL)
			w->rep->problems |= ARF_P_TOO_DEEP;
		return;
	}
	memset(&e, 0, sizeof(e));
	body = header_block(w, p, end, &e, where, 0);
	if (headers_only)
		return;
	if ((dec = decode(w, &e, body, (size_t)(end - body), &declen)) != NULL) {
		body = dec;
		end = dec + declen;
	}
	is_report = strcmp(e.type, "multipart/report") == 0;
	if (is_report && depth == 0 && w->rep != NULL &&
	    strcasecmp(e.report_type, "feedback-report") == 0)
		w->rep->is_report = 1;
	if (strncmp(e.type, "multipart/", 10) == 0) {
		multipart(w, &e, body, end, depth,
		    is_report ? ARF_ORIGINAL : where == ARF_TOP ? ARF_ATTACHED :
		    where);
	} else if (strcmp(e.type, "message/rfc822") == 0 ||
	    strcmp(e.type, "message/global") == 0) {
		if (w->rep != NULL && where == ARF_ORIGINAL)
			w->rep->has_original = 1;
		entity(w, body, end, depth + 1,
		    where == ARF_TOP ? ARF_ATTACHED : where, 0);
	} else if (strcmp(e.type, "text/rfc822-headers") == 0) {
		if (w->rep != NULL && where == ARF_ORIGINAL)
			w->rep->has_original = 1;
		entity(w, body, end, depth + 1,
		    where == ARF_TOP ? ARF_ATTACHED : where, 1);
	} else if (strcmp(e.type, "message/feedback-report") == 0) {
		feedback = 1;
		if (w->rep != NULL)
			w->rep->has_feedback = 1;
		{
			/* Its body is a header block of its own. */
			struct walk fw = *w;

			fw.namelen = 0;
			fw.name = "";
			(void)header_block(&fw, body, end, NULL, where, feedback);
		}
	} else if (e.type[0] == '\0' || strncmp(e.type, "text/", 5) == 0) {
		scan_inline(w, body, end);
	}
	free(dec);
}

int
arf_find_field(const char *msg, size_t len, const char *name,
    arf_field_cb cb, void *arg, struct arf_report *rep)
{
	struct walk w;

	if (rep != NULL)
		memset(rep, 0, sizeof(*rep));
	if (len > ARF_INPUT_MAX)
		return -1;
	memset(&w, 0, sizeof(w));
	w.name = name;
	w.namelen = strlen(name);
	w.cb = cb;
	w.arg = arg;
	w.rep = rep;
	entity(&w, msg, msg + len, 0, ARF_TOP, 0);
	return 0;
}

void
arf_problems_str(unsigned problems, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *text; } p[] = {
		{ ARF_P_NO_BOUNDARY, "multipart without its boundary" },
		{ ARF_P_TOO_DEEP, "nested too deeply" },
		{ ARF_P_TOO_MANY_PARTS, "too many parts" },
		{ ARF_P_FIELD_TOO_LONG, "header field too long" },
		{ ARF_P_NO_END, "no closing boundary" },
		{ ARF_P_BAD_ENCODING, "bad base64" },
	};
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < PC_ARRAY_LEN(p); i++)
		if (problems & p[i].bit) {
			if (buf[0] != '\0')
				pc_strlcat(buf, ", ", len);
			pc_strlcat(buf, p[i].text, len);
		}
}
