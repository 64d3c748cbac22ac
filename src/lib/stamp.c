/*
 * stamp.c - sealing and opening X-Portcullis-Origin with AES-256-GCM
 * through OpenSSL's EVP interface, and reading the key file.
 *
 * Opening treats its input as hostile: every length is checked before it
 * is used, nothing is returned unless the tag verifies, and a verified
 * plaintext is still parsed strictly (a bug in sealing must not become a
 * wrong name printed to an abuse desk).
 */
#include "stamp.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "base64.h"
#include "util.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define KEYFILE_MAX 65536
/* Plaintext: time(8) addrlen(1) addr acctlen(2) acct qidlen(1) qid, padded. */
#define PT_MAX (8 + 1 + STAMP_ADDR_MAX + 2 + STAMP_ACCOUNT_MAX + 1 + \
    STAMP_QID_MAX + STAMP_PAD)
#define RAW_MAX (NONCE_LEN + PT_MAX + TAG_LEN)

const char *
stamp_status_str(enum stamp_status st)
{
	switch (st) {
	case STAMP_OK: return "ok";
	case STAMP_MALFORMED: return "malformed stamp";
	case STAMP_BAD_VERSION: return "unknown stamp version";
	case STAMP_UNKNOWN_KEY: return "made with a key not in the key file";
	case STAMP_FORGED: return "does not verify: tampered with or truncated";
	case STAMP_TOO_LONG: return "too long to be a stamp";
	}
	return "?";
}

static int
keyid_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > STAMP_KEYID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

