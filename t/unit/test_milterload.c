/*
 * test_milterload.c - the protocol code of bench/milter-load (framing,
 * replies arriving in pieces, malformed replies) and its statistics, so
 * that the benchmark measures what it claims to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "loadstat.h"
#include "mproto.h"

/* A raw packet: length, command, data. */
static size_t
raw(unsigned char *dst, char cmd, const void *data, size_t len)
{
	uint32_t n = htonl((uint32_t)len + 1);

	memcpy(dst, &n, 4);
	dst[4] = (unsigned char)cmd;
	memcpy(dst + 5, data, len);
	return len + 5;
}

static void
test_build_packets(void **state)
{
	static const unsigned char want[] = {
		0, 0, 0, 13, 'O', 0, 0, 0, 6, 0, 0, 1, 0xff, 0, 0, 0, 0x42,
		0, 0, 0, 9, 'H', 'h', 'e', 'l', 'o', '.', 'x', 'y', 0,
		0, 0, 0, 1, 'N',
	};
	struct mp_out o;

	(void)state;
	mp_out_init(&o, 256);
	mp_begin(&o, SMFIC_OPTNEG);
	mp_u32(&o, 6);
	mp_u32(&o, 0x1ff);
	mp_u32(&o, 0x42);
	mp_end(&o);
	mp_begin(&o, SMFIC_HELO);
	mp_str(&o, "helo.xy");
	mp_end(&o);
	mp_begin(&o, SMFIC_EOH);
	mp_end(&o);
	assert_false(o.overflow);
	assert_int_equal(o.len, sizeof(want));
	assert_memory_equal(o.buf, want, sizeof(want));
	/* One write per packet (-W) cuts at these offsets. */
	assert_int_equal(o.npkt, 3);
	assert_int_equal(o.ends[0], 17);
	assert_int_equal(o.ends[1], 30);
	assert_int_equal(o.ends[2], 35);
	mp_out_free(&o);
}

static void
test_build_macros_and_connect(void **state)
{
	static const char *const n[] = { "i", "{auth_authen}" };
	static const char *const v[] = { "Q1", "u1@b.test" };
	static const unsigned char want[] = {
		0, 0, 0, 31, 'D', 'M', 'i', 0, 'Q', '1', 0,
		'{', 'a', 'u', 't', 'h', '_', 'a', 'u', 't', 'h', 'e', 'n', '}', 0,
		'u', '1', '@', 'b', '.', 't', 'e', 's', 't', 0,
	};
	struct mp_out o;

	(void)state;
	mp_out_init(&o, 256);
	mp_macros(&o, SMFIC_MAIL, n, v, 2);
	assert_false(o.overflow);
	assert_int_equal(o.len, sizeof(want));
	assert_memory_equal(o.buf, want, sizeof(want));
	mp_out_reset(&o);
	mp_begin(&o, SMFIC_CONNECT);
	mp_str(&o, "h");
	mp_bytes(&o, "4", 1);
	mp_u16(&o, 25);
	mp_str(&o, "1.2.3.4");
	mp_end(&o);
	assert_int_equal(o.len, 5 + 2 + 1 + 2 + 8);
	assert_int_equal(o.buf[7], '4');
	assert_int_equal(o.buf[8], 0);
	assert_int_equal(o.buf[9], 25);
	mp_out_free(&o);
}

static void
test_build_overflow(void **state)
{
	struct mp_out o;
	char big[64];

	(void)state;
	memset(big, 'a', sizeof(big));
	mp_out_init(&o, 32);
	mp_begin(&o, SMFIC_BODY);
	mp_bytes(&o, big, sizeof(big));
	mp_end(&o);
	assert_true(o.overflow);
	mp_out_reset(&o);
	assert_false(o.overflow);
	/* A packet ended twice, or never begun, is a caller bug. */
	mp_end(&o);
	assert_true(o.overflow);
	mp_out_free(&o);
}

/* A reply that arrives one byte at a time is found only when whole. */
static void
test_reply_byte_by_byte(void **state)
{
	unsigned char wire[64];
	struct mp_packet pk;
	struct mp_in in;
	size_t n, i;

	(void)state;
	n = raw(wire, SMFIR_REPLYCODE, "550 5.7.1 no\0", 13);
	mp_in_init(&in);
	for (i = 0; i + 1 < n; i++) {
		assert_int_equal(mp_feed(&in, wire + i, 1), 0);
		assert_int_equal(mp_next(&in, &pk), MP_NEED_MORE);
	}
	assert_int_equal(mp_feed(&in, wire + n - 1, 1), 0);
	assert_int_equal(mp_next(&in, &pk), MP_PACKET);
	assert_int_equal(pk.cmd, SMFIR_REPLYCODE);
	assert_int_equal(pk.len, 13);
	assert_memory_equal(pk.data, "550 5.7.1 no", 13);
	assert_int_equal(mp_next(&in, &pk), MP_NEED_MORE);
	mp_in_free(&in);
}

