/*
 * config.h - the table-driven "Key value" configuration parser shared by
 * portcullis-milter, portcullisd and portcullisctl.
 *
 * A program describes its file as an array of struct pc_cfkey: name,
 * type, textual default, bounds and the offset of the field it fills.
 * The same table drives parsing, defaults, freeing and the test that
 * checks the sample configuration and man page name every key.
 */
#ifndef PC_CONFIG_H
#define PC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "duration.h"
#include "netaddr.h"

enum pc_cftype {
	PC_CF_STRING,		/* char * (NULL when unset) */
	PC_CF_BOOL,		/* int: yes/no, true/false, on/off, 1/0 */
	PC_CF_UINT,		/* uint64_t within [min, max] */
	PC_CF_DURATION,		/* uint64_t seconds within [min, max] */
	PC_CF_RATE,		/* struct pc_rate */
	PC_CF_ENUM,		/* int: index into choices */
	PC_CF_NETLIST,		/* struct pc_netlist; repeatable, comma lists */
	PC_CF_STRLIST,		/* struct pc_strlist; repeatable, comma lists */
	PC_CF_CUSTOM		/* parse() fills the object; repeatable */
};

struct pc_strlist {
	char **v;
	size_t n;
};

struct pc_cfkey {
	const char *name;
	enum pc_cftype type;
	const char *dflt;	/* parsed like a file value; NULL = unset */
	size_t offset;
	const char *const *choices;	/* PC_CF_ENUM, NULL-terminated */
	uint64_t min, max;		/* PC_CF_UINT, PC_CF_DURATION; 0,0 = any */
	/* PC_CF_CUSTOM: parse one value into obj; free what it built. */
	int (*parse)(void *obj, const char *value, char *err, size_t errlen);
	void (*free)(void *obj);
};

/*
 * Reads path into obj (which the caller zeroed) by table.  On error
 * returns -1 with "FILE:LINE: Key: reason" in err; obj is then freed
 * and must not be used.  Keys never given take their defaults.
 */
int pc_config_load(const struct pc_cfkey *table, size_t n, void *obj,
    const char *path, char *err, size_t errlen);
/* Applies every default, for a program started without a file. */
int pc_config_defaults(const struct pc_cfkey *table, size_t n, void *obj,
    char *err, size_t errlen);
void pc_config_free(const struct pc_cfkey *table, size_t n, void *obj);
const struct pc_cfkey *pc_config_find(const struct pc_cfkey *table, size_t n,
    const char *name);

void pc_strlist_add(struct pc_strlist *l, const char *s);
void pc_strlist_free(struct pc_strlist *l);

/* Parses a boolean the way the files spell it; 0 ok, -1 error. */
int pc_bool_parse(const char *s, int *out);

#endif
