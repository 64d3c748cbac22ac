/*
 * netaddr.c - strict IPv4/IPv6 address and CIDR parsing, canonical
 * formatting and network membership. Parsed by hand rather than with
 * inet_pton so every refusal can say what was wrong, and so the accepted
 * syntax does not depend on the C library's leniency.
 */
#include "netaddr.h"
#include "util.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Error messages quote the input; keep them one short, printable line. */
#define SHOW_MAX 64

static const char *
show(char *buf, size_t len, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && s[i] != '\0' && o + 5 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == SHOW_MAX) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly four decimal octets spanning s[0..n), no leading zeros. */
static int
parse_v4(const char *s, size_t n, unsigned char out[4], char *err,
    size_t errlen)
{
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++) {
		size_t start;
		unsigned v = 0;

		if (k > 0) {
			if (i == n)
				return pc_err(err, errlen,
				    "IPv4 address needs 4 octets");
			if (s[i] != '.')
				return pc_err(err, errlen,
				    "bad character in IPv4 address");
			i++;
		}
		start = i;
		while (i < n && is_digit(s[i]) && i - start < 4)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start)
			return pc_err(err, errlen,
			    "empty or non-numeric IPv4 octet");
		if (i - start > 1 && s[start] == '0')
			return pc_err(err, errlen, "leading zero in IPv4 "
			    "octet (octal is ambiguous)");
		if (v > 255)
			return pc_err(err, errlen, "IPv4 octet out of range");
		out[k] = (unsigned char)v;
	}
	if (i < n)
		return pc_err(err, errlen, s[i] == '.' ?
		    "IPv4 address has more than 4 octets" :
		    "junk after IPv4 address");
	return 0;
}

/* RFC 4291 section 2.2 text form spanning s[0..n). */
static int
parse_v6(const char *s, size_t n, unsigned char out[16], char *err,
    size_t errlen)
{
	unsigned g[8];
	int ng = 0, gap = -1, k;
	size_t i = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		return pc_err(err, errlen, "IPv6 address starts with one ':'");
	}
	while (i < n) {
		size_t start = i;
		unsigned v = 0;

		while (i < n && hexval(s[i]) >= 0) {
			if (i - start < 4)
				v = v << 4 | (unsigned)hexval(s[i]);
			i++;
		}
		if (i < n && s[i] == '.') {
			unsigned char b[4];

			/* The v4 tail takes the last two groups. */
			if (ng > 6)
				return pc_err(err, errlen,
				    "too many groups in IPv6 address");
			if (parse_v4(s + start, n - start, b, err, errlen) < 0)
				return -1;
			g[ng++] = (unsigned)b[0] << 8 | b[1];
			g[ng++] = (unsigned)b[2] << 8 | b[3];
			i = n;
			break;
		}
		if (i == start)
			return pc_err(err, errlen, i < n && s[i] == ':' ?
			    "more than one '::' or ':::' in IPv6 address" :
			    "bad character in IPv6 address");
		if (i - start > 4)
			return pc_err(err, errlen,
			    "IPv6 group longer than 4 hex digits");
		if (ng == 8)
			return pc_err(err, errlen,
			    "too many groups in IPv6 address");
		g[ng++] = v;
		if (i == n)
			break;
		if (s[i] != ':')
			return pc_err(err, errlen,
			    "bad character in IPv6 address");
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return pc_err(err, errlen,
				    "more than one '::' in IPv6 address");
			gap = ng;
			i++;
		} else if (i == n) {
			return pc_err(err, errlen,
			    "IPv6 address ends with one ':'");
		}
	}
	if (gap < 0 && ng != 8)
		return pc_err(err, errlen, "too few groups in IPv6 address");
	if (gap >= 0 && ng > 7)
		return pc_err(err, errlen,
		    "'::' must stand for at least one zero group");

	memset(out, 0, 16);
	for (k = 0; k < ng; k++) {
		/* Groups after the gap move to the end. */
		int pos = (gap >= 0 && k >= gap) ? k + 8 - ng : k;

		out[2 * pos] = (unsigned char)(g[k] >> 8);
		out[2 * pos + 1] = (unsigned char)g[k];
	}
	return 0;
}

