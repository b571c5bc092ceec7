# conf/: the sample configuration and its man page.
dist_man_MANS += conf/dmarc-milter.conf.5
EXTRA_DIST += conf/dmarc-milter.conf
# The sample is installed as $(sysconfdir)/dmarc-milter.conf.sample (never over
# an operator's dmarc-milter.conf), with the paths of this build.
confsampledir = $(sysconfdir)
confsample_DATA = conf/dmarc-milter.conf.sample
CLEANFILES += conf/dmarc-milter.conf.sample
conf/dmarc-milter.conf.sample: $(top_srcdir)/conf/dmarc-milter.conf
	$(AM_V_GEN)$(MKDIR_P) conf && sed \
		-e 's|/var/lib/dmarc-milter|$(localstatedir)/lib/dmarc-milter|g' \
		-e 's|/etc/dmarc-milter.conf|$(sysconfdir)/dmarc-milter.conf|g' \
		$(top_srcdir)/conf/dmarc-milter.conf > $@
