/*
 * test_stamp.c - the origin stamp: round trip, every byte tampered with,
 * wrong key, rotation, truncated and overlong input, and the key file
 * rules (format, mode 0600 enforced by the milter's configuration).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base64.h"
#include "mconf.h"
#include "spf.h"
#include "stamp.h"
#include "util.h"

#define KEY_A "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static char *
write_file(const char *text, size_t len, mode_t mode)
{
	char *path = xstrdup("/tmp/pc-test-stamp-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
load(const char *text, struct stamp_keyring *kr)
{
	char err[512], *path = write_file(text, strlen(text), 0600);

	if (stamp_keyring_load(path, 1, kr, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	unlink(path);
	free(path);
}

static const struct stamp_origin alice = {
	"alice@isp.example", "198.51.100.7", 1714560000, "4XQID123"
};

static void
test_round_trip(void **state)
{
	struct stamp_keyring kr;
	struct stamp_origin o;
	char text[STAMP_TEXT_MAX + 1], text2[STAMP_TEXT_MAX + 1], err[256], id[32];

	(void)state;
	load("# rotation: oldest first\nold " KEY_A "\n", &kr);
	assert_int_equal(stamp_seal(&kr, &alice, text, sizeof(text), err,
	    sizeof(err)), 0);
	assert_true(strncmp(text, "1.old.", 6) == 0);
	/* Recipients learn nothing: no field appears in the clear. */
	assert_null(strstr(text, "alice"));
	assert_null(strstr(text, "198.51"));
	assert_int_equal(stamp_open(&kr, text, strlen(text), &o, id,
	    sizeof(id)), STAMP_OK);
	assert_string_equal(o.account, alice.account);
	assert_string_equal(o.addr, alice.addr);
	assert_string_equal(o.qid, alice.qid);
	assert_true(o.time == alice.time);
	assert_string_equal(id, "old");
	/* A fresh nonce every time. */
	assert_int_equal(stamp_seal(&kr, &alice, text2, sizeof(text2), err,
	    sizeof(err)), 0);
	assert_string_not_equal(text, text2);
	/* The length hides the account's length within a pad block. */
	{
		struct stamp_origin b = alice;

		pc_strlcpy(b.account, "bo@isp.example", sizeof(b.account));
		assert_int_equal(stamp_seal(&kr, &b, text2, sizeof(text2), err,
		    sizeof(err)), 0);
		assert_int_equal(strlen(text), strlen(text2));
	}
	/* Folded by a mail system on the way: still opens. */
	{
		char folded[STAMP_TEXT_MAX + 16];

		snprintf(folded, sizeof(folded), "%.20s\r\n\t%s", text, text + 20);
		assert_int_equal(stamp_open(&kr, folded, strlen(folded), &o, id,
		    sizeof(id)), STAMP_OK);
	}
	stamp_keyring_free(&kr);
}

static void
test_tamper_every_byte(void **state)
{
	struct stamp_keyring kr;
	struct stamp_origin o;
	char text[STAMP_TEXT_MAX + 1], bad[STAMP_TEXT_MAX + 1], err[256], id[32];
	size_t i, n;
	static const char alphabet[] = "AQgw-_09aZ.";

	(void)state;
	load(KEY_A "\n", &kr);
	assert_int_equal(stamp_seal(&kr, &alice, text, sizeof(text), err,
	    sizeof(err)), 0);
	n = strlen(text);
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; alphabet[k] != '\0'; k++) {
			enum stamp_status st;

			if (alphabet[k] == text[i])
				continue;
			memcpy(bad, text, n + 1);
			bad[i] = alphabet[k];
			st = stamp_open(&kr, bad, n, &o, id, sizeof(id));
			/*
			 * The last symbol carries padding bits that base64url
			 * decoders ignore; any other change must be caught.
			 */
			if (st == STAMP_OK) {
				unsigned char a[1024], b[1024];
				long la = pc_b64_decode(strrchr(text, '.') + 1,
				    strlen(strrchr(text, '.') + 1), a, sizeof(a), 1);
				long lb = pc_b64_decode(strrchr(bad, '.') + 1,
				    strlen(strrchr(bad, '.') + 1), b, sizeof(b), 1);

				if (!(i == n - 1 && la == lb &&
				    memcmp(a, b, (size_t)la) == 0))
					fail_msg("byte %zu changed to %c opened",
					    i, alphabet[k]);
				continue;
			}
			/* Nothing leaks out of a failed open. */
			assert_string_equal(o.account, "");
			assert_string_equal(o.addr, "");
		}
	}
	stamp_keyring_free(&kr);
}

