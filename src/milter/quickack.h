/*
 * quickack.h - keeps the milter's TCP connections out of the delayed-ACK
 * stall by re-arming TCP_QUICKACK after every read libmilter makes.
 *
 * Linking quickack.c into a program is all it takes: it defines read()
 * and accept() in the executable, so libmilter's calls (through the
 * dynamic linker) come here first.  See quickack.c for why.
 */
#ifndef PC_QUICKACK_H
#define PC_QUICKACK_H

/*
 * How many times TCP_QUICKACK was re-armed since start; for tests and
 * for a debug line, not for decisions.
 */
unsigned long quickack_rearmed(void);

/* Nonzero when reads on fd re-arm TCP_QUICKACK (an accepted TCP socket). */
int quickack_tracked(int fd);

#endif