static void
default_id(struct stamp_key *k)
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	SHA256(k->key, sizeof(k->key), h);
	snprintf(k->id, sizeof(k->id), "%02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
add_key(struct stamp_keyring *kr, const struct stamp_key *k)
{
	kr->v = xrealloc(kr->v, (kr->n + 1) * sizeof(*kr->v));
	kr->v[kr->n++] = *k;
}

/* One text line: "[ID] HEX64".  Returns 0, or -1 with err set. */
static int
parse_line(char *line, struct stamp_key *k, char *err, size_t errlen)
{
	char *save = NULL, *a, *b, *c, *p, *id;
	size_t i;

	a = strtok_r(line, " \t", &save);
	b = a != NULL ? strtok_r(NULL, " \t", &save) : NULL;
	c = b != NULL ? strtok_r(NULL, " \t", &save) : NULL;
	if (a == NULL || c != NULL)
		return pc_err(err, errlen, "expected \"[ID] KEY\" with KEY "
		    "64 hex digits");
	p = b != NULL ? b : a;
	id = b != NULL ? a : NULL;
	memset(k, 0, sizeof(*k));
	if (strlen(p) != 2 * STAMP_KEY_LEN)
		return pc_err(err, errlen, "a key is 64 hex digits (32 bytes), "
		    "this one has %zu characters", strlen(p));
	for (i = 0; i < STAMP_KEY_LEN; i++) {
		int hi = hexval(p[2 * i]), lo = hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return pc_err(err, errlen, "a key is 64 hex digits; "
			    "found another character");
		k->key[i] = (unsigned char)(hi << 4 | lo);
	}
	if (id != NULL) {
		if (!keyid_ok(id, strlen(id)))
			return pc_err(err, errlen, "key id \"%.32s\": 1 to %d "
			    "letters, digits, '-' or '_'", id, STAMP_KEYID_MAX);
		pc_strlcpy(k->id, id, sizeof(k->id));
	} else {
		default_id(k);
	}
	return 0;
}

int
stamp_keyring_load(const char *path, int private_only,
    struct stamp_keyring *kr, char *err, size_t errlen)
{
	struct stamp_key k;
	struct stat st;
	char *buf, *line, *next, msg[256];
	ssize_t got;
	size_t len = 0, lineno = 0, i, j;
	int fd;

	memset(kr, 0, sizeof(*kr));
	if ((fd = open(path, O_RDONLY | O_NOCTTY)) < 0)
		return pc_err(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return pc_err(err, errlen, "%s: not a regular file", path);
	}
	if (private_only && (st.st_mode & 077) != 0) {
		close(fd);
		return pc_err(err, errlen, "%s: readable or writable by group or "
		    "others (mode %04o); chmod 600 it", path,
		    (unsigned)(st.st_mode & 07777));
	}
	buf = xmalloc(KEYFILE_MAX + 1);
	while (len < KEYFILE_MAX &&
	    (got = read(fd, buf + len, KEYFILE_MAX - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pc_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)got;
	}
	close(fd);
	fd = -1;
	if (len == KEYFILE_MAX) {
		pc_err(err, errlen, "%s: too large for a key file", path);
		goto fail;
	}
	if (len == STAMP_KEY_LEN) {
		memcpy(k.key, buf, STAMP_KEY_LEN);
		default_id(&k);
		add_key(kr, &k);
	} else {
		buf[len] = '\0';
		if (memchr(buf, '\0', len) != NULL) {
			pc_err(err, errlen, "%s: neither 32 raw bytes nor a text "
			    "key file", path);
			goto fail;
		}
		for (line = buf; line != NULL; line = next) {
			char *hash;

			lineno++;
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if ((hash = strchr(line, '#')) != NULL)
				*hash = '\0';
			line = pc_str_trim(line);
			if (*line == '\0')
				continue;
			if (parse_line(line, &k, msg, sizeof(msg)) < 0) {
				pc_err(err, errlen, "%s:%zu: %s", path, lineno, msg);
				goto fail;
			}
			add_key(kr, &k);
		}
	}
	if (kr->n == 0) {
		pc_err(err, errlen, "%s: no key in the file", path);
		goto fail;
	}
	for (i = 0; i < kr->n; i++)
		for (j = i + 1; j < kr->n; j++)
			if (strcmp(kr->v[i].id, kr->v[j].id) == 0) {
				pc_err(err, errlen, "%s: key id %s appears twice",
				    path, kr->v[i].id);
				goto fail;
			}
	OPENSSL_cleanse(buf, KEYFILE_MAX + 1);
	free(buf);
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(buf, KEYFILE_MAX + 1);
	free(buf);
	OPENSSL_cleanse(&k, sizeof(k));
	stamp_keyring_free(kr);
	return -1;
}

void
stamp_keyring_free(struct stamp_keyring *kr)
{
	if (kr->v != NULL)
		OPENSSL_cleanse(kr->v, kr->n * sizeof(*kr->v));
	free(kr->v);
	kr->v = NULL;
	kr->n = 0;
}

/* The version and key id, bound to the ciphertext. */
static size_t
make_aad(unsigned char *aad, size_t len, const char *keyid)
{
	int n = snprintf((char *)aad, len, "%s:%d:%s", STAMP_HEADER,
	    STAMP_VERSION, keyid);

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

/* AES-256-GCM in one direction; returns 0 or -1. */
static int
gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const unsigned char *aad, size_t aadlen, const unsigned char *in,
    size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok = 0;

	if (c == NULL)
		return -1;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(c, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
	    tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(c, out + n, &n) != 1)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN,
	    tag) != 1)
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int
stamp_seal(const struct stamp_keyring *kr, const struct stamp_origin *o,
    char *out, size_t outlen, char *err, size_t errlen)
{
	unsigned char pt[PT_MAX], raw[RAW_MAX], aad[64];
	size_t al = strlen(o->addr), ul = strlen(o->account),
	    ql = strlen(o->qid), n = 0, aadlen, need;
	const struct stamp_key *k;
	uint64_t t = (uint64_t)o->time;
	int i;

	if (kr == NULL || kr->n == 0)
		return pc_err(err, errlen, "no stamp key");
	if (al >= STAMP_ADDR_MAX || ul > STAMP_ACCOUNT_MAX || ql > STAMP_QID_MAX)
		return pc_err(err, errlen, "origin field too long to stamp");
	k = &kr->v[kr->n - 1];
	for (i = 7; i >= 0; i--)
		pt[n++] = (unsigned char)(t >> (8 * i));
	pt[n++] = (unsigned char)al;
	memcpy(pt + n, o->addr, al);
	n += al;
	pt[n++] = (unsigned char)(ul >> 8);
	pt[n++] = (unsigned char)ul;
	memcpy(pt + n, o->account, ul);
	n += ul;
	pt[n++] = (unsigned char)ql;
	memcpy(pt + n, o->qid, ql);
	n += ql;
	while (n % STAMP_PAD != 0)
		pt[n++] = 0;
	if ((aadlen = make_aad(aad, sizeof(aad), k->id)) == 0)
		return pc_err(err, errlen, "stamp key id too long");
	if (RAND_bytes(raw, NONCE_LEN) != 1)
		return pc_err(err, errlen, "no random bytes for the stamp nonce");
	if (gcm(1, k->key, raw, aad, aadlen, pt, n, raw + NONCE_LEN,
	    raw + NONCE_LEN + n) < 0)
		return pc_err(err, errlen, "AES-256-GCM failed");
	OPENSSL_cleanse(pt, sizeof(pt));
	n += NONCE_LEN + TAG_LEN;
	need = 2 + strlen(k->id) + 1 + pc_b64_len(n, 1) + 1;
	if (need > outlen || need > STAMP_TEXT_MAX + 1)
		return pc_err(err, errlen, "stamp buffer too small");
	i = snprintf(out, outlen, "%d.%s.", STAMP_VERSION, k->id);
	pc_b64_encode(raw, n, out + i, 1);
	return 0;
}

/* Reads a length-prefixed field of the plaintext into dst (NUL-terminated). */
static int
take(const unsigned char *pt, size_t ptlen, size_t *pos, size_t flen,
    size_t max, char *dst)
{
	size_t i;

	if (flen > max || *pos + flen > ptlen)
		return -1;
	for (i = 0; i < flen; i++) {
		if (pt[*pos + i] < 0x20 || pt[*pos + i] == 0x7f)
			return -1;
		dst[i] = (char)pt[*pos + i];
	}
	dst[flen] = '\0';
	*pos += flen;
	return 0;
}

static int
parse_plain(const unsigned char *pt, size_t n, struct stamp_origin *o)
{
	uint64_t t = 0;
	size_t pos = 0, len, i;

	if (n < 8 + 1 + 2 + 1 || n % STAMP_PAD != 0)
		return -1;
	for (i = 0; i < 8; i++)
		t = t << 8 | pt[pos++];
	o->time = (int64_t)t;
	len = pt[pos++];
	if (take(pt, n, &pos, len, STAMP_ADDR_MAX - 1, o->addr) < 0)
		return -1;
	if (pos + 2 > n)
		return -1;
	len = (size_t)pt[pos] << 8 | pt[pos + 1];
	pos += 2;
	if (take(pt, n, &pos, len, STAMP_ACCOUNT_MAX, o->account) < 0)
		return -1;
	if (pos + 1 > n)
		return -1;
	len = pt[pos++];
	if (take(pt, n, &pos, len, STAMP_QID_MAX, o->qid) < 0)
		return -1;
	if (n - pos >= STAMP_PAD)
		return -1;	/* more padding than sealing ever writes */
	for (; pos < n; pos++)
		if (pt[pos] != 0)
			return -1;
	return 0;
}

enum stamp_status
stamp_open(const struct stamp_keyring *kr, const char *text, size_t len,
    struct stamp_origin *o, char *keyid, size_t keyidlen)
{
	char clean[STAMP_TEXT_MAX + 1], *dot1, *dot2;
	unsigned char raw[RAW_MAX], pt[RAW_MAX], aad[64];
	const struct stamp_key *k = NULL;
	size_t n = 0, i, aadlen;
	long rawlen;
	enum stamp_status st;

	memset(o, 0, sizeof(*o));
	if (keyidlen > 0)
		keyid[0] = '\0';
	for (i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
		    text[i] == '\n')
			continue;
		if (n == STAMP_TEXT_MAX)
			return STAMP_TOO_LONG;
		clean[n++] = text[i];
	}
	clean[n] = '\0';
	if ((dot1 = strchr(clean, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL)
		return STAMP_MALFORMED;
	*dot1 = *dot2 = '\0';
	if (strcmp(clean, "1") != 0)
		return strspn(clean, "0123456789") == strlen(clean) &&
		    clean[0] != '\0' ? STAMP_BAD_VERSION : STAMP_MALFORMED;
	if (!keyid_ok(dot1 + 1, strlen(dot1 + 1)))
		return STAMP_MALFORMED;
	if (keyidlen > 0)
		pc_strlcpy(keyid, dot1 + 1, keyidlen);
	for (i = 0; kr != NULL && i < kr->n; i++)
		if (strcmp(kr->v[i].id, dot1 + 1) == 0)
			k = &kr->v[i];
	rawlen = pc_b64_decode(dot2 + 1, strlen(dot2 + 1), raw, sizeof(raw), 1);
	if (rawlen < 0)
		return STAMP_MALFORMED;
	if ((size_t)rawlen < NONCE_LEN + STAMP_PAD + TAG_LEN ||
	    ((size_t)rawlen - NONCE_LEN - TAG_LEN) % STAMP_PAD != 0)
		return k == NULL ? STAMP_UNKNOWN_KEY : STAMP_FORGED;
	if (k == NULL)
		return STAMP_UNKNOWN_KEY;
	if ((aadlen = make_aad(aad, sizeof(aad), k->id)) == 0)
		return STAMP_MALFORMED;
	n = (size_t)rawlen - NONCE_LEN - TAG_LEN;
	if (gcm(0, k->key, raw, aad, aadlen, raw + NONCE_LEN, n, pt,
	    raw + NONCE_LEN + n) < 0)
		st = STAMP_FORGED;
	else
		st = parse_plain(pt, n, o) < 0 ? STAMP_MALFORMED : STAMP_OK;
	OPENSSL_cleanse(pt, sizeof(pt));
	if (st != STAMP_OK)
		memset(o, 0, sizeof(*o));
	return st;
}
