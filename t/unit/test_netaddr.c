/*
 * test_netaddr.c - cmocka tests for src/lib/netaddr.c: address and network
 * parsing (valid, malformed and hostile input), canonical output, ordering,
 * membership and lists, plus a differential check against the C library's
 * inet_pton/inet_ntop on many generated addresses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "netaddr.h"
#include "util.h"

#define V4 AF_INET
#define V6 AF_INET6

struct addr_case {
	const char *in;
	int rc;
	int family;
	const char *canon;	/* for rc 0: pc_addr_format output */
	const char *errsub;	/* for rc -1: text the message must contain */
};

static const struct addr_case addr_cases[] = {
	/* IPv4 */
	{ "0.0.0.0", 0, V4, "0.0.0.0", NULL },
	{ "255.255.255.255", 0, V4, "255.255.255.255", NULL },
	{ "192.0.2.1", 0, V4, "192.0.2.1", NULL },
	{ "[192.0.2.1]", 0, V4, "192.0.2.1", NULL },
	{ "", -1, 0, NULL, "empty" },
	{ "[]", -1, 0, NULL, "empty" },
	{ "1.2.3", -1, 0, NULL, "4 octets" },
	{ "1.2.3.4.5", -1, 0, NULL, "more than 4" },
	{ "256.1.1.1", -1, 0, NULL, "range" },
	{ "1.2.3.256", -1, 0, NULL, "range" },
	{ "1.2.3.1000", -1, 0, NULL, "range" },
	{ "1.2.3.99999", -1, 0, NULL, "range" },
	{ "010.1.1.1", -1, 0, NULL, "leading zero" },
	{ "1.2.3.04", -1, 0, NULL, "leading zero" },
	{ "00.1.1.1", -1, 0, NULL, "leading zero" },
	{ "1..2.3", -1, 0, NULL, "octet" },
	{ ".1.2.3", -1, 0, NULL, "octet" },
	{ "1.2.3.4.", -1, 0, NULL, "more than 4" },
	{ "1.2.3.", -1, 0, NULL, "octet" },
	{ "a.b.c.d", -1, 0, NULL, "octet" },
	{ "0x7f.0.0.1", -1, 0, NULL, NULL },
	{ "2130706433", -1, 0, NULL, "range" },
	{ "+1.2.3.4", -1, 0, NULL, NULL },
	{ "1.2.3.-4", -1, 0, NULL, NULL },
	{ "1.2.3.4/32", -1, 0, NULL, NULL },
	{ " 1.2.3.4", -1, 0, NULL, "white space" },
	{ "1.2.3.4 ", -1, 0, NULL, "white space" },
	{ "1.2.3.4\r\n", -1, 0, NULL, "control" },
	{ "1.2.\n3.4", -1, 0, NULL, "control" },
	{ "1.2.3.4\x7f", -1, 0, NULL, "control" },
	{ "1.2.3.\xc2\xb9", -1, 0, NULL, "control" },
	{ "IPv6:1.2.3.4", -1, 0, NULL, "IPv6: tag" },
	{ "[1.2.3.4", -1, 0, NULL, "unbalanced" },
	{ "1.2.3.4]", -1, 0, NULL, "unbalanced" },
	{ "[[1.2.3.4]]", -1, 0, NULL, NULL },
	/* IPv6 */
	{ "::", 0, V6, "::", NULL },
	{ "::1", 0, V6, "::1", NULL },
	{ "1::", 0, V6, "1::", NULL },
	{ "1:2:3:4:5:6:7:8", 0, V6, "1:2:3:4:5:6:7:8", NULL },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", 0, V6, "2001:db8::1",
	    NULL },
	{ "2001:db8:0:0:1:0:0:1", 0, V6, "2001:db8::1:0:0:1", NULL },
	{ "2001:0:0:1:0:0:0:1", 0, V6, "2001:0:0:1::1", NULL },
	{ "2001:db8:0:1:1:1:1:1", 0, V6, "2001:db8:0:1:1:1:1:1", NULL },
	{ "1:2:3:4:5:6:7::", 0, V6, "1:2:3:4:5:6:7:0", NULL },
	{ "::2:3:4:5:6:7:8", 0, V6, "0:2:3:4:5:6:7:8", NULL },
	{ "FE80::ABCD", 0, V6, "fe80::abcd", NULL },
	{ "[::1]", 0, V6, "::1", NULL },
	{ "IPv6:::1", 0, V6, "::1", NULL },
	{ "ipv6:2001:db8::1", 0, V6, "2001:db8::1", NULL },
	{ "[IPv6:2001:db8::1]", 0, V6, "2001:db8::1", NULL },
	{ "::1.2.3.4", 0, V6, "::102:304", NULL },
	{ "64:ff9b::192.0.2.33", 0, V6, "64:ff9b::c000:221", NULL },
	{ "1:2:3:4:5:6:1.2.3.4", 0, V6, "1:2:3:4:5:6:102:304", NULL },
	/* IPv4-mapped folds to IPv4, whatever the spelling */
	{ "::ffff:1.2.3.4", 0, V4, "1.2.3.4", NULL },
	{ "::FFFF:1.2.3.4", 0, V4, "1.2.3.4", NULL },
	{ "::ffff:0102:0304", 0, V4, "1.2.3.4", NULL },
	{ "0:0:0:0:0:ffff:1.2.3.4", 0, V4, "1.2.3.4", NULL },
	{ "[IPv6:::ffff:192.0.2.1]", 0, V4, "192.0.2.1", NULL },
	{ "::fffe:1.2.3.4", 0, V6, "::fffe:102:304", NULL },
	/* malformed IPv6 */
	{ "1:2:3:4:5:6:7:8:9", -1, 0, NULL, "too many groups" },
	{ "1:2:3:4:5:6:7", -1, 0, NULL, "too few groups" },
	{ "1::2::3", -1, 0, NULL, "more than one '::'" },
	{ "1::2:3:4:5:6:7:8", -1, 0, NULL, "at least one zero group" },
	{ "1:2:3:4:5:6:7:8::", -1, 0, NULL, "at least one zero group" },
	{ ":::", -1, 0, NULL, "':::'" },
	{ "1:::2", -1, 0, NULL, "':::'" },
	{ ":1::", -1, 0, NULL, "starts with one ':'" },
	{ "1::2:", -1, 0, NULL, "ends with one ':'" },
	{ ":", -1, 0, NULL, "starts with one ':'" },
	{ "::g", -1, 0, NULL, "bad character" },
	{ "12345::", -1, 0, NULL, "4 hex digits" },
	{ "00000::1", -1, 0, NULL, "4 hex digits" },
	{ "1:2:3:4:5:6:7:1.2.3.4", -1, 0, NULL, "too many groups" },
	{ "::1.2.3.4:5", -1, 0, NULL, "junk" },
	{ "::1.2.3", -1, 0, NULL, "4 octets" },
	{ "::256.1.1.1", -1, 0, NULL, "range" },
	{ "::ffff:01.2.3.4", -1, 0, NULL, "leading zero" },
	{ "1.2.3.4::", -1, 0, NULL, "junk" },
	{ "fe80::1%eth0", -1, 0, NULL, "zone" },
	{ "fe80::1%25eth0", -1, 0, NULL, "zone" },
	{ "[::1", -1, 0, NULL, "unbalanced" },
	{ "::1]", -1, 0, NULL, "unbalanced" },
	{ "IPv6:", -1, 0, NULL, "empty" },
	{ "[IPv6:]", -1, 0, NULL, "empty" },
	{ "IPv6:[::1]", -1, 0, NULL, "unbalanced" },
	{ "IPv4:1.2.3.4", -1, 0, NULL, NULL },
	{ "::1 ", -1, 0, NULL, "white space" },
	{ "::1\n", -1, 0, NULL, "control" },
	{ "-::1", -1, 0, NULL, "bad character" },
	{ "0x1::", -1, 0, NULL, "bad character" },
};

