/*
 * sender.h - may this authenticated account use this address?  Pure
 * policy: no libmilter here, so the unit tests call it directly.
 */
#ifndef PC_SENDER_H
#define PC_SENDER_H

#include <stddef.h>

#include "mailbox.h"
#include "mconf.h"

#define ACCOUNT_MAX PC_MAILBOX_MAX

/*
 * The account as logs and checks see it: the SASL login lowercased, with
 * "@AccountDomain" added to a bare name.  Returns -1 (buf "") for a
 * login that is empty, too long or holds control characters.
 */
int sender_account(const struct mconf *c, const char *login, char *buf,
    size_t len);

/*
 * 1 when account may send as addr under c's SenderPolicy, 0 when not;
 * reason says why in words fit for the log.
 */
int decide_sender(const struct mconf *c, const char *account,
    const struct pc_mailbox *addr, char *reason, size_t rlen);

#endif
