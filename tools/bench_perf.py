#!/usr/bin/env python3
"""Performance figures of doc/performance.md "Compiled formulas" and "Memory
per component", measured on a shared machine with load-independent units
where possible: particle-steps per CPU-second (the process's user + system
time, not the wall clock), bytes, counts. Prints markdown; asserts nothing.

  tools/bench_perf.py                    every part
  tools/bench_perf.py --only formulas    one part (or a comma list): formulas | memory | smoother | diagnostics
  tools/bench_perf.py --quick            fewer particles and steps (a smoke test)

Parts:
  formulas  the Monte Carlo of the inference model (input/inference.opts),
            built in and written as expr formulas (compiled; muparser with
            -expr_compile false), and the same Euler-Maruyama step as a numpy
            loop, in particle-steps per CPU-second on one core; then `run`
            with a drift whose formula uses t against the built-in model
            with the same drift as a -protocol ramp (both rebuild the
            operator at every stage), CPU seconds per step.
  memory    summary.json's memory components against the measured peak RSS
            on a 2-D and a 3-D case, stationary and run (bytes: load-independent).
  smoother  the 1024^2 stationary solve of the 2-D linear model (tools/bench.sh's
            case) with the default multigrid and with PETSc's other smoothers and
            cycles: iterations, and the solve's cost in fine-grid MatMults both
            by flops (-log_view's KSPSolve flops over one fine MatMult's,
            2 nonzeros - rows of the star stencil per rank: load-independent)
            and by time (as tools/bench.sh); the default's iterations on 1, 2
            and 4 (oversubscribed) ranks.
  diagnostics  one evaluation of every diagnostic in 5 variables
            (input/population_plastic.opts at 10^5 and 12^5 cells, one rank, 5
            fixed steps of 0.01 with a row at each) in units of a fine-grid
            MatMult and of an implicit step (-log_view's ItDiagEvaluate,
            MatMult of the main stage with -pc_mg_log, TSStep: ratios of
            times measured in the same process, so less sensitive to the
            load than seconds), extrapolated to 14^5 from the two grids; set
            BASELINE=path/to/infotherm to print a second binary's row beside
            each (e.g. a build before a change).
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("INFOTHERM", os.path.join(ROOT, "build", "infotherm"))

INFERENCE_PARAMS = dict(tau_v=1, sigma_v=1, v0=0, tau_r=0.1, sigma_r=0.2, rmax=1, beta=2, theta=0)
INFERENCE_BOX = ["-grid_n", "128,128", "-grid_lo", "-6,-1", "-grid_hi", "6,2", "-init_mean", "2.5,0",
                 "-init_cov", "0.25,0.01"]
BUILTIN = ["-model", "inference", "-inference_tuning", "sigmoid"] + sum(([f"-inference_{k}", str(v)] for k, v in INFERENCE_PARAMS.items()), [])
EXPR = ["-model", "expr", "-vars", "v,r", "-expr_param", ",".join(f"{k}={v}" for k, v in INFERENCE_PARAMS.items()),
        "-expr_drift_v", "(-(v-v0)/tau_v)", "-expr_diffusion_v", "sigma_v^2/tau_v",
        "-expr_drift_r", "(-r+rmax/(1+exp(-beta*(v-theta))))/tau_r", "-expr_diffusion_r", "sigma_r^2/tau_r"]


def run(args, out):
    """Runs infotherm on one rank; returns the child's CPU seconds (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run([BIN] + args + ["-output_dir", out, "-overwrite", "-quiet"], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.exit(f"bench_perf: infotherm {' '.join(args)} failed:\n{p.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def load():
    return os.getloadavg()[0]


def numpy_rate(particles, steps, dt=0.001):
    """The inference model's Euler-Maruyama step as a numpy loop: particle-steps per CPU-second."""
    import numpy as np
    p = INFERENCE_PARAMS
    rng = np.random.default_rng(1)
    v = 2.5 + 0.5 * rng.standard_normal(particles)
    r = 0.1 * rng.standard_normal(particles)
    c0 = time.process_time()
    for _ in range(steps):
        Av = -(v - p["v0"]) / p["tau_v"]
        Ar = (-r + p["rmax"] / (1 + np.exp(-p["beta"] * (v - p["theta"])))) / p["tau_r"]
        Dv = p["sigma_v"] ** 2 / p["tau_v"]
        Dr = p["sigma_r"] ** 2 / p["tau_r"]
        v = v + Av * dt + np.sqrt(2 * Dv * dt) * rng.standard_normal(particles)
        r = r + Ar * dt + np.sqrt(2 * Dr * dt) * rng.standard_normal(particles)
    return particles * steps / (time.process_time() - c0)


