#!/usr/bin/perl
# dmarc-perl-parse.pl: reads aggregate reports with Mail::DMARC (Debian's
# libmail-dmarc-perl), an independent consumer, and prints what it parsed in
# the format of "report-dump.py --short", so the two can be compared.
#
# usage: dmarc-perl-parse.pl FILE...
#   FILE.eml: a whole report message, parsed by Mail::DMARC::Report::Receive
#             ->from_file (MIME, the gzip attachment, subject and XML);
#   FILE.xml.gz / FILE.xml: the report itself, through ->handle_body. The
#             parser's XPath has no namespace, so the RFC 9990 namespace
#             declaration is removed first.
# Mail::DMARC would store what it parsed in its SQL backend; save_aggregate is
# replaced by a no-op. Its record parser returns the first DKIM result for
# every <dkim> element, so only the count and the first one are compared.
use strict;
use warnings;
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Mail::DMARC::Report::Receive;

{
	no warnings 'redefine';
	*Mail::DMARC::Report::save_aggregate = sub { return 1 };
}

sub canon_ip {
	my ($ip) = @_;
	return $1 if $ip =~ /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;
	return $ip unless $ip =~ /:/;
	# compress like Python's ipaddress: lower case, no leading zeros, the
	# longest run (of two or more) of zero groups as "::"
	my @g = split /:/, lc $ip, -1;
	if (grep { $_ eq '' } @g) {
		my @h = split /::/, lc $ip, -1;
		my @a = $h[0] eq '' ? () : split /:/, $h[0];
		my @b = (defined $h[1] && $h[1] ne '') ? split /:/, $h[1] : ();
		@g = (@a, ('0') x (8 - @a - @b), @b);
	}
	@g = map { sprintf '%x', hex $_ } @g;
	my ($best, $blen, $cur, $clen) = (-1, 0, -1, 0);
	for my $i (0 .. 7) {
		if ($g[$i] eq '0') {
			($cur, $clen) = ($i, 0) if $clen == 0;
			$clen++;
			($best, $blen) = ($cur, $clen) if $clen > $blen;
		} else {
			$clen = 0;
		}
	}
	return join ':', @g if $blen < 2;
	my $l = join ':', @g[0 .. $best - 1];
	my $r = join ':', @g[$best + $blen .. 7];
	return "$l" . '::' . "$r";
}

sub show {
	my ($agg) = @_;
	my $m = $agg->metadata;
	my @out = (sprintf 'meta org_name=%s email=%s extra_contact_info=%s report_id=%s begin=%s end=%s',
		$m->org_name // '', $m->email // '', $m->extra_contact_info // '',
		$m->report_id // '', $m->begin // '', $m->end // '');
	push @out, sprintf 'policy domain=%s p=%s', $agg->policy_published->domain // '',
		$agg->policy_published->p // '';
	my @recs;
	for my $r (@{ $agg->record }) {
		my $pe = $r->row->policy_evaluated;
		my $line = sprintf 'record ip=%s n=%s disp=%s dkim=%s spf=%s',
			canon_ip($r->row->source_ip), $r->row->count, $pe->disposition,
			$pe->dkim, $pe->spf;
		for my $reason (@{ $pe->reason || [] }) {
			$line .= sprintf ' reason=%s:%s', $reason->{type}, $reason->{comment} // '';
		}
		$line .= sprintf ' hfrom=%s efrom=%s', $r->identifiers->header_from // '',
			$r->identifiers->envelope_from // '';
		my @dk = @{ $r->auth_results->dkim || [] };
		$line .= sprintf ' dkim#=%d dkim1=%s', scalar @dk,
			@dk ? join('/', map { $dk[0]->$_ // '' } qw(domain selector result)) : '';
		my @spf = @{ $r->auth_results->spf || [] };
		$line .= ' spfres=' . join ',', map { ($_->domain // '') . '/' . ($_->result // '') } @spf;
		push @recs, $line;
	}
	return (@out, sort @recs);
}

my @reports;
for my $file (@ARGV) {
	my $recv = Mail::DMARC::Report::Receive->new;
	if ($file =~ /\.eml$/) {
		# from_email_simple prints the subject it parsed: keep stdout ours
		open my $saved, '>&', \*STDOUT or die;
		open STDOUT, '>', '/dev/null' or die;
		my $type = eval { $recv->from_file($file) };
		my $err = $@;
		open STDOUT, '>&', $saved or die;
		die "$file: $err" if $err;
		die "$file: not an aggregate report\n" unless ($type // '') eq 'aggregate';
	} else {
		my $xml;
		if ($file =~ /\.gz$/) {
			gunzip $file => \$xml or die "$file: $GunzipError\n";
		} else {
			open my $fh, '<', $file or die "$file: $!\n";
			local $/;
			$xml = <$fh>;
		}
		$xml =~ s/ xmlns="urn:ietf:params:xml:ns:dmarc-2\.0"//;
		$recv->report->init();
		$recv->handle_body($xml);
	}
	push @reports, [ show($recv->report->aggregate) ];
}
# ordered by policy and records, like report-dump.py
for my $r (sort { join("\n", @$a[1 .. $#$a]) cmp join("\n", @$b[1 .. $#$b]) } @reports) {
	print "$_\n" for @$r;
}
