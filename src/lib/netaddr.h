/*
 * netaddr.h - IPv4/IPv6 host addresses and CIDR networks, as found in
 * configuration (TrustedNetworks, SubscriberNetworks, DynamicPools ...),
 * MTA macros and SMTP address literals.
 *
 * Parsing is strict on purpose: an address that one program reads one way
 * and another program reads another way ("010.1.1.1" as octal, a zone id,
 * a mapped ::ffff:a.b.c.d that slips past a v4 network) is how a whitelist
 * gets bypassed. IPv4-mapped IPv6 addresses are always folded to AF_INET so
 * that each host has exactly one representation.
 */
#ifndef PC_NETADDR_H
#define PC_NETADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct pc_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char a[16];	/* network byte order; v4 uses a[0..3], rest 0 */
};

struct pc_net {
	struct pc_addr addr;	/* host bits are always zero */
	unsigned prefix;	/* 0..32 or 0..128 */
};

struct pc_netlist {
	struct pc_net *v;
	size_t n, cap;
};

#define PC_ADDR_STRLEN 46
#define PC_NET_STRLEN (PC_ADDR_STRLEN + 4)

/*
 * Parses a host address: dotted IPv4, IPv6 (RFC 4291 text, embedded v4
 * allowed), optionally inside [ ] and/or after an "IPv6:" tag. Refuses
 * zone ids, white space, leading zeros in v4 octets and anything else not
 * canonical enough to have one meaning. Returns 0, or -1 with err set.
 */
int pc_addr_parse(const char *s, struct pc_addr *out, char *err,
    size_t errlen);
/* Dotted quad or RFC 5952 text; len >= PC_ADDR_STRLEN never truncates. */
void pc_addr_format(const struct pc_addr *a, char *buf, size_t len);
/* Total order: v4 before v6, then by bytes. Returns <0, 0, >0. */
int pc_addr_cmp(const struct pc_addr *a, const struct pc_addr *b);
/* 0, or -1 for a family other than AF_INET/AF_INET6. */
int pc_addr_from_sockaddr(const struct sockaddr *sa, struct pc_addr *out);

/*
 * "addr/prefix" or a bare host (/32, /128). Host bits beyond the prefix are
 * an error that suggests the network meant; ::ffff:a.b.c.d/N (N >= 96)
 * becomes a.b.c.d/(N-96). Errors name the input.
 */
int pc_net_parse(const char *s, struct pc_net *out, char *err, size_t errlen);
/* "addr/prefix"; len >= PC_NET_STRLEN never truncates. */
void pc_net_format(const struct pc_net *n, char *buf, size_t len);
/* 1 if a is inside n, else 0 (also 0 when the families differ). */
int pc_net_contains(const struct pc_net *n, const struct pc_addr *a);

void pc_netlist_init(struct pc_netlist *l);
/*
 * Adds the networks in s, separated by commas and/or white space. All or
 * nothing: on error the list is as before and err names the bad item.
 * A string without any network is an error.
 */
int pc_netlist_add(struct pc_netlist *l, const char *s, char *err,
    size_t errlen);
int pc_netlist_contains(const struct pc_netlist *l, const struct pc_addr *a);
void pc_netlist_free(struct pc_netlist *l);

#endif