static void
test_addr_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct pc_addr a;
		char err[256] = "", out[PC_ADDR_STRLEN];
		int rc = pc_addr_parse(c->in, &a, err, sizeof(err));

		if (rc != c->rc)
			fail_msg("addr case %zu \"%s\": rc %d, want %d (%s)",
			    i, c->in, rc, c->rc, err);
		if (rc == 0) {
			pc_addr_format(&a, out, sizeof(out));
			if (a.family != c->family || strcmp(out, c->canon) != 0)
				fail_msg("addr case %zu \"%s\": got %s, want %s",
				    i, c->in, out, c->canon);
			/* The canonical form must read back as the same host. */
			{
				struct pc_addr b;

				assert_int_equal(pc_addr_parse(out, &b, NULL, 0), 0);
				assert_int_equal(pc_addr_cmp(&a, &b), 0);
			}
		} else {
			if (err[0] == '\0' || (c->errsub != NULL &&
			    strstr(err, c->errsub) == NULL))
				fail_msg("addr case %zu \"%s\": message \"%s\", "
				    "want \"%s\"", i, c->in, err, c->errsub);
			assert_int_equal(a.family, 0);
		}
	}
}

/* A C string ends at NUL: whatever follows must be invisible. */
static void
test_addr_embedded_nul(void **state)
{
	static const char in[] = "10.0.0.1\0.5";
	static const char list[] = "10.0.0.0/8\0, 0.0.0.0/0 ::/0";
	struct pc_addr a, other;
	struct pc_netlist l;

	(void)state;
	assert_int_equal(sizeof(in), 12);
	assert_int_equal(pc_addr_parse(in, &a, NULL, 0), 0);
	assert_int_equal(pc_addr_parse("10.0.0.1", &other, NULL, 0), 0);
	assert_int_equal(pc_addr_cmp(&a, &other), 0);

	pc_netlist_init(&l);
	assert_int_equal(pc_netlist_add(&l, list, NULL, 0), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(pc_addr_parse("192.0.2.1", &a, NULL, 0), 0);
	assert_int_equal(pc_netlist_contains(&l, &a), 0);
	pc_netlist_free(&l);
}

static void
test_addr_huge(void **state)
{
	char big[10240], err[256];
	struct pc_addr a;
	struct pc_net n;
	size_t i;

	(void)state;
	/* 10 kB of otherwise valid-looking characters */
	for (i = 0; i + 1 < sizeof(big); i++)
		big[i] = (i % 5 == 4) ? ':' : '1';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pc_addr_parse(big, &a, err, sizeof(err)), -1);
	assert_int_equal(pc_net_parse(big, &n, err, sizeof(err)), -1);
	/* the message quotes the input, but only a bounded part of it */
	assert_true(strlen(err) < 120);
	memset(big, '9', sizeof(big) - 1);
	assert_int_equal(pc_addr_parse(big, &a, err, sizeof(err)), -1);
}

