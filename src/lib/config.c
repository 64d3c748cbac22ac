/*
 * config.c - the "Key value" file reader behind every portcullis program.
 *
 * OpenDKIM's format: one key and its value per line, '#' starts a comment
 * (at the start of a line or after white space, so a '#' inside a value
 * such as a URL survives), keys are case-insensitive, list keys repeat or
 * take a comma list.  Every error names file, line and key, because the
 * person reading it is an administrator with an editor open.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define CF_LINE_MAX 65536

#define FIELD(obj, k, type) ((type *)(void *)((char *)(obj) + (k)->offset))

int
pc_bool_parse(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < PC_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

void
pc_strlist_add(struct pc_strlist *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = xstrdup(s);
}

void
pc_strlist_free(struct pc_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

const struct pc_cfkey *
pc_config_find(const struct pc_cfkey *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(table[i].name, name) == 0)
			return &table[i];
	return NULL;
}

static int
repeatable(const struct pc_cfkey *k)
{
	return k->type == PC_CF_NETLIST || k->type == PC_CF_STRLIST ||
	    k->type == PC_CF_CUSTOM;
}

static int
parse_bounded(const struct pc_cfkey *k, uint64_t v, char *err, size_t errlen)
{
	if ((k->min != 0 || k->max != 0) && (v < k->min || v > k->max))
		return pc_err(err, errlen, "%llu is out of range %llu..%llu",
		    (unsigned long long)v, (unsigned long long)k->min,
		    (unsigned long long)k->max);
	return 0;
}

static int
parse_uint(const char *s, uint64_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return pc_err(err, errlen, "\"%s\" is not a whole number", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return pc_err(err, errlen, "\"%s\" is not a whole number", s);
	*out = v;
	return 0;
}

/* Splits a comma list and adds each trimmed item; an empty item is an error. */
static int
parse_strlist(struct pc_strlist *l, const char *value, char *err, size_t errlen)
{
	char *copy = xstrdup(value), *item = copy, *comma;
	int rc = 0;

	for (;;) {
		comma = strchr(item, ',');
		if (comma != NULL)
			*comma = '\0';
		item = pc_str_trim(item);
		if (*item == '\0') {
			rc = pc_err(err, errlen, "empty item in list");
			break;
		}
		pc_strlist_add(l, item);
		if (comma == NULL)
			break;
		item = comma + 1;
	}
	free(copy);
	return rc;
}

static int
parse_value(const struct pc_cfkey *k, void *obj, const char *value,
    char *err, size_t errlen)
{
	size_t i;

	switch (k->type) {
	case PC_CF_STRING:
		free(*FIELD(obj, k, char *));
		*FIELD(obj, k, char *) = xstrdup(value);
		return 0;
	case PC_CF_BOOL:
		if (pc_bool_parse(value, FIELD(obj, k, int)) < 0)
			return pc_err(err, errlen, "\"%s\" is not yes or no", value);
		return 0;
	case PC_CF_UINT:
		if (parse_uint(value, FIELD(obj, k, uint64_t), err, errlen) < 0)
			return -1;
		return parse_bounded(k, *FIELD(obj, k, uint64_t), err, errlen);
	case PC_CF_DURATION:
		if (pc_duration_parse(value, FIELD(obj, k, uint64_t), err, errlen) < 0)
			return -1;
		return parse_bounded(k, *FIELD(obj, k, uint64_t), err, errlen);
	case PC_CF_RATE:
		return pc_rate_parse(value, FIELD(obj, k, struct pc_rate), err, errlen);
	case PC_CF_ENUM:
		for (i = 0; k->choices[i] != NULL; i++) {
			if (strcasecmp(value, k->choices[i]) == 0) {
				*FIELD(obj, k, int) = (int)i;
				return 0;
			}
		}
		{
			struct dstr d;

			dstr_init(&d);
			for (i = 0; k->choices[i] != NULL; i++)
				dstr_appendf(&d, "%s%s", i ? ", " : "", k->choices[i]);
			pc_err(err, errlen, "\"%s\" is not one of %s", value, d.buf);
			dstr_free(&d);
		}
		return -1;
	case PC_CF_NETLIST:
		return pc_netlist_add(FIELD(obj, k, struct pc_netlist), value,
		    err, errlen);
	case PC_CF_STRLIST:
		return parse_strlist(FIELD(obj, k, struct pc_strlist), value,
		    err, errlen);
	case PC_CF_CUSTOM:
		return k->parse(obj, value, err, errlen);
	}
	return pc_err(err, errlen, "internal error: bad key type");
}

