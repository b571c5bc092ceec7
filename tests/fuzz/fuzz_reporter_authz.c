/* fuzz_reporter_authz: libFuzzer target for the answers dmarc-reporter gets
 * to <policy-domain>._report._dmarc.<host> (RFC 9990 §3, external
 * destination verification): reporter/destinations.c,
 * destinations_judge_answer(), the same function the reporter runs on every
 * real answer, fed here with fuzzer-made answers instead of DNS.
 *
 * Input: byte 0 picks the answer status (ok, nxdomain, nodata, tempfail,
 * timeout, error) and byte 1 the destination host; the rest is split on
 * 0xFF bytes into at most DNS_MAX_RRS TXT rdata blobs, used raw (length
 * octets included, so malformed character-strings reach dns_txt_join()).
 * Each blob is copied into a buffer of exactly its size, so ASan sees any
 * over-read.
 * Invariants (abort() on a violation):
 *  - only a DNS_STATUS_OK answer can authorize;
 *  - an authorized destination's address is on the host being verified
 *    (a rua= override pointing at another host never redirects reports)
 *    and holds only printable ASCII;
 *  - every refusal says why.
 * Linked by tests/fuzz/run.sh with lib/*.c and reporter/*.c (not main.c);
 * seeds in tests/fuzz/corpus/reporter_authz/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "destinations.h"
#include "domain.h"
#include "resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const hosts[] = {
	"reports.example.net", "example.net", "xn--bcher-kva.example", "a.b.c.d.example.org",
};

static const enum dns_status statuses[] = {
	DNS_STATUS_OK, DNS_STATUS_NXDOMAIN, DNS_STATUS_NODATA,
	DNS_STATUS_TEMPFAIL, DNS_STATUS_TIMEOUT, DNS_STATUS_ERROR,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *host = hosts[data[1] % (sizeof hosts / sizeof hosts[0])];
	struct dns_rr rrs[DNS_MAX_RRS];
	struct dns_answer ans;
	memset(&ans, 0, sizeof ans);
	ans.status = statuses[data[0] % (sizeof statuses / sizeof statuses[0])];
	ans.rcode = ans.status == DNS_STATUS_NXDOMAIN ? 3 : 0;
	ans.rrs = rrs;
	size_t start = 2;
	for (size_t i = 2; i <= size && ans.count < DNS_MAX_RRS; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		size_t len = i - start;
		unsigned char *copy = malloc(len ? len : 1);
		if (copy == NULL)
			abort();
		memcpy(copy, data + start, len);
		rrs[ans.count++] = (struct dns_rr){ DNS_TYPE_TXT, 300, len, copy };
		start = i + 1;
	}

	struct dest d;
	memset(&d, 0, sizeof d);
	d.address = malloc(strlen(host) + 7);
	if (d.address == NULL)
		abort();
	memcpy(d.address, "dmarc@", 6);
	memcpy(d.address + 6, host, strlen(host) + 1);
	d.state = DEST_TEMPFAIL;
	destinations_judge_answer(&ans, "example.com._report._dmarc.host", "example.com",
				  host, &d);

	switch (d.state) {
	case DEST_AUTHORIZED: {
		if (ans.status != DNS_STATUS_OK || d.address == NULL)
			abort();
		const char *at = strrchr(d.address, '@');
		if (at == NULL || !domain_equal(at + 1, host))
			abort();
		for (const unsigned char *p = (const unsigned char *)d.address; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
		break;
	}
	case DEST_UNAUTHORIZED:
	case DEST_TEMPFAIL:
		if (d.why == NULL || d.why[0] == '\0')
			abort();
		break;
	default:
		abort(); /* the judge never skips */
	}

	free(d.address);
	free(d.why);
	for (size_t i = 0; i < ans.count; i++)
		free(rrs[i].rdata);
	return 0;
}
