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
	json_t *root, *v;
	const char *key;
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (body == NULL || len == 0)
		return pc_err(err, errlen, "the body must be a JSON object");
	/* Duplicate keys are refused: which one wins is a parser's whim. */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return pc_err(err, errlen, "invalid JSON at line %d column %d: "
		    "%.120s", je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return pc_err(err, errlen, "the body must be a JSON object");
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, fields[i].name) == 0)
				break;
		if (i == n) {
			pc_err(err, errlen, "unknown member \"%.40s\"%s", key,
			    strlen(key) > 40 ? "..." : "");
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