static void
test_wrong_key_and_rotation(void **state)
{
	struct stamp_keyring a, b, both, other_id;
	struct stamp_origin o;
	char ta[STAMP_TEXT_MAX + 1], tb[STAMP_TEXT_MAX + 1], err[256], id[32];

	(void)state;
	load("k1 " KEY_A "\n", &a);
	load("k2 " KEY_B "\n", &b);
	load("k1 " KEY_A "\nk2 " KEY_B "\n", &both);
	/* Same id, other key material: a forgery, not "unknown key". */
	load("k1 " KEY_B "\n", &other_id);
	assert_int_equal(stamp_seal(&a, &alice, ta, sizeof(ta), err, sizeof(err)), 0);
	assert_int_equal(stamp_open(&b, ta, strlen(ta), &o, id, sizeof(id)),
	    STAMP_UNKNOWN_KEY);
	assert_string_equal(id, "k1");
	assert_int_equal(stamp_open(&other_id, ta, strlen(ta), &o, id,
	    sizeof(id)), STAMP_FORGED);
	/* After rotation the newest key seals and the old one still opens. */
	assert_int_equal(stamp_seal(&both, &alice, tb, sizeof(tb), err,
	    sizeof(err)), 0);
	assert_true(strncmp(tb, "1.k2.", 5) == 0);
	assert_int_equal(stamp_open(&both, ta, strlen(ta), &o, id, sizeof(id)),
	    STAMP_OK);
	assert_int_equal(stamp_open(&both, tb, strlen(tb), &o, id, sizeof(id)),
	    STAMP_OK);
	assert_int_equal(stamp_open(&a, tb, strlen(tb), &o, id, sizeof(id)),
	    STAMP_UNKNOWN_KEY);
	/* The key id is bound: relabelling a k1 stamp as k2 fails. */
	{
		char swapped[STAMP_TEXT_MAX + 1];

		snprintf(swapped, sizeof(swapped), "1.k2.%s", ta + 5);
		assert_int_equal(stamp_open(&both, swapped, strlen(swapped), &o,
		    id, sizeof(id)), STAMP_FORGED);
	}
	stamp_keyring_free(&a);
	stamp_keyring_free(&b);
	stamp_keyring_free(&both);
	stamp_keyring_free(&other_id);
}

