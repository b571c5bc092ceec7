/* fuzz_config: libFuzzer target for the configuration parser and CIDR lists.
 * Build and run (60 s):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -Ilib lib/strbuf.c lib/auth_types.c lib/cidr.c lib/config.c \
 *     tests/fuzz/fuzz_config.c -o /tmp/fuzz_config
 *   /tmp/fuzz_config -max_total_time=60 -max_len=8192 tests/fuzz/corpus/config
 * Checks beyond "no crash, no leak": a loaded configuration dumps to text
 * that loads again (unless a long list grew past CONFIG_LINE_MAX) and dumps
 * identically (the dump is valid file syntax), and
 * every error names the input ("fuzz:"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "config.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(const struct config *cfg)
{
	size_t n;
	const struct config_option *tab = config_table(&n);
	struct strbuf sb;
	strbuf_init(&sb, NULL, 0, 4 * CONFIG_FILE_MAX);
	for (size_t i = 0; i < n; i++) {
		strbuf_printf(&sb, "%s ", tab[i].name);
		if (!config_format_value(cfg, &tab[i], &sb))
			abort();
		strbuf_putc(&sb, '\n');
	}
	return strbuf_finish(&sb);
}

static void fuzz_cidr(const uint8_t *data, size_t size)
{
	char text[1024];
	struct cidr_list list = {NULL, 0};
	struct strbuf err;
	if (size >= sizeof text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	strbuf_init(&err, NULL, 0, 4096);
	if (cidr_list_parse(text, &list, &err)) {
		(void)cidr_list_match_text(&list, "192.0.2.1");
		(void)cidr_list_match_text(&list, "::ffff:10.0.0.1");
		(void)cidr_list_match_text(&list, "2001:db8::1");
	} else if (list.count != 0) {
		abort(); /* a failed parse of an empty list leaves it empty */
	}
	cidr_list_free(&list);
	strbuf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config a, b;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	if (config_load_buffer((const char *)data, size, "fuzz", &a, &err)) {
		char *d1 = dump(&a);
		if (d1 == NULL)
			abort();
		strbuf_reset(&err);
		if (config_load_buffer(d1, strlen(d1), "dump", &b, &err)) {
			char *d2 = dump(&b);
			if (d2 == NULL || strcmp(d1, d2) != 0)
				abort(); /* the dump must be stable */
			free(d2);
			config_free(&b);
		} else if (strstr(strbuf_str(&err), "line longer than") == NULL) {
			/* The dump of a valid configuration must load; only a
			 * list near the line limit may grow past it (", "
			 * separators, "/32" suffixes), see config_dump(). */
			abort();
		}
		free(d1);
	} else if (strncmp(strbuf_str(&err), "fuzz", 4) != 0) {
		abort(); /* every error names the file */
	}
	config_free(&a);
	strbuf_free(&err);
	fuzz_cidr(data, size);
	return 0;
}
