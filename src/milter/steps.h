/*
 * steps.h - the milter protocol steps portcullis-milter negotiates, in
 * one place for the filter (milter.c), the null milter it is measured
 * against (bench/null-milter.c) and the TCP_QUICKACK re-arming
 * (quickack.c), which must know which packets get no answer.
 *
 * Steps without an answer: connect and HELO only gather facts; headers
 * and body chunks are kept and counted for the end of message, where the
 * From: check is made.  Each answer an MTA waits for is a round trip per
 * message, and on TCP a packet each way; with these a message of one
 * recipient waits for three answers (MAIL, RCPT, end of message) rather
 * than one more per header, one for end of headers and one per body
 * chunk.  libmilter (8.14 and later) offers the "no reply" steps even to
 * an MTA that lacks them, and then answers "continue" in the filter's
 * place; a callback of such a step must return SMFIS_NOREPLY.
 *
 * Steps not sent at all, where the MTA offers to leave them out: unknown
 * commands, DATA and end of headers.
 */
#ifndef PC_STEPS_H
#define PC_STEPS_H

#include <libmilter/mfapi.h>

#define PC_STEPS_NOREPLY (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_HDR | \
    SMFIP_NR_BODY)
#define PC_STEPS_UNUSED (SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH)

/*
 * The command letters (libmilter's mfdef.h) that get no answer: those of
 * the steps above (connect, HELO, header, body), and the ones that never
 * have one (macros, abort, quit with a new connection to follow).
 */
#define PC_STEPS_UNANSWERED "CHLBDAK"

#endif