void
pc_config_free(const struct pc_cfkey *table, size_t n, void *obj)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct pc_cfkey *k = &table[i];

		switch (k->type) {
		case PC_CF_STRING:
			free(*FIELD(obj, k, char *));
			*FIELD(obj, k, char *) = NULL;
			break;
		case PC_CF_NETLIST:
			pc_netlist_free(FIELD(obj, k, struct pc_netlist));
			break;
		case PC_CF_STRLIST:
			pc_strlist_free(FIELD(obj, k, struct pc_strlist));
			break;
		case PC_CF_CUSTOM:
			if (k->free != NULL)
				k->free(obj);
			break;
		default:
			break;
		}
	}
}

static int
apply_defaults(const struct pc_cfkey *table, size_t n, void *obj,
    const unsigned *seen, char *err, size_t errlen)
{
	char why[512];
	size_t i;

	for (i = 0; i < n; i++) {
		if ((seen != NULL && seen[i] != 0) || table[i].dflt == NULL)
			continue;
		if (parse_value(&table[i], obj, table[i].dflt, why, sizeof(why)) < 0)
			return pc_err(err, errlen, "built-in default of %s: %s",
			    table[i].name, why);
	}
	return 0;
}

int
pc_config_defaults(const struct pc_cfkey *table, size_t n, void *obj,
    char *err, size_t errlen)
{
	if (apply_defaults(table, n, obj, NULL, err, errlen) < 0) {
		pc_config_free(table, n, obj);
		return -1;
	}
	return 0;
}

/* Cuts a comment: '#' at the start or after white space. */
static void
strip_comment(char *line)
{
	char *p;

	for (p = line; *p != '\0'; p++) {
		if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			return;
		}
	}
}

static int
parse_line(const struct pc_cfkey *table, size_t n, void *obj, unsigned *seen,
    const char *path, unsigned lineno, char *line, char *err, size_t errlen)
{
	const struct pc_cfkey *k;
	char why[512], *key, *value;
	size_t i;

	strip_comment(line);
	key = pc_str_trim(line);
	if (*key == '\0')
		return 0;
	for (value = key; *value != '\0' && *value != ' ' && *value != '\t'; value++)
		;
	if (*value != '\0')
		*value++ = '\0';
	value = pc_str_trim(value);
	for (i = 0; key[i] != '\0'; i++) {
		if (!isalnum((unsigned char)key[i]) && key[i] != '_')
			return pc_err(err, errlen, "%s:%u: \"%.64s\" is not a "
			    "key name", path, lineno, key);
	}
	k = pc_config_find(table, n, key);
	if (k == NULL)
		return pc_err(err, errlen, "%s:%u: %s: unknown key", path,
		    lineno, key);
	i = (size_t)(k - table);
	if (*value == '\0')
		return pc_err(err, errlen, "%s:%u: %s: missing value", path,
		    lineno, k->name);
	if (seen[i] != 0 && !repeatable(k))
		return pc_err(err, errlen, "%s:%u: %s: given twice (first at "
		    "line %u)", path, lineno, k->name, seen[i]);
	seen[i] = lineno;
	if (parse_value(k, obj, value, why, sizeof(why)) < 0)
		return pc_err(err, errlen, "%s:%u: %s: %s", path, lineno,
		    k->name, why);
	return 0;
}

int
pc_config_load(const struct pc_cfkey *table, size_t n, void *obj,
    const char *path, char *err, size_t errlen)
{
	unsigned *seen, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *fp;
	int rc = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return pc_err(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
	seen = xcalloc(n ? n : 1, sizeof(*seen));
	while (rc == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)len != strlen(line))
			rc = pc_err(err, errlen, "%s:%u: NUL byte in line", path,
			    lineno);
		else if (len > CF_LINE_MAX)
			rc = pc_err(err, errlen, "%s:%u: line longer than %d "
			    "bytes", path, lineno, CF_LINE_MAX);
		else
			rc = parse_line(table, n, obj, seen, path, lineno, line,
			    err, errlen);
	}
	if (rc == 0 && ferror(fp))
		rc = pc_err(err, errlen, "%s: read error: %s", path,
		    strerror(errno));
	if (rc == 0)
		rc = apply_defaults(table, n, obj, seen, err, errlen);
	free(line);
	free(seen);
	fclose(fp);
	if (rc < 0)
		pc_config_free(table, n, obj);
	return rc;
}