/* Folds ::ffff:a.b.c.d into AF_INET; says whether it did. */
static int
fold_mapped(struct pc_addr *a)
{
	if (a->family != AF_INET6 || memcmp(a->a, v4mapped, 12) != 0)
		return 0;
	a->family = AF_INET;
	memmove(a->a, a->a + 12, 4);
	memset(a->a + 4, 0, 12);
	return 1;
}

static int
addr_parse(const char *s, struct pc_addr *out, int *mapped, char *err,
    size_t errlen)
{
	size_t n, i;
	int tagged = 0;

	memset(out, 0, sizeof(*out));
	*mapped = 0;
	if (s == NULL || *s == '\0')
		return pc_err(err, errlen, "empty address");
	n = strlen(s);
	if (s[0] == '[' || s[n - 1] == ']') {
		if (n < 2 || s[0] != '[' || s[n - 1] != ']')
			return pc_err(err, errlen, "unbalanced [ ] in address");
		s++;
		n -= 2;
	}
	if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		tagged = 1;
		s += 5;
		n -= 5;
	}
	if (n == 0)
		return pc_err(err, errlen, "empty address");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%')
			return pc_err(err, errlen,
			    "IPv6 zone ids are not supported");
		if (c <= ' ' || c >= 0x7f)
			return pc_err(err, errlen, "white space or control "
			    "character in address");
	}
	if (memchr(s, ':', n) != NULL) {
		if (parse_v6(s, n, out->a, err, errlen) < 0)
			return -1;
		out->family = AF_INET6;
		*mapped = fold_mapped(out);
		return 0;
	}
	if (tagged)
		return pc_err(err, errlen, "IPv6: tag on an IPv4 address");
	if (parse_v4(s, n, out->a, err, errlen) < 0)
		return -1;
	out->family = AF_INET;
	return 0;
}

int
pc_addr_parse(const char *s, struct pc_addr *out, char *err, size_t errlen)
{
	int mapped;

	return addr_parse(s, out, &mapped, err, errlen);
}

void
pc_addr_format(const struct pc_addr *a, char *buf, size_t len)
{
	char tmp[PC_ADDR_STRLEN];
	unsigned g[8];
	int best = -1, bestlen = 0, run = 0, k;
	size_t o = 0;

	if (len == 0)
		return;
	if (a->family == AF_INET) {
		snprintf(buf, len, "%u.%u.%u.%u", a->a[0], a->a[1], a->a[2],
		    a->a[3]);
		return;
	}
	if (a->family != AF_INET6) {
		pc_strlcpy(buf, "(none)", len);
		return;
	}
	/* RFC 5952: compress the first longest run of >= 2 zero groups. */
	for (k = 0; k < 8; k++) {
		g[k] = (unsigned)a->a[2 * k] << 8 | a->a[2 * k + 1];
		run = g[k] == 0 ? run + 1 : 0;
		if (run > bestlen) {
			bestlen = run;
			best = k - run + 1;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (k = 0; k < 8; k++) {
		if (k == best) {
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "::");
			k += bestlen - 1;
			continue;
		}
		o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s%x",
		    k > 0 && k != best + bestlen ? ":" : "", g[k]);
	}
	pc_strlcpy(buf, tmp, len);
}

int
pc_addr_cmp(const struct pc_addr *a, const struct pc_addr *b)
{
	int c;

	if (a->family != b->family)
		return a->family == AF_INET ? -1 :
		    b->family == AF_INET ? 1 : (a->family < b->family ? -1 : 1);
	c = memcmp(a->a, b->a, a->family == AF_INET ? 4 : 16);
	return c < 0 ? -1 : c > 0;
}

int
pc_addr_from_sockaddr(const struct sockaddr *sa, struct pc_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		out->family = AF_INET;
		memcpy(out->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		out->family = AF_INET6;
		memcpy(out->a, &sin6->sin6_addr, 16);
		fold_mapped(out);
		return 0;
	}
	return -1;
}

static unsigned
family_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Clears host bits; returns 1 if any were set. */
static int
apply_mask(struct pc_addr *a, unsigned prefix)
{
	unsigned bits = family_bits(a->family), k;
	int changed = 0;

	for (k = prefix; k < bits; k++) {
		unsigned char bit = (unsigned char)(0x80u >> (k % 8));

		if (a->a[k / 8] & bit) {
			a->a[k / 8] &= (unsigned char)~bit;
			changed = 1;
		}
	}
	return changed;
}

