# conf/: the sample configuration and its man page.
