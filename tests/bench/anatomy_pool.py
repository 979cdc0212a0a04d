#!/usr/bin/python3
"""Pools anatomy_validate outputs of one sex run over several seed ranges (one process per
range, so the two cores are both used and a long validation survives in pieces).

usage: anatomy_pool.py [--ref LOG] LOG [LOG ...]
(--ref: a log whose table gives the ICRP column only, e.g. of `anatomy_validate --subjects 1
--voxel 8 --sex S`, for logs of runs stopped before their table.) Prints the number of subjects, the mean organ volumes against ICRP 89 (the reference column of
the logs' own tables), their CV, and the rule failures counted by kind. Exit code 0 when every
mean is within +-15 % with a CV in 8-35 % and no rule failed, 1 otherwise."""
import collections
import math
import re
import sys


def main(args):
    ref = None
    if args[:1] == ["--ref"]:
        ref, args = args[1], args[2:]
    logs = ([ref] if ref else []) + args
    vols = collections.defaultdict(list)
    icrp = {}
    fails = collections.Counter()
    folds = 0
    seeds = set()
    stature, bmi = [], []
    for path in logs:
        for line in open(path):
            m = re.match(r"\s+seed (\d+): volumes ml (.*)", line)
            if m and path == ref:
                continue
            if m:
                seeds.add(int(m.group(1)))
                for kv in m.group(2).split():
                    k, v = kv.split("=")
                    vols[k].append(float(v))
                continue
            m = re.match(r"\s+seed \d+: ([\d.]+) cm \(asked ([\d.]+)\), [\d.]+ kg, "
                         r"BMI ([\d.]+) \(asked ([\d.]+)\)", line)
            if m and path != ref:
                h, ha, b, ba = map(float, m.groups())
                stature.append(abs(h - ha) * 10)
                bmi.append(b / ba - 1)
                continue
            m = re.match(r"\s+seed \d+: rule failed: (.*)", line)
            if m and path != ref:
                fails[re.sub(r"\d+", "N", m.group(1))] += 1
                continue
            if path != ref and re.match(r"\s+seed \d+: \d+ voxels of air enclosed", line):
                folds += 1
                continue
            m = re.match(r"\s{2}(\S.*?)\s+(\d+\.\d)\s+(\d+\.\d)\s+[-+]\d", line)
            if m:
                icrp[m.group(1)] = float(m.group(3))
    # the table names organs ("heart with blood"), the volume lines their prefixes ("heart")
    names = [n for n in icrp]
    prefixes = list(vols)
    n = len(seeds)
    print(f"{n} subjects")
    bad = 0
    for name, prefix in zip(names, prefixes):
        v = vols[prefix]
        mean = sum(v) / len(v)
        cv = math.sqrt(max(0.0, sum(x * x for x in v) / len(v) - mean * mean)) / mean
        diff = mean / icrp[name] - 1
        ok = abs(diff) <= 0.15 and 0.08 <= cv <= 0.35
        bad += not ok
        print(f"  {name:18s} {mean:8.1f} ml  ICRP {icrp[name]:8.1f}  {100 * diff:+6.1f} %  "
              f"CV {100 * cv:5.1f} %{'' if ok else '  <-- outside'}")
    if stature:
        print(f"stature within {max(stature):.1f} mm of the asked height (printed to 1 mm); BMI "
              f"from the tissues' masses within {100 * max(map(abs, bmi)):.1f} % (mean "
              f"{100 * sum(bmi) / len(bmi):+.1f} %)")
    print(f"rule failures: {sum(fails.values())} ({sum(fails.values()) / max(n, 1):.2f} per "
          f"subject); subjects with air between skin folds: {folds}")
    for what, count in fails.most_common():
        print(f"  {count:4d}  {what}")
    return 1 if bad or fails else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
