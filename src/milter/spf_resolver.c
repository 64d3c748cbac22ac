/*
 * spf_resolver.c - portcullis' stub resolver, the lowest DNS layer under
 * libspf2 in the milter (see spf_resolver.h).
 *
 * It asks one recursive server (Resolver) over UDP with EDNS0, falls
 * back to TCP on truncation, checks the reply matches the question, and
 * never waits past the evaluation's deadline.  libspf2's own resolver
 * layer cannot be pointed at a server, and its timeouts are the system's.
 * Every reply is hostile: names are read with bounded compression hops,
 * every length is checked against the message, and the screen above
 * (spf_dns.c) checks the text that comes out.
 */
#include "spf_resolver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "spf.h"
#include "util.h"

#define DNS_UDP_MAX 4096
#define DNS_TCP_MAX 65535
#define DNS_TRY_MS 2000
#define TXT_MAX 4096
#define NAME_MAX_TEXT 255

struct net {
	struct sockaddr_storage ns;
	socklen_t nslen;
	struct spf_budget *b;
};

/* Writes domain as wire labels; returns the length or -1. */
static int
put_name(unsigned char *p, size_t cap, const char *domain)
{
	size_t n = 0, len = strlen(domain), start = 0, i;

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && domain[i] != '.') {
			unsigned char c = (unsigned char)domain[i];

			if (c <= 0x20 || c >= 0x7f)
				return -1;
			continue;
		}
		if (i == start || i - start > 63 || n + 1 + (i - start) >= cap)
			return -1;
		p[n++] = (unsigned char)(i - start);
		memcpy(p + n, domain + start, i - start);
		n += i - start;
		start = i + 1;
	}
	if (n + 1 > cap)
		return -1;
	p[n++] = 0;
	return (int)n;
}

/* Reads a (compressed) name at off into text; returns the offset after it. */
static int
get_name(const unsigned char *m, size_t mlen, size_t off, char *out,
    size_t outlen, int *ok)
{
	size_t pos = off, o = 0, end = 0, hops = 0;
	int jumped = 0;

	*ok = 1;
	for (;;) {
		unsigned l;

		if (pos >= mlen)
			return -1;
		l = m[pos];
		if ((l & 0xc0) == 0xc0) {
			if (pos + 1 >= mlen || ++hops > 32)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			pos = (l & 0x3f) << 8 | m[pos + 1];
			continue;
		}
		if ((l & 0xc0) != 0)
			return -1;
		pos++;
		if (l == 0)
			break;
		if (pos + l > mlen)
			return -1;
		if (o != 0 && o + 1 < outlen)
			out[o++] = '.';
		for (; l > 0; l--, pos++) {
			unsigned char c = m[pos];

			if (!isalnum(c) && c != '-' && c != '_')
				*ok = 0;
			if (o + 1 < outlen)
				out[o++] = (char)c;
			else
				*ok = 0;
		}
	}
	if (outlen > 0)
		out[o < outlen ? o : outlen - 1] = '\0';
	if (o == 0 && outlen > 1) {
		out[0] = '.';
		out[1] = '\0';
	}
	return (int)(jumped ? end : pos);
}

int
spf_resolver_query(unsigned char *q, size_t cap, uint16_t id,
    const char *domain, ns_type type)
{
	int n;

	if (cap < 12 + 4 + 11)
		return -1;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 0x01;			/* RD */
	q[5] = 1;			/* QDCOUNT */
	q[11] = 1;			/* ARCOUNT: the OPT record */
	if ((n = put_name(q + 12, cap - 12 - 4 - 11, domain)) < 0)
		return -1;
	n += 12;
	q[n++] = (unsigned char)(type >> 8);
	q[n++] = (unsigned char)type;
	q[n++] = 0;
	q[n++] = 1;			/* IN */
	/* EDNS0 OPT: root name, type 41, UDP size 4096, no flags, no data. */
	q[n++] = 0;
	q[n++] = 0; q[n++] = 41;
	q[n++] = DNS_UDP_MAX >> 8; q[n++] = DNS_UDP_MAX & 0xff;
	q[n++] = 0; q[n++] = 0; q[n++] = 0; q[n++] = 0;
	q[n++] = 0; q[n++] = 0;
	return n;
}

