/*
 * testutil.h - small helpers the cmocka tests share: files of the source
 * tree, temporary files, and the check that a configuration's sample
 * file and man page name every key of its table.
 */
#ifndef PC_TESTUTIL_H
#define PC_TESTUTIL_H

#include <stddef.h>

struct pc_cfkey;

/* rel under $top_srcdir (or "." when make check did not set it). */
void tu_src_path(char *buf, size_t len, const char *rel);
/* The whole of a file of the source tree; fails the test when missing. */
char *tu_slurp(const char *rel);
/*
 * A new file /tmp/pc-test-NAME-XXXXXX holding text; the caller unlinks
 * and frees the returned path.
 */
char *tu_write_tmp(const char *name, const char *text);
/*
 * Fails the test unless the sample configuration sample_rel names each
 * key (set, "Key value", or commented out, "# Key value") and the man
 * page man_rel has a ".B Key" line for it.
 */
void tu_keys_documented(const struct pc_cfkey *keys, size_t nkeys,
    const char *sample_rel, const char *man_rel);

#endif
