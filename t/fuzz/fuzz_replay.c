/*
 * fuzz_replay.c - runs every file of a corpus directory through one fuzz
 * target: "fuzz_replay arf|stamp|spf|dns DIR...".  Deterministic and bounded
 * by the corpus: this is what "make check" runs (t/fuzz/replay.sh).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

static size_t
replay_dir(const char *dir, int (*target)(const uint8_t *, size_t))
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	if (d == NULL) {
		perror(dir);
		exit(1);
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		unsigned char *buf;
		size_t len;
		FILE *fp;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		buf = xmalloc(1 << 20);
		len = fread(buf, 1, 1 << 20, fp);
		fclose(fp);
		target(buf, len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	int (*target)(const uint8_t *, size_t);
	size_t n = 0;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: fuzz_replay arf|stamp|spf|dns DIR...\n");
		return 2;
	}
	if (strcmp(argv[1], "arf") == 0)
		target = fuzz_arf;
	else if (strcmp(argv[1], "stamp") == 0)
		target = fuzz_stamp;
	else if (strcmp(argv[1], "spf") == 0)
		target = fuzz_spf;
	else if (strcmp(argv[1], "dns") == 0)
		target = fuzz_dns;
	else
		return 2;
	fuzz_init();
	for (i = 2; i < argc; i++)
		n += replay_dir(argv[i], target);
	printf("%s: %zu inputs replayed\n", argv[1], n);
	return 0;
}
