/*
 * siphash.h - SipHash (Aumasson and Bernstein), keyed 64-bit hashing for
 * tables whose keys outsiders choose (account names, login names, client
 * addresses): without the key, nobody can work out which keys collide.
 *
 * The rounds are parameters: SipHash-2-4 is the published default,
 * SipHash-1-3 the faster variant for hot paths.  The function is inline
 * so a caller with constant rounds gets them unrolled.
 */
#ifndef PC_SIPHASH_H
#define PC_SIPHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct pc_sipkey {
	uint64_t k0, k1;
};

/*
 * A random key from the kernel, without blocking at boot; when no
 * entropy is available yet the key is made from the clock and the pid,
 * which is less secret but never constant.
 */
void pc_sipkey_random(struct pc_sipkey *k);

static inline uint64_t
pc_sip_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void
pc_sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = pc_sip_rotl(v[1], 13); v[1] ^= v[0];
	v[0] = pc_sip_rotl(v[0], 32);
	v[2] += v[3]; v[3] = pc_sip_rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = pc_sip_rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = pc_sip_rotl(v[1], 17); v[1] ^= v[2];
	v[2] = pc_sip_rotl(v[2], 32);
}

/* Little-endian 64-bit load, as the algorithm defines its words. */
static inline uint64_t
pc_sip_le64(const unsigned char *p)
{
	uint64_t m;

	memcpy(&m, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	m = __builtin_bswap64(m);
#endif
	return m;
}

/* SipHash-c-d of len bytes at data under key k. */
static inline uint64_t
pc_siphash(const struct pc_sipkey *k, const void *data, size_t len,
    int crounds, int drounds)
{
	const unsigned char *p = data;
	uint64_t v[4], m, b = (uint64_t)len << 56;
	size_t i;
	int r;

	v[0] = k->k0 ^ 0x736f6d6570736575ULL;
	v[1] = k->k1 ^ 0x646f72616e646f6dULL;
	v[2] = k->k0 ^ 0x6c7967656e657261ULL;
	v[3] = k->k1 ^ 0x7465646279746573ULL;
	for (i = 0; i + 8 <= len; i += 8) {
		m = pc_sip_le64(p + i);
		v[3] ^= m;
		for (r = 0; r < crounds; r++)
			pc_sip_round(v);
		v[0] ^= m;
	}
	for (r = 0; i + (size_t)r < len; r++)
		b |= (uint64_t)p[i + (size_t)r] << (8 * r);
	v[3] ^= b;
	for (r = 0; r < crounds; r++)
		pc_sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (r = 0; r < drounds; r++)
		pc_sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

#endif
