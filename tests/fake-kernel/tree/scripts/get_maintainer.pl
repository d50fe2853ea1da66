#!/usr/bin/perl
# get_maintainer.pl for the harness self-tests: a maintainer for every
# file but one that asks for none ("FAKE: no-maintainer").
use strict;
use warnings;
my $file = $ARGV[-1];
open(my $fh, '<', $file) or die "$file: $!";
my $text = do { local $/; <$fh> };
exit 0 if $text =~ /FAKE: no-maintainer/;
print "Fake Maintainer <fake\@example.org>\n";
exit 0;