static void
test_addr_format_small_buffer(void **state)
{
	struct pc_addr a;
	char buf[8];

	(void)state;
	assert_int_equal(pc_addr_parse("2001:db8::1", &a, NULL, 0), 0);
	memset(buf, 'x', sizeof(buf));
	pc_addr_format(&a, buf, 5);
	assert_string_equal(buf, "2001");
	assert_int_equal(buf[5], 'x');
	pc_addr_format(&a, buf, 0);	/* must not write at all */
	assert_int_equal(buf[0], '2');
	memset(&a, 0, sizeof(a));
	pc_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "(none)");
}

static void
test_addr_cmp_order(void **state)
{
	static const char *sorted[] = {
		"0.0.0.0", "0.0.0.1", "9.255.255.255", "10.0.0.0",
		"255.255.255.255", "::", "::1", "::fffe:ffff:ffff",
		"1::", "2001:db8::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	struct pc_addr a, b;
	size_t i, j;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(sorted); i++) {
		assert_int_equal(pc_addr_parse(sorted[i], &a, NULL, 0), 0);
		for (j = 0; j < PC_ARRAY_LEN(sorted); j++) {
			int want = i < j ? -1 : i > j ? 1 : 0;

			assert_int_equal(pc_addr_parse(sorted[j], &b, NULL, 0),
			    0);
			assert_int_equal(pc_addr_cmp(&a, &b), want);
		}
	}
	/* one host, one identity */
	assert_int_equal(pc_addr_parse("::ffff:192.0.2.1", &a, NULL, 0), 0);
	assert_int_equal(pc_addr_parse("192.0.2.1", &b, NULL, 0), 0);
	assert_int_equal(pc_addr_cmp(&a, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
test_addr_from_sockaddr(void **state)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct pc_addr a;
	char buf[PC_ADDR_STRLEN];

	(void)state;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(25);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr), 1);
	assert_int_equal(pc_addr_from_sockaddr((struct sockaddr *)&sin, &a),
	    0);
	pc_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::25",
	    &sin6.sin6_addr), 1);
	assert_int_equal(pc_addr_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	assert_int_equal(a.family, AF_INET6);
	pc_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::25");

	/* a dual-stack socket reports v4 clients as mapped */
	assert_int_equal(inet_pton(AF_INET6, "::ffff:198.51.100.9",
	    &sin6.sin6_addr), 1);
	assert_int_equal(pc_addr_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	assert_int_equal(a.family, AF_INET);
	pc_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.9");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(pc_addr_from_sockaddr((struct sockaddr *)&sun, &a),
	    -1);
	assert_int_equal(pc_addr_from_sockaddr(NULL, &a), -1);
}

