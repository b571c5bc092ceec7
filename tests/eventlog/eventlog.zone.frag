; eventlog.zone.frag: records the event-log suites add to the integration
; zone (tests/integration/example.zone.in; same $ORIGIN example.), so that
; every published tag of a DMARC record reaches an events row.
;
; tags.example: every tag set (RFC 9989 §4.7); psd=n makes the author domain
; its own organizational domain. The size suffix "!10m" is kept as bytes.
tags                    IN A   192.0.2.30
_dmarc.tags             IN TXT "v=DMARC1; p=quarantine; sp=none; np=reject; adkim=s; aspf=r; fo=1:d; t=n; psd=n; pct=100; rua=mailto:agg@tags.example,mailto:agg2@other.example!10m; ruf=mailto:fo@tags.example"
; pctzero.example: pct=0, so in RFC 7489 mode every failure is sampled out
; (RFC 7489 §6.6.4: reject is lowered to quarantine).
pctzero                 IN A   192.0.2.31
_dmarc.pctzero          IN TXT "v=DMARC1; p=reject; pct=0"
