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

check_PROGRAMS += tests/unit/authres_test
tests_unit_authres_test_SOURCES = tests/unit/authres_test.c tests/unit/testlib.c
tests_unit_authres_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/authres_test tests/unit/authres_parse.sh
dist_check_SCRIPTS += tests/unit/authres_parse.sh

# tests/tools: the milter protocol client and the DKIM signer the integration
# and end-to-end suites drive the milter with; tests/keys: their test keys.
# They compile lib/strbuf.c themselves so that a broken core module never
# takes the test tools down with it.
check_PROGRAMS += tests/tools/milter-send tests/tools/dkim-sign
tests_tools_milter_send_SOURCES = tests/tools/milter-send.c \
	tests/tools/milter_proto.c tests/tools/milter_proto.h \
	tests/tools/milter_msg.c tests/tools/milter_msg.h lib/strbuf.c
tests_tools_dkim_sign_SOURCES = tests/tools/dkim-sign.c \
	tests/tools/milter_msg.c tests/tools/milter_msg.h lib/strbuf.c
tests_tools_dkim_sign_CPPFLAGS = $(AM_CPPFLAGS) $(OPENDKIM_CFLAGS)
tests_tools_dkim_sign_LDADD = $(OPENDKIM_LIBS)
EXTRA_DIST += tests/keys
check_PROGRAMS += tests/tools/milter_proto_test
tests_tools_milter_proto_test_SOURCES = tests/tools/milter_proto_test.c \
	tests/tools/milter_proto.c tests/tools/milter_proto.h \
	tests/tools/milter_msg.c tests/tools/milter_msg.h lib/strbuf.c \
	tests/unit/testlib.c tests/unit/testlib.h
tests_tools_milter_proto_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
TESTS += tests/tools/milter_proto_test

check_PROGRAMS += tests/unit/dmarc_record_test tests/unit/dmarc_eval_test
tests_unit_dmarc_record_test_SOURCES = tests/unit/dmarc_record_test.c tests/unit/testlib.c
tests_unit_dmarc_record_test_LDADD = $(TEST_CORE_LIBS)
tests_unit_dmarc_eval_test_SOURCES = tests/unit/dmarc_eval_test.c tests/unit/testlib.c
tests_unit_dmarc_eval_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/dmarc_record_test tests/unit/dmarc_eval_test

check_PROGRAMS += tests/unit/domain_test tests/unit/from_header_test
tests_unit_domain_test_SOURCES = tests/unit/domain_test.c tests/unit/testlib.c
tests_unit_domain_test_LDADD = $(TEST_CORE_LIBS)
tests_unit_from_header_test_SOURCES = tests/unit/from_header_test.c tests/unit/testlib.c
tests_unit_from_header_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/domain_test tests/unit/from_header_test

# lib/config and lib/cidr; config_list prints the option table for
# conf_man_test.sh (man page and sample list every option).
check_PROGRAMS += tests/unit/config_test tests/unit/cidr_test tests/unit/config_list
tests_unit_config_test_SOURCES = tests/unit/config_test.c tests/unit/testlib.c
tests_unit_config_test_LDADD = $(TEST_CORE_LIBS)
tests_unit_cidr_test_SOURCES = tests/unit/cidr_test.c tests/unit/testlib.c
tests_unit_cidr_test_LDADD = $(TEST_CORE_LIBS)
tests_unit_config_list_SOURCES = tests/unit/config_list.c
tests_unit_config_list_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/unit/config_test tests/unit/cidr_test tests/conf_man_test.sh
dist_check_SCRIPTS += tests/conf_man_test.sh
EXTRA_DIST += tests/unit/config
# The milter integration scenarios (real DNS server, real milter client) and
# the Postfix end-to-end suite (root only; it skips itself otherwise).
TESTS += tests/integration/milter_test.sh tests/e2e/postfix_test.sh
dist_check_SCRIPTS += tests/integration/milter_test.sh tests/e2e/postfix_test.sh
EXTRA_DIST += tests/integration/example.zone.in tests/integration/milter.conf.in \
	tests/integration/messages tests/tools/milter-lib.sh tests/tools/postfix-lib.sh tests/tools/authres-check.py

# lib/resolver against the loopback test DNS server (tests/dns/); the program
# runs from the script, which starts the server.
check_PROGRAMS += tests/unit/resolver_test
tests_unit_resolver_test_SOURCES = tests/unit/resolver_test.c tests/unit/testlib.c
tests_unit_resolver_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/dns/resolver_test.sh
dist_check_SCRIPTS += tests/dns/resolver_test.sh