struct net_case {
	const char *in;
	int rc;
	const char *canon;	/* rc 0: pc_net_format output */
	const char *err;	/* rc -1: substring, or the whole message if
				 * it starts with '=' */
};

static const struct net_case net_cases[] = {
	{ "10.0.0.0/8", 0, "10.0.0.0/8", NULL },
	{ "0.0.0.0/0", 0, "0.0.0.0/0", NULL },
	{ "192.0.2.1", 0, "192.0.2.1/32", NULL },
	{ "192.0.2.1/32", 0, "192.0.2.1/32", NULL },
	{ "192.0.2.4/31", 0, "192.0.2.4/31", NULL },
	{ "10.0.0.0/08", 0, "10.0.0.0/8", NULL },
	{ "::1", 0, "::1/128", NULL },
	{ "::/0", 0, "::/0", NULL },
	{ "2001:DB8::/32", 0, "2001:db8::/32", NULL },
	{ "[2001:db8::]/32", 0, "2001:db8::/32", NULL },
	{ "2001:db8::8000/113", 0, "2001:db8::8000/113", NULL },
	{ "::ffff:0:0/96", 0, "0.0.0.0/0", NULL },
	{ "::ffff:10.0.0.0/104", 0, "10.0.0.0/8", NULL },
	{ "::ffff:192.0.2.1", 0, "192.0.2.1/32", NULL },
	{ "10.0.0.1/8", -1, NULL,
	    "=10.0.0.1/8: host bits set, did you mean 10.0.0.0/8?" },
	{ "192.0.2.5/31", -1, NULL, "did you mean 192.0.2.4/31?" },
	{ "2001:db8::1/32", -1, NULL,
	    "=2001:db8::1/32: host bits set, did you mean 2001:db8::/32?" },
	{ "::ffff:10.0.0.1/104", -1, NULL, "did you mean 10.0.0.0/8?" },
	{ "::ffff:0:0/95", -1, NULL, "at least 96" },
	{ "1.2.3.4/33", -1, NULL, "=1.2.3.4/33: prefix length 33 out of "
	    "range (0-32)" },
	{ "::/129", -1, NULL, "out of range (0-128)" },
	{ "::ffff:1.2.3.4/129", -1, NULL, "out of range (0-128)" },
	{ "10.0.0.0/-1", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/abc", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/8/8", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/ 8", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/8 ", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/+8", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/8.0", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/0x8", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/0008", -1, NULL, "prefix length must be a number" },
	{ "10.0.0.0/4294967304", -1, NULL, "prefix length must be a number" },
	{ "/8", -1, NULL, "empty address" },
	{ "", -1, NULL, "empty network" },
	{ "10.0.0/8", -1, NULL, "4 octets" },
	{ "010.0.0.0/8", -1, NULL, "leading zero" },
	{ "[2001:db8::/32]", -1, NULL, "unbalanced" },
	{ "fe80::%eth0/64", -1, NULL, "zone" },
	{ "10.0.0.0/8\n", -1, NULL, "10.0.0.0/8\\x0a: prefix length must" },
	{ "\x1b[31m10.0.0.0/8", -1, NULL, "\\x1b[31m" },
};

