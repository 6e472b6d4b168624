#!/usr/bin/env python3
"""Measures the memory a command takes per unknown, for the table in
src/app/memory.c (ItMemoryTable): the peak resident set (getrusage of the
child) of `infotherm info|stationary|run` on the linear model in 2, 3 and 5
variables at two grid sizes each, on one rank; the slope between the two sizes
is the bytes per unknown, split into a part per unknown and a part per matrix
nonzero (2d + 1 per row, the star stencil) by a least-squares fit over the
dimensions. Prints the figures; asserts nothing.

    tools/memory.py [--bin build/infotherm]
"""
import argparse
import os
import resource
import subprocess
import tempfile

import numpy as np

CASES = {2: (256, 768), 3: (40, 96), 5: (12, 14)}  # cells per axis, small and large


def peak_rss(argv):
    """Peak resident set of one child, in bytes (each run in its own process tree)."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],check=True,stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run(["python3", "-c", code] + argv, capture_output=True, text=True, check=True)
    return 1024.0 * float(out.stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "infotherm"))
    ap.add_argument("--dims", default="2,3,5", help="numbers of variables to measure")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for d in map(int, args.dims.split(",")):
            sizes = CASES[d]
            M = ",".join("-1" if i == j else ("0.3" if j == i + 1 else "0") for i in range(d) for j in range(d))
            base = ["-model", "linear", "-linear_M", M, "-linear_b", ",".join(["0"] * d),
                    "-linear_D", ",".join(["1"] * d), "-grid_lo", "-6", "-grid_hi", "6",
                    "-init_mean", ",".join(["1"] * d), "-init_cov", ",".join(["0.5"] * d),
                    "-t_final", "0.02", "-output_every", "0.02", "-ts_adapt_type", "none",
                    "-ts_dt", "0.01", "-memory_check", "false", "-quiet"]
            for command in ("info", "stationary", "run"):
                rss = []
                for n in sizes:
                    out = os.path.join(tmp, f"{command}{d}{n}")
                    rss.append(peak_rss([args.bin, command] + base + ["-grid_n", str(n), "-output_dir", out]))
                slope = (rss[1] - rss[0]) / (sizes[1] ** d - sizes[0] ** d)
                rows.append((command, d, slope, rss[0] - slope * sizes[0] ** d))
                print(f"{command:10s} d={d}  {slope:7.1f} B/unknown  base {rss[0] - slope * sizes[0] ** d:.3g} B",
                      flush=True)
    for command in ("info", "stationary", "run"):
        sel = [(d, s) for c, d, s, _ in rows if c == command]
        if len(sel) < 2:
            continue
        A = np.array([[1.0, 2 * d + 1] for d, _ in sel])
        coef = np.linalg.lstsq(A, np.array([s for _, s in sel]), rcond=None)[0]
        print(f"{command:10s} fit: {coef[0]:7.1f} B per unknown + {coef[1]:6.1f} B per nonzero per row")


if __name__ == "__main__":
    main()
