/*
 * duration.c - parsing and printing durations and rates.  Strict on
 * purpose: "10x" or "1h 5" in a rate limit must be an error that the
 * administrator sees at start, not a limit that silently means something
 * else.
 */
#include "duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static int
unit_seconds(char c, uint64_t *mult)
{
	switch (c) {
	case 's': *mult = 1; return 0;
	case 'm': *mult = 60; return 0;
	case 'h': *mult = 3600; return 0;
	case 'd': *mult = 86400; return 0;
	case 'w': *mult = 604800; return 0;
	default: return -1;
	}
}

int
pc_duration_parse(const char *s, uint64_t *seconds, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0;
	int parts = 0;

	if (*p == '\0')
		return pc_err(err, errlen, "empty duration");
	while (*p != '\0') {
		uint64_t n = 0, mult = 1;

		if (!isdigit((unsigned char)*p))
			return pc_err(err, errlen, "\"%s\": a duration is a number "
			    "with a unit s, m, h, d or w, e.g. 15m", s);
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > PC_DURATION_MAX)
				return pc_err(err, errlen, "\"%s\": duration too long "
				    "(at most 3650d)", s);
			p++;
		}
		if (*p == '\0') {
			/* A bare number is seconds, but only on its own: "1h30" is a typo. */
			if (parts != 0)
				return pc_err(err, errlen, "\"%s\": missing unit "
				    "after the last number", s);
		} else if (unit_seconds(*p++, &mult) < 0) {
			return pc_err(err, errlen, "\"%s\": unknown unit '%c' "
			    "(use s, m, h, d or w)", s, p[-1]);
		}
		total += n * mult;
		parts++;
		if (total > PC_DURATION_MAX)
			return pc_err(err, errlen, "\"%s\": duration too long "
			    "(at most 3650d)", s);
	}
	*seconds = total;
	return 0;
}

void
pc_duration_format(uint64_t seconds, char *buf, size_t len)
{
	static const struct { uint64_t mult; char unit; } units[] = {
		{ 604800, 'w' }, { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' },
	};
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(units); i++) {
		if (seconds != 0 && seconds % units[i].mult == 0) {
			snprintf(buf, len, "%llu%c",
			    (unsigned long long)(seconds / units[i].mult),
			    units[i].unit);
			return;
		}
	}
	snprintf(buf, len, "%llus", (unsigned long long)seconds);
}

int
pc_rate_parse(const char *s, struct pc_rate *r, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	const char *p;
	char dur[32];
	uint64_t count = 0;

	if (strcmp(s, "0") == 0) {
		r->count = r->seconds = 0;
		return 0;
	}
	if (slash == NULL || slash == s)
		return pc_err(err, errlen, "\"%s\": a rate is COUNT/DURATION, "
		    "e.g. 100/1h", s);
	for (p = s; p < slash; p++) {
		if (!isdigit((unsigned char)*p))
			return pc_err(err, errlen, "\"%s\": the count must be "
			    "a whole number", s);
		count = count * 10 + (uint64_t)(*p - '0');
		if (count > PC_RATE_COUNT_MAX)
			return pc_err(err, errlen, "\"%s\": count too large", s);
	}
	p = slash + 1;
	if (strlen(p) + 2 > sizeof(dur))
		return pc_err(err, errlen, "\"%s\": bad duration", s);
	/* "/h" is the same as "/1h". */
	snprintf(dur, sizeof(dur), "%s%s", isalpha((unsigned char)*p) ? "1" : "", p);
	if (pc_duration_parse(dur, &r->seconds, err, errlen) < 0)
		return -1;
	if (r->seconds == 0 && count != 0)
		return pc_err(err, errlen, "\"%s\": the window must be at least 1s", s);
	r->count = count;
	if (count == 0)
		r->seconds = 0;
	return 0;
}

void
pc_rate_format(const struct pc_rate *r, char *buf, size_t len)
{
	char d[32];

	if (r->count == 0) {
		snprintf(buf, len, "0");
		return;
	}
	pc_duration_format(r->seconds, d, sizeof(d));
	snprintf(buf, len, "%llu/%s", (unsigned long long)r->count, d);
}