def formulas(work, quick):
    particles = 100000 if quick else 1000000
    steps_long, steps_short = (50, 5) if quick else (100, 10)
    rows = []
    cache = os.path.join(work, "cache")
    variants = [("built-in inference", BUILTIN), ("expr, compiled", EXPR + ["-expr_cache_dir", cache]),
                ("expr, muparser", EXPR + ["-expr_compile", "false"])]
    rate = {}
    for name, model in variants:
        # CPU seconds of a long and a short run: their difference is the stepping alone
        # (start-up, compilation, estimates and output cancel)
        cpu = {}
        for steps in (steps_long, steps_short):
            best = float("inf")
            for rep in range(2):
                opts = model + INFERENCE_BOX + ["-t_final", str(steps * 0.001), "-mc_dt", "0.001",
                                                "-output_every", str(steps * 0.001), "-snapshot_every", "100",
                                                "-mc_particles", str(particles)]
                best = min(best, run(["mc"] + opts, os.path.join(work, "mc")))
            cpu[steps] = best
        rate[name] = particles * (steps_long - steps_short) / max(1e-9, cpu[steps_long] - cpu[steps_short])
        rows.append((name, rate[name]))
    rate["numpy loop"] = numpy_rate(particles, steps_short)
    rows.append(("numpy loop (same step, float64)", rate["numpy loop"]))
    print(f"\n### Monte Carlo, inference model, {particles:.0e} particles, one rank (load {load():.1f})\n")
    print("| model | particle-steps per CPU-second | vs built-in | vs numpy |")
    print("|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r:.3g} | {r / rate['built-in inference']:.2f}x | {r / rate['numpy loop']:.2f}x |")

    # run: a drift in t as a formula, against the built-in with a -protocol ramp of v0
    grid = ["-grid_n", "96,96"] if not quick else ["-grid_n", "48,48"]
    fixed = ["-ts_adapt_type", "none", "-ts_dt", "0.01", "-output_every", "1", "-snapshot_every", "100"]
    ramp = BUILTIN + ["-protocol", "v0:ramp:0@0,2@1"]
    expr_t = [o if o != "(-(v-v0)/tau_v)" else "(-(v-min(2*t,2))/tau_v)" for o in EXPR]
    cases = [("built-in, -protocol v0:ramp:0@0,2@1", ramp), ("expr, v0 = min(2t, 2), compiled",
                                                              expr_t + ["-expr_cache_dir", cache]),
             ("expr, v0 = min(2t, 2), muparser", expr_t + ["-expr_compile", "false"])]
    per_step = {}
    n_long, n_short = (20, 5) if not quick else (8, 2)
    for name, model in cases:
        cpu = {}
        for n in (n_long, n_short):
            cpu[n] = min(run(["run"] + model + INFERENCE_BOX[:6] + grid + ["-init_mean", "2.5,0", "-init_cov", "0.25,0.01",
                                                                           "-t_final", str(n * 0.01)] + fixed,
                             os.path.join(work, "run")) for _ in range(2))
        per_step[name] = (cpu[n_long] - cpu[n_short]) / (n_long - n_short)
    base = per_step[cases[0][0]]
    print(f"\n### `run` with time-dependent drift, {grid[1]} cells, fixed dt = 0.01, one rank (load {load():.1f})\n")
    print("| model | CPU s per step | vs built-in |")
    print("|---|---|---|")
    for name, _ in cases:
        print(f"| {name} | {per_step[name]:.4f} | {per_step[name] / base:.2f}x |")


