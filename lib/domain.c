/* domain: domain name normalisation (IDN -> A-label, case, trailing dot) and comparison. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"
#include "strbuf.h"

/* How much of a bad input we quote in a reason. */
#define DOMAIN_QUOTE_MAX 80

static char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* Appends s[0..len) to sb as "quoted" text, bytes outside printable ASCII as
 * \xHH, at most DOMAIN_QUOTE_MAX input bytes (then "..."), so that reasons are
 * safe to log. */
static void quote(struct strbuf *sb, const char *s, size_t len)
{
	size_t n = len < DOMAIN_QUOTE_MAX ? len : DOMAIN_QUOTE_MAX;

	strbuf_putc(sb, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			strbuf_putc(sb, (char)c);
		else
			strbuf_printf(sb, "\\x%02x", c);
	}
	if (n < len)
		strbuf_puts(sb, "...");
	strbuf_putc(sb, '"');
}

/* Records a failure: out becomes "", reason gets "<what> in "<input>"". */
static enum domain_status fail(enum domain_status st, const char *in, size_t len,
			       char out[DOMAIN_BUF_SIZE], struct strbuf *reason,
			       const char *what)
{
	out[0] = '\0';
	if (reason != NULL) {
		strbuf_puts(reason, what);
		strbuf_puts(reason, " in domain ");
		quote(reason, in, len);
	}
	return st;
}

/* Checks an ASCII name (already lower case, no trailing dot) label by label:
 * RFC 1035 §2.3.4 lengths, RFC 5890 §2.3.1 LDH with no hyphen at either end,
 * '_' only when allowed. Returns DOMAIN_OK or the first problem, and sets
 * *what to a sentence fragment naming it. */
static enum domain_status check_labels(const char *s, size_t len, unsigned flags,
				       const char **what)
{
	size_t start = 0;

	if (len == 0) {
		*what = "empty name";
		return DOMAIN_ERR_EMPTY;
	}
	if (len > DOMAIN_MAX_LEN) {
		*what = "name longer than 253 octets (RFC 1035 §2.3.4)";
		return DOMAIN_ERR_TOO_LONG;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			char c = s[i];
			if (!is_ldh(c) && !(c == '_' && (flags & DOMAIN_ALLOW_UNDERSCORE))) {
				*what = c == '_' ? "underscore not allowed in a host name"
						 : "character outside letters, digits and hyphen";
				return DOMAIN_ERR_BAD_CHAR;
			}
			continue;
		}
		size_t llen = i - start;
		if (llen == 0) {
			*what = "empty label";
			return DOMAIN_ERR_EMPTY_LABEL;
		}
		if (llen > DOMAIN_LABEL_MAX) {
			*what = "label longer than 63 octets (RFC 1035 §2.3.4)";
			return DOMAIN_ERR_LABEL_TOO_LONG;
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			*what = "label begins or ends with a hyphen (RFC 5890 §2.3.1)";
			return DOMAIN_ERR_HYPHEN;
		}
		start = i + 1;
	}
	return DOMAIN_OK;
}

/* Converts a NUL-terminated UTF-8 name to its ASCII form with libidn2:
 * UTS #46 non-transitional first, transitional if that is disallowed (see
 * domain.h). On success *ascii is new; caller frees with idn2_free(). */
static int idn_to_ascii(const char *utf8, char **ascii)
{
	int rc;

	*ascii = NULL;
	rc = idn2_lookup_u8((const uint8_t *)utf8, (uint8_t **)ascii,
			    IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc == IDN2_DISALLOWED) {
		idn2_free(*ascii);
		*ascii = NULL;
		rc = idn2_lookup_u8((const uint8_t *)utf8, (uint8_t **)ascii,
				    IDN2_NFC_INPUT | IDN2_TRANSITIONAL);
	}
	if (rc != IDN2_OK) {
		idn2_free(*ascii);
		*ascii = NULL;
	}
	return rc;
}

/* Lower-cases the ASCII name src[0..len) into out (DOMAIN_BUF_SIZE), drops
 * one trailing dot, and checks it. */
static enum domain_status finish_ascii(const char *src, size_t len, unsigned flags,
				       const char *in, size_t in_len,
				       char out[DOMAIN_BUF_SIZE], struct strbuf *reason)
{
	const char *what = NULL;
	enum domain_status st;

	if (len > 0 && src[len - 1] == '.')
		len--;
	if (len > DOMAIN_MAX_LEN)
		return fail(DOMAIN_ERR_TOO_LONG, in, in_len, out, reason,
			    "name longer than 253 octets (RFC 1035 §2.3.4)");
	for (size_t i = 0; i < len; i++)
		out[i] = ascii_lower(src[i]);
	out[len] = '\0';
	st = check_labels(out, len, flags, &what);
	if (st != DOMAIN_OK)
		return fail(st, in, in_len, out, reason, what);
	return DOMAIN_OK;
}

