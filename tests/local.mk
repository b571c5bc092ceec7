# tests/: unit tests (TAP programs), DNS-backed and integration suites (TAP scripts).
# A unit test is tests/unit/<module>_test.c linked with tests/unit/testlib.c.
TEST_CORE_LIBS = lib/libdmarccore.la
EXTRA_DIST += tests/dns tests/fuzz tests/unit/testlib.h

check_PROGRAMS += tests/unit/strbuf_test
tests_unit_strbuf_test_SOURCES = tests/unit/strbuf_test.c tests/unit/testlib.c tests/unit/testlib.h
tests_unit_strbuf_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/strbuf_test

check_PROGRAMS += tests/unit/event_store_test
tests_unit_event_store_test_SOURCES = tests/unit/event_store_test.c tests/unit/testlib.c
tests_unit_event_store_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/event_store_test

# Benchmarks: built on demand by `make bench` (use a build without sanitizers).
EXTRA_PROGRAMS = tests/bench/event_writer_bench
tests_bench_event_writer_bench_SOURCES = tests/bench/event_writer_bench.c
tests_bench_event_writer_bench_LDADD = $(TEST_CORE_LIBS)
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS)
	$(top_builddir)/tests/bench/event_writer_bench 300000 $(abs_top_builddir)/event_writer_bench.db
.PHONY: bench