def memory(work, quick):
    n2, n3 = (256, 32) if quick else (512, 64)
    cases = [("2-D", n2, ["-model", "linear"]), ("3-D", n3, ["-model", "linear", "-linear_M", "-1,0,0,0.5,-1,0,0,0.5,-1"])]
    print(f"\n### Memory per unknown by component (summary.json), one rank (load {load():.1f})\n")
    names = None
    rows = []
    for label, n, model in cases:
        for command in ("stationary", "run"):
            out = os.path.join(work, f"mem_{label}_{command}")
            extra = ["-t_final", "0.03", "-ts_adapt_type", "none", "-ts_dt", "0.01", "-output_every", "0.03"] \
                if command == "run" else []
            run([command] + model + ["-grid_n", str(n), "-grid_lo", "-8", "-grid_hi", "8"] + extra, out)
            name = "stationary_summary.json" if command == "stationary" else "summary.json"
            with open(os.path.join(out, name)) as f:
                m = json.load(f)["memory"]
            names = list(m["components"])
            rows.append((f"{label} {n}^{2 if label == '2-D' else 3} {command}", m))
    print("| case | " + " | ".join(names) + " | other | peak (B/unknown) | parts / peak |")
    print("|---|" + "---|" * (len(names) + 3))
    for label, m in rows:
        cells = m["peak_bytes"] / m["bytes_per_unknown"]
        parts = sum(v["bytes"] for v in m["components"].values())
        print(f"| {label} | " + " | ".join(f"{m['components'][k]['per_unknown']:.0f}" for k in names)
              + f" | {m['other_bytes'] / cells:.0f} | {m['bytes_per_unknown']:.0f} | {100 * parts / m['peak_bytes']:.0f}% |")


def stationary_log(work, tag, ranks, extra, n):
    """One stationary solve with -log_view: iterations, flop- and time-based fine-MatMult equivalents."""
    out, log = os.path.join(work, f"sm_{tag}_{ranks}"), os.path.join(work, f"sm_{tag}_{ranks}.log")
    argv = [BIN, "stationary", "-model", "linear", "-grid_n", str(n), "-grid_lo", "-8", "-grid_hi", "8",
            "-output_dir", out, "-overwrite", "-quiet", "-log_view", ":" + log, "-stationary_pc_mg_log"] + extra
    if ranks > 1:
        argv = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", str(ranks)] + argv
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode:
        return None
    events = {}
    for line in open(log):  # the first row of each event: the main stage (the fine grid's MatMult)
        f = line.split()
        if len(f) > 6 and f[0] in ("KSPSolve", "MatMult") and f[0] not in events:
            events[f[0]] = (int(f[1]), float(f[3]), float(f[5]))
    with open(os.path.join(out, "stationary_summary.json")) as f:
        its = json.load(f)["ksp_iterations"]
    (ks, kt, kf), (ms, mt, mf) = events["KSPSolve"], events["MatMult"]
    # one fine MatMult's flops per rank: 2 nonzeros - rows of the 5-point star on n^2 cells (a
    # Richardson solve has no outer MatMult: the main stage's MatMult is then the prolongation's)
    fine = (2 * (5 * n * n - 4 * n) - n * n) / ranks
    return its, kf / ks / fine, kt / ks / (mt / ms)


def smoother(work, quick):
    n = 256 if quick else 1024
    variants = [("default: GMRES, V on the fine level and W below, 1 SSOR sweep (2 after on the next level), "
                 "the pre-smoothing's residual from the sweep", []),
                ("W-cycles throughout", ["-stationary_mg_fine_v", "false"]),
                ("V on the fine level, 1 sweep on the next", ["-stationary_mg_next_post_sweeps", "1"]),
                ("W-cycles, one-direction sweeps", ["-stationary_mg_fine_v", "false", "-stationary_mg_sweeps", "alternating"]),
                ("V-cycle", ["-stationary_pc_mg_cycle_type", "v"]),
                ("V-cycle, 2 sweeps", ["-stationary_pc_mg_cycle_type", "v", "-stationary_mg_levels_ksp_max_it", "2"]),
                ("W-cycle, forward Gauss-Seidel only", ["-stationary_mg_levels_pc_sor_local_forward"]),
                ("W-cycle, SOR omega 1.2", ["-stationary_mg_levels_pc_sor_omega", "1.2"]),
                ("W-cycle, Chebyshev(2) + Jacobi", ["-stationary_mg_levels_ksp_type", "chebyshev",
                                                    "-stationary_mg_levels_pc_type", "jacobi",
                                                    "-stationary_mg_levels_ksp_max_it", "2"]),
                ("GMRES(8)", ["-stationary_ksp_gmres_restart", "8"]),
                ("BiCGStab", ["-stationary_ksp_type", "bcgs"]),
                ("Richardson (PCMG's own cycles)", ["-stationary_ksp_type", "richardson"]),
                ("full multigrid", ["-stationary_pc_mg_type", "full"]),
                ("Kaskade", ["-stationary_pc_mg_type", "kaskade"])]
    print(f"\n### Stationary {n}^2 (2-D linear), fine-MatMult equivalents per solve (load {load():.1f})\n")
    print("| smoother | ranks | iterations | MatMults by flops | MatMults by time |")
    print("|---|---|---|---|---|")
    for name, extra in variants:
        for ranks in ((1, 2, 4) if not extra else (1,)):
            r = stationary_log(work, str(abs(hash(name))), ranks, extra, n)
            print(f"| {name} | {ranks} | " + (" | ".join(f"{x:.0f}" for x in r) if r else "failed | | ") + " |", flush=True)