enum domain_status domain_normalize(const char *in, size_t len, unsigned flags,
				   char out[DOMAIN_BUF_SIZE], struct strbuf *reason)
{
	bool ascii = true;

	out[0] = '\0';
	if (in == NULL || len == 0)
		return fail(DOMAIN_ERR_EMPTY, "", 0, out, reason, "empty name");
	if (len > DOMAIN_MAX_INPUT_LEN)
		return fail(DOMAIN_ERR_TOO_LONG, in, len, out, reason,
			    "name longer than 253 octets (RFC 1035 §2.3.4)");
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\0')
			return fail(DOMAIN_ERR_BAD_CHAR, in, len, out, reason,
				    "NUL byte");
		if ((unsigned char)in[i] >= 0x80)
			ascii = false;
	}
	if (len == 1 && in[0] == '.')
		return fail(DOMAIN_ERR_EMPTY, in, len, out, reason, "root name only");
	if (ascii)
		return finish_ascii(in, len, flags, in, len, out, reason);

	/* A U-label somewhere: libidn2 needs a C string. */
	char stack[DOMAIN_MAX_INPUT_LEN + 1];
	struct strbuf tmp;
	char *converted = NULL;
	enum domain_status st;

	strbuf_init(&tmp, stack, sizeof stack, DOMAIN_MAX_INPUT_LEN);
	strbuf_add(&tmp, in, len);
	if (strbuf_failed(&tmp)) {
		strbuf_free(&tmp);
		return fail(DOMAIN_ERR_NOMEM, in, len, out, reason, "out of memory");
	}
	int rc = idn_to_ascii(strbuf_str(&tmp), &converted);
	strbuf_free(&tmp);
	if (rc == IDN2_MALLOC)
		return fail(DOMAIN_ERR_NOMEM, in, len, out, reason, "out of memory");
	if (rc != IDN2_OK) {
		out[0] = '\0';
		if (reason != NULL) {
			strbuf_printf(reason, "IDNA conversion failed (%s, UTS #46)",
				      idn2_strerror(rc));
			strbuf_puts(reason, " in domain ");
			quote(reason, in, len);
		}
		return DOMAIN_ERR_IDN;
	}
	st = finish_ascii(converted, strlen(converted), flags, in, len, out, reason);
	idn2_free(converted);
	return st;
}

const char *domain_status_str(enum domain_status st)
{
	switch (st) {
	case DOMAIN_OK: return "ok";
	case DOMAIN_ERR_EMPTY: return "empty name";
	case DOMAIN_ERR_TOO_LONG: return "name too long";
	case DOMAIN_ERR_EMPTY_LABEL: return "empty label";
	case DOMAIN_ERR_LABEL_TOO_LONG: return "label too long";
	case DOMAIN_ERR_BAD_CHAR: return "invalid character";
	case DOMAIN_ERR_HYPHEN: return "hyphen at label edge";
	case DOMAIN_ERR_IDN: return "IDNA conversion failed";
	case DOMAIN_ERR_NOMEM: return "out of memory";
	}
	return "unknown";
}

/* Length of d without one trailing dot. */
static size_t len_nodot(const char *d)
{
	size_t n = strlen(d);
	return (n > 0 && d[n - 1] == '.') ? n - 1 : n;
}

/* ASCII case-insensitive comparison of n bytes. */
static bool same_ci(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(a[i]) != ascii_lower(b[i]))
			return false;
	return true;
}

bool domain_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return false;
	size_t la = len_nodot(a), lb = len_nodot(b);
	return la == lb && same_ci(a, b, la);
}

bool domain_is_subdomain(const char *child, const char *parent)
{
	if (child == NULL || parent == NULL)
		return false;
	size_t lc = len_nodot(child), lp = len_nodot(parent);
	if (lp == 0 || lc < lp)
		return false;
	if (lc == lp)
		return same_ci(child, parent, lp);
	/* Below: the suffix must start right after a dot, so that
	 * "badexample.com" is not under "example.com". */
	return child[lc - lp - 1] == '.' && same_ci(child + lc - lp, parent, lp);
}

size_t domain_label_count(const char *d)
{
	if (d == NULL)
		return 0;
	size_t n = len_nodot(d), count = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (d[i] == '.')
			count++;
	return count + 1;
}

const char *domain_parent(const char *d)
{
	if (d == NULL)
		return NULL;
	const char *dot = strchr(d, '.');
	if (dot == NULL || dot[1] == '\0')
		return NULL;
	return dot + 1;
}

const char *domain_last_labels(const char *d, size_t n)
{
	if (d == NULL || n == 0)
		return NULL;
	size_t count = domain_label_count(d);
	while (count > n && d != NULL) {
		d = domain_parent(d);
		count--;
	}
	return d;
}
