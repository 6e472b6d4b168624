#!/usr/bin/env python3
"""The time error of -fp_order 4 transients against their space error, the
measurement behind the default time tolerances (src/solve/solve.c
ItSolveGridTolerances, doc/numerics.md "Fourth order"). Per case and grid:
the run at -ts_rtol 1e-10 -ts_atol 1e-12 -ksp_rtol 1e-13 (its error against the closed form
of python/infotherm/linear.py is the space error), the run at the default
tolerances and at each -ts_rtol given (atol a hundredth; their difference
from the tight run is the time error), to t = 1, from a Gaussian away from
the stationary law. Prints, per run and column, the time error over the space
error (|.| of each; the largest over the columns is the margin the rule must
keep), the resolution rho and the tolerance the rule chose (-info), the steps.
Cases (linear model, doc/physics.md §2):
  rot    the rotating 2-D case of doc/peer-comparison.md (box mean +- 9 sd,
         from N((-1,1), diag(0.05,0.1))), grids 32-128;
  fast   fast neuron tracking the velocity (tau_r 0.1, gain 10, D 1,4; box
         +- 6 sd) from N((0.5 sd, -0.5 sd), diag of half the stationary
         variances), grids 64-128;
  chain  v -> r -> w (tau 1, 0.2, 5; D 1, 0.45, 0.002; box +- 6 sd), from
         N(0.5 sd, half the stationary variances), grids 24-40;
  four   the 4-variable transient of tools/transient4_order4.py, 24^4.
Asserts nothing. Usage: INFOTHERM=build/infotherm python3
tools/time_error_order4.py [case[:n,n...] ...] [-- extra options]
(TIME_RTOLS=1e-4,1e-5: the fixed tolerances tried, default 1e-4,1e-5,1e-6,
empty: the default tolerances alone;
TIME_RANKS: ranks, default 1)."""
import os
import re
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.linear import linear_diagnostics, linear_moments, lyapunov  # noqa: E402
from infotherm.results import read_columns, read_json  # noqa: E402
from infotherm.runner import call, scratch  # noqa: E402

FLOWS = ["info_flow_X", "info_flow_Y", "mutual_information", "entropy_production"]
M4 = np.array([[-1.0, 0, 0, 0.2], [1.5, -2, 0, 0], [0, 0.8, -1.2, 0], [0.3, 0, 0.5, -1]])


def rot():
    M, b, D = np.array([[-1.0, -1.5], [2.0, -2.0]]), np.array([0.3, 0.0]), np.array([1.0, 0.2])
    return M, b, D, [-1.0, 1.0], np.diag([0.05, 0.1]), 9, ["mutual_information", "entropy_production", "entropy", "var_x1"]


def displaced(M, D, cols):
    S = lyapunov(M, D)
    sd = np.sqrt(np.diag(S))
    sign = np.array([(-1) ** i for i in range(len(D))])
    return M, np.zeros(len(D)), D, 0.5 * sd * sign, np.diag(0.5 * np.diag(S)), 6, cols


CASES = {
    "rot": (rot, [40, 48, 64, 96, 128]),
    "fast": (lambda: displaced(np.array([[-1.0, 0.0], [100.0, -10.0]]), np.array([1.0, 4.0]), FLOWS), [64, 96, 128]),
    "chain": (lambda: displaced(np.array([[-1.0, 0.0, 0.0], [5.0, -5.0, 0.0], [0.0, 0.2, -0.2]]),
                                np.array([1.0, 0.45, 0.002]), FLOWS), [24, 32, 40]),
    "four": (lambda: (M4, np.array([0.1, 0, 0, 0.2]), np.array([1.0, 0.3, 0.2, 0.4]), [1.0, 0, 0, 0],
                      np.diag([0.2, 0.1, 0.1, 0.1]), 8, ["mutual_information", "entropy_production", "var_x1", "var_x2",
                      "var_x3", "var_x4"]), [24]),
}
args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[:args.index("--")]
RTOLS = [r for r in os.environ.get("TIME_RTOLS", "1e-4,1e-5,1e-6").split(",") if r]
RANKS = int(os.environ.get("TIME_RANKS", "1"))


def solve(base, opts):
    out = scratch("time-error")
    proc = call("run", base + ["-output_dir", out, "-info", ":ts"] + opts + extra, ranks=RANKS)
    found = re.search(r"resolution (\S+), time tolerances rtol (\S+)", proc.stdout + proc.stderr)
    steps = read_json(out + "/summary.json").get("steps", "?")
    return read_columns(out + "/diagnostics.csv"), found.groups() if found else ("?", "?"), steps


print(f"{'case':6s} {'n':>4s} {'tolerance':>10s} {'rho':>8s} {'rtol':>9s} {'steps':>5s}  time/space error per column")
for arg in args or list(CASES):
    name, _, grids = arg.partition(":")
    make, default_grids = CASES[name]
    M, b, D, m0, S0, width, cols = make()
    d = len(D)
    names = [f"x{i + 1}" for i in range(d)]
    mu = -np.linalg.solve(M, b)
    sd = np.sqrt(np.diag(lyapunov(M, D)))
    lo, hi = mu - width * sd, mu + width * sd
    m1, S1 = linear_moments(M, b, D, m0, S0, 1.0)
    exact = linear_diagnostics(M, b, D, m1, S1, names[1:], names)
    vec = lambda v: ",".join(repr(float(x)) for x in np.ravel(v))  # noqa: E731
    for n in [int(g) for g in grids.split(",")] if grids else default_grids:
        base = ["-model", "linear", "-linear_M", vec(M), "-linear_b", vec(b), "-linear_D", vec(D),
                "-grid_lo", vec(lo), "-grid_hi", vec(hi), "-grid_n", n, "-fp_order", 4,
                "-init_mean", vec(m0), "-init_cov", vec(S0), "-t_final", 1, "-output_every", 1, "-quiet"]
        tight, (rho, _), tsteps = solve(base, ["-ts_rtol", "1e-10", "-ts_atol", "1e-12", "-ksp_rtol", "1e-13"])
        space = {c: tight[c][-1] - exact[c] for c in cols}
        print(f"{name:6s} {n:4d} {'1e-10':>10s} {rho:>8s} {'1e-10':>9s} {tsteps:>5}  space error: "
              + "  ".join(f"{c} {space[c]:+.2e} ({space[c] / exact[c]:+.1e} rel)" for c in cols), flush=True)
        for tol in ["default"] + RTOLS:
            opts = [] if tol == "default" else ["-ts_rtol", tol, "-ts_atol", f"{float(tol) / 100:g}"]
            row, (rho, rtol), steps = solve(base, opts)
            ratios = {c: abs(row[c][-1] - tight[c][-1]) / abs(space[c]) for c in cols}
            print(f"{name:6s} {n:4d} {tol:>10s} {rho:>8s} {rtol if tol == 'default' else tol:>9s} {steps:>5}  "
                  f"max {max(ratios.values()):.2e}: " + "  ".join(f"{c} {ratios[c]:.2e}" for c in cols), flush=True)
