#!/usr/bin/env python3
"""Second against fourth order (-fp_order 2 and 4) on the rotating 2-D linear
case (-linear_M -1,-1.5,2,-2 -linear_b 0.3,0 -linear_D 1,0.2, box mean +- 9
sd): the mutual information's error against its closed form, stationary and
transient (from N((-1,1), diag(0.05,0.1)) to t = 1; once with the default
time stepper and tolerances -- under -fp_order 4 ARK5(4)8L[2]SA with
tolerances following the grid --, once with ARK5(4)8L[2]SA at -ts_rtol 1e-8
-ts_atol 1e-10, "transient5"), per grid, with the stationary solve's Krylov
iterations or the time steps, wall times and the CPU time of the whole
process tree (user + system: less dependent on the machine's load than the
wall time, but an oversubscribed MPI rank spinning in its waits counts).
Prints a table; asserts nothing (the times depend on the machine's load).
Usage: INFOTHERM=build/infotherm python3 tools/bench_order4.py [n ...] [-- extra options]
(BENCH_KINDS=stationary,transient5 picks the kinds; BENCH_ORDERS=4 the
orders; BENCH_RANKS=2 the ranks, default 1; BENCH_REPEAT=5 runs each case 5
times and prints the medians of the wall and CPU times with their ranges)"""
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.linear import linear_diagnostics, linear_moments, lyapunov  # noqa: E402
from infotherm.results import read_columns, read_density, read_json  # noqa: E402
from infotherm.runner import call, scratch  # noqa: E402

M = np.array([[-1.0, -1.5], [2.0, -2.0]])
b = np.array([0.3, 0.0])
D = np.array([1.0, 0.2])
args = sys.argv[1:]
extra = []
if "--" in args:
    extra = args[args.index("--") + 1:]
    args = args[:args.index("--")]
grids = [int(a) for a in args] or [64, 96, 128, 192]
mu = -np.linalg.solve(M, b)
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
lo, hi = mu - 9 * sd, mu + 9 * sd
m0, S0 = [-1.0, 1.0], [[0.05, 0.0], [0.0, 0.1]]
exact_ss = linear_diagnostics(M, b, D, mu, S, ["x2"], ["x1", "x2"])
m1, S1 = linear_moments(M, b, D, m0, S0, 1.0)
exact_tr = linear_diagnostics(M, b, D, m1, S1, ["x2"], ["x1", "x2"])
base = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2",
        "-grid_lo", f"{lo[0]!r},{lo[1]!r}", "-grid_hi", f"{hi[0]!r},{hi[1]!r}"]
print(f"exact MI: stationary {exact_ss['mutual_information']:.17g}, transient t=1 {exact_tr['mutual_information']:.17g}")
print(f"{'kind':11s} {'n':>5s} {'order':>5s} {'MI error':>10s} {'EP error':>10s} {'its/steps':>9s} {'wall s':>7s} {'cpu s':>7s} {'min p':>10s}")
ARK5 = ["-ts_arkimex_type", "5", "-ts_rtol", "1e-8", "-ts_atol", "1e-10"]
KINDS = os.environ.get("BENCH_KINDS", "stationary,transient,transient5").split(",")
ORDERS = [int(o) for o in os.environ.get("BENCH_ORDERS", "2,4").split(",")]
RANKS = int(os.environ.get("BENCH_RANKS", "1"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "1"))
for kind in KINDS:
    for n in grids:
        for order in ORDERS:
            walls, cpus = [], []
            for _ in range(REPEAT):
                out = scratch(f"bench-{kind}-{n}-{order}")
                opts = base + ["-grid_n", n, "-fp_order", order, "-output_dir", out] + extra
                if kind == "transient5":
                    opts += ARK5
                if kind != "stationary":
                    opts += ["-init_mean", "-1,1", "-init_cov", "0.05,0,0,0.1", "-t_final", 1, "-output_every", 1]
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.time()
                proc = call("stationary" if kind == "stationary" else "run", opts + ["-quiet"], ranks=RANKS)
                walls.append(time.time() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            wall, cpu = float(np.median(walls)), float(np.median(cpus))
            if kind == "stationary":
                row = read_columns(out + "/stationary.csv")
                ref = exact_ss
                p, _ = read_density(out + "/density_stationary.h5")
                count = proc.stdout.split("after ")[1].split()[0] if "after " in proc.stdout else "?"
            else:
                row = read_columns(out + "/diagnostics.csv")
                ref = exact_tr
                p, _ = read_density(out + "/density_0001.h5")
                count = read_json(out + "/summary.json").get("steps", "?") if os.path.exists(out + "/summary.json") else "?"
            err = row["mutual_information"][-1] - ref["mutual_information"]
            ep = row["entropy_production"][-1] / ref["entropy_production"] - 1
            print(f"{kind:11s} {n:5d} {order:5d} {err:10.2e} {ep:10.2e} {str(count):>9s} {wall:7.2f} {cpu:7.2f} {p.min():10.2e}"
                  + (f"  (wall {min(walls):.2f}-{max(walls):.2f}, cpu {min(cpus):.2f}-{max(cpus):.2f}, {REPEAT} runs)"
                     if REPEAT > 1 else ""), flush=True)
