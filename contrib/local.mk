# contrib/: systemd units, cron example, MTA snippets.