int
spf_resolver_matches(const unsigned char *q, size_t qlen,
    const unsigned char *a, size_t alen)
{
	size_t qend, i;

	(void)qlen;
	if (alen < 12 || a[0] != q[0] || a[1] != q[1] || !(a[2] & 0x80) ||
	    (a[2] & 0x78) != 0 || a[4] != 0 || a[5] != 1)
		return 0;
	for (qend = 12; q[qend] != 0; qend += q[qend] + 1U)
		;
	qend += 1 + 4;
	if (alen < qend)
		return 0;
	for (i = 12; i < qend; i++)
		if (tolower(a[i]) != tolower(q[i]))
			return 0;
	return 1;
}

static int
wait_fd(int fd, short ev, int ms)
{
	struct pollfd p = { fd, ev, 0 };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r;
}

static ssize_t
ask_udp(const struct net *n, const unsigned char *q, size_t qlen,
    unsigned char *a, size_t cap)
{
	int fd, ms, tries;
	ssize_t got = -1;

	if ((fd = socket(n->ns.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&n->ns, n->nslen) < 0)
		goto out;
	for (tries = 0; tries < 2 && got < 0; tries++) {
		if ((ms = spf_budget_remaining_ms(n->b)) == 0)
			break;
		if (send(fd, q, qlen, 0) != (ssize_t)qlen)
			break;
		if (ms > DNS_TRY_MS)
			ms = DNS_TRY_MS;
		while (got < 0 && wait_fd(fd, POLLIN, ms) > 0) {
			ssize_t r = recv(fd, a, cap, 0);

			if (r > 0 && spf_resolver_matches(q, qlen, a, (size_t)r))
				got = r;
			else if (r < 0 && errno != EINTR && errno != EAGAIN)
				break;	/* ICMP refused: try again or give up */
			if ((ms = spf_budget_remaining_ms(n->b)) == 0)
				break;
			if (ms > DNS_TRY_MS)
				ms = DNS_TRY_MS;
		}
	}
out:
	close(fd);
	return got;
}

/* Reads exactly len bytes before the deadline. */
static int
read_full(const struct net *n, int fd, unsigned char *p, size_t len)
{
	size_t have = 0;

	while (have < len) {
		ssize_t r;
		int ms = spf_budget_remaining_ms(n->b);

		if (ms == 0 || wait_fd(fd, POLLIN, ms) <= 0)
			return -1;
		r = read(fd, p + have, len - have);
		if (r <= 0) {
			if (r < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			return -1;
		}
		have += (size_t)r;
	}
	return 0;
}

static ssize_t
ask_tcp(const struct net *n, const unsigned char *q, size_t qlen,
    unsigned char *a, size_t cap)
{
	unsigned char msg[2 + 512];
	size_t len;
	int fd, ms, e = 0;
	socklen_t el = sizeof(e);

	if (qlen > sizeof(msg) - 2)
		return -1;
	fd = socket(n->ns.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)&n->ns, n->nslen) < 0) {
		if (errno != EINPROGRESS ||
		    (ms = spf_budget_remaining_ms(n->b)) == 0 ||
		    wait_fd(fd, POLLOUT, ms) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0)
			goto fail;
	}
	msg[0] = (unsigned char)(qlen >> 8);
	msg[1] = (unsigned char)qlen;
	memcpy(msg + 2, q, qlen);
	if (write(fd, msg, qlen + 2) != (ssize_t)(qlen + 2))
		goto fail;
	if (read_full(n, fd, msg, 2) < 0)
		goto fail;
	len = (size_t)msg[0] << 8 | msg[1];
	if (len > cap || read_full(n, fd, a, len) < 0 ||
	    !spf_resolver_matches(q, qlen, a, len))
		goto fail;
	close(fd);
	return (ssize_t)len;
fail:
	close(fd);
	return -1;
}

