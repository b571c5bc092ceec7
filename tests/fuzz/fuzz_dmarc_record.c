/* fuzz_dmarc_record: libFuzzer target for lib/dmarc_record.
 *
 * Parses the input as one record, then splits it on '\n' and runs the
 * RRset selection over the pieces (and parses the selected one), freeing
 * everything. Build, then run on a copy of tests/fuzz/corpus/dmarc_record/
 * (the fuzzer writes new inputs into the directory it is given):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilib \
 *     tests/fuzz/fuzz_dmarc_record.c lib/dmarc_record.c lib/strbuf.c \
 *     lib/auth_types.c -o /tmp/fz && /tmp/fz -max_total_time=60 /tmp/corpus/ */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_record.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TXT 64 /* TXT records per RRset in one run */

/* Reads every field the parser fills, so ASan sees any bad pointer. */
static size_t touch(const struct dmarc_record *r)
{
	size_t sum = r->pct + r->ri_sec + (size_t)r->p + (size_t)r->sp + (size_t)r->np;
	const struct dmarc_uri_list *lists[2] = { &r->rua, &r->ruf };

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->count; i++) {
			const struct dmarc_uri *u = &lists[l]->uris[i];

			sum += strlen(u->uri);
			if (u->is_mailto)
				sum += strlen(u->address) + strlen(u->domain);
		}
	}
	if (r->fo != NULL)
		sum += strlen(r->fo);
	if (r->rf != NULL)
		sum += strlen(r->rf);
	if (r->warnings != NULL)
		sum += strlen(r->warnings);
	return sum;
}

static void parse_one(const char *text, size_t len)
{
	struct dmarc_record *rec = NULL;
	struct strbuf reason;

	strbuf_init(&reason, NULL, 0, 16384);
	enum dmarc_record_status st = dmarc_record_parse(text, len, &rec, &reason);
	if ((st == DMARC_RECORD_OK) != (rec != NULL))
		abort();
	if (rec != NULL && touch(rec) == (size_t)-1)
		abort();
	dmarc_record_free(rec);
	strbuf_free(&reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dmarc_txt txts[MAX_TXT];
	size_t n = 0, start = 0, index = 0;

	parse_one(text, size);

	for (size_t i = 0; i <= size && n < MAX_TXT; i++) {
		if (i == size || text[i] == '\n') {
			txts[n].data = text + start;
			txts[n].len = i - start;
			n++;
			start = i + 1;
		}
	}
	if (dmarc_record_select(txts, n, &index, NULL) == DMARC_SELECT_ONE) {
		if (index >= n)
			abort();
		parse_one(txts[index].data, txts[index].len);
	}
	return 0;
}
