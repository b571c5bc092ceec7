# milter/: the dmarc-milter daemon (libmilter callbacks, headers, actions).
sbin_PROGRAMS += milter/dmarc-milter
milter_dmarc_milter_SOURCES = \
	milter/main.c milter/milter.h \
	milter/callbacks.c milter/callbacks.h \
	milter/pipeline.c milter/pipeline.h \
	milter/evaluate.c milter/evaluate.h \
	milter/actions.c milter/actions.h \
	milter/headers.c milter/headers.h \
	milter/dkim_glue.c milter/dkim_glue.h \
	milter/snapshot.c milter/snapshot.h \
	milter/testmode.c milter/testmode.h \
	milter/daemon.c milter/daemon.h \
	milter/sigshim.c \
	milter/events.c milter/events.h \
	milter/arena.c milter/arena.h \
	milter/log.c milter/log.h \
	milter/keycache.c milter/keycache.h
milter_dmarc_milter_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/milter $(MILTER_CFLAGS) \
	$(OPENDKIM_CFLAGS) $(UNBOUND_CFLAGS) $(SSL_CFLAGS) -DMILTER_VERSION='"$(PACKAGE_VERSION)"'
milter_dmarc_milter_LDADD = lib/libdmarccore.la $(MILTER_LIBS) $(SSL_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += milter/dmarc-milter.8
