/* config_list: test aid for tests/conf_man_test.sh.
 *   config_list            prints every option name of the table, one per line
 *   config_list -d         prints "name<TAB>default" per option; the default
 *                          is "-" when it is computed at load (AuthservID)
 *   config_list FILE       loads FILE and prints its effective values
 *                          (config_dump); exit 1 with the error on stderr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "strbuf.h"

int main(int argc, char **argv)
{
	if (argc == 1 || (argc == 2 && strcmp(argv[1], "-d") == 0)) {
		size_t n;
		const struct config_option *opt = config_table(&n);
		for (size_t i = 0; i < n; i++) {
			if (argc == 1)
				printf("%s\n", opt[i].name);
			else
				printf("%s\t%s\n", opt[i].name,
				       opt[i].default_text ? opt[i].default_text : "-");
		}
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: config_list [FILE]\n");
		return 2;
	}
	struct config cfg;
	struct strbuf err;
	strbuf_init(&err, NULL, 0, 4096);
	if (!config_load(argv[1], &cfg, &err)) {
		fprintf(stderr, "%s\n", strbuf_str(&err));
		strbuf_free(&err);
		return 1;
	}
	strbuf_free(&err);
	bool ok = config_dump(&cfg, stdout);
	config_free(&cfg);
	return ok ? 0 : 1;
}
