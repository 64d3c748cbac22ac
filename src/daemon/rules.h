/*
 * rules.h - firewall rules that open port 25 only for registered,
 * verified, unexpired subscriber mail servers.  Rendering is pure and
 * deterministic (same input, same bytes); applying writes RuleFile
 * atomically and runs ApplyCommand.
 *
 * The interface between the registry (which knows which addresses are
 * allowed) and the renderers (which know firewall syntax).
 *
 * Output formats, in short (each renderer's file says why):
 *   nft       one `nft -f` transaction that replaces table NftTable
 *             (default "inet portcullis"): interval sets for the
 *             subscriber ranges, plain hash sets for the allowed hosts,
 *             one chain "port25" hooked on forward or output.
 *   iptables  three inputs in one file, each after a marker line
 *             "# portcullis-section: NAME" (see rules_section()):
 *             "ipset" for `ipset restore` (hash sets, swapped in whole),
 *             "iptables" for `iptables-restore --noflush` and
 *             "ip6tables" for `ip6tables-restore --noflush`.  They
 *             fill the chain PORTCULLIS; the jump to it from FORWARD
 *             (or OUTPUT) is installed once by the administrator.
 *   pf        two sections: "pf-table" (one entry a line, for
 *             `pfctl -a portcullis -t portcullis_blocked -T replace -f`)
 *             and "pf-anchor" (rules for `pfctl -a portcullis -f`).
 *   plain     one allowed address a line, nothing else.
 */
#ifndef PC_RULES_H
#define PC_RULES_H

#include <stddef.h>

#include "netaddr.h"
#include "util.h"

enum rules_format { RULES_NFT, RULES_IPTABLES, RULES_PF, RULES_PLAIN };

struct rules_input {
	/* Allowed host addresses, v4 and v6 mixed, any order, duplicates allowed. */
	const struct pc_addr *allowed;
	size_t n_allowed;
	const struct pc_netlist *subscribers;	/* SubscriberNetworks */
	const char *nft_table;			/* NftTable, e.g. "inet portcullis" */
	int hook_output;			/* NftHook: 0 forward, 1 output */
	int block_drop;				/* BlockAction: 0 reject, 1 drop */
};

/* "nft", "iptables", "pf", "plain" -> format; -1 if unknown. */
int rules_format_parse(const char *name, enum rules_format *out);
const char *rules_format_name(enum rules_format f);

/*
 * Appends the complete rule file for in to out.  -1 with err on bad input
 * (an NftTable that is not "inet NAME" or a bare NAME, an address of an
 * unknown family).  Addresses are emitted sorted (v4 before v6, then by
 * bytes) with duplicates removed; subscriber networks nested inside
 * another listed network are left out (nft refuses overlapping
 * intervals, and they add nothing).  Nothing that is not in `in` is ever
 * emitted.
 */
int rules_render(enum rules_format f, const struct rules_input *in,
    struct dstr *out, char *err, size_t errlen);

/*
 * Incremental updates.  The registry is the source of truth: the caller
 * keeps the input it last applied successfully (prev) and passes it with
 * the new one (next); the set is never listed back from the kernel.
 *
 * Appends to out the commands that turn what prev rendered into what next
 * renders, and stores the number of added plus removed addresses in
 * *changes (may be NULL).  Returns
 *   RULES_DELTA_OK    out holds the delta (only a comment when nothing
 *                     changed: the caller may skip applying it);
 *   RULES_DELTA_FULL  a delta cannot express the change (another format
 *                     than nft, other subscriber networks, table, hook or
 *                     block action) or more than max_changes addresses
 *                     changed (0: no limit): render and apply in full;
 *   -1                bad input, err says why.
 *
 * nft: one file of `delete element` and `add element` commands on the
 * hash sets, which `nft -f` applies as one transaction.  A delete of an
 * element that is not there fails the whole transaction and changes
 * nothing, so a kernel that does not hold prev (reboot, someone flushed
 * the table) makes the delta fail safely; rules_apply_delta then falls
 * back to a full apply.
 */
#define RULES_DELTA_OK 0
#define RULES_DELTA_FULL 1
int rules_render_delta(enum rules_format f, const struct rules_input *prev,
    const struct rules_input *next, size_t max_changes, struct dstr *out,
    size_t *changes, char *err, size_t errlen);

/*
 * Finds the section NAME ("ipset", "iptables", "ip6tables", "pf-table",
 * "pf-anchor") of a rendered iptables or pf file: the lines after the
 * marker line "# portcullis-section: NAME" up to the next marker or the
 * end.  Appends them to out and returns 0, or -1 if there is no such
 * section.  The same split in shell, for ApplyCommand:
 *   awk -v s=NAME '/^# portcullis-section: /{on=($3==s);next} on' FILE
 */
int rules_section(const char *text, size_t len, const char *name,
    struct dstr *out);

struct rules_apply_opts {
	const char *rule_file;		/* RuleFile */
	const char *apply_command;	/* ApplyCommand, or NULL */
	/*
	 * Command that applies a delta, with /bin/sh -c; the delta file's
	 * path is in $PORTCULLIS_DELTA_FILE.  NULL means
	 * `nft -f "$PORTCULLIS_DELTA_FILE"`.
	 */
	const char *delta_command;
	int timeout;			/* seconds per command; 0: 120 */
};

/*
 * Writes rendered text to rule_file atomically (temp file, fsync, rename)
 * and runs apply_command with /bin/sh -c.  If the command fails the
 * previous rule file is put back, and err holds the exit status and the
 * command's output (capped).  Returns 0 or -1.
 *
 * Commands run with stdin from /dev/null, $PORTCULLIS_RULE_FILE set to
 * rule_file, and a time limit (o->timeout) after which their process group
 * is killed and the apply counts as failed.  The caller must not ignore
 * SIGCHLD (the exit status is collected with waitpid).
 */
int rules_apply(const struct rules_apply_opts *o, const char *text, size_t len,
    char *err, size_t errlen);

/*
 * Applies a delta from rules_render_delta: writes it to "<rule_file>.delta",
 * runs delta_command and, when that succeeds, puts full (the complete
 * rendering of the new state) in place as rule_file without running
 * apply_command, so that RuleFile always describes what the kernel holds.
 * If the delta command fails, applies full with rules_apply.  Returns 0
 * (delta applied), 1 (delta failed, full apply succeeded; err says why the
 * delta failed) or -1 (both failed; the previous rule file is in place).
 *
 * full may be NULL, for the fastest change at a million entries (writing
 * and fsyncing the whole file costs far more than the delta): then
 * RuleFile is left stale, a failed delta returns -1 with nothing changed,
 * and the caller refreshes RuleFile later with rules_write() (or renders
 * in full and calls rules_apply() when the delta failed).
 */
int rules_apply_delta(const struct rules_apply_opts *o, const char *delta,
    size_t delta_len, const char *full, size_t full_len, char *err,
    size_t errlen);

/* Writes text to path atomically (temp file, fsync, rename), no command. */
int rules_write(const char *path, const char *text, size_t len, char *err,
    size_t errlen);

#endif