static uint16_t
rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Appends one answer of the asked type to rr; 0, or -1 to skip it. */
static int
add_answer(SPF_dns_rr_t *rr, const unsigned char *m, size_t mlen,
    size_t rdoff, size_t rdlen)
{
	char text[TXT_MAX + 1];
	size_t len = 0, pos;
	int idx = rr->num_rr, ok;

	switch (rr->rr_type) {
	case ns_t_a:
		if (rdlen != 4 || SPF_dns_rr_buf_realloc(rr, idx,
		    sizeof(struct in_addr)) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[idx]->a, m + rdoff, 4);
		break;
	case ns_t_aaaa:
		if (rdlen != 16 || SPF_dns_rr_buf_realloc(rr, idx,
		    sizeof(struct in6_addr)) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[idx]->aaaa, m + rdoff, 16);
		break;
	case ns_t_txt:
		for (pos = rdoff; pos < rdoff + rdlen; ) {
			size_t l = m[pos++];

			if (pos + l > rdoff + rdlen || len + l > TXT_MAX)
				return -1;
			if (memchr(m + pos, '\0', l) != NULL)
				return -1;
			memcpy(text + len, m + pos, l);
			len += l;
			pos += l;
		}
		text[len] = '\0';
		if (SPF_dns_rr_buf_realloc(rr, idx, len + 1) != SPF_E_SUCCESS)
			return -1;
		memcpy(rr->rr[idx]->txt, text, len + 1);
		break;
	case ns_t_mx:
	case ns_t_ptr:
		pos = rdoff + (rr->rr_type == ns_t_mx ? 2 : 0);
		if (pos >= rdoff + rdlen ||
		    get_name(m, mlen, pos, text, NAME_MAX_TEXT + 1, &ok) < 0 ||
		    !ok)
			return -1;
		len = strlen(text);
		if (SPF_dns_rr_buf_realloc(rr, idx, len + 1) != SPF_E_SUCCESS)
			return -1;
		memcpy(rr->rr[idx]->ptr, text, len + 1);
		break;
	default:
		return -1;
	}
	rr->num_rr = idx + 1;
	return 0;
}

SPF_dns_rr_t *
spf_resolver_parse(SPF_dns_server_t *d, const char *domain, ns_type type,
    const unsigned char *m, size_t mlen)
{
	unsigned rcode = m[3] & 0x0f, an = rd16(m + 6), ns = rd16(m + 8), i;
	uint32_t ttl = UINT32_MAX, neg = SPF_TTL_NEGATIVE;
	SPF_dns_rr_t *rr;
	char skip[NAME_MAX_TEXT + 1];
	size_t pos = 12;
	int next, ok;

	if (rcode != 0 && rcode != 3)
		return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	if ((next = get_name(m, mlen, pos, skip, sizeof(skip), &ok)) < 0)
		return SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	pos = (size_t)next + 4;
	rr = SPF_dns_rr_new_init(d, domain, type, 0, NETDB_SUCCESS);
	if (rr == NULL)
		return NULL;
	for (i = 0; i < an + ns && i < 512; i++) {
		uint16_t t, cls, rdlen;
		uint32_t rttl;

		if ((next = get_name(m, mlen, pos, skip, sizeof(skip), &ok)) < 0 ||
		    (size_t)next + 10 > mlen)
			goto truncated;
		pos = (size_t)next;
		t = rd16(m + pos);
		cls = rd16(m + pos + 2);
		rttl = rd32(m + pos + 4) & 0x7fffffff;
		rdlen = rd16(m + pos + 8);
		pos += 10;
		if (pos + rdlen > mlen)
			goto truncated;
		if (i < an && t == type && cls == 1 && rcode == 0 &&
		    add_answer(rr, m, mlen, pos, rdlen) == 0 && rttl < ttl)
			ttl = rttl;
		if (i >= an && t == ns_t_soa && rdlen >= 20) {
			uint32_t min = rd32(m + pos + rdlen - 4);

			neg = rttl < min ? rttl : min;
		}
		pos += rdlen;
	}
truncated:
	if (rr->num_rr > 0) {
		rr->ttl = ttl;
	} else {
		rr->ttl = neg;
		rr->herrno = rcode == 3 ? HOST_NOT_FOUND : NO_DATA;
	}
	return rr;
}