int
pc_net_parse(const char *s, struct pc_net *out, char *err, size_t errlen)
{
	char addr[PC_NET_STRLEN + 16], sub[128], shown[SHOW_MAX * 4 + 8];
	const char *slash;
	size_t alen;
	unsigned max;
	int mapped;

	memset(out, 0, sizeof(*out));
	if (s == NULL || *s == '\0')
		return pc_err(err, errlen, "empty network");
	show(shown, sizeof(shown), s, SIZE_MAX);
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen >= sizeof(addr))
		return pc_err(err, errlen, "%s: address too long", shown);
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (addr_parse(addr, &out->addr, &mapped, sub, sizeof(sub)) < 0)
		return pc_err(err, errlen, "%s: %s", shown, sub);
	/* A mapped address was written as v6: its prefix counts 128 bits. */
	max = mapped ? 128 : family_bits(out->addr.family);
	out->prefix = max;
	if (slash != NULL) {
		const char *p = slash + 1;
		unsigned v = 0;
		size_t i;

		for (i = 0; is_digit(p[i]) && i < 4; i++)
			v = v * 10 + (unsigned)(p[i] - '0');
		if (i == 0 || i > 3 || p[i] != '\0')
			return pc_err(err, errlen, "%s: prefix length must be "
			    "a number from 0 to %u", shown, max);
		if (v > max)
			return pc_err(err, errlen, "%s: prefix length %u out "
			    "of range (0-%u)", shown, v, max);
		if (mapped && v < 96)
			return pc_err(err, errlen, "%s: an IPv4-mapped network "
			    "needs a prefix of at least 96", shown);
		out->prefix = v;
	}
	if (mapped)
		out->prefix -= 96;
	if (apply_mask(&out->addr, out->prefix)) {
		char fixed[PC_NET_STRLEN];

		pc_net_format(out, fixed, sizeof(fixed));
		return pc_err(err, errlen, "%s: host bits set, did you mean "
		    "%s?", shown, fixed);
	}
	return 0;
}

void
pc_net_format(const struct pc_net *n, char *buf, size_t len)
{
	char a[PC_ADDR_STRLEN];

	pc_addr_format(&n->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, n->prefix);
}

int
pc_net_contains(const struct pc_net *n, const struct pc_addr *a)
{
	unsigned full = n->prefix / 8, rem = n->prefix % 8;

	if (n->addr.family != a->family ||
	    n->prefix > family_bits(a->family))
		return 0;
	if (memcmp(n->addr.a, a->a, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((n->addr.a[full] ^ a->a[full]) & (0xff00u >> rem) & 0xff) == 0;
}

void
pc_netlist_init(struct pc_netlist *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
}

#define NETLIST_SEP ", \t\r\n\f\v"

int
pc_netlist_add(struct pc_netlist *l, const char *s, char *err, size_t errlen)
{
	size_t saved = l->n;
	char item[PC_NET_STRLEN + 16], shown[SHOW_MAX * 4 + 8];

	if (s == NULL)
		return pc_err(err, errlen, "no network given");
	for (;;) {
		size_t len;
		struct pc_net net;

		s += strspn(s, NETLIST_SEP);
		if (*s == '\0')
			break;
		len = strcspn(s, NETLIST_SEP);
		if (len >= sizeof(item)) {
			l->n = saved;
			return pc_err(err, errlen, "%s: network too long",
			    show(shown, sizeof(shown), s, len));
		}
		memcpy(item, s, len);
		item[len] = '\0';
		s += len;
		if (pc_net_parse(item, &net, err, errlen) < 0) {
			l->n = saved;
			return -1;
		}
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 8;
			l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		}
		l->v[l->n++] = net;
	}
	if (l->n == saved)
		return pc_err(err, errlen, "no network given");
	return 0;
}

int
pc_netlist_contains(const struct pc_netlist *l, const struct pc_addr *a)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (pc_net_contains(&l->v[i], a))
			return 1;
	return 0;
}

void
pc_netlist_free(struct pc_netlist *l)
{
	free(l->v);
	pc_netlist_init(l);
}
