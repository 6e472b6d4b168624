"""The geometric multigrid of the linear solves: with the default
options every built-in model in 1-3 variables (the 3-D Hebbian synapse of
input/hebbian.opts included) is solved by GMRES preconditioned by the
multigrid of rediscretised levels, both the implicit stages and the
stationary solve converge, and 1, 2 and 3 ranks give the same densities.
Mass: with the loose default stage tolerance (a fraction of -ts_rtol), and
even with -ksp_rtol 1e-2, the mass stays 1 to round-off, since each stage
value is restored to the exact mass (src/solve/solve.c, ItSolveStageMass)."""
import re
import numpy as np
from common import *

EXPR = ["-model", "expr", "-vars", "v,r", "-expr_param", "tau_r=0.2,rmax=1,beta=2",
        "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1",
        "-expr_drift_r", "(-r+rmax/(1+exp(-beta*v)))/tau_r", "-expr_diffusion_r", "0.04/tau_r",
        "-grid_n", "64", "-grid_lo", "-6,-1", "-grid_hi", "6,2", "-init_mean", "0,0.5", "-init_cov", "0.5,0.05"]
# every model with a grid that halves at least once (cells per axis even, more than 1024 cells)
CASES = {
    "brownian (1-D)": ["-model", "brownian", "-grid_n", "4096"],
    "bistable (1-D)": ["-model", "bistable", "-bistable_h", "0.1", "-grid_n", "4096"],
    "linear (2-D, rotating)": ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2",
                               "-grid_n", "64", "-grid_lo", "-7,-5", "-grid_hi", "7,5", "-init_mean", "-1,1", "-init_cov", "0.3,0.3"],
    "linear (3-D)": ["-model", "linear", "-linear_M", "-1,0,0.2,0.5,-1,0,0,0.5,-1", "-grid_n", "24", "-grid_lo", "-5", "-grid_hi", "5"],
    "inference (2-D)": ["-model", "inference", "-grid_n", "64"],
    "population (3-D)": ["-model", "population", "-grid_n", "24"],
    "hebbian (3-D, input/hebbian.opts)": ["-options_file", "../input/hebbian.opts", "-fp_order", "2"],  # the file states 4
    "expr (2-D)": EXPR,
}
ITS = re.compile(r"Linear (?:stationary_ )?solve (converged|did not converge) due to (\w+) iterations (\d+)")


def solves(text):
    """(converged, iterations) of every linear solve reported by -ksp_converged_reason."""
    return [(m.group(1) == "converged", int(m.group(3))) for m in ITS.finditer(text)]


def mg_levels(text, prefix):
    """The number of multigrid levels of the PC with this options prefix in a -*_view, or 0."""
    head = r"PC Object: \(" + prefix + r"\) " if prefix else r"PC Object: "
    m = re.search(head + r"\d+ MPI process\w*\n\s*type: mg\s*\n\s*type is \w+, levels=(\d+)", text)
    return int(m.group(1)) if m else 0


for name, opts in CASES.items():
    out = tmpdir("mg-" + re.sub(r"\W", "", name))
    proc = run("stationary", opts + ["-output_dir", out + "/ss", "-stationary_ksp_converged_reason", "-stationary_ksp_view"])
    levels = mg_levels(proc.stdout, "stationary_")
    its = solves(proc.stdout)
    summary = read_json(out + "/ss/stationary_summary.json")
    check(levels >= 2 and its and all(c for c, _ in its) and summary["residual"] < 1e-10,
          f"{name}: stationary solve converges with {levels}-level multigrid "
          f"({'+'.join(str(i) for _, i in its)} iterations, residual {summary['residual']:.1e})")
    proc = run("run", opts + ["-t_final", "0.2", "-output_every", "0.1", "-output_dir", out + "/run",
                              "-ksp_converged_reason", "-ts_view"])
    levels = mg_levels(proc.stdout, "")
    its = solves(proc.stdout)
    mass = read_csv(out + "/run/diagnostics.csv")["mass"]
    check(levels >= 2 and its and all(c for c, _ in its) and max(i for _, i in its) <= 20,
          f"{name}: {len(its)} implicit stage solves converge with {levels}-level multigrid "
          f"(at most {max(i for _, i in its) if its else -1} iterations, at most 20)")
    check(float(np.max(np.abs(mass - 1))) < 1e-13, f"{name}: mass 1 to {float(np.max(np.abs(mass - 1))):.1e} (< 1e-13)")

# the same answers on 1, 2 and 3 ranks (tight tolerances: the ranks change the smoothers)
TIGHT = ["-ksp_rtol", "1e-14", "-stationary_ksp_rtol", "1e-16", "-ts_rtol", "1e-6", "-ts_atol", "1e-8"]
for name in ["linear (2-D, rotating)", "hebbian (3-D, input/hebbian.opts)"]:
    opts = CASES[name] + (["-grid_n", "24"] if "hebbian" in name else [])
    ref = None
    for ranks in [1, 2, 3]:
        out = tmpdir(f"mg-ranks-{ranks}")
        run("run", opts + TIGHT + ["-t_final", "0.2", "-output_every", "0.1", "-output_dir", out + "/run"], ranks=ranks)
        run("stationary", opts + TIGHT + ["-output_dir", out + "/ss"], ranks=ranks)
        p = read_density(out + "/run/density_0001.h5")[0]
        ss = read_density(out + "/ss/density_stationary.h5")[0]
        if ref is None:
            ref = (p, ss)
            continue
        dp = float(np.max(np.abs(p - ref[0])) / np.max(np.abs(ref[0])))
        dss = float(np.max(np.abs(ss - ref[1])) / np.max(np.abs(ref[1])))
        check(dp < 1e-10 and dss < 1e-10, f"{name}: {ranks} ranks = 1 rank (transient {dp:.1e}, stationary {dss:.1e})")

# mass by construction: a long adaptive run of the rotating linear model, at the default stage
# tolerance and at -ksp_rtol 1e-2 (100x looser than the step's own tolerance)
for extra in [[], ["-ksp_rtol", "1e-2"]]:
    out = tmpdir("mg-mass")
    run("run", CASES["linear (2-D, rotating)"] + extra + ["-t_final", "5", "-output_every", "0.1", "-output_dir", out])
    diag = read_csv(out + "/diagnostics.csv")
    drift = float(np.max(np.abs(diag["mass"] - 1)))
    steps = read_json(out + "/summary.json")["steps"]
    check(drift < 1e-13, f"mass over {steps} adaptive steps to t = 5 {' '.join(extra) or '(default stage tolerance)'}: "
          f"max |mass - 1| = {drift:.1e} (< 1e-13)")
finish()
