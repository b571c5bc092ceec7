/* strbuf_test: bounds, the sticky failure flag, stack-to-heap moves, XML escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "testlib.h"

int main(void)
{
	char stack[8];
	struct strbuf sb;

	strbuf_init(&sb, stack, sizeof stack, 100);
	t_str("empty buffer is \"\"", strbuf_str(&sb), "");
	strbuf_puts(&sb, "abc");
	t_true("short text stays on the stack", !sb.on_heap);
	strbuf_printf(&sb, "-%d-%s", 42, "defghij");
	t_str("printf appends and moves to the heap", strbuf_str(&sb), "abc-42-defghij");
	t_true("moved to heap", sb.on_heap);
	strbuf_free(&sb);

	strbuf_init(&sb, NULL, 0, 5);
	t_true("append within max succeeds", strbuf_puts(&sb, "12345"));
	t_true("append over max fails", !strbuf_putc(&sb, '6'));
	t_true("failure is sticky", !strbuf_puts(&sb, "") && strbuf_failed(&sb));
	t_str("text kept up to the failure", strbuf_str(&sb), "12345");
	t_true("finish of a failed buffer is NULL", strbuf_finish(&sb) == NULL);

	strbuf_init(&sb, NULL, 0, 1000);
	strbuf_add_xml(&sb, "a<b>&\"c'\x01");
	char *s = strbuf_finish(&sb);
	t_str("XML metacharacters escaped, control bytes dropped", s,
	      "a&lt;b&gt;&amp;&quot;c&apos;");
	free(s);

	strbuf_init(&sb, stack, sizeof stack, 1000);
	strbuf_add(&sb, "a\0b", 3);
	t_int("binary-safe length", (long long)sb.len, 3);
	strbuf_reset(&sb);
	t_true("reset clears the failure flag and text", !strbuf_failed(&sb) && sb.len == 0);
	strbuf_free(&sb);

	FILE *f = tmpfile();
	if (f != NULL) {
		fputs("line one\nline two\n", f);
		rewind(f);
		strbuf_init(&sb, NULL, 0, 100);
		t_true("add_file reads the whole file", strbuf_add_file(&sb, f));
		t_str("add_file content", strbuf_str(&sb), "line one\nline two\n");
		strbuf_free(&sb);
		rewind(f);
		strbuf_init(&sb, NULL, 0, 5);
		t_true("add_file over the maximum fails", !strbuf_add_file(&sb, f) && strbuf_failed(&sb));
		strbuf_free(&sb);
		fclose(f);
	}
	return t_done();
}
