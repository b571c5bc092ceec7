/* cidr: IPv4/IPv6 address blocks, lists of them, and matching. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"

/* RFC 4291 §2.5.5.2: ::ffff:0:0/96 carries an IPv4 address in its last 4 bytes. */
static const uint8_t cidr_v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static bool cidr_is_v4mapped(const uint8_t *a16)
{
	return memcmp(a16, cidr_v4mapped_prefix, sizeof cidr_v4mapped_prefix) == 0;
}

/* True when every bit of addr past prefix_len is zero. */
static bool cidr_host_bits_clear(const uint8_t *addr, size_t nbytes, unsigned prefix_len)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned first_bit = (unsigned)i * 8;
		uint8_t keep;
		if (first_bit + 8 <= prefix_len)
			keep = 0xff;
		else if (first_bit >= prefix_len)
			keep = 0;
		else
			keep = (uint8_t)(0xff << (8 - (prefix_len - first_bit)));
		if ((addr[i] & (uint8_t)~keep) != 0)
			return false;
	}
	return true;
}

/* Zeroes the bits of addr past prefix_len. */
static void cidr_mask(uint8_t *addr, size_t nbytes, unsigned prefix_len)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned first_bit = (unsigned)i * 8;
		if (first_bit >= prefix_len)
			addr[i] = 0;
		else if (first_bit + 8 > prefix_len)
			addr[i] &= (uint8_t)(0xff << (8 - (prefix_len - first_bit)));
	}
}

/* Parses a bare address into family/addr; mapped IPv6 becomes IPv4. */
static bool cidr_parse_addr(const char *text, int *family, uint8_t *addr)
{
	struct in_addr a4;
	struct in6_addr a6;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, &a4) == 1) {
		*family = AF_INET;
		memcpy(addr, &a4, 4);
		return true;
	}
	if (inet_pton(AF_INET6, text, &a6) == 1) {
		*family = AF_INET6;
		memcpy(addr, &a6, 16);
		return true;
	}
	return false;
}

/* Parses the decimal prefix length after '/'; -1 when malformed. */
static long cidr_parse_prefix(const char *s)
{
	long v = 0;
	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

bool cidr_parse(const char *text, struct cidr *out, struct strbuf *err)
{
	char buf[CIDR_TEXT_MAX + 1];
	size_t len = strlen(text);
	if (len == 0) {
		strbuf_puts(err, "empty address");
		return false;
	}
	if (len > CIDR_TEXT_MAX) {
		strbuf_printf(err, "\"%.20s...\": longer than %d bytes; expected an IPv4 or IPv6 address or block",
			      text, CIDR_TEXT_MAX);
		return false;
	}
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash != NULL) {
		*slash = '\0';
		prefix = cidr_parse_prefix(slash + 1);
	}
	int family;
	uint8_t addr[16];
	if (!cidr_parse_addr(buf, &family, addr)) {
		strbuf_printf(err, "\"%s\": not an IPv4 or IPv6 address (expected e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.1)",
			      text);
		return false;
	}
	unsigned maxlen = family == AF_INET ? 32 : 128;
	if (slash != NULL && (prefix < 0 || prefix > (long)maxlen)) {
		strbuf_printf(err, "\"%s\": prefix length must be a number from 0 to %u", text, maxlen);
		return false;
	}
	unsigned plen = slash != NULL ? (unsigned)prefix : maxlen;
	size_t nbytes = family == AF_INET ? 4 : 16;
	if (!cidr_host_bits_clear(addr, nbytes, plen)) {
		uint8_t net[16];
		char shown[INET6_ADDRSTRLEN];
		memcpy(net, addr, sizeof net);
		cidr_mask(net, nbytes, plen);
		if (inet_ntop(family, net, shown, sizeof shown) == NULL)
			shown[0] = '\0';
		strbuf_printf(err, "\"%s\": address has bits set past the /%u prefix; did you mean %s/%u?",
			      text, plen, shown, plen);
		return false;
	}
	/* Fold IPv4-mapped blocks (::ffff:a.b.c.d/96+n) into IPv4 a.b.c.d/n. */
	if (family == AF_INET6 && plen >= 96 && cidr_is_v4mapped(addr)) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		family = AF_INET;
		plen -= 96;
	}
	out->family = family;
	memcpy(out->addr, addr, sizeof out->addr);
	out->prefix_len = plen;
	return true;
}

