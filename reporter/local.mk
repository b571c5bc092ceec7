# reporter/: dmarc-reporter, the aggregate report builder and sender.
bin_PROGRAMS += reporter/dmarc-reporter
reporter_dmarc_reporter_SOURCES = reporter/main.c \
	reporter/aggregate.c reporter/aggregate.h \
	reporter/report_xml.c reporter/report_xml.h \
	reporter/report_id.c reporter/report_id.h \
	reporter/gzip_buf.c reporter/gzip_buf.h \
	reporter/destinations.c reporter/destinations.h \
	reporter/report_mail.c reporter/report_mail.h \
	reporter/report_send.c reporter/report_send.h \
	reporter/report_state.c reporter/report_state.h \
	reporter/summary.c reporter/summary.h
reporter_dmarc_reporter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/reporter \
	$(SQLITE_CFLAGS) $(ZLIB_CFLAGS) $(SSL_CFLAGS)
reporter_dmarc_reporter_LDADD = lib/libdmarccore.la $(SSL_LIBS)
dist_man_MANS += reporter/dmarc-reporter.8
