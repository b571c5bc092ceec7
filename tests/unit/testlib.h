/* testlib: the tiny TAP harness every unit test uses.
 *
 * Each check prints "ok N - label" or "not ok N - label: got X, want Y";
 * t_done() prints the plan and returns the exit status for main().
 * automake's tap-driver counts every line, so a table of 60 cases is 60 tests.
 * Not thread safe (one test program, one thread of checks). */
#ifndef DMARC_TESTLIB_H
#define DMARC_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

/* Records one check. fmt/... describe the failure ("got X, want Y") and are
 * printed only when ok is false. Returns ok. */
bool t_check(bool ok, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Shorthands for the common comparisons; NULL strings compare as "(null)". */
bool t_str(const char *label, const char *got, const char *want);
bool t_int(const char *label, long long got, long long want);
bool t_true(const char *label, bool cond);

/* True when s is not NULL and contains sub. */
bool t_has(const char *s, const char *sub);

/* True when s is not NULL and holds printable ASCII only (what may go into a
 * header comment). */
bool t_ascii(const char *s);

/* A diagnostic line ("# ..."), ignored by the TAP driver. */
void t_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "1..N" and returns 0 if every check passed, 1 otherwise. */
int t_done(void);

#endif
