#!/usr/bin/env python3
"""Side by side with fplanck: time to a mutual-information error of 1e-4 on the
rotating 2-D linear case (-linear_M -1,-1.5,2,-2 -linear_b 0.3,0 -linear_D 1,0.2,
box mean +- 9 sd), stationary and transient (from N((-1,1), diag(0.05,0.1)) to
t = 1), whole-process wall times, each measured in this one run. Prints a table;
asserts nothing (wall times depend on the machine and its load).

fplanck is not part of infotherm: bring it with `git clone
https://github.com/johnaparker/fplanck` (needs python3-scipy; on Python 3.11
replace `def combine[T](` in src/fplanck/utility.py by `def combine(` with a
module-level `T = TypeVar("T")`), then
    FPLANCK_SRC=/path/to/fplanck/src INFOTHERM=build/infotherm python3 tools/bench_fplanck.py
Without FPLANCK_SRC only infotherm's rows are printed.
Environment: BENCH_RANKS (default 1,2), FPLANCK_STATIONARY_N (800), FPLANCK_TRANSIENT_N (640),
INFOTHERM_N (64,96; -fp_order 4) and INFOTHERM_N2 (128; -fp_order 2, for comparison)."""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.linear import linear_diagnostics, linear_moments, lyapunov  # noqa: E402
from infotherm.results import read_columns  # noqa: E402
from infotherm.runner import binary, scratch  # noqa: E402

import numpy as np  # noqa: E402

M = np.array([[-1.0, -1.5], [2.0, -2.0]])
b = np.array([0.3, 0.0])
D = np.array([1.0, 0.2])
mu = -np.linalg.solve(M, b)
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
lo, hi = mu - 9 * sd, mu + 9 * sd
m0, S0 = np.array([-1.0, 1.0]), np.diag([0.05, 0.1])
exact_ss = linear_diagnostics(M, b, D, mu, S, ["x2"], ["x1", "x2"])["mutual_information"]
m1, S1 = linear_moments(M, b, D, m0, S0, 1.0)
exact_tr = linear_diagnostics(M, b, D, m1, S1, ["x2"], ["x1", "x2"])["mutual_information"]

BASE = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2",
        "-grid_lo", f"{lo[0]!r},{lo[1]!r}", "-grid_hi", f"{hi[0]!r},{hi[1]!r}", "-quiet"]
TRANSIENT = ["-init_mean", "-1,1", "-init_cov", "0.05,0,0,0.1", "-t_final", "1", "-output_every", "1"]
# the time error must stay below the fourth-order grid error: ARK5 at a tight tolerance
ARK5 = ["-ts_arkimex_type", "5", "-ts_rtol", "1e-7", "-ts_atol", "1e-9"]


def infotherm(kind, n, order, ranks):
    out = scratch(f"peer-{kind}-{n}-{order}-{ranks}")
    argv = [binary(), "stationary" if kind == "stationary" else "run"] + BASE + [
        "-grid_n", str(n), "-fp_order", str(order), "-output_dir", out]
    if kind == "transient":
        argv += TRANSIENT + (ARK5 if order == 4 else [])
    if ranks > 1:
        argv = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", str(ranks)] + argv
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"infotherm failed: {proc.stderr.strip()}")
    wall = time.perf_counter() - start
    row = read_columns(os.path.join(out, "stationary.csv" if kind == "stationary" else "diagnostics.csv"))
    return row["mutual_information"][-1], wall


def mutual_information(p, dx, dy):
    """I(x1; x2) by cell quadrature of a density normalised on the grid."""
    p = np.clip(p, 0, None)
    p = p / (p.sum() * dx * dy)
    px, py = p.sum(axis=1) * dy, p.sum(axis=0) * dx

    def entropy(q, cell):
        q = q[q > 0]
        return -np.sum(q * np.log(q)) * cell
    return entropy(px, dx) + entropy(py, dy) - entropy(p.ravel(), dx * dy)


def fplanck(kind, n):
    """fplanck with F(x) = M (x + c) + b on its zero-centred grid (c the box centre), drag 1 and
    temperature D / k_B: exactly drift M x + b and diffusion D; reflecting walls."""
    code = f"""
import sys, time, numpy as np
start = time.perf_counter()
sys.path.insert(0, {os.environ['FPLANCK_SRC']!r})
from fplanck.solver import FokkerPlanck
from fplanck.utility import Boundary
from scipy import constants
lo, hi, n = np.array({list(lo)!r}), np.array({list(hi)!r}), {n}
c = (lo + hi) / 2
M, b, D = np.array({M.tolist()!r}), np.array({b.tolist()!r}), np.array({D.tolist()!r})
def force(x, y):
    X, Y = x + c[0], y + c[1]
    return np.array([M[0, 0] * X + M[0, 1] * Y + b[0], M[1, 0] * X + M[1, 1] * Y + b[1]])
sim = FokkerPlanck(temperature=D / constants.k, drag=1, extent=hi - lo, resolution=(hi - lo) / n,
                   force=force, boundary=Boundary.REFLECTING)
if {kind!r} == "stationary":
    p = sim.steady_state()
else:
    def initial(x, y):
        return np.exp(-(x + c[0] + 1) ** 2 / (2 * 0.05) - (y + c[1] - 1) ** 2 / (2 * 0.1))
    p = sim.propagate(initial, 1.0)
np.save(sys.argv[1], p)
print(time.perf_counter() - start)
"""
    folder = scratch(f"fplanck-{kind}-{n}")
    os.makedirs(folder)
    path = folder + "/p.npy"
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"fplanck failed: {proc.stderr.strip().splitlines()[-1]}")
    wall = time.perf_counter() - start
    p = np.load(path)
    dx, dy = (hi - lo) / n
    return mutual_information(p, dx, dy), wall


ranks = [int(r) for r in os.environ.get("BENCH_RANKS", "1,2").split(",")]
grids4 = [int(n) for n in os.environ.get("INFOTHERM_N", "64,96").split(",")]
grids2 = [int(n) for n in os.environ.get("INFOTHERM_N2", "128").split(",")]
print(f"exact MI: stationary {exact_ss:.17g}, transient t=1 {exact_tr:.17g}")
print(f"{'kind':10s} {'code':22s} {'grid':>6s} {'ranks':>5s} {'MI error':>10s} {'wall s':>8s}")
rows = {}
for kind, exact in (("stationary", exact_ss), ("transient", exact_tr)):
    for order, grids in ((4, grids4), (2, grids2)):
        for n in grids:
            for r in ranks:
                mi, wall = infotherm(kind, n, order, r)
                print(f"{kind:10s} {'infotherm -fp_order ' + str(order):22s} {n:6d} {r:5d} {mi - exact:10.2e} {wall:8.2f}",
                      flush=True)
                if order == 4 and abs(mi - exact) <= 1e-4:
                    rows.setdefault(kind, []).append(wall)
    if os.environ.get("FPLANCK_SRC"):
        n = int(os.environ.get("FPLANCK_STATIONARY_N" if kind == "stationary" else "FPLANCK_TRANSIENT_N",
                               "800" if kind == "stationary" else "640"))
        mi, wall = fplanck(kind, n)
        print(f"{kind:10s} {'fplanck':22s} {n:6d} {1:5d} {mi - exact:10.2e} {wall:8.2f}", flush=True)
        if abs(mi - exact) <= 1e-4 and rows.get(kind):
            print(f"{kind:10s} fplanck / fastest infotherm at MI error <= 1e-4: {wall / min(rows[kind]):.0f}x",
                  flush=True)
