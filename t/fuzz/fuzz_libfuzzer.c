/*
 * fuzz_libfuzzer.c - libFuzzer entry point; FUZZ_TARGET picks the target.
 * Built and run by t/fuzz/fuzz.sh ("make fuzz"; see FUZZING in
 * doc/portcullis-milter.8):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DFUZZ_TARGET=fuzz_spf ...
 */
#include "fuzz.h"

#ifndef FUZZ_TARGET
#define FUZZ_TARGET fuzz_spf
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	return FUZZ_TARGET(data, len);
}
