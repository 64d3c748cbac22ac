/*
 * milter.h - the filter description handed to smfi_register().
 */
#ifndef PC_MILTER_H
#define PC_MILTER_H

#include <libmilter/mfapi.h>

/* From: addresses checked per message; more is refused as malformed. */
#define MILTER_FROM_MAX 32

extern struct smfiDesc milter_desc;

/* Connections between xxfi_connect and xxfi_close, for a clean stop. */
unsigned milter_open_sessions(void);

#endif
