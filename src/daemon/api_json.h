/*
 * api_json.h - validation of the JSON request bodies of the API, kept
 * apart from the HTTP code so the unit tests throw hostile bodies at it
 * directly.  A body must be one flat JSON object whose members are all
 * known, all strings, within their length limits, and not repeated.
 */
#ifndef PC_API_JSON_H
#define PC_API_JSON_H

#include <stddef.h>

struct api_field {
	const char *name;
	size_t max;		/* bytes */
	int required;
};

/* The bodies the API accepts. */
extern const struct api_field api_registration_fields[];
extern const size_t api_registration_nfields;
extern const struct api_field api_feedback_fields[];
extern const size_t api_feedback_nfields;

/*
 * Parses body against fields; out[i] gets a malloc'd copy of field i or
 * NULL when absent.  0, or -1 with a one-line reason in err (out is then
 * all NULL).
 */
int api_parse_body(const char *body, size_t len, const struct api_field *fields,
    size_t n, char **out, char *err, size_t errlen);
void api_free_values(char **out, size_t n);
/*
 * Copies at most max bytes of src into dst (dstlen bytes, always
 * terminated) as valid UTF-8: the cut falls between characters, never
 * inside one, and a byte that starts no valid sequence becomes '?'.
 * Client text in an error detail stays encodable as JSON that way.
 * Returns the bytes copied.
 */
size_t api_utf8_cut(char *dst, size_t dstlen, const char *src, size_t max);

#endif