def log_events(path, names):
    """The first row of each event in a -log_view file (the main stage's): count and time."""
    events = {}
    for line in open(path):
        f = line.split()
        if len(f) > 6 and f[0] in names and f[0] not in events:
            events[f[0]] = (int(f[1]), float(f[3]))
    return events


def diagnostics(work, quick):
    grids = (8, 10) if quick else (10, 12)
    binaries = [("this build", BIN)] + ([("BASELINE", os.environ["BASELINE"])] if os.environ.get("BASELINE") else [])
    print(f"\n### One evaluation of the diagnostics, population_plastic, one rank (load {load():.1f})\n")
    print("| binary | grid | evaluations | eval (s) | fine MatMult (ms) | eval / MatMult | step / MatMult | eval / step |")
    print("|---|---|---|---|---|---|---|---|")
    ratio = {}
    for label, binary in binaries:
        for n in grids:
            log = os.path.join(work, f"diag_{n}_{abs(hash(label))}.log")
            argv = [binary, "run", "-options_file", os.path.join(ROOT, "input", "population_plastic.opts"), "-grid_n", str(n),
                    "-t_final", "0.05", "-ts_adapt_type", "none", "-ts_dt", "0.01", "-output_every", "0.01",
                    "-snapshot_every", "100", "-output_dir", os.path.join(work, "diag"), "-overwrite", "-quiet",
                    "-log_view", ":" + log, "-pc_mg_log"]
            if subprocess.run(argv, capture_output=True, text=True).returncode:
                print(f"| {label} | {n}^5 | failed | | | | | |")
                continue
            ev = log_events(log, ("ItDiagEvaluate", "MatMult", "TSStep"))
            (dc, dt), (mc, mt), (sc, st) = ev["ItDiagEvaluate"], ev["MatMult"], ev["TSStep"]
            e, m, step = dt / dc, mt / mc, st / sc
            ratio[(label, n)] = e / step
            print(f"| {label} | {n}^5 | {dc} | {e:.3f} | {1e3 * m:.2f} | {e / m:.0f} | {step / m:.0f} | {e / step:.3f} |", flush=True)
        if (label, grids[0]) in ratio and (label, grids[1]) in ratio:
            # eval / step as a power of the cell count through the two grids, to 14^5
            import math
            r0, r1 = ratio[(label, grids[0])], ratio[(label, grids[1])]
            alpha = math.log(r1 / r0) / math.log((grids[1] / grids[0]) ** 5)
            print(f"| {label} | 14^5 (extrapolated) | | | | | | {r1 * ((14 / grids[1]) ** 5) ** alpha:.3f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="formulas,memory,smoother,diagnostics")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", default=None)
    a = ap.parse_args()
    work = a.keep or tempfile.mkdtemp(prefix="infotherm-bench-perf-")
    os.makedirs(work, exist_ok=True)
    print(f"infotherm bench_perf, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load {load():.1f}")
    try:
        parts = a.only.split(",")
        if "formulas" in parts:
            formulas(work, a.quick)
        if "memory" in parts:
            memory(work, a.quick)
        if "smoother" in parts:
            smoother(work, a.quick)
        if "diagnostics" in parts:
            diagnostics(work, a.quick)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
