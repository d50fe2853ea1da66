#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stage 7, report: one table of every stage, the kselftest results, the
kernel log verdict, and the closing line "N passed, N failed, N skipped".

The TAP that run_kselftest.sh writes nests each test's own TAP behind
"# " prefixes. The kernel's KTAP parser (tools/testing/kunit/kunit_parser.py)
reads one level at a time, so each test's log is parsed again, one prefix
less, until the innermost results: those are what is counted.

Every skip and every known failure must be explained in the expectations
file (pattern, status, reason); anything unexplained fails the run.
"""

import argparse
import fnmatch
import os
import re
import sys
from typing import Iterator, List, NamedTuple, Optional, Tuple


class Leaf(NamedTuple):
	path: str
	status: str  # pass, fail or skip
	detail: str


class Expectation(NamedTuple):
	pattern: str
	status: str
	reason: str


def load_parser(tree: str):
	sys.path.insert(0, os.path.join(tree, 'tools', 'testing', 'kunit'))
	import kunit_parser  # pylint: disable=import-outside-toplevel
	import kunit_printer  # pylint: disable=import-outside-toplevel
	return kunit_parser, kunit_printer.Printer(print=False)


def unnest(log: List[str]) -> List[str]:
	out = []
	for line in log:
		if line.startswith('# '):
			out.append(line[2:])
		elif line.rstrip() == '#':
			out.append('')
	return out


PLAN = re.compile(r'^1\.\.[0-9]+')


def plan_first(kp, lines: List[str]) -> List[str]:
	"""TAP 13 allows the plan after the results (run_vmtests.sh puts it
	there); kunit_parser wants it after the version line, or it gives the
	first test's output to the parent and takes the plan for a test."""
	for v, line in enumerate(lines):
		if kp.TAP_START.match(line) or kp.KTAP_START.match(line):
			break
	else:
		return lines
	if v + 1 < len(lines) and PLAN.match(lines[v + 1]):
		return lines
	for p in range(len(lines) - 1, v, -1):
		if PLAN.match(lines[p]):
			return lines[:v + 1] + [lines[p]] + lines[v + 1:p] + lines[p + 1:]
	return lines


def leaves(kp, printer, lines: List[str], prefix: str) -> Iterator[Leaf]:
	top = kp.parse_run_tests(plan_first(kp, lines), printer)
	if top.status == kp.TestStatus.FAILURE_TO_PARSE_TESTS:
		yield Leaf(prefix or 'TAP', 'fail', 'no TAP output')
		return
	yield from walk(kp, printer, top, prefix)


def status_of(kp, test) -> str:
	if test.status == kp.TestStatus.SUCCESS:
		return 'pass'
	if test.status == kp.TestStatus.SKIPPED:
		return 'skip'
	return 'fail'


def walk(kp, printer, test, prefix: str) -> Iterator[Leaf]:
	if test.expected_count is not None and len(test.subtests) < test.expected_count:
		yield Leaf(prefix or test.name, 'fail',
			   f'{test.expected_count - len(test.subtests)} planned test(s) never reported')
	for sub in test.subtests:
		path = f'{prefix} / {sub.name}' if prefix else sub.name
		nested = unnest(sub.log)
		inner: List[Leaf] = []
		if any(kp.TAP_START.match(l) or kp.KTAP_START.match(l) for l in nested):
			inner = list(leaves(kp, printer, nested, path))
		if sub.subtests:
			inner += list(walk(kp, printer, sub, path))
		status = status_of(kp, sub)
		if not inner:
			yield Leaf(path, status, sub.skip_reason if status == 'skip' else '')
			continue
		yield from inner
		# A test that failed as a whole (timeout, crash) while everything
		# it reported passed still failed.
		if status == 'fail' and all(l.status != 'fail' for l in inner):
			yield Leaf(path, 'fail', 'failed as a whole (timeout or crash?)')


