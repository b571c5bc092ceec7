/* fuzz_from_header: libFuzzer target for lib/from_header and lib/domain.
 *
 * Splits the input on 0xFF bytes into several From field values (0xFF never
 * appears in valid UTF-8, so the pieces stay interesting), copies each into a
 * buffer of exactly its length (no NUL after it, so ASan sees any over-read),
 * parses them, checks the result's invariants (abort() on a violation), and
 * frees everything. It also runs domain_normalize() on the whole input and
 * checks that a normalised name normalises to itself. Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *     tests/fuzz/fuzz_from_header.c lib/from_header.c lib/domain.c \
 *     lib/strbuf.c -lidn2 -o /tmp/ff && /tmp/ff corpus-copy/ */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "from_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PIECES 24 /* more than FROM_MAX_FIELDS, to reach that limit */

/* A normalised domain is A-label, lower case, LDH or '_', and a fixed point. */
static void check_domain(const char *d)
{
	char again[DOMAIN_BUF_SIZE];
	size_t n = strlen(d);

	if (n == 0 || n > DOMAIN_MAX_LEN || d[n - 1] == '.')
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d[i] >= 0x80 || (d[i] >= 'A' && d[i] <= 'Z'))
			abort();
	if (domain_normalize(d, n, DOMAIN_ALLOW_UNDERSCORE, again, NULL) != DOMAIN_OK ||
	    strcmp(again, d) != 0)
		abort();
}

static void check_result(const struct from_result *r, size_t npieces)
{
	if (r->ndomains > r->naddrs || r->naddrs > FROM_MAX_ADDRESSES ||
	    r->nno_domain > r->naddrs || r->nfields != npieces)
		abort();
	if (r->multiple_domains != (r->ndomains > 1))
		abort();
	if ((r->status == FROM_OK) != (r->reason[0] == '\0'))
		abort();
	if ((r->status == FROM_OK || r->status == FROM_MULTIPLE_FIELDS) && !r->authors_complete)
		abort();
	if (memchr(r->reason, '\0', sizeof r->reason) == NULL)
		abort();
	for (const char *s = r->reason; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			abort();
	for (size_t i = 0; i < r->ndomains; i++) {
		check_domain(r->domains[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->domains[i], r->domains[j]) == 0)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pieces[MAX_PIECES];
	size_t lens[MAX_PIECES];
	size_t n = 0, start = 0;
	struct from_result r;
	char out[DOMAIN_BUF_SIZE];

	/* The whole input as one domain name. */
	if (domain_normalize((const char *)data, size, DOMAIN_ALLOW_UNDERSCORE, out, NULL) ==
	    DOMAIN_OK)
		check_domain(out);

	if (size == 0) {
		/* An empty input means "no From field". */
		from_header_parse(NULL, NULL, 0, &r);
		check_result(&r, 0);
		from_result_free(&r);
		return 0;
	}
	for (size_t i = 0; i <= size && n < MAX_PIECES; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		lens[n] = i - start;
		/* malloc(0) may return NULL; one byte more keeps it simple, and
		 * the parser must still not read it: it is never initialised. */
		pieces[n] = malloc(lens[n] > 0 ? lens[n] : 1);
		if (pieces[n] == NULL)
			abort();
		if (lens[n] > 0)
			memcpy(pieces[n], data + start, lens[n]);
		n++;
		start = i + 1;
	}
	from_header_parse((const char *const *)pieces, lens, n, &r);
	check_result(&r, n);
	from_result_free(&r);

	for (size_t i = 0; i < n; i++)
		free(pieces[i]);
	return 0;
}
