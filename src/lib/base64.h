/*
 * base64.h - RFC 4648 base64, the standard alphabet (MIME bodies of
 * abuse reports) and the URL-safe one without padding (the origin stamp,
 * which must survive header folding and quoting untouched).
 */
#ifndef PC_BASE64_H
#define PC_BASE64_H

#include <stddef.h>

/* Encoded length of n bytes, without the terminating NUL. */
size_t pc_b64_len(size_t n, int url);
/* Writes the encoding of src and a NUL; out must hold pc_b64_len() + 1. */
void pc_b64_encode(const unsigned char *src, size_t n, char *out, int url);
/*
 * Decodes src[0..n).  White space is skipped (MIME lines, folded headers);
 * url: the URL-safe alphabet, padding optional; otherwise the standard one
 * where bytes outside the alphabet are skipped as MIME says.  Returns the
 * decoded length, or -1 when the output would exceed cap or the input is
 * malformed (a stray '=' in the middle, a lone trailing symbol).
 */
long pc_b64_decode(const char *src, size_t n, unsigned char *out, size_t cap,
    int url);

#endif
