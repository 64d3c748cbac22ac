/*
 * duration.h - durations ("30s", "15m", "1h30m", "1d") and rates
 * ("100/1h"), as every portcullis configuration file spells them.
 */
#ifndef PC_DURATION_H
#define PC_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* Longer than any sensible window, short enough that count * seconds stays exact. */
#define PC_DURATION_MAX (3650ULL * 86400ULL)
#define PC_RATE_COUNT_MAX 1000000000000ULL

struct pc_rate {
	uint64_t count;		/* 0 means "off" */
	uint64_t seconds;	/* the window; 0 only when count is 0 */
};

/* Units s, m, h, d, w; a bare number is seconds; "1h30m" adds up. */
int pc_duration_parse(const char *s, uint64_t *seconds, char *err, size_t errlen);
/* Shortest exact spelling: 90 -> "90s", 3600 -> "1h", 5400 -> "90m". */
void pc_duration_format(uint64_t seconds, char *buf, size_t len);
/* "COUNT/DURATION"; "/h" means "/1h"; "0" alone means off. */
int pc_rate_parse(const char *s, struct pc_rate *r, char *err, size_t errlen);
void pc_rate_format(const struct pc_rate *r, char *buf, size_t len);

#endif
