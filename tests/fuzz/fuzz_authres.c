/* fuzz_authres: libFuzzer target for lib/authres.
 *
 * The input is split at NUL bytes into up to six strings that feed the
 * authserv-id parser (as an incoming header value) and the builders (as a
 * mailfrom, reason, DKIM domain, selector, b= and From domain). Checked
 * properties: no crash or leak; every value we build has no bare CR, no LF
 * that is not followed by a TAB, no control byte, and hands our authserv-id
 * back to our own parser (so our own header can always be recognised as ours
 * and deleted when it comes back). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_types.h"
#include "authres.h"
#include "strbuf.h"

#define NSTR 6
#define ID "mx.example.org"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value must be a well-formed (folded) header body. */
static void check_value(const char *v)
{
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\r' || (c == '\n' && p[1] != '\t'))
			abort();
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			abort();
	}
}

static void check_ours(const char *v)
{
	if (!authres_is_ours(v, ID))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';

	/* Split at NULs: the strings s[0..NSTR). */
	const char *s[NSTR];
	size_t n = 0, off = 0;
	while (n < NSTR) {
		s[n++] = copy + off;
		size_t len = strlen(copy + off);
		if (off + len >= size)
			break;
		off += len + 1;
	}
	while (n < NSTR)
		s[n++] = "";

	/* 1. An incoming header value. */
	struct strbuf id;
	strbuf_init(&id, NULL, 0, 4096);
	(void)authres_parse_authserv_id(s[0], &id);
	strbuf_free(&id);
	(void)authres_is_ours(s[0], ID);

	/* 2. Our own values with hostile strings in them. */
	unsigned sel = size > 0 ? data[0] : 0;
	struct authres_spf spf = { (enum auth_spf)(sel % 7), s[0], s[1], s[1] };
	struct authres_dkim dkim[2] = {
		{ (enum auth_dkim)((sel >> 3) % 7), s[2], s[3], s[4], s[1] },
		{ AUTH_DKIM_PASS, s[4], s[2], s[3], NULL },
	};
	struct authres_dmarc dmarc = {
		(enum auth_dmarc)((sel >> 5) % 5), s[5], DMARC_POLICY_REJECT,
		DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT, s[3], s[1] };
	struct authres_input in = { ID, &spf, dkim, (sel & 1) ? 2 : 0, &dmarc, 1 };
	struct strbuf out;
	strbuf_init(&out, NULL, 0, AUTHRES_MAX_LEN);
	if (authres_build(&in, &out, NULL)) {
		check_value(strbuf_str(&out));
		check_ours(strbuf_str(&out));
	}
	strbuf_free(&out);

	struct authres_received_spf rs = { (enum auth_spf)(sel % 7), s[1], s[0], s[2], ID, s[3] };
	strbuf_init(&out, NULL, 0, AUTHRES_MAX_LEN);
	if (authres_received_spf(&rs, &out, NULL))
		check_value(strbuf_str(&out));
	strbuf_free(&out);

	free(copy);
	return 0;
}
