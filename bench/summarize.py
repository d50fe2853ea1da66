#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Medians, ratios and targets of one make bench run, and the data for its
plot. Input lines: "KIND MODE NPAGES NS_PER_PAGE"."""

import statistics
import sys
from collections import defaultdict


def main() -> int:
	samples = defaultdict(list)
	for path in sys.argv[2:]:
		with open(path, encoding='utf-8') as f:
			for line in f:
				kind, mode, npages, ns = line.split()
				samples[(kind, mode, int(npages))].append(float(ns))
	med = {k: statistics.median(v) for k, v in samples.items()}
	sizes = sorted({k[2] for k in med})
	print(f'{"pages/call":>10} {"mirror ns/pg":>13} {"cpu ns/pg":>10} {"mirror/cpu":>11}'
	      f' {"present ns/pg":>14} {"base ns/pg":>11} {"series/base":>12} {"walks/pg":>9}')
	with open(sys.argv[1], 'w', encoding='utf-8') as plot:
		for n in sizes:
			m = med.get(('series', 'mirror', n))
			c = med.get(('series', 'cpu', n))
			p = med.get(('series', 'present', n))
			b = med.get(('base', 'present', n))
			w = med.get(('series', 'walks', n))
			walks = f'{w:>9.3f}' if w is not None else f'{"-":>9}'
			print(f'{n:>10} {m:>13.0f} {c:>10.0f} {m / c:>11.2f} {p:>14.0f} {b:>11.0f} {p / b:>12.3f} {walks}')
			plot.write(f'{n} {m} {c} {p} {b}\n')
	runs = len(samples[('series', 'mirror', sizes[0])])
	targets = [
		('mirror/cpu at 512 pages per call', med[('series', 'mirror', 512)] / med[('series', 'cpu', 512)], 1.2),
		('mirror ns/page at 65536 over 512', med[('series', 'mirror', 65536)] / med[('series', 'mirror', 512)], 1.2),
		('present pages, series over base (512)', med[('series', 'present', 512)] / med[('base', 'present', 512)], 1.02),
	]
	if ('series', 'walks', 512) in med and ('series', 'walks', 65536) in med:
		targets.append(('walk callbacks per page, 65536 over 512',
				med[('series', 'walks', 65536)] / med[('series', 'walks', 512)], 1.2))
	print(f'medians of {runs} runs per cell')
	for name, value, limit in targets:
		print(f'{name}: {value:.3f} (target <= {limit}) {"hit" if value <= limit else "MISSED"}')
	return 0


if __name__ == '__main__':
	sys.exit(main())