/* Two replies in one read, and a third split across reads. */
static void
test_replies_coalesced(void **state)
{
	unsigned char wire[64];
	struct mp_packet pk;
	struct mp_in in;
	size_t n = 0;

	(void)state;
	n += raw(wire + n, SMFIR_PROGRESS, "", 0);
	n += raw(wire + n, SMFIR_CONTINUE, "", 0);
	n += raw(wire + n, SMFIR_ACCEPT, "", 0);
	mp_in_init(&in);
	assert_int_equal(mp_feed(&in, wire, n - 2), 0);
	assert_int_equal(mp_next(&in, &pk), MP_PACKET);
	assert_int_equal(pk.cmd, SMFIR_PROGRESS);
	assert_int_equal(mp_next(&in, &pk), MP_PACKET);
	assert_int_equal(pk.cmd, SMFIR_CONTINUE);
	assert_int_equal(mp_next(&in, &pk), MP_NEED_MORE);
	assert_int_equal(mp_feed(&in, wire + n - 2, 2), 0);
	assert_int_equal(mp_next(&in, &pk), MP_PACKET);
	assert_int_equal(pk.cmd, SMFIR_ACCEPT);
	assert_int_equal(pk.len, 0);
	mp_in_free(&in);
}

static void
test_bad_lengths(void **state)
{
	static const unsigned char zero[] = { 0, 0, 0, 0, 'c' };
	static const unsigned char huge[] = { 0x7f, 0xff, 0xff, 0xff, 'c' };
	struct mp_packet pk;
	struct mp_in in;

	(void)state;
	mp_in_init(&in);
	assert_int_equal(mp_feed(&in, zero, sizeof(zero)), 0);
	assert_int_equal(mp_next(&in, &pk), MP_MALFORMED);
	mp_in_free(&in);
	mp_in_init(&in);
	assert_int_equal(mp_feed(&in, huge, sizeof(huge)), 0);
	assert_int_equal(mp_next(&in, &pk), MP_MALFORMED);
	mp_in_free(&in);
}

static void
test_verdicts(void **state)
{
	static const struct {
		char cmd;
		const char *data;
		size_t len;
		int eom;
		enum mp_verdict want;
	} t[] = {
		{ 'c', "", 0, 0, MP_CONTINUE },
		{ 'a', "", 0, 0, MP_ACCEPT },
		{ 'r', "", 0, 0, MP_REJECT },
		{ 't', "", 0, 0, MP_TEMPFAIL },
		{ 'd', "", 0, 0, MP_DISCARD },
		{ 's', "", 0, 0, MP_SKIP },
		{ 'p', "", 0, 1, MP_PROGRESS },
		{ 'y', "553 5.7.1 not yours", 20, 0, MP_REJECT },
		{ 'y', "451 4.3.0 later", 16, 0, MP_TEMPFAIL },
		{ 'y', "451", 4, 0, MP_TEMPFAIL },
		{ 'y', "553 no NUL", 10, 0, MP_BAD },
		{ 'y', "250 ok", 7, 0, MP_BAD },
		{ 'y', "5x3 bad", 8, 0, MP_BAD },
		{ 'y', "", 0, 0, MP_BAD },
		{ 'h', "X-A\0b", 6, 1, MP_MODIFY },
		{ 'h', "X-A\0b", 6, 0, MP_BAD },
		{ '+', "<a@b>", 6, 1, MP_MODIFY },
		{ 'Z', "", 0, 0, MP_BAD },
		{ '\x01', "", 0, 1, MP_BAD },
		{ 'O', "", 0, 0, MP_BAD },
	};
	struct mp_packet pk;
	char why[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		pk.cmd = t[i].cmd;
		pk.data = (const unsigned char *)t[i].data;
		pk.len = t[i].len;
		why[0] = '\0';
		if (mp_verdict(&pk, t[i].eom, why, sizeof(why)) != t[i].want)
			fail_msg("case %zu ('%c'): wrong verdict", i, t[i].cmd);
		if (t[i].want == MP_BAD && why[0] == '\0')
			fail_msg("case %zu: no reason given", i);
	}
}

