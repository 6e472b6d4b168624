#!/usr/bin/env python3
"""The accuracy targets of -fp_order 4 that the other benchmarks leave out,
stationary, against the closed forms of the linear model (python/infotherm/
linear.py: the Lyapunov equation for the covariance, doc/physics.md §2-3),
at -fp_order 2 and 4, box mean +- 6 sd of the stationary law:
  fast   2-D fast neuron tracking the velocity (tau_r = 0.1, gain 10, the
         inference model's regime linearised: A_r = (10 v - r)/0.1,
         D = 1, 4: the noise that keeps the corners of the box below the
         cell Peclet limit of 700), 128^2: information flows (0.74 % off
         at order 4 with the stationary width, doc/numerics.md; 15 %
         before it);
  chain  3-D chain v -> r -> w (tau 1, 0.2, 5; unit gains; D = 1,
         0.3^2/0.2, 0.1^2/5), 48^3: information flows, MI, entropy production;
  four   4-D linear model of tests/test_nd.py, 24^4: MI, entropy production.
Prints relative errors and the stationary solve's Krylov iterations; asserts
nothing. Usage: INFOTHERM=build/infotherm python3 tools/accuracy_order4.py
[case ...] [-- extra options] (ACCURACY_RANKS=n: ranks, default 1)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from common import *  # noqa: E402,F403

CASES = {
    "fast": (np.array([[-1.0, 0.0], [100.0, -10.0]]), [1.0, 4.0], 128,
             ["info_flow_X", "info_flow_Y", "mutual_information", "entropy_production"]),
    "chain": (np.array([[-1.0, 0.0, 0.0], [5.0, -5.0, 0.0], [0.0, 0.2, -0.2]]), [1.0, 0.45, 0.002], 48,
              ["info_flow_X", "info_flow_Y", "mutual_information", "entropy_production"]),
    "four": (np.array([[-1.0, 0.3, 0.0, 0.2], [0.5, -1.0, 0.2, 0.0], [0.0, 0.4, -1.0, 0.3], [0.2, 0.0, 0.5, -1.0]]),
             [0.5, 0.4, 0.3, 0.4], 24, ["mutual_information", "entropy_production", "entropy"]),
}
args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[:args.index("--")]
ranks = int(os.environ.get("ACCURACY_RANKS", "1"))
for name in args or list(CASES):
    M, D, n, cols = CASES[name]
    d = len(D)
    names = [f"x{i + 1}" for i in range(d)]
    S = lyapunov(M, np.array(D))
    sd = np.sqrt(np.diag(S))
    exact = linear_diagnostics(M, np.zeros(d), D, np.zeros(d), S, names[1:], names)
    base = ["-model", "linear", "-linear_M", ",".join(repr(float(x)) for x in M.ravel()),
            "-linear_D", ",".join(map(repr, D)), "-grid_n", n,
            "-grid_lo", ",".join(repr(float(-6 * s)) for s in sd), "-grid_hi", ",".join(repr(float(6 * s)) for s in sd)]
    for order in (2, 4):
        out = tmpdir(f"acc-{name}-{order}")
        proc = run("stationary", base + ["-fp_order", order, "-output_dir", out] + extra, ranks=ranks, expect_ok=False)
        if proc.returncode != 0:
            print(f"{name:6s} {n}^{d} order {order}: failed: {proc.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        row = read_csv(out + "/stationary.csv")
        its = read_json(out + "/stationary_summary.json").get("ksp_iterations", "?")
        errs = "  ".join(f"{c} {row[c][-1] / exact[c] - 1:+.2e}" for c in cols)
        print(f"{name:6s} {n}^{d} order {order}: {errs}  (Krylov {its})", flush=True)