static void
test_net_parse_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(net_cases); i++) {
		const struct net_case *c = &net_cases[i];
		struct pc_net n;
		char err[256] = "", out[PC_NET_STRLEN];
		int rc = pc_net_parse(c->in, &n, err, sizeof(err));

		if (rc != c->rc)
			fail_msg("net case %zu \"%s\": rc %d, want %d (%s)",
			    i, c->in, rc, c->rc, err);
		if (rc == 0) {
			pc_net_format(&n, out, sizeof(out));
			if (strcmp(out, c->canon) != 0)
				fail_msg("net case %zu \"%s\": got %s, want %s",
				    i, c->in, out, c->canon);
			/* network address itself is always inside */
			assert_int_equal(pc_net_contains(&n, &n.addr), 1);
		} else if (c->err[0] == '=' ? strcmp(err, c->err + 1) != 0 :
		    strstr(err, c->err) == NULL) {
			fail_msg("net case %zu \"%s\": message \"%s\", want "
			    "\"%s\"", i, c->in, err, c->err);
		}
	}
}

struct contains_case {
	const char *net, *addr;
	int want;
};

static const struct contains_case contains_cases[] = {
	{ "10.0.0.0/8", "10.0.0.0", 1 },
	{ "10.0.0.0/8", "10.255.255.255", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "10.0.0.0/8", "9.255.255.255", 0 },
	{ "192.0.2.0/25", "192.0.2.127", 1 },
	{ "192.0.2.0/25", "192.0.2.128", 0 },
	{ "192.0.2.4/31", "192.0.2.5", 1 },
	{ "192.0.2.4/31", "192.0.2.6", 0 },
	{ "192.0.2.1/32", "192.0.2.1", 1 },
	{ "192.0.2.1/32", "192.0.2.0", 0 },
	{ "0.0.0.0/0", "255.255.255.255", 1 },
	{ "0.0.0.0/0", "::1", 0 },		/* families never mix */
	{ "::/0", "2001:db8::1", 1 },
	{ "::/0", "192.0.2.1", 0 },
	{ "::/0", "::ffff:192.0.2.1", 0 },	/* that is a v4 host */
	{ "0.0.0.0/0", "::ffff:192.0.2.1", 1 },
	{ "::ffff:10.0.0.0/104", "10.1.2.3", 1 },
	{ "10.0.0.0/8", "::ffff:10.1.2.3", 1 },
	{ "2001:db8::/32", "2001:db8:ffff:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::", 0 },
	{ "2001:db8::/32", "2001:db7:ffff::", 0 },
	{ "2001:db8::/127", "2001:db8::1", 1 },
	{ "2001:db8::/127", "2001:db8::2", 0 },
	{ "2001:db8::8000/113", "2001:db8::ffff", 1 },
	{ "2001:db8::8000/113", "2001:db8::7fff", 0 },
	{ "::1", "::1", 1 },
	{ "::1", "::", 0 },
};

static void
test_net_contains_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PC_ARRAY_LEN(contains_cases); i++) {
		const struct contains_case *c = &contains_cases[i];
		struct pc_net n;
		struct pc_addr a;

		assert_int_equal(pc_net_parse(c->net, &n, NULL, 0), 0);
		assert_int_equal(pc_addr_parse(c->addr, &a, NULL, 0), 0);
		if (pc_net_contains(&n, &a) != c->want)
			fail_msg("contains case %zu: %s in %s should be %d", i,
			    c->addr, c->net, c->want);
	}
}