static SPF_dns_rr_t *
net_lookup(SPF_dns_server_t *d, const char *domain, ns_type type,
    int should_cache)
{
	const struct net *n = d->hook;
	unsigned char q[512], *a;
	SPF_dns_rr_t *rr;
	uint16_t id;
	ssize_t alen;
	int qlen;

	(void)should_cache;
	if ((qlen = spf_resolver_query(q, sizeof(q), 0, domain, type)) < 0)
		return SPF_dns_rr_new_init(d, domain, type, SPF_TTL_NEGATIVE,
		    HOST_NOT_FOUND);
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)(rand() ^ getpid());
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	a = xmalloc(DNS_TCP_MAX);
	alen = ask_udp(n, q, (size_t)qlen, a, DNS_UDP_MAX);
	if (alen > 0 && (a[2] & 0x02))	/* TC: ask again over TCP */
		alen = ask_tcp(n, q, (size_t)qlen, a, DNS_TCP_MAX);
	if (alen <= 0)
		rr = SPF_dns_rr_new_init(d, domain, type, 0, TRY_AGAIN);
	else
		rr = spf_resolver_parse(d, domain, type, a, (size_t)alen);
	free(a);
	return rr;
}

SPF_dns_server_t *
spf_dns_net_new(const struct sockaddr_storage *ns, socklen_t nslen,
    struct spf_budget *b)
{
	SPF_dns_server_t *d = xcalloc(1, sizeof(*d));
	struct net *n = xcalloc(1, sizeof(*n));

	n->ns = *ns;
	n->nslen = nslen;
	n->b = b;
	d->lookup = net_lookup;
	d->name = "portcullis-net";
	d->hook = n;
	return d;
}

static int
addr_port(const char *host, const char *port, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	unsigned long p = 53;
	char *end;

	if (port != NULL) {
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port == '\0' || *end != '\0' || errno != 0 || p == 0 ||
		    p > 65535)
			return pc_err(err, errlen, "bad port \"%.16s\"", port);
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s6);
		return 0;
	}
	return pc_err(err, errlen, "\"%.64s\" is not an IPv4 or IPv6 address",
	    host);
}

int
spf_dns_resolver_parse(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen)
{
	char buf[128], line[512], *colon, *close;
	FILE *fp;

	if (s == NULL) {
		if ((fp = fopen("/etc/resolv.conf", "r")) != NULL) {
			while (fgets(line, sizeof(line), fp) != NULL) {
				char *save = NULL, *k = strtok_r(line, " \t\r\n", &save),
				    *v = strtok_r(NULL, " \t\r\n", &save);

				if (k != NULL && v != NULL &&
				    strcmp(k, "nameserver") == 0 &&
				    strchr(v, '%') == NULL &&
				    addr_port(v, NULL, ss, len, NULL, 0) == 0) {
					fclose(fp);
					return 0;
				}
			}
			fclose(fp);
		}
		return addr_port("127.0.0.1", NULL, ss, len, err, errlen);
	}
	if (strlen(s) >= sizeof(buf))
		return pc_err(err, errlen, "\"%.64s...\" is too long", s);
	pc_strlcpy(buf, s, sizeof(buf));
	if (buf[0] == '[') {
		if ((close = strchr(buf, ']')) == NULL ||
		    (close[1] != '\0' && close[1] != ':'))
			return pc_err(err, errlen, "\"%s\" is not [ADDRESS]:PORT", s);
		*close = '\0';
		return addr_port(buf + 1, close[1] == ':' ? close + 2 : NULL, ss,
		    len, err, errlen);
	}
	colon = strchr(buf, ':');
	if (colon != NULL && strchr(colon + 1, ':') == NULL) {
		*colon = '\0';
		return addr_port(buf, colon + 1, ss, len, err, errlen);
	}
	return addr_port(buf, NULL, ss, len, err, errlen);
}
