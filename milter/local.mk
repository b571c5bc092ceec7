# milter/: the dmarc-milter daemon (libmilter callbacks, headers, actions).
