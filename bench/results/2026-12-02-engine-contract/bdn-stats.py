#!/usr/bin/env python3
"""Min / median / mean per publish of each case in a BenchmarkDotNet log (its WorkloadResult lines), and the
TwoThreads / OneThread ratios: on a heavily shared machine the median and the minimum are steadier than the mean."""
import re
import statistics
import sys

for path in sys.argv[1:]:
    cases, current = {}, None
    for line in open(path):
        m = re.match(r"// Benchmark: \S+\.(\w+):", line)
        if m:
            current = m.group(1)
            cases.setdefault(current, [])
            continue
        m = re.match(r"WorkloadResult\s+\d+: (\d+) op, ([\d.]+) ns", line)
        if m and current:
            cases[current].append(float(m.group(2)) / int(m.group(1)))
    print(f"{path}:")
    stats = {}
    for name, ns in cases.items():
        stats[name] = (min(ns), statistics.median(ns), statistics.mean(ns))
        print(f"  {name:10}  n={len(ns):3}  min {stats[name][0]:8.1f} ns  median {stats[name][1]:8.1f} ns  mean {stats[name][2]:8.1f} ns")
    if "OneThread" in stats and "TwoThreads" in stats:
        one, two = stats["OneThread"], stats["TwoThreads"]
        print(f"  TwoThreads / OneThread: min {two[0] / one[0]:.2f}  median {two[1] / one[1]:.2f}  mean {two[2] / one[2]:.2f}")
