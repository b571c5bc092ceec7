/* testlib: TAP output for unit tests. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

static int t_count;   /* checks so far */
static int t_failed;  /* failed checks so far */

bool t_check(bool ok, const char *label, const char *fmt, ...)
{
	t_count++;
	if (ok) {
		printf("ok %d - %s\n", t_count, label);
	} else {
		t_failed++;
		printf("not ok %d - %s: ", t_count, label);
		va_list ap;
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

bool t_str(const char *label, const char *got, const char *want)
{
	const char *g = got ? got : "(null)", *w = want ? want : "(null)";
	bool ok = (got == NULL) == (want == NULL) && strcmp(g, w) == 0;
	return t_check(ok, label, "got \"%s\", want \"%s\"", g, w);
}

bool t_int(const char *label, long long got, long long want)
{
	return t_check(got == want, label, "got %lld, want %lld", got, want);
}

bool t_true(const char *label, bool cond)
{
	return t_check(cond, label, "condition is false");
}

bool t_has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

bool t_ascii(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return s != NULL;
}

void t_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

int t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failed == 0 ? 0 : 1;
}
