#!/usr/bin/env python3
"""The 4-variable transient of doc/peer-comparison.md side by side with the
Monte Carlo: the linear model (A rows -1,0,0,0.2 / 1.5,-2,0,0 / 0,0.8,-1.2,0 /
0.3,0,0.5,-1; D 1,0.3,0.2,0.4; b 0.1,0,0,0.2) from N((1,0,0,0),
diag(0.2,0.1,0.1,0.1)) to t = 1, box mean +- 8 sd of its stationary law.
Every moment at t = 1 (4 means, 4 variances, 6 covariances) and the mutual
information of x1 with (x2, x3, x4) against the closed form (python/infotherm/
linear.py: the Gaussian moments of the Ornstein-Uhlenbeck process), for the
solver at the given grids (-fp_order 4 unless extra options say otherwise;
its moments from the density at t = 1, its `mutual_information` column) and
for `mc` (its mean_/var_/cov_ columns and mutual_information_gaussian), with
wall times and the CPU time of the whole process tree. Asserts nothing.
Usage: INFOTHERM=build/infotherm python3 tools/transient4_order4.py [n ... | mc]
[-- extra options]  (T4_RANKS: ranks, default 2; T4_PARTICLES: the Monte
Carlo's particles, default 10^6; T4_MC_DT: its step, default 1e-3)."""
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.linear import linear_diagnostics, linear_moments, lyapunov  # noqa: E402
from infotherm.results import read_columns, read_density  # noqa: E402
from infotherm.runner import call, scratch  # noqa: E402

M = np.array([[-1.0, 0, 0, 0.2], [1.5, -2, 0, 0], [0, 0.8, -1.2, 0], [0.3, 0, 0.5, -1]])
b = np.array([0.1, 0, 0, 0.2])
D = np.array([1.0, 0.3, 0.2, 0.4])
m0, S0 = np.array([1.0, 0, 0, 0]), np.diag([0.2, 0.1, 0.1, 0.1])
names = ["x1", "x2", "x3", "x4"]
mu = -np.linalg.solve(M, b)
sd = np.sqrt(np.diag(lyapunov(M, D)))
lo, hi = mu - 8 * sd, mu + 8 * sd
m1, S1 = linear_moments(M, b, D, m0, S0, 1.0)
exact = linear_diagnostics(M, b, D, m1, S1, names[1:], names)
PAIRS = [(i, j) for i in range(4) for j in range(i + 1, 4)]


def gaussian_mi(S):
    return 0.5 * np.log(S[0, 0] * np.linalg.det(S[1:, 1:]) / np.linalg.det(S))


def table(m, S, mi, mi_gauss):
    """Relative errors of every moment (a mean near 0: absolute) and the MI."""
    out = []
    for i in range(4):
        e = m[i] - m1[i]
        out.append((f"mean_{names[i]}", e / abs(m1[i]) if abs(m1[i]) > 0.1 else e))
    for i in range(4):
        out.append((f"var_{names[i]}", S[i, i] / S1[i, i] - 1))
    for i, j in PAIRS:
        out.append((f"cov_{names[i]}_{names[j]}", S[i, j] / S1[i, j] - 1))
    out.append(("mutual_information", mi / exact["mutual_information"] - 1))
    out.append(("MI of the covariance", mi_gauss / exact["mutual_information"] - 1))
    return out


def timed(command, opts, ranks):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    proc = call(command, opts + ["-quiet"], ranks=ranks, check=False)
    wall = time.time() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return proc, wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[:args.index("--")]
ranks = int(os.environ.get("T4_RANKS", "2"))
base = ["-model", "linear", "-linear_M", ",".join(repr(float(x)) for x in M.ravel()),
        "-linear_b", ",".join(repr(float(x)) for x in b), "-linear_D", ",".join(repr(float(x)) for x in D),
        "-grid_lo", ",".join(repr(float(x)) for x in lo), "-grid_hi", ",".join(repr(float(x)) for x in hi),
        "-init", "gaussian", "-init_mean", "1,0,0,0", "-init_cov", ",".join(repr(float(x)) for x in S0.ravel()),
        "-t_final", "1", "-output_every", "1"]
print(f"exact at t = 1: MI {exact['mutual_information']:.10g}; variances {np.diag(S1)}")
for what in args or ["24", "32", "mc"]:
    if what == "mc":
        out = scratch("t4-mc")
        n = os.environ.get("T4_PARTICLES", "1000000")
        proc, wall, cpu = timed("mc", base + ["-mc_particles", n, "-mc_dt", os.environ.get("T4_MC_DT", "1e-3"),
                                              "-output_dir", out] + extra, ranks)
        label = f"mc {n}"
        if proc.returncode:
            print(f"{label}: failed: {proc.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        row = read_columns(out + "/mc.csv")
        m = np.array([row[f"mean_{v}"][-1] for v in names])
        S = np.diag([row[f"var_{v}"][-1] for v in names])
        for i, j in PAIRS:
            S[i, j] = S[j, i] = row[f"cov_{names[i]}_{names[j]}"][-1]
        mi = row["mutual_information_gaussian"][-1]
        rows = table(m, S, mi, gaussian_mi(S))
        pmin, neg = float("nan"), float("nan")
    else:
        out = scratch(f"t4-{what}")
        opts = base + ["-grid_n", what, "-fp_order", "4", "-output_dir", out] + extra
        proc, wall, cpu = timed("run", opts, ranks)
        label = f"solver {what}^4"
        if proc.returncode:
            print(f"{label}: failed: {proc.stderr.strip().splitlines()[-1]}", flush=True)
            continue
        p, _ = read_density(out + "/density_0001.h5")
        n = int(what)
        axes = [lo[k] + (np.arange(n) + 0.5) * (hi[k] - lo[k]) / n for k in range(4)]
        w = p / p.sum()
        m = np.zeros(4)
        marg = []
        for k in range(4):
            mk = w.sum(axis=tuple(a for a in range(4) if a != k))
            marg.append(mk)
            m[k] = (mk * axes[k]).sum()
        S = np.zeros((4, 4))
        for k in range(4):
            S[k, k] = (marg[k] * (axes[k] - m[k]) ** 2).sum()
        for i, j in PAIRS:
            pij = w.sum(axis=tuple(a for a in range(4) if a not in (i, j)))
            S[i, j] = S[j, i] = ((axes[i][:, None] - m[i]) * (axes[j][None, :] - m[j]) * pij).sum()
        mi = read_columns(out + "/diagnostics.csv")["mutual_information"][-1]
        rows = table(m, S, mi, gaussian_mi(S))
        pmin = p.min()
        neg = -p[p < 0].sum() / p.sum()
    print(f"{label}: wall {wall:.1f} s, cpu {cpu:.1f} s, min p {pmin:.2e}, negative mass {neg:.2e}")
    print("  " + "  ".join(f"{k} {v:+.3e}" for k, v in rows), flush=True)
