#!/usr/bin/perl
# checkpatch.pl for the harness self-tests: one ERROR for a patch that asks
# for it ("FAKE: checkpatch-error"), else clean.
use strict;
use warnings;
my $patch = $ARGV[-1];
open(my $fh, '<', $patch) or die "$patch: $!";
my $text = do { local $/; <$fh> };
if ($text =~ /FAKE: checkpatch-error/) {
	print "ERROR: fake checkpatch error\n#1: FILE: mm/a.c:1:\n\n";
	print "total: 1 errors, 0 warnings, 0 checks, 5 lines checked\n";
	exit 1;
}
print "total: 0 errors, 0 warnings, 0 checks, 5 lines checked\n\n";
print "$patch has no obvious style problems and is ready for submission.\n";
exit 0;
