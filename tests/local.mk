# tests/: unit tests (TAP programs), DNS-backed and integration suites (TAP scripts).
# A unit test is tests/unit/<module>_test.c linked with tests/unit/testlib.c.
TEST_CORE_LIBS = lib/libdmarccore.la
EXTRA_DIST += tests/dns tests/fuzz tests/unit/testlib.h

check_PROGRAMS += tests/unit/strbuf_test
tests_unit_strbuf_test_SOURCES = tests/unit/strbuf_test.c tests/unit/testlib.c tests/unit/testlib.h
tests_unit_strbuf_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/strbuf_test
