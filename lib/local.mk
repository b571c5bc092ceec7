# lib/: the core shared by dmarc-milter and dmarc-reporter (no libmilter here).
# Each module adds its .c and .h to the list below.
noinst_LTLIBRARIES += lib/libdmarccore.la
lib_libdmarccore_la_CPPFLAGS = $(AM_CPPFLAGS) $(OPENDKIM_CFLAGS) $(PSL_CFLAGS) \
	$(IDN2_CFLAGS) $(SQLITE_CFLAGS) $(ZLIB_CFLAGS) $(UNBOUND_CFLAGS)
lib_libdmarccore_la_LIBADD = $(OPENDKIM_LIBS) $(SPF2_LIBS) $(PSL_LIBS) \
	$(IDN2_LIBS) $(SQLITE_LIBS) $(ZLIB_LIBS) $(UNBOUND_LIBS) $(PTHREAD_LIBS)
lib_libdmarccore_la_SOURCES = \
	lib/strbuf.c lib/strbuf.h \
	lib/auth_types.c lib/auth_types.h \
	lib/authres.c lib/authres.h \
	lib/msg_event.c lib/msg_event.h \
	lib/event_store.c lib/event_store.h \
	lib/event_writer.c lib/event_writer.h \
	lib/dmarc_record.c lib/dmarc_record.h \
	lib/dmarc_eval.c lib/dmarc_eval.h \
	lib/domain.c lib/domain.h \
	lib/from_header.c lib/from_header.h \
	lib/cidr.c lib/cidr.h \
	lib/config.c lib/config.h \
	lib/policy_discovery.c lib/policy_discovery.h \
	lib/dmarc_check.c lib/dmarc_check.h \
	lib/spf_check.c lib/spf_check.h \
	lib/dkim_verify.c lib/dkim_verify.h \
	lib/resolver.c lib/resolver.h
