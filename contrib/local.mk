# contrib/: systemd units, cron example, MTA snippets.
EXTRA_DIST += contrib/dmarc-milter.service contrib/postfix-main.cf.snippet \
	contrib/sendmail.mc.snippet
