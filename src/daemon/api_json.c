/*
 * api_json.c - request body validation with jansson; see api_json.h.
 */
#include "api_json.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util.h"

const struct api_field api_registration_fields[] = {
	{ "address", 64, 0 },
	{ "hostname", 253, 0 },
	{ "domain", 253, 0 },
	{ "note", 1000, 0 },
};
const size_t api_registration_nfields = PC_ARRAY_LEN(api_registration_fields);

const struct api_field api_feedback_fields[] = {
	{ "message", 4000, 1 },
	{ "contact", 320, 0 },
};
const size_t api_feedback_nfields = PC_ARRAY_LEN(api_feedback_fields);

size_t
api_utf8_cut(char *dst, size_t dstlen, const char *src, size_t max)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = strlen(src), o = 0, k;

	if (dstlen == 0)
		return 0;
	if (max > dstlen - 1)
		max = dstlen - 1;
	while (n > 0) {
		k = pc_utf8_len(p, n);
		if (k == 0) {		/* not UTF-8: one byte becomes '?' */
			if (o + 1 > max)
				break;
			dst[o++] = '?';
			p++;
			n--;
			continue;
		}
		if (o + k > max)	/* never half a character */
			break;
		memcpy(dst + o, p, k);
		o += k;
		p += k;
		n -= k;
	}
	dst[o] = '\0';
	return o;
}

void
api_free_values(char **out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(out[i]);
		out[i] = NULL;
	}
}

int
api_parse_body(const char *body, size_t len, const struct api_field *fields,
    size_t n, char **out, char *err, size_t errlen)
{
	json_error_t je;
	char shown[130];
	json_t *root, *v;
	const char *key;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (body == NULL || len == 0)
		return pc_err(err, errlen, "the body must be a JSON object");
	/* Duplicate keys are refused: which one wins is a parser's whim. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		/* jansson quotes the client's bytes "near" the error. */
		api_utf8_cut(shown, sizeof(shown), je.text, 120);
		return pc_err(err, errlen, "invalid JSON at line %d column %d: "
		    "%s", je.line, je.column, shown);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return pc_err(err, errlen, "the body must be a JSON object");
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == n) {
			size_t kept = api_utf8_cut(shown, sizeof(shown), key, 40);

			pc_err(err, errlen, "unknown member \"%s\"%s", shown,
			    kept < strlen(key) ? "..." : "");
			goto fail;
		}
		if (!json_is_string(v)) {
			pc_err(err, errlen, "\"%s\" must be a string",
			    fields[i].name);
			goto fail;
		}
		if (json_string_length(v) > fields[i].max ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			pc_err(err, errlen, "\"%s\" must be at most %zu bytes "
			    "of text", fields[i].name, fields[i].max);
			goto fail;
		}
		out[i] = xstrdup(json_string_value(v));
	}
	for (i = 0; i < n; i++) {
		if (fields[i].required && (out[i] == NULL || *out[i] == '\0')) {
			pc_err(err, errlen, "\"%s\" is required",
			    fields[i].name);
			goto fail;
		}
	}
	json_decref(root);
	return 0;
fail:
	api_free_values(out, n);
	json_decref(root);
	return -1;
}
