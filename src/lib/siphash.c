/*
 * siphash.c - the random key for pc_siphash() (the hash itself is inline
 * in siphash.h).
 */
#include "siphash.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void
pc_sipkey_random(struct pc_sipkey *k)
{
	uint64_t b[2];
	struct timespec ts;

	if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		b[0] = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		b[1] = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
		    (uint64_t)(uintptr_t)k;
	}
	k->k0 = b[0];
	k->k1 = b[1];
}