def read_rows(path: str, valid, form: str) -> Iterator[List[str]]:
	"""The 3-field rows of a tab-separated data file, comments and blank
	lines skipped; a malformed row stops the report, naming FORM."""
	with open(path, encoding='utf-8') as f:
		for num, line in enumerate(f, 1):
			line = line.rstrip('\n')
			if not line.strip() or line.startswith('#'):
				continue
			fields = line.split('\t')
			if len(fields) != 3 or not valid(fields):
				sys.exit(f'error: {path}:{num}: want "{form}"')
			yield fields


def load_expectations(path: str) -> List[Expectation]:
	return [Expectation(*f) for f in read_rows(path, lambda f: f[1] in ('skip', 'fail'),
						   'pattern<TAB>skip|fail<TAB>reason')]


def load_minimums(path: str) -> List[Tuple[str, int, str]]:
	return [(f[0], int(f[1]), f[2]) for f in read_rows(path, lambda f: f[1].isdigit(),
							  'pattern<TAB>minimum<TAB>reason')]


def explain(leaf: Leaf, expected: List[Expectation]) -> Optional[Expectation]:
	name = leaf.path.split(' / ')[-1]
	for e in expected:
		if e.status == leaf.status and (fnmatch.fnmatchcase(name, e.pattern) or
						fnmatch.fnmatchcase(leaf.path, e.pattern)):
			return e
	return None


def load_expected_splats(path: Optional[str]) -> List[Tuple[re.Pattern, int, str]]:
	"""regex<TAB>count<TAB>reason lines: splats a test causes on purpose."""
	if not path:
		return []
	return [(re.compile(f[0]), int(f[1]), f[2]) for f in read_rows(path, lambda f: f[1].isdigit(),
									'regex<TAB>count<TAB>reason')]


def scan_dmesg(path: str, patterns_file: str,
	       expected_file: Optional[str] = None) -> Tuple[List[str], List[str]]:
	"""Excerpts around each line that matches a failure pattern, except the
	expected splats; and a problem for each expected splat not seen exactly
	as often as stated (so that it proves its test ran, and hides nothing
	more)."""
	with open(patterns_file, encoding='utf-8') as f:
		patterns = [re.compile(l.rstrip('\n')) for l in f
			    if l.strip() and not l.startswith('#')]
	expected = load_expected_splats(expected_file)
	seen = [0] * len(expected)
	with open(path, encoding='utf-8', errors='replace') as f:
		lines = f.read().splitlines()
	excerpts = []
	for i, line in enumerate(lines):
		if any(p.search(line) for p in patterns):
			hit = next((k for k, (rx, _, _) in enumerate(expected) if rx.search(line)), None)
			if hit is not None:
				seen[hit] += 1
				continue
			excerpts.append('\n'.join(lines[max(0, i - 2):i + 25]))
	wrong = [f'expected kernel log splat seen {n} time(s), want {count}: {reason}'
		 for n, (_, count, reason) in zip(seen, expected) if n != count]
	return excerpts, wrong


BOOT_BANNER = re.compile(r'^(\[[ 0-9.]+\] )?Linux version ')


def dmesg_incomplete(path: str) -> Optional[str]:
	"""A log with no splat proves nothing if it is empty or lost its start
	(the ring buffer wrapped): the first line must be the boot banner."""
	with open(path, encoding='utf-8', errors='replace') as f:
		first = f.readline()
	if not first:
		return 'guest dmesg is empty'
	if not BOOT_BANNER.match(first):
		return ('guest dmesg does not start with the boot banner (ring buffer '
			'wrapped?), so a splat may be lost: ' + first.rstrip())
	return None


def read_stages(path: str) -> List[Tuple[str, int, int, int, int]]:
	rows = []
	if os.path.exists(path):
		with open(path, encoding='utf-8') as f:
			for line in f:
				name, p, fl, s, secs = line.rstrip('\n').split('\t')
				rows.append((name, int(p), int(fl), int(s), int(secs)))
	return rows


