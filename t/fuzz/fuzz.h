/*
 * fuzz.h - the fuzz targets of the SPF screen, the SPF evaluation path,
 * the ARF walker and stamp opening.  fuzz_libfuzzer.c wraps one for
 * libFuzzer (clang); fuzz_replay.c replays the committed corpus in
 * "make check" with any compiler.
 */
#ifndef PC_FUZZ_H
#define PC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

void fuzz_init(void);
int fuzz_arf(const uint8_t *data, size_t len);
int fuzz_stamp(const uint8_t *data, size_t len);
/* data is one TXT record: the screen, then libspf2's full evaluation. */
int fuzz_spf(const uint8_t *data, size_t len);

#endif