static void
test_netlist(void **state)
{
	struct pc_netlist l;
	struct pc_addr a;
	char err[256];
	size_t i;
	static const struct {
		const char *addr;
		int want;
	} probes[] = {
		{ "10.1.2.3", 1 }, { "192.168.255.1", 1 }, { "::1", 1 },
		{ "2001:db8:1::1", 1 }, { "172.16.0.1", 0 }, { "::2", 0 },
		{ "2001:db9::", 0 }, { "::ffff:10.9.9.9", 1 },
	};

	(void)state;
	pc_netlist_init(&l);
	assert_int_equal(pc_netlist_add(&l,
	    "10.0.0.0/8, 192.168.0.0/16 ::1\t2001:db8::/32,", err,
	    sizeof(err)), 0);
	assert_int_equal(l.n, 4);
	for (i = 0; i < PC_ARRAY_LEN(probes); i++) {
		assert_int_equal(pc_addr_parse(probes[i].addr, &a, NULL, 0), 0);
		assert_int_equal(pc_netlist_contains(&l, &a), probes[i].want);
	}

	/* all or nothing: a bad item leaves the list as it was */
	assert_int_equal(pc_netlist_add(&l, "172.16.0.0/12, 10.0.0.1/8",
	    err, sizeof(err)), -1);
	assert_int_equal(l.n, 4);
	assert_non_null(strstr(err, "10.0.0.1/8: host bits set"));
	assert_int_equal(pc_addr_parse("172.16.0.1", &a, NULL, 0), 0);
	assert_int_equal(pc_netlist_contains(&l, &a), 0);

	assert_int_equal(pc_netlist_add(&l, "172.16.0.0/12 junk", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "junk"));
	assert_int_equal(l.n, 4);

	/* nothing to add is a mistake, not a silent no-op */
	assert_int_equal(pc_netlist_add(&l, "", err, sizeof(err)), -1);
	assert_int_equal(pc_netlist_add(&l, " ,, \t\n", err, sizeof(err)),
	    -1);
	assert_int_equal(pc_netlist_add(&l, NULL, err, sizeof(err)), -1);
	assert_int_equal(l.n, 4);

	/* an overlong item is refused with a bounded message */
	{
		char big[300];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(pc_netlist_add(&l, big, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "too long"));
		assert_true(strlen(err) < 100);
	}
	pc_netlist_free(&l);
	assert_int_equal(l.n, 0);
	assert_null(l.v);
	assert_int_equal(pc_netlist_contains(&l, &a), 0);
}

/* Many items: the list grows, and a late error still rolls everything back. */
static void
test_netlist_many(void **state)
{
	struct pc_netlist l;
	struct dstr d;
	struct pc_addr a;
	char err[256];
	unsigned i;

	(void)state;
	pc_netlist_init(&l);
	dstr_init(&d);
	for (i = 0; i < 1000; i++)
		dstr_appendf(&d, "10.%u.%u.0/24%s", i / 256, i % 256,
		    i % 3 ? ", " : "\n");
	assert_int_equal(pc_netlist_add(&l, d.buf, err, sizeof(err)), 0);
	assert_int_equal(l.n, 1000);
	assert_int_equal(pc_addr_parse("10.3.231.77", &a, NULL, 0), 0);
	assert_int_equal(pc_netlist_contains(&l, &a), 1);
	assert_int_equal(pc_addr_parse("10.3.232.77", &a, NULL, 0), 0);
	assert_int_equal(pc_netlist_contains(&l, &a), 0);

	dstr_puts(&d, " 10.99.0.0/16 10.98.0.1/16");
	assert_int_equal(pc_netlist_add(&l, d.buf, err, sizeof(err)), -1);
	assert_int_equal(l.n, 1000);
	assert_non_null(strstr(err, "10.98.0.1/16"));
	dstr_free(&d);
	pc_netlist_free(&l);
}

/* Deterministic PRNG so failures reproduce. */
static uint32_t rng_state = 0x2545F491u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/*
 * Formatting agrees with glibc's inet_ntop (which follows RFC 5952) for
 * random zero-heavy addresses, and the text parses back to the same bytes.
 * glibc prints ::a.b.c.d and ::ffff:a.b.c.d forms, which we do not, so
 * addresses with five or more leading zero groups are compared by bytes only.
 */
