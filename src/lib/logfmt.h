/*
 * logfmt.h - what log.c takes from logfmt.c besides the formatters that
 * log.h declares for everyone.
 */
#ifndef PC_LOGFMT_H
#define PC_LOGFMT_H

#include <stddef.h>

#include "log.h"
#include "util.h"

/* Diagnostics text: controls and bad UTF-8 escaped, at most cap bytes. */
void pc_text_escape(struct dstr *d, const char *s, size_t len, size_t cap);
/* ,"key":"value" for each field, for a JSON object already opened. */
void pc_json_members(struct dstr *d, const struct pc_logfield *f, size_t n);

#endif
