/*
 * stamp.h - the origin stamp: an AES-256-GCM sealed record of who sent a
 * message (account, client address, time, queue id), written by
 * portcullis-milter as X-Portcullis-Origin and opened by
 * "portcullisctl trace".  The crypto lives here once for both.
 *
 * Header value: "1.KEYID.DATA", DATA the unpadded base64url of
 * nonce(12) | ciphertext | tag(16).  The version and key id are bound to
 * the ciphertext as associated data, so neither can be swapped.  The
 * plaintext is padded to a multiple of STAMP_PAD bytes: a recipient
 * learns neither the account nor, within a block, its length.
 */
#ifndef PC_STAMP_H
#define PC_STAMP_H

#include <stddef.h>
#include <stdint.h>

#define STAMP_VERSION 1
#define STAMP_KEY_LEN 32
#define STAMP_KEYID_MAX 16
#define STAMP_ACCOUNT_MAX 512
#define STAMP_QID_MAX 64
#define STAMP_ADDR_MAX 46
#define STAMP_PAD 64
/* Longest header value stamp_seal() writes, and stamp_open() accepts. */
#define STAMP_TEXT_MAX 1024
#define STAMP_HEADER "X-Portcullis-Origin"

struct stamp_key {
	char id[STAMP_KEYID_MAX + 1];
	unsigned char key[STAMP_KEY_LEN];
};

/* Oldest first; the last key seals, every key opens. */
struct stamp_keyring {
	struct stamp_key *v;
	size_t n;
};

struct stamp_origin {
	char account[STAMP_ACCOUNT_MAX + 1];	/* "" for unauthenticated */
	char addr[STAMP_ADDR_MAX];		/* text form, "" if unknown */
	int64_t time;				/* seconds since the epoch */
	char qid[STAMP_QID_MAX + 1];
};

enum stamp_status {
	STAMP_OK = 0,
	STAMP_MALFORMED,	/* not "1.KEYID.DATA", bad base64, wrong sizes */
	STAMP_BAD_VERSION,	/* a version this build does not know */
	STAMP_UNKNOWN_KEY,	/* no key of that id in the key file */
	STAMP_FORGED,		/* authentication failed: tampered or truncated */
	STAMP_TOO_LONG		/* longer than STAMP_TEXT_MAX */
};

/*
 * Reads a key file: either exactly 32 raw bytes, or text lines
 * "[ID] HEX" with 64 hex digits per key, '#' comments, oldest first.
 * Without an ID a key is named by the first 8 hex digits of its SHA-256.
 * private_only: refuse a file that group or others may read.
 */
int stamp_keyring_load(const char *path, int private_only,
    struct stamp_keyring *kr, char *err, size_t errlen);
void stamp_keyring_free(struct stamp_keyring *kr);

/* Seals o with the newest key into out (>= STAMP_TEXT_MAX + 1 bytes). */
int stamp_seal(const struct stamp_keyring *kr, const struct stamp_origin *o,
    char *out, size_t outlen, char *err, size_t errlen);

/*
 * Opens a header value (white space inside is ignored: folding).  keyid
 * receives the claimed key id when one could be read, else "".
 */
enum stamp_status stamp_open(const struct stamp_keyring *kr,
    const char *text, size_t len, struct stamp_origin *o,
    char *keyid, size_t keyidlen);

const char *stamp_status_str(enum stamp_status st);

#endif
