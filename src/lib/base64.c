/*
 * base64.c - RFC 4648 encoding and a decoder that bounds its output.
 */
#include "base64.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
pc_b64_len(size_t n, int url)
{
	if (url)
		return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
	return (n + 2) / 3 * 4;
}

void
pc_b64_encode(const unsigned char *src, size_t n, char *out, int url)
{
	const char *a = url ? url_alpha : std_alpha;
	size_t i;
	char *o = out;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8 |
		    src[i + 2];

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = a[v >> 6 & 63];
		*o++ = a[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)src[i] << 16;

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		if (!url) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (n - i == 2) {
		unsigned v = (unsigned)src[i] << 16 | (unsigned)src[i + 1] << 8;

		*o++ = a[v >> 18 & 63];
		*o++ = a[v >> 12 & 63];
		*o++ = a[v >> 6 & 63];
		if (!url)
			*o++ = '=';
	}
	*o = '\0';
}

static int
value(unsigned char c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

long
pc_b64_decode(const char *src, size_t n, unsigned char *out, size_t cap,
    int url)
{
	unsigned acc = 0;
	size_t i, len = 0;
	int bits = 0, v, pad = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		v = value(c, url);
		if (v < 0) {
			if (url)
				return -1;
			continue;	/* MIME: ignore what is not base64 */
		}
		if (pad > 0)
			return -1;	/* data after padding */
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (len == cap)
				return -1;
			out[len++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	if (bits >= 6)
		return -1;	/* one symbol alone cannot carry a byte */
	if (pad > 2)
		return -1;
	return (long)len;
}