static void
test_format_matches_libc(void **state)
{
	int iter;

	(void)state;
	for (iter = 0; iter < 50000; iter++) {
		struct pc_addr a, b;
		char ours[PC_ADDR_STRLEN], libc[INET6_ADDRSTRLEN];
		int k, lead = 0;

		memset(&a, 0, sizeof(a));
		a.family = AF_INET6;
		for (k = 0; k < 8; k++) {
			uint32_t r = rng();
			unsigned g = (r & 3) ? 0 : (r >> 8) & 0xffff;

			if ((r & 0x30) == 0)
				g &= 0xf;
			a.a[2 * k] = (unsigned char)(g >> 8);
			a.a[2 * k + 1] = (unsigned char)g;
		}
		if (memcmp(a.a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
			continue;	/* would be AF_INET */
		pc_addr_format(&a, ours, sizeof(ours));
		assert_non_null(inet_ntop(AF_INET6, a.a, libc, sizeof(libc)));
		while (lead < 8 && a.a[2 * lead] == 0 && a.a[2 * lead + 1] == 0)
			lead++;
		if (lead < 5 && strcmp(ours, libc) != 0)
			fail_msg("format %s, libc %s", ours, libc);
		assert_int_equal(pc_addr_parse(ours, &b, NULL, 0), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

/*
 * Accept/refuse agrees with glibc's inet_pton on generated near-addresses
 * (random group counts, hex widths, '::' and v4 tails), and accepted text
 * gives the same bytes. Our extras (brackets, tags) are not generated.
 */
static void
test_parse_matches_libc(void **state)
{
	static const char hex[] = "0123456789abcdefABCDEF";
	int iter, accepted = 0;

	(void)state;
	for (iter = 0; iter < 200000; iter++) {
		char s[128];
		size_t o = 0;
		int groups = (int)(rng() % 10), k;
		int gap = (int)(rng() % 12) - 2;
		int v4 = rng() % 4 == 0;
		unsigned char lbuf[16];
		struct pc_addr a;
		int libc4, libc6, ours;

		if (rng() % 8 == 0) {
			/* a dotted quad, sometimes broken */
			for (k = 0; k < 4 + (rng() % 8 == 0); k++) {
				unsigned v = rng() % (rng() % 4 ? 256 : 1000);

				o += (size_t)snprintf(s + o, sizeof(s) - o,
				    "%s%s%u", k ? "." : "",
				    rng() % 16 ? "" : "0", v);
			}
		} else {
			for (k = 0; k < groups; k++) {
				int w = (int)(rng() % 6), j;

				if (k == gap)
					o += (size_t)snprintf(s + o,
					    sizeof(s) - o, "::");
				else if (k > 0)
					s[o++] = ':';
				for (j = 0; j < w; j++)
					s[o++] = hex[rng() % 22];
			}
			if (gap == groups)
				o += (size_t)snprintf(s + o, sizeof(s) - o,
				    "::");
			if (v4)
				o += (size_t)snprintf(s + o, sizeof(s) - o,
				    "%s%u.%u.%u.%u", o && s[o - 1] != ':' ?
				    ":" : "", rng() % 300, rng() % 256,
				    rng() % 256, rng() % 256);
			s[o] = '\0';
		}
		s[o] = '\0';
		libc4 = inet_pton(AF_INET, s, lbuf) == 1;
		libc6 = !libc4 && inet_pton(AF_INET6, s, lbuf) == 1;
		ours = pc_addr_parse(s, &a, NULL, 0) == 0;
		if (ours != (libc4 || libc6))
			fail_msg("\"%s\": ours %d, libc %d", s, ours,
			    libc4 || libc6);
		if (!ours)
			continue;
		accepted++;
		if (libc4) {
			assert_int_equal(a.family, AF_INET);
			assert_memory_equal(a.a, lbuf, 4);
		} else if (a.family == AF_INET) {
			assert_memory_equal(lbuf, "\0\0\0\0\0\0\0\0\0\0\xff\xff",
			    12);
			assert_memory_equal(a.a, lbuf + 12, 4);
		} else {
			assert_memory_equal(a.a, lbuf, 16);
		}
	}
	/* the generator must actually reach valid addresses */
	assert_true(accepted > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_table),
		cmocka_unit_test(test_addr_embedded_nul),
		cmocka_unit_test(test_addr_huge),
		cmocka_unit_test(test_addr_format_small_buffer),
		cmocka_unit_test(test_addr_cmp_order),
		cmocka_unit_test(test_addr_from_sockaddr),
		cmocka_unit_test(test_net_parse_table),
		cmocka_unit_test(test_net_contains_table),
		cmocka_unit_test(test_netlist),
		cmocka_unit_test(test_netlist_many),
		cmocka_unit_test(test_format_matches_libc),
		cmocka_unit_test(test_parse_matches_libc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
