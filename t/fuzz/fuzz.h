/*
 * fuzz.h - the fuzz targets of the SPF screen, the SPF evaluation path,
 * the resolver's reply parser, the ARF walker and stamp opening.  fuzz_libfuzzer.c wraps one for
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
/*
 * data is a DNS reply: byte 0 picks the asked type (TXT, A, AAAA, MX,
 * PTR), bytes 1-12 are the header, the rest follows the question.  The
 * resolver parses it and the screen checks what comes out.
 */
int fuzz_dns(const uint8_t *data, size_t len);

#endif