static void
test_truncated_and_overlong(void **state)
{
	struct stamp_keyring kr;
	struct stamp_origin o;
	char text[STAMP_TEXT_MAX + 1], big[STAMP_TEXT_MAX + 64], err[256], id[32];
	size_t n, cut;

	(void)state;
	load(KEY_A "\n", &kr);
	assert_int_equal(stamp_seal(&kr, &alice, text, sizeof(text), err,
	    sizeof(err)), 0);
	n = strlen(text);
	for (cut = 0; cut < n; cut++)
		assert_int_not_equal(stamp_open(&kr, text, cut, &o, id,
		    sizeof(id)), STAMP_OK);
	/* Longer than any stamp: refused before decoding. */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, text, 11);
	assert_int_equal(stamp_open(&kr, big, strlen(big), &o, id, sizeof(id)),
	    STAMP_TOO_LONG);
	/* Appended data. */
	snprintf(big, sizeof(big), "%sAAAA", text);
	assert_int_not_equal(stamp_open(&kr, big, strlen(big), &o, id,
	    sizeof(id)), STAMP_OK);
	assert_int_equal(stamp_open(&kr, "", 0, &o, id, sizeof(id)),
	    STAMP_MALFORMED);
	assert_int_equal(stamp_open(&kr, "2.k.AAAA", 8, &o, id, sizeof(id)),
	    STAMP_BAD_VERSION);
	assert_int_equal(stamp_open(&kr, "1.k!.AAAA", 9, &o, id, sizeof(id)),
	    STAMP_MALFORMED);
	/* Longest fields still fit a header line. */
	{
		struct stamp_origin m;

		memset(&m, 0, sizeof(m));
		memset(m.account, 'a', STAMP_ACCOUNT_MAX);
		memset(m.qid, 'Q', STAMP_QID_MAX);
		pc_strlcpy(m.addr, "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255",
		    sizeof(m.addr));
		assert_int_equal(stamp_seal(&kr, &m, text, sizeof(text), err,
		    sizeof(err)), 0);
		assert_true(strlen(text) < 998 - sizeof(STAMP_HEADER) - 2);
		assert_int_equal(stamp_open(&kr, text, strlen(text), &o, id,
		    sizeof(id)), STAMP_OK);
		assert_string_equal(o.account, m.account);
	}
	stamp_keyring_free(&kr);
}

static void
test_key_file(void **state)
{
	struct stamp_keyring kr;
	char err[512], *path, conf[512];
	unsigned char raw[STAMP_KEY_LEN];
	struct mconf *c;
	FILE *fp;

	(void)state;
	/* 32 raw bytes. */
	memset(raw, 7, sizeof(raw));
	path = write_file((const char *)raw, sizeof(raw), 0600);
	assert_int_equal(stamp_keyring_load(path, 1, &kr, err, sizeof(err)), 0);
	assert_int_equal(kr.n, 1);
	assert_int_equal(strlen(kr.v[0].id), 8);
	stamp_keyring_free(&kr);
	/* Readable by others: the milter refuses to start. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(stamp_keyring_load(path, 1, &kr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	snprintf(conf, sizeof(conf), "/tmp/pc-test-stamp-conf-%d", (int)getpid());
	fp = fopen(conf, "w");
	assert_non_null(fp);
	fprintf(fp, "OriginStamp yes\nOriginKeyFile %s\n", path);
	fclose(fp);
	c = mconf_load(conf, err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "OriginKeyFile"));
	assert_int_equal(chmod(path, 0600), 0);
	c = mconf_load(conf, err, sizeof(err));
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->spf->keys.n, 1);
	mconf_free(c);
	/* OriginStamp without a key file. */
	fp = fopen(conf, "w");
	fprintf(fp, "OriginStamp yes\n");
	fclose(fp);
	assert_null(mconf_load(conf, err, sizeof(err)));
	assert_non_null(strstr(err, "needs OriginKeyFile"));
	unlink(conf);
	unlink(path);
	free(path);
	/* Bad text files name the line. */
	path = write_file("k1 " KEY_A "\nk2 abcd\n", strlen("k1 " KEY_A "\nk2 abcd\n"), 0600);
	assert_int_equal(stamp_keyring_load(path, 1, &kr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	unlink(path);
	free(path);
	path = write_file("k1 " KEY_A "\nk1 " KEY_B "\n", 2 * (4 + 64), 0600);
	assert_int_equal(stamp_keyring_load(path, 1, &kr, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "twice"));
	unlink(path);
	free(path);
	path = write_file("# nothing\n", 10, 0600);
	assert_int_equal(stamp_keyring_load(path, 1, &kr, err, sizeof(err)), -1);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_wrong_key_and_rotation),
		cmocka_unit_test(test_truncated_and_overlong),
		cmocka_unit_test(test_key_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