# lib/spf_check and lib/dkim_verify against the loopback test DNS server: the
# programs are run by tests/auth/*.sh, which start the server (tests/dns/).
check_PROGRAMS += tests/unit/spf_check_test tests/unit/dkim_verify_test
tests_unit_spf_check_test_SOURCES = tests/unit/spf_check_test.c tests/unit/testlib.c
tests_unit_spf_check_test_LDADD = $(TEST_CORE_LIBS)
tests_unit_dkim_verify_test_SOURCES = tests/unit/dkim_verify_test.c tests/unit/testlib.c
tests_unit_dkim_verify_test_CPPFLAGS = $(AM_CPPFLAGS) $(OPENDKIM_CFLAGS)
tests_unit_dkim_verify_test_LDADD = $(TEST_CORE_LIBS) $(OPENDKIM_LIBS)
TESTS += tests/auth/spf_check.sh tests/auth/dkim_verify.sh
dist_check_SCRIPTS += tests/auth/spf_check.sh tests/auth/dkim_verify.sh
EXTRA_DIST += tests/auth/spf.example.zone tests/auth/0.18.198.in-addr.arpa.zone \
	tests/auth/dkim.example.zone.in

# dmarc-reporter: report content, destinations, state, --summary/--expire
# against the loopback test DNS server and a fake sendmail; event-gen writes
# the events (tests/reporter/); postfix_test.sh mails reports through a
# private Postfix (root only; it skips itself otherwise).
check_PROGRAMS += tests/reporter/event-gen
tests_reporter_event_gen_SOURCES = tests/reporter/event-gen.c
tests_reporter_event_gen_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/reporter/reporter_test.sh tests/reporter/postfix_test.sh
dist_check_SCRIPTS += tests/reporter/reporter_test.sh tests/reporter/postfix_test.sh
EXTRA_DIST += tests/reporter/reporter-lib.sh tests/reporter/fake-sendmail.sh \
	tests/reporter/report-dump.py tests/reporter/dmarc-perl-parse.pl \
	tests/reporter/reporter.conf.in tests/reporter/reporter.zone.in \
	tests/reporter/content.events tests/reporter/content.expected \
	tests/reporter/schemas

# lib/policy_discovery + lib/dmarc_check (RFC 9989 tree walk, RFC 7489 PSL)
# against the loopback test DNS server serving tests/discovery/*.zone.
check_PROGRAMS += tests/unit/policy_discovery_test
tests_unit_policy_discovery_test_SOURCES = tests/unit/policy_discovery_test.c tests/unit/testlib.c
tests_unit_policy_discovery_test_LDADD = $(TEST_CORE_LIBS)
TESTS += tests/discovery/discovery_test.sh
dist_check_SCRIPTS += tests/discovery/discovery_test.sh
EXTRA_DIST += tests/discovery/example.zone tests/discovery/uk.zone \
	tests/discovery/nozone.zone tests/discovery/test.psl

# `make bench` also times dmarc-reporter on a day of 1,000,000 events
# (tests/bench/report_bench.sh; use a build without sanitizers).
EXTRA_PROGRAMS += tests/bench/report_bench_gen
tests_bench_report_bench_gen_SOURCES = tests/bench/report_bench_gen.c
tests_bench_report_bench_gen_LDADD = $(TEST_CORE_LIBS)
EXTRA_DIST += tests/bench/report_bench.sh
bench: bench-report
bench-report: tests/bench/report_bench_gen$(EXEEXT) reporter/dmarc-reporter$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/bench/report_bench.sh
.PHONY: bench-report

# The event log under load and faults (tests/eventlog/): every column of the
# rows of the integration scenarios, kill -9 during a load, a full, read-only,
# deleted or locked database, a long reader. milter-load is their load client
# (several milter connections at once; tests/bench/milter_latency.sh too).
check_PROGRAMS += tests/eventlog/milter-load
tests_eventlog_milter_load_SOURCES = tests/eventlog/milter-load.c \
	tests/tools/milter_proto.c tests/tools/milter_proto.h \
	tests/tools/milter_msg.c tests/tools/milter_msg.h lib/strbuf.c
tests_eventlog_milter_load_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/tools
tests_eventlog_milter_load_LDADD = $(PTHREAD_LIBS)

