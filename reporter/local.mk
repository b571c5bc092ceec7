# reporter/: dmarc-reporter, the aggregate report builder and sender.
