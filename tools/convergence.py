#!/usr/bin/python3
"""Convergence of every diagnostic of the linear model against its closed form
(doc/physics.md §3; closed forms derived in python/infotherm/linear.py from the Gaussian
density, the Lyapunov covariance and the traces for Π, Γ_i, İ_X).

    tools/convergence.py [--quick] [--ranks N] [--json FILE]

For each case (2-D and 3-D, stationary and transient, non-equilibrium steady
states with feedback both ways) it runs infotherm on a sequence of grids and
prints, per quantity: the closed form, the value on the finest grid, its
relative error, the observed orders, and the error of the Richardson
extrapolation of the two finest grids."""
import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.convergence import CASES, study  # noqa: E402  (python/infotherm/convergence.py)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="coarser grids (the test suite's)")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    results = {}
    for label in args.cases.split(","):
        case = CASES[label]
        grids = case["quick"] if args.quick else case["n"]
        table = study(label, case, grids, args.ranks)
        results[label] = dict(grids=grids, table=table)
        print(f"\n{label}: grids {grids} per axis, {args.ranks} rank(s)")
        print(f"  {'quantity':<24} {'closed form':>14} {'computed':>14} {'rel. error':>10}  {'orders':<14} {'Richardson':>10}")
        for k, row in table.items():
            orders = ", ".join("-" if math.isnan(o) else f"{o:.2f}" for o in row["orders"])
            print(f"  {k:<24} {row['exact']:>14.7g} {row['values'][-1]:>14.7g} {row['rel_error']:>10.2e}  {orders:<14} {row['richardson_rel_error']:>10.2e}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