# The milter benchmark (tests/bench/run-bench.sh, figures in BENCHMARKS):
# dmarc-milter side by side with opendkim + opendmarc. milter-bench is its
# load client, bench-corpus its corpus and zone generator; bench_test.sh
# checks both on 50 messages (timing goals live in the benchmark, not here).
check_PROGRAMS += tests/bench/milter-bench tests/bench/bench-corpus
tests_bench_milter_bench_SOURCES = tests/bench/milter-bench.c \
	tests/tools/milter_proto.c tests/tools/milter_proto.h \
	tests/tools/milter_msg.c tests/tools/milter_msg.h lib/strbuf.c
tests_bench_milter_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/tools
tests_bench_milter_bench_LDADD = $(PTHREAD_LIBS)
tests_bench_bench_corpus_SOURCES = tests/bench/bench-corpus.c
tests_bench_bench_corpus_LDADD = -lm
TESTS += tests/bench/bench_test.sh
dist_check_SCRIPTS += tests/bench/bench_test.sh
EXTRA_DIST += tests/bench/run-bench.sh
# null-milter: a do-nothing filter speaking the same protocol, for the
# benchmark's floor (what libmilter and the kernel cost per message).
EXTRA_PROGRAMS += tests/bench/null-milter
tests_bench_null_milter_SOURCES = tests/bench/null-milter.c
tests_bench_null_milter_CPPFLAGS = $(AM_CPPFLAGS) $(MILTER_CFLAGS)
tests_bench_null_milter_LDADD = $(MILTER_LIBS) $(PTHREAD_LIBS)
BENCH_MILTER_DEPS = milter/dmarc-milter$(EXEEXT) tests/bench/milter-bench$(EXEEXT) \
	tests/bench/bench-corpus$(EXEEXT) tests/tools/dkim-sign$(EXEEXT) \
	tests/bench/null-milter$(EXEEXT)
bench: bench-milter
bench-milter: $(BENCH_MILTER_DEPS)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/bench/run-bench.sh
# 200,000 messages at 32 connections: dmarc-milter's RSS must stay flat.
bench-long: $(BENCH_MILTER_DEPS)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/bench/run-bench.sh --long 200000 --no-chain
.PHONY: bench-milter bench-long

# tests/eventlog/ suites (their load client milter-load is listed above).
TESTS += tests/eventlog/event_rows_test.sh tests/eventlog/event_crash_test.sh \
	tests/eventlog/event_faults_test.sh
dist_check_SCRIPTS += tests/eventlog/event_rows_test.sh tests/eventlog/event_crash_test.sh \
	tests/eventlog/event_faults_test.sh
EXTRA_DIST += tests/eventlog/event_rows_check.py tests/eventlog/eventlog.zone.frag \
	tests/bench/milter_latency.sh BENCHMARKS
# `make bench` also prints the milter's latency with the event log on and off
# (tests/bench/milter_latency.sh; use a build without sanitizers).
bench: bench-milter-latency
bench-milter-latency: milter/dmarc-milter$(EXEEXT) tests/eventlog/milter-load$(EXEEXT) \
		tests/tools/dkim-sign$(EXEEXT)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/bench/milter_latency.sh
.PHONY: bench-milter-latency

# tests/hardening/: allocation failures injected into the parsers (a
# link-time malloc wrapper, no change to lib/), DNS faults, hostile mail and
# clients, the reporter under attack, least privilege (root only). SECURITY
# says what they show. `make check-valgrind` (a build without sanitizers)
# runs the milter suites under valgrind: tests/valgrind.sh.
check_PROGRAMS += tests/hardening/oom_test
tests_hardening_oom_test_SOURCES = tests/hardening/oom_test.c tests/unit/testlib.c
tests_hardening_oom_test_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_hardening_oom_test_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
tests_hardening_oom_test_LDADD = $(TEST_CORE_LIBS)
HARDENING_SUITES = tests/hardening/dns_faults.sh tests/hardening/hostile_mail.sh \
	tests/hardening/reporter_hostile.sh tests/hardening/privilege.sh
TESTS += tests/hardening/oom_test $(HARDENING_SUITES)
dist_check_SCRIPTS += $(HARDENING_SUITES) tests/hardening/soak.sh tests/valgrind.sh
EXTRA_DIST += tests/hardening/hardening-lib.sh tests/hardening/milter_client.py \
	tests/hardening/dns_responder.py tests/hardening/make_hostile.py \
	tests/hardening/milter.conf.in tests/hardening/faults.zone \
	tests/hardening/reporter.zone tests/valgrind.supp SECURITY
check-valgrind: all $(check_PROGRAMS)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/tests/valgrind.sh '$(abs_top_builddir)'
.PHONY: check-valgrind
