# contrib/: systemd units, cron example, MTA snippets.
EXTRA_DIST += contrib/dmarc-milter.service contrib/postfix-main.cf.snippet \
	contrib/sendmail.mc.snippet
EXTRA_DIST += contrib/dmarc-reporter.cron contrib/dmarc-reporter.service \
	contrib/dmarc-reporter.timer contrib/dmarc-reporter-expire.service \
	contrib/dmarc-reporter-expire.timer
