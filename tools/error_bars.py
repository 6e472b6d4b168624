#!/usr/bin/env python3
"""How good are -error_estimate's error bars (doc/physics.md §5)? Runs Ornstein–Uhlenbeck
(linear model) cases, 1-3 variables, stationary and transient, whose every diagnostic has a
closed form (python/infotherm/linear.py: Lyapunov covariance, moments propagated by exp(M t), the
Gaussian's diagnostics; the cumulative columns by Gauss-Legendre quadrature of the closed-form
rates), and scores every row and column of the run's table against it:

  within 2x   <q>_uncertainty U and the true error e = exact - q within a factor 2 of each
              other (U/2 <= |e| <= 2 U), or both below the round-off floor
  too small   U < |e|/2 (the dangerous side of "within 2x")
  wrong sign  <q>_err and e of opposite signs, both above the floor
  signed      <q>_err/e in [0.5, 2] (the signed correction alone, for comparison)

over the values with <q>_trusted = 1 (and, for comparison, over all values), and how many
values are trusted. The cases are not those of the test suite: CASES, the six the rule of
doc/physics.md §5 was chosen on, and NEW_CASES, seven added after it was chosen, reported
apart. --rules measures, from plain runs on the grids h, 2h, 4h (and 4h and h at tolerances
100 times tighter), how well the time part estimates the fine grid's own time error and
how candidate rules score: the measurement behind the rule.
Usage: tools/error_bars.py [--quick] [--cases old|new|all] [--rules] [--bin build/infotherm]"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.results import read_table  # noqa: E402

from infotherm.errorbars import FLOOR, box, case_options, exact_rows, run_case  # noqa: E402  (python/infotherm/errorbars.py)


# The cases the rule of doc/physics.md §5 was first measured on.
CASES = [
    # label, M, b, D, n, lo, hi, sensor, init (None: stationary), t_final
    ("1-D stationary", [[-0.7]], [0.3], [0.4], 256, -6, 7, ["x1"], None, 0),
    ("1-D transient", [[-1.3]], [-0.2], [0.6], 256, -5, 4, ["x1"], ([1.2], [[0.15]]), 1.0),
    ("2-D stationary", [[-1.2, 0.4], [0.8, -0.9]], [0.1, 0.3], [0.4, 0.6], 128, -7, 7, ["x2"], None, 0),
    ("2-D transient", [[-0.9, -0.5], [0.5, -0.9]], [0.0, 0.2], [0.3, 0.5], 128, -5, 5, ["x2"],
     ([-0.9, 0.7], [[0.25, -0.04], [-0.04, 0.3]]), 1.0),
    ("2-D fast transient", [[-4.0, 2.0], [0.5, -1.0]], [0.0, 0.0], [1.0, 0.4], 128, -4, 4, ["x1"],
     ([0.5, 0.5], [[0.2, 0.0], [0.0, 0.2]]), 0.5),
    ("3-D transient", [[-1.1, 0.0, 0.3], [0.6, -0.9, 0.0], [0.0, 0.4, -1.2]], [0.1, 0.0, -0.1],
     [0.5, 0.4, 0.35], 40, -4, 4, ["x2", "x3"], ([0.6, -0.4, 0.3], [[0.4, 0.05, 0.0], [0.05, 0.35, 0.0], [0.0, 0.0, 0.3]]), 0.5),
]

# Cases added after the rule was chosen, to check it away from the cases it was tuned on: a
# chain v -> r -> w with time constants 1, 0.2, 5; a fast neuron (tau_r 0.1, gain 10); a 1-D
# transient from a narrow Gaussian off the centre; a rotating drift (eigenvalues -0.5 +- 2i).
# Boxes of 6.5 standard deviations (box()).
CHAIN = ([[-1.0, 0.0, 0.0], [5.0, -5.0, 0.0], [0.0, 0.2, -0.2]], [0.0, 0.0, 0.0], [0.5, 1.0, 0.04])
CHAIN_INIT = ([0.8, 0.0, 0.3], [[0.3, 0.0, 0.0], [0.0, 0.5, 0.0], [0.0, 0.0, 0.3]])
FAST = ([[-1.0, 0.0], [100.0, -10.0]], [0.0, 0.0], [0.5, 10.0])
FAST_INIT = ([0.6, 0.0], [[0.3, 0.0], [0.0, 2.0]])
OFF = ([[-2.0]], [0.5], [0.3])
OFF_INIT = ([2.0], [[0.05]])
ROT = ([[-0.5, 2.0], [-2.0, -0.5]], [0.0, 0.0], [0.4, 0.4])
ROT_INIT = ([1.5, 0.0], [[0.1, 0.0], [0.0, 0.1]])
NEW_CASES = [
    ("3-D chain stationary", *CHAIN, 64, *box(*CHAIN), ["x2", "x3"], None, 0),
    ("3-D chain transient", *CHAIN, 64, *box(*CHAIN, CHAIN_INIT), ["x2", "x3"], CHAIN_INIT, 1.0),
    ("2-D fast neuron stationary", *FAST, 256, *box(*FAST), ["x2"], None, 0),
    ("2-D fast neuron transient", *FAST, 256, *box(*FAST, FAST_INIT), ["x2"], FAST_INIT, 0.5),
    ("1-D off-centre transient", *OFF, 256, *box(*OFF, OFF_INIT), ["x1"], OFF_INIT, 1.0),
    ("2-D rotating stationary", *ROT, 128, *box(*ROT), ["x1"], None, 0),
    ("2-D rotating transient", *ROT, 128, *box(*ROT, ROT_INIT), ["x1"], ROT_INIT, 1.0),
]


def plain_table(binary, case, n, tight):
    """One plain run of a case on n cells per axis (tight: time tolerances 100 times the defaults',
    as -error_estimate's time-error solve)."""
    label, M, b, D, _, lo, hi, sensor, init, T = case
    out = tempfile.mkdtemp(prefix="error_bars-")
    command, table_name, opts = case_options(M, b, D, n, lo, hi, sensor, init, T, T / 4 if T else 0)
    opts += ["-output_dir", out] + (["-ts_rtol", "1e-6", "-ts_atol", "1e-8"] if tight else [])
    proc = subprocess.run([binary, command] + opts, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: infotherm {command} failed: {proc.stderr.strip()}")
    return {k: np.asarray(v, float) for k, v in read_table(os.path.join(out, table_name)).items()}


def parts(binary, case):
    """Per value (t > 0, transient): the grid part g = (q_h - q_2h)/3, the time part
    t = q_4h,tight - q_4h, the order margin m, whether the order is in [1.5, 2.6], the fine
    grid's own time error q_h,tight - q_h and the true error, from plain runs (doc/physics.md §5)."""
    label, M, b, D, n, lo, hi, sensor, init, T = case
    h, h2, h4 = (plain_table(binary, case, n // f, False) for f in (1, 2, 4))
    h4t, ht = plain_table(binary, case, n // 4, True), plain_table(binary, case, n, True)
    exact = exact_rows(M, b, D, sensor, [f"x{i + 1}" for i in range(len(b))], h["t"], init)
    out = []
    for r in range(len(h["t"])):
        for k, ex in exact[r].items():
            if k == "mass" or k not in h or h["t"][r] == 0 or not math.isfinite(ex):
                continue
            qh, q2, q4 = h[k][r], h2[k][r], h4[k][r]
            ratio = (q4 - q2) / (q2 - qh) if q2 != qh else math.nan
            p = math.log2(ratio) if ratio > 0 and math.isfinite(ratio) else math.nan
            roundoff = abs(qh - q2) <= 1e-10 * max(abs(qh), abs(q2), 1)
            m = 0 if roundoff else abs(qh - q2) * (abs(1 / (2**p - 1) - 1 / 3) if math.isfinite(p) else 1 / 3)
            out.append(dict(g=(qh - q2) / 3, t=h4t[k][r] - q4, m=m, fine_time=ht[k][r] - qh, e=ex - qh,
                            floor=FLOOR * max(abs(ex), 1), order_ok=roundoff or 1.5 <= p <= 2.6))
    return out


def measure_rules(binary, cases):
    """The measurement behind the rule of doc/physics.md §5: how well the time part estimates the
    fine grid's own time error, and the bars within 2x under the sum of the parts' sizes against
    the signed sum plus a fraction delta of the time part (trusted only where the half-width is at
    most twice the correction), for several delta."""
    values = [v for case in cases for v in parts(binary, case)]
    ratios = [v["t"] / v["fine_time"] for v in values
              if v["order_ok"] and min(abs(v["t"]), abs(v["fine_time"])) > 10 * v["floor"]]
    q = np.quantile(ratios, [0.05, 0.25, 0.5, 0.75, 0.95])
    print(f"time part / the fine grid's time error over {len(ratios)} values: quantiles 5, 25, 50, 75, 95 %: "
          + ", ".join(f"{x:.2f}" for x in q))
    rules = [("sizes |g| + |t| + m", None)] + [(f"|g + t| + m + {d:g} |t|", d) for d in (0.25, 0.5, 1.0)]
    for name, delta in rules:
        n = within = small = wrong = 0
        for v in values:
            err = v["g"] + v["t"]
            U = abs(v["g"]) + abs(v["t"]) + v["m"] if delta is None else abs(err) + v["m"] + delta * abs(v["t"])
            if not v["order_ok"] or (delta is not None and U > 2 * abs(err)):
                continue
            e, floor = v["e"], v["floor"]
            n += 1
            within += (U / 2 <= abs(e) <= 2 * U) or max(abs(e), U) <= floor
            small += U < abs(e) / 2 and abs(e) > floor
            wrong += err * e < 0 and abs(e) > floor and abs(err) > floor
        print(f"  {name:24s} trusted {n:4d} of {len(values)} (t > 0), within 2x {within} ({100 * within / max(n, 1):.1f} %), "
              f"too small {small}, wrong sign {wrong}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.environ.get("INFOTHERM", "build/infotherm"))
    parser.add_argument("--quick", action="store_true", help="the 1-D and 2-D cases only")
    parser.add_argument("--cases", choices=("old", "new", "all"), default="all",
                        help="the cases the rule was measured on (old), those added after (new), or both")
    parser.add_argument("--rules", action="store_true",
                        help="measure the parts and the candidate rules from plain runs (the rule's justification)")
    parser.add_argument("--verbose", action="store_true", help="list the bars that miss")
    args = parser.parse_args()
    sets = [("old", CASES), ("new", NEW_CASES)]
    for name, cases in sets:
        if args.cases not in (name, "all"):
            continue
        cases = [c for c in cases if not (args.quick and len(c[2]) > 2)]
        print(f"{name} cases:")
        if args.rules:
            measure_rules(args.bin, cases)
            continue
        total = {"trusted": 0, "within": 0, "wrong": 0, "small": 0, "signed": 0, "all": 0, "all_within": 0,
                 "t0_changed": 0, "t0": 0, "t0_trusted": 0}
        for label, M, b, D, n, lo, hi, sensor, init, T in cases:
            s = run_case(args.bin, label, M, b, D, n, lo, hi, sensor, init, T, T / 4 if T else 0)
            for k in total:
                total[k] += s[k]
            print(f"  {label:26s} trusted {s['trusted']:4d}/{s['all']:4d}, within 2x {s['within']:4d} "
                  f"({100 * s['within'] / max(s['trusted'], 1):5.1f} %), too small {s['small']}, wrong sign {s['wrong']}, "
                  f"t = 0 changed {s['t0_changed']}")
            if args.verbose:
                for line in s["worst"][:12]:
                    print("      " + line)
        later = total["trusted"] - total["t0_trusted"]
        print(f"  {name} cases: {total['within']} of {total['trusted']} trusted bars within 2x of the true error "
              f"({100 * total['within'] / max(total['trusted'], 1):.1f} %), {total['small']} more than 2x too small, "
              f"{total['wrong']} trusted wrong-sign bars; trusted {total['trusted']} of {total['all']} values "
              f"({later} of {total['all'] - total['t0']} at t > 0); "
              f"over all {total['all']} bars {100 * total['all_within'] / max(total['all'], 1):.1f} % within 2x; "
              f"t = 0 values changed by the extrapolation: {total['t0_changed']}; the signed <q>_err within 2x of the "
              f"true error (same sign) for {total['signed']} of the {total['trusted']} trusted values "
              f"({100 * total['signed'] / max(total['trusted'], 1):.1f} %)")


if __name__ == "__main__":
    main()