static void
test_optneg(void **state)
{
	uint32_t v[3] = { htonl(6), htonl(0x1ff), htonl(SMFIP_NODATA) };
	struct mp_optneg o;
	struct mp_packet pk = { SMFIC_OPTNEG, (const unsigned char *)v, 12 };
	char why[128];

	(void)state;
	assert_int_equal(mp_parse_optneg(&pk, &o, why, sizeof(why)), 0);
	assert_int_equal(o.version, 6);
	assert_int_equal(o.protocol, SMFIP_NODATA);
	pk.len = 11;
	assert_int_equal(mp_parse_optneg(&pk, &o, why, sizeof(why)), -1);
	pk.len = 12;
	v[0] = htonl(7);
	assert_int_equal(mp_parse_optneg(&pk, &o, why, sizeof(why)), -1);
	v[0] = htonl(6);
	pk.cmd = SMFIR_CONTINUE;
	assert_int_equal(mp_parse_optneg(&pk, &o, why, sizeof(why)), -1);
}

/* Through a real socket: a reply split over two reads, then EOF. */
static void
test_read_packet_partial(void **state)
{
	unsigned char wire[64];
	struct mp_packet pk;
	struct mp_in in;
	int sv[2];
	size_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	n = raw(wire, SMFIR_REPLYCODE, "451 4.7.1 slow\0", 15);
	mp_in_init(&in);
	assert_int_equal(write(sv[1], wire, 3), 3);
	/* Not complete: times out, but keeps the three bytes. */
	assert_int_equal(mp_read_packet(sv[0], &in, &pk, 50), -2);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(write(sv[1], wire + 3, n - 3), (ssize_t)(n - 3));
	assert_int_equal(mp_read_packet(sv[0], &in, &pk, 1000), MP_PACKET);
	assert_int_equal(pk.cmd, SMFIR_REPLYCODE);
	assert_memory_equal(pk.data, "451 4.7.1 slow", 15);
	/* Half a header, then the milter goes away. */
	assert_int_equal(write(sv[1], wire, 2), 2);
	close(sv[1]);
	assert_int_equal(mp_read_packet(sv[0], &in, &pk, 1000), -2);
	close(sv[0]);
	mp_in_free(&in);
}

static void
test_histogram(void **state)
{
	struct lhist *h = calloc(1, sizeof(*h)), *g = calloc(1, sizeof(*g));
	uint64_t i, q;

	(void)state;
	assert_int_equal(lh_quantile(h, 0.5), 0);
	for (i = 1; i <= 10000; i++)
		lh_add(h, i);
	q = lh_quantile(h, 0.5);
	assert_true(q >= 5000 && q <= 5000 * 1.035);
	q = lh_quantile(h, 0.99);
	assert_true(q >= 9900 && q <= 9900 * 1.035);
	assert_int_equal(lh_quantile(h, 1.0), 10000);
	/* Exact at small values, and never above the largest seen. */
	lh_add(g, 7);
	assert_int_equal(lh_quantile(g, 0.999), 7);
	lh_add(g, 1ULL << 50);
	assert_int_equal(lh_quantile(g, 1.0), 1ULL << 50);
	lh_merge(h, g);
	assert_int_equal(h->count, 10002);
	free(h);
	free(g);
}

static void
test_population(void **state)
{
	struct population u, z;
	uint64_t rng = 42;
	unsigned hits0 = 0, i;

	(void)state;
	assert_int_equal(pop_init(&u, 0, 0), -1);
	assert_int_equal(pop_init(&u, 1000, 0), 0);
	assert_int_equal(pop_pick(&u, 0.0), 0);
	assert_int_equal(pop_pick(&u, 0.99999999), 999);
	assert_int_equal(pop_init(&z, 1000, 1.0), 0);
	assert_int_equal(pop_pick(&z, 0.0), 0);
	assert_int_equal(pop_pick(&z, 0.99999999), 999);
	/* Zipf s=1 over 1000: the top account gets 1/H(1000), about 13.4%. */
	for (i = 0; i < 100000; i++)
		if (pop_pick(&z, rng_unit(&rng)) == 0)
			hits0++;
	assert_true(hits0 > 12400 && hits0 < 14400);
	pop_free(&u);
	pop_free(&z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_packets),
		cmocka_unit_test(test_build_macros_and_connect),
		cmocka_unit_test(test_build_overflow),
		cmocka_unit_test(test_reply_byte_by_byte),
		cmocka_unit_test(test_replies_coalesced),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_optneg),
		cmocka_unit_test(test_read_packet_partial),
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_population),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
