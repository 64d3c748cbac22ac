/*
 * testutil.c - the helpers of testutil.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"
#include "util.h"

void
tu_src_path(char *buf, size_t len, const char *rel)
{
	const char *top = getenv("top_srcdir");

	snprintf(buf, len, "%s/%s", top != NULL ? top : ".", rel);
}

char *
tu_slurp(const char *rel)
{
	char path[4096], buf[4096];
	struct dstr d;
	FILE *fp;
	size_t n;

	tu_src_path(path, sizeof(path), rel);
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot open %s (set top_srcdir)", path);
	dstr_init(&d);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		dstr_append(&d, buf, n);
	fclose(fp);
	return dstr_steal(&d);
}

char *
tu_write_tmp(const char *name, const char *text)
{
	struct dstr d;
	char *path;
	int fd;

	dstr_init(&d);
	dstr_appendf(&d, "/tmp/pc-test-%s-XXXXXX", name);
	path = dstr_steal(&d);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

void
tu_keys_documented(const struct pc_cfkey *keys, size_t nkeys,
    const char *sample_rel, const char *man_rel)
{
	char *sample = tu_slurp(sample_rel);
	char *man = tu_slurp(man_rel);
	char want[128];
	size_t i;

	for (i = 0; i < nkeys; i++) {
		snprintf(want, sizeof(want), "\n# %s ", keys[i].name);
		if (strstr(sample, want) == NULL) {
			snprintf(want, sizeof(want), "\n%s ", keys[i].name);
			if (strstr(sample, want) == NULL)
				fail_msg("%s lacks %s", sample_rel, keys[i].name);
		}
		snprintf(want, sizeof(want), "\n.B %s\n", keys[i].name);
		if (strstr(man, want) == NULL)
			fail_msg("%s lacks .B %s", man_rel, keys[i].name);
	}
	free(sample);
	free(man);
}
