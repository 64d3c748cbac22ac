/*
 * maps.h - read-only "key value" lookup tables loaded from files in the
 * Postfix map style (SenderMap, RateLimitMap, OwnershipCheck map:FILE).
 *
 * File format: one "key value" per line, key and value separated by white
 * space, the value being the rest of the line, trimmed.  A line whose first
 * non-blank character is '#' is a comment; blank lines are skipped; a line
 * starting with white space continues the previous entry's value (joined
 * with one space).  Keys compare case-insensitively (ASCII).  CRLF line
 * ends are accepted.
 *
 * A loaded map is never modified, so lookups from many threads need no
 * lock; reload builds a new map and swaps it.
 */
#ifndef PC_MAPS_H
#define PC_MAPS_H

#include <stddef.h>

/* Longest line accepted, not counting the line end. */
#define PC_MAP_LINE_MAX 65536

struct pc_map;

/*
 * 0 and *out set, or -1 with "FILE:LINE: what" in err and *out untouched,
 * so a reload can keep the old map.  An empty file is a valid empty map.
 */
int pc_map_load(const char *path, struct pc_map **out, char *err,
    size_t errlen);
/* NULL if absent.  m may be NULL (treated as empty). */
const char *pc_map_get(const struct pc_map *m, const char *key);
size_t pc_map_count(const struct pc_map *m);
/* Calls fn for every entry, in file order; keys are lowercased. */
void pc_map_foreach(const struct pc_map *m,
    void (*fn)(const char *key, const char *value, void *arg), void *arg);
/* Line of the entry's key in the file, 0 if absent (for callers' errors). */
unsigned pc_map_line(const struct pc_map *m, const char *key);
void pc_map_free(struct pc_map *m);

#endif
