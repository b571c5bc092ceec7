/* cidr: IPv4/IPv6 address blocks and lists of them.
 *
 * Used by lib/config for the cidr-list options (IgnoreHosts, TrustedForwarders)
 * and by milter/ to match the connecting client's address against them.
 * Syntax: an address ("192.0.2.1", "2001:db8::1") or a block in CIDR notation
 * (RFC 4632 §3.1 for IPv4, RFC 4291 §2.3 for IPv6: "192.0.2.0/24",
 * "2001:db8::/32"). A block whose address has bits set past the prefix
 * ("10.1.2.3/8") is rejected with a suggestion, because in a security list a
 * typo must not silently widen or narrow the block. Zone ids ("fe80::1%eth0")
 * are rejected.
 * IPv4-mapped IPv6 (RFC 4291 §2.5.5.2, "::ffff:192.0.2.1") is treated as the
 * IPv4 address, both in lists and in addresses to match, so a dual-stack
 * listener that reports ::ffff:a.b.c.d still matches "a.b.c.d/24".
 *
 * Ownership: a struct cidr_list owns its array; cidr_list_free() releases it
 *   (a zeroed list is empty and valid).
 * Errors: the parse functions return false and append a reason to err
 *   (a caller's strbuf), e.g. "\"10.0.0.0/33\": prefix length must be 0-32".
 * Limits: at most CIDR_LIST_MAX entries in a list; an entry's text is at most
 *   CIDR_TEXT_MAX bytes. Never logs; no global state; thread-safe for
 *   concurrent reads of a list. */
#ifndef DMARC_CIDR_H
#define DMARC_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "strbuf.h"

#define CIDR_LIST_MAX 1024  /* entries in one list */
#define CIDR_TEXT_MAX 64    /* bytes of one entry's text ("addr/len") */

/* One block. IPv4 blocks use addr[0..3]; bytes past the prefix are zero. */
struct cidr {
	int family;          /* AF_INET or AF_INET6 */
	uint8_t addr[16];    /* network address, network byte order */
	unsigned prefix_len; /* 0-32 (AF_INET) or 0-128 (AF_INET6) */
};

/* A list of blocks; order kept as written. */
struct cidr_list {
	struct cidr *items;  /* count entries, owned by the list */
	size_t count;
};

/* Parses one address or block (no surrounding spaces). A bare address is a
 * /32 or /128. false with a reason in err on bad input. */
bool cidr_parse(const char *text, struct cidr *out, struct strbuf *err);

/* Parses a list separated by commas and/or white space ("" is an empty list)
 * and appends its entries to list. false with a reason in err (the list is
 * left as it was before the call). */
bool cidr_list_parse(const char *text, struct cidr_list *list, struct strbuf *err);

/* Appends one parsed block. false when the list is full or out of memory
 * (reason in err). */
bool cidr_list_add(struct cidr_list *list, const struct cidr *c, struct strbuf *err);

/* True when the address in sa (AF_INET or AF_INET6; others never match) lies in
 * any block of the list. */
bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa);

/* Same for an address as text ("192.0.2.1", "2001:db8::1", optionally in
 * brackets "[2001:db8::1]" as milters receive it). An unparsable address
 * never matches. */
bool cidr_list_match_text(const struct cidr_list *list, const char *addr);

/* True when the block contains the address (family + raw bytes, 4 or 16). */
bool cidr_contains(const struct cidr *c, int family, const uint8_t *addr);

/* Appends the canonical text of a block ("192.0.2.0/24", "2001:db8::/32";
 * a full-length block is written with its prefix: "192.0.2.1/32"). */
bool cidr_format(const struct cidr *c, struct strbuf *out);

/* Appends the list as "a, b, c" (empty list: nothing). */
bool cidr_list_format(const struct cidr_list *list, struct strbuf *out);

/* Releases the array and leaves an empty list; NULL is a no-op. */
void cidr_list_free(struct cidr_list *list);

#endif