bool cidr_list_add(struct cidr_list *list, const struct cidr *c, struct strbuf *err)
{
	if (list->count >= CIDR_LIST_MAX) {
		strbuf_printf(err, "more than %d addresses in one list", CIDR_LIST_MAX);
		return false;
	}
	struct cidr *items = realloc(list->items, (list->count + 1) * sizeof *items);
	if (items == NULL) {
		strbuf_puts(err, "out of memory");
		return false;
	}
	items[list->count++] = *c;
	list->items = items;
	return true;
}

static bool cidr_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool cidr_list_parse(const char *text, struct cidr_list *list, struct strbuf *err)
{
	size_t old_count = list->count;
	const char *p = text;
	while (*p != '\0') {
		while (cidr_is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		const char *start = p;
		while (*p != '\0' && !cidr_is_sep(*p))
			p++;
		size_t n = (size_t)(p - start);
		char item[CIDR_TEXT_MAX + 2];
		struct cidr c;
		if (n > CIDR_TEXT_MAX) {
			strbuf_printf(err, "\"%.20s...\": longer than %d bytes; expected an IPv4 or IPv6 address or block",
				      start, CIDR_TEXT_MAX);
			goto fail;
		}
		memcpy(item, start, n);
		item[n] = '\0';
		if (!cidr_parse(item, &c, err) || !cidr_list_add(list, &c, err))
			goto fail;
	}
	return true;
fail:
	/* Leave the list as it was: drop what this call appended. */
	list->count = old_count;
	if (old_count == 0) {
		free(list->items);
		list->items = NULL;
	}
	return false;
}

bool cidr_contains(const struct cidr *c, int family, const uint8_t *addr)
{
	if (c->family != family)
		return false;
	unsigned full = c->prefix_len / 8, rest = c->prefix_len % 8;
	if (memcmp(c->addr, addr, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (addr[full] & mask);
}

/* Matches an address already split into family and bytes. */
static bool cidr_list_match_raw(const struct cidr_list *list, int family, const uint8_t *addr)
{
	uint8_t v4[4];
	if (family == AF_INET6 && cidr_is_v4mapped(addr)) {
		memcpy(v4, addr + 12, 4);
		family = AF_INET;
		addr = v4;
	}
	for (size_t i = 0; i < list->count; i++)
		if (cidr_contains(&list->items[i], family, addr))
			return true;
	return false;
}

bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *sa)
{
	if (list == NULL || sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof sin);
		return cidr_list_match_raw(list, AF_INET, (const uint8_t *)&sin.sin_addr);
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof sin6);
		return cidr_list_match_raw(list, AF_INET6, (const uint8_t *)&sin6.sin6_addr);
	}
	return false;
}

bool cidr_list_match_text(const struct cidr_list *list, const char *addr)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len;
	int family;
	uint8_t raw[16];
	if (list == NULL || addr == NULL)
		return false;
	len = strlen(addr);
	/* Milters see IPv6 clients as "[2001:db8::1]" or "IPv6:2001:db8::1"
	 * (RFC 5321 §4.1.3 address literals). */
	if (len >= 2 && addr[0] == '[' && addr[len - 1] == ']') {
		addr++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(addr, "IPv6:", 5) == 0) {
		addr += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, addr, len);
	buf[len] = '\0';
	if (!cidr_parse_addr(buf, &family, raw))
		return false;
	return cidr_list_match_raw(list, family, raw);
}

bool cidr_format(const struct cidr *c, struct strbuf *out)
{
	char shown[INET6_ADDRSTRLEN];
	if (inet_ntop(c->family, c->addr, shown, sizeof shown) == NULL) {
		strbuf_puts(out, "?");
		return false;
	}
	return strbuf_printf(out, "%s/%u", shown, c->prefix_len);
}

bool cidr_list_format(const struct cidr_list *list, struct strbuf *out)
{
	for (size_t i = 0; i < list->count; i++) {
		if (i > 0)
			strbuf_puts(out, ", ");
		cidr_format(&list->items[i], out);
	}
	return !strbuf_failed(out);
}

void cidr_list_free(struct cidr_list *list)
{
	if (list == NULL)
		return;
	free(list->items);
	list->items = NULL;
	list->count = 0;
}
