/* fuzz_reporter_rua: libFuzzer target for rua/ruf URI lists, as the milter
 * parses them (lib/dmarc_record) and as dmarc-reporter turns them into
 * destinations (reporter/destinations.c, destinations_build()).
 *
 * The input is one URI list. It is parsed three ways:
 *  1. as the rua= and the ruf= value of a minimal record
 *     ("v=DMARC1; p=none; rua=<input>"), checking every URI kept;
 *  2. by destinations_build() for policy domain example.com with a DNS
 *     deadline that has already passed: lib/resolver answers every query
 *     "timeout, not asked" without sending anything, so no network is
 *     needed and the run is deterministic. The first input byte picks the
 *     organizational-domain method (tree walk, or the built-in Public Suffix
 *     List, which needs no DNS) and the per-report cap.
 * Invariants (abort() on a violation, which libFuzzer reports):
 *  - a mailto URI has an address "local@domain" whose domain is the URI's
 *    lower-case domain, and no byte below 0x20 or above 0x7e (nothing that
 *    could break the To: header or the sendmail command line);
 *  - at most DMARC_RECORD_MAX_URIS URIs kept, at most the cap destinations;
 *  - the security property: without DNS no destination outside the policy
 *    domain's organization (example.com) is ever authorized. A report to an
 *    external host needs the <policy>._report._dmarc.<host> record, which
 *    nobody could fetch here.
 * Linked by tests/fuzz/run.sh with lib/*.c and reporter/*.c (not main.c);
 * seeds in tests/fuzz/corpus/reporter_rua/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "destinations.h"
#include "dmarc_record.h"
#include "domain.h"
#include "policy_discovery.h"
#include "resolver.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define POLICY_DOMAIN "example.com"

static struct resolver *fz_res;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 1024);
	/* never asked: every query is made after its deadline */
	struct resolver_config rc = { .nameservers = "127.0.0.1@9", .query_timeout_ms = 1000 };
	if (!resolver_new(&rc, &fz_res, &err))
		abort();
	strbuf_free(&err);
	return 0;
}

/* Printable ASCII only: the address ends up in a mail header. */
static void check_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

/* The domain of "local@domain"; aborts on anything else. */
static const char *address_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (at == NULL || at == addr || at[1] == '\0')
		abort();
	return at + 1;
}

static void check_list(const struct dmarc_uri_list *l)
{
	if (l->count > DMARC_RECORD_MAX_URIS)
		abort();
	for (size_t i = 0; i < l->count; i++) {
		const struct dmarc_uri *u = &l->uris[i];
		if (u->uri == NULL)
			abort();
		if (!u->is_mailto) {
			if (u->address != NULL || u->domain != NULL)
				abort();
			continue;
		}
		if (u->address == NULL || u->domain == NULL)
			abort();
		check_text(u->address);
		if (strcmp(address_domain(u->address), u->domain) != 0)
			abort();
		for (const char *p = u->domain; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	}
}

static void parse_as_record(const char *tag, const uint8_t *data, size_t size)
{
	struct strbuf text, why;
	strbuf_init(&text, NULL, 0, 2 * DMARC_RECORD_MAX_LEN);
	strbuf_init(&why, NULL, 0, 16384);
	strbuf_printf(&text, "v=DMARC1; p=none; %s=", tag);
	strbuf_add(&text, data, size);
	struct dmarc_record *rec = NULL;
	if (!strbuf_failed(&text) &&
	    dmarc_record_parse(strbuf_str(&text), text.len, &rec, &why) == DMARC_RECORD_OK) {
		check_list(&rec->rua);
		check_list(&rec->ruf);
	}
	dmarc_record_free(rec);
	strbuf_free(&text);
	strbuf_free(&why);
}

static void build_destinations(uint8_t mode, const char *rua)
{
	struct policy_options opt;
	memset(&opt, 0, sizeof opt);
	opt.standard = (mode & 1) ? DMARC_STD_RFC7489 : DMARC_STD_RFC9989;
	opt.psl = NULL; /* libpsl's built-in list */
	opt.deadline_ms = 1; /* long gone: nothing is asked */
	size_t max = 1 + (size_t)(mode >> 1) % DEST_MAX;
	struct dest_list l;
	destinations_build(fz_res, &opt, POLICY_DOMAIN, rua, max, &l);
	if (l.n > max)
		abort();
	for (size_t i = 0; i < l.n; i++) {
		const struct dest *d = &l.d[i];
		if (d->state != DEST_AUTHORIZED && d->state != DEST_UNAUTHORIZED &&
		    d->state != DEST_TEMPFAIL && d->state != DEST_SKIPPED)
			abort();
		if (d->uri != NULL)
			(void)strlen(d->uri);
		if (d->why != NULL)
			(void)strlen(d->why);
		if (d->state != DEST_AUTHORIZED)
			continue;
		if (d->address == NULL || d->published == NULL)
			abort();
		check_text(d->address);
		/* no DNS was possible: only the policy domain's own
		 * organization can have been authorized */
		if (!domain_is_subdomain(address_domain(d->address), POLICY_DOMAIN))
			abort();
	}
	dest_list_clear(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 3 * DMARC_RECORD_MAX_LEN)
		return 0;
	parse_as_record("rua", data + 1, size - 1);
	parse_as_record("ruf", data + 1, size - 1);

	/* destinations_build() takes the list as a C string (it comes from an
	 * SQLite text column): cut at the first NUL. */
	char *rua = malloc(size);
	if (rua == NULL)
		abort();
	memcpy(rua, data + 1, size - 1);
	rua[size - 1] = '\0';
	build_destinations(data[0], rua);
	free(rua);
	return 0;
}