def main() -> int:
	ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
	ap.add_argument('--tree', required=True, help='kernel tree (for kunit_parser)')
	ap.add_argument('--stages', required=True, help='results.tsv of the stages')
	ap.add_argument('--tap', action='append', default=[], help='TAP file (repeatable)')
	ap.add_argument('--expected', required=True, help='expected skips/failures')
	ap.add_argument('--dmesg', help='guest kernel log')
	ap.add_argument('--dmesg-patterns', help='regexes that fail the run')
	ap.add_argument('--dmesg-expected', help='splats a test causes on purpose: regex, count, reason')
	ap.add_argument('--excluded', help='tests the VM did not run, with reasons')
	ap.add_argument('--min-cases', help='pattern, minimum number of innermost cases, reason')
	args = ap.parse_args()

	kp, printer = load_parser(args.tree)
	expected = load_expectations(args.expected)
	stages = read_stages(args.stages)
	passed = sum(r[1] for r in stages)
	failed = sum(r[2] for r in stages)
	skipped = sum(r[3] for r in stages)

	print(f'{"stage":<28} {"passed":>7} {"failed":>7} {"skipped":>8} {"seconds":>8}')
	for name, p, fl, s, secs in stages:
		print(f'{name:<28} {p:>7} {fl:>7} {s:>8} {secs:>8}')

	problems = []
	minimums = load_minimums(args.min_cases) if args.min_cases else []
	seen: List[str] = []
	for tap in args.tap:
		if not os.path.exists(tap):
			problems.append(f'{tap}: missing (the run did not produce it)')
			failed += 1
			continue
		with open(tap, encoding='utf-8', errors='replace') as f:
			lines = f.read().splitlines()
		suite = os.path.basename(tap)
		counts = {'pass': 0, 'fail': 0, 'skip': 0}
		for leaf in leaves(kp, printer, lines, ''):
			seen.append(leaf.path)
			why = explain(leaf, expected) if leaf.status != 'pass' else None
			if leaf.status == 'pass':
				counts['pass'] += 1
			elif why:
				counts['skip'] += 1
			else:
				counts['fail'] += 1
				what = 'unexplained skip' if leaf.status == 'skip' else 'FAILED'
				problems.append(f'{what}: {leaf.path} {leaf.detail}'.rstrip())
		print(f'{suite:<28} {counts["pass"]:>7} {counts["fail"]:>7} {counts["skip"]:>8} {"":>8}')
		passed += counts['pass']
		failed += counts['fail']
		skipped += counts['skip']

	# A suite whose nested TAP was lost counts as one case of its parent;
	# only a floor on the number of cases notices that.
	for pattern, minimum, reason in minimums:
		n = sum(1 for path in seen if fnmatch.fnmatchcase(path, pattern))
		if n < minimum:
			failed += 1
			problems.append(f'only {n} case(s) match "{pattern}", want at least {minimum}: {reason}')

	if args.dmesg:
		if not os.path.exists(args.dmesg):
			problems.append('guest dmesg missing')
			failed += 1
		elif dmesg_incomplete(args.dmesg):
			problems.append(dmesg_incomplete(args.dmesg))
			failed += 1
		else:
			excerpts, wrong = scan_dmesg(args.dmesg, args.dmesg_patterns,
						     args.dmesg_expected)
			bad = bool(excerpts or wrong)
			print(f'{"dmesg clean":<28} {int(not bad):>7} {int(bad):>7} {0:>8} {"":>8}')
			problems.extend(wrong)
			if excerpts:
				problems.append('kernel log reports a problem:\n' + '\n---\n'.join(excerpts[:3]))
			if bad:
				failed += 1
			else:
				passed += 1

	if args.excluded:
		with open(args.excluded, encoding='utf-8') as f:
			for line in f:
				if line.strip() and not line.startswith('#'):
					binary, name, reason = line.rstrip('\n').split('\t')
					print(f'not run: {binary} {name}: {reason}')
	for p in problems:
		print(p)
	print(f'{passed} passed, {failed} failed, {skipped} skipped')
	return 1 if failed else 0


if __name__ == '__main__':
	sys.exit(main())
