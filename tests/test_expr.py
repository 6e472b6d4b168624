"""Expression models (-model expr, muparser): a formula written to equal each
built-in model gives the same operator, hence the same densities and every
diagnostic to 1e-12; parameters are options like any other; formula errors
and a non-positive diffusion stop the run with the formula, or the place,
on one line; the Monte Carlo runs expression models too."""
import os
import numpy as np
from common import *

SIG = "(1/(1+exp(-2*v)))"
CASES = {
    "brownian": (["-model", "brownian", "-brownian_v0", "0.7", "-brownian_tau_v", "2", "-brownian_sigma_v", "0.8", "-grid_n", "96"],
                 ["-vars", "v", "-expr_param", "tau=2,s=0.8,v0=0.7", "-expr_drift_v", "(-(v - v0)/tau)", "-expr_diffusion_v", "s^2/tau",
                  "-grid_n", "96", "-grid_lo", "-7", "-grid_hi", "7"]),
    "inference": (["-model", "inference", "-grid_n", "64,48"],
                  ["-vars", "v,r", "-expr_param", "tr=0.1,sr=0.2", "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1",
                   "-expr_drift_r", f"(-r + {SIG})/tr", "-expr_diffusion_r", "sr^2/tr", "-grid_n", "64,48", "-grid_lo", "-6,-1", "-grid_hi", "6,2"]),
    "linear": (["-model", "linear", "-linear_M", "-1,0.3,0.6,-0.8", "-linear_b", "0.2,-0.1", "-linear_D", "0.5,0.3", "-grid_n", "48", "-grid_lo", "-5", "-grid_hi", "5"],
               ["-vars", "x1,x2", "-expr_drift_x1", "(-x1 + 0.3*x2 + 0.2)", "-expr_diffusion_x1", "0.5", "-expr_drift_x2", "0.6*x1 - 0.8*x2 - 0.1",
                "-expr_diffusion_x2", "0.3", "-grid_n", "48", "-grid_lo", "-5", "-grid_hi", "5"]),
    "bistable": (["-model", "bistable", "-bistable_h", "0.2", "-grid_n", "128"],
                 ["-vars", "w", "-expr_param", "h=0.2", "-expr_drift_w", "(-(w^3 - w - h))", "-expr_diffusion_w", "0.25", "-grid_n", "128", "-grid_lo", "-2.5", "-grid_hi", "2.5"]),
    "hebbian": (["-model", "hebbian", "-grid_n", "16"],
                ["-vars", "v,r,w", "-expr_drift_v", "(-v)", "-expr_diffusion_v", "1", "-expr_drift_r", f"(-r + w*{SIG})/0.1", "-expr_diffusion_r", "0.01/0.1",
                 "-expr_drift_w", f"(0.2*{SIG}*r*r - (w - 0.5))/10", "-expr_diffusion_w", "0.01/10",
                 "-grid_n", "16", "-grid_lo", "-6,-0.8,-0.2", "-grid_hi", "6,1.8,1.6"]),
}


def agree(a, b):
    return max(float(np.max(np.abs(a[k] - b[k]) / (np.abs(b[k]) + 1e-2))) for k in b if k in a)


for name, (builtin, expr) in CASES.items():
    out = tmpdir(f"expr-{name}")
    for label, opts in (("builtin", builtin), ("expr", ["-model", "expr"] + expr)):
        # 1e-16: the multigrid's BiCGStab measures the true residual, and at 1e-14 residual-sized
        # diagnostics (a steady state's entropy_rate) differed by 5e-10 of |value| + 0.01
        run("stationary", opts + ["-output_dir", f"{out}/{label}-ss", "-stationary_ksp_rtol", "1e-16"])
        run("run", opts + ["-t_final", "0.5", "-output_every", "0.1", "-ts_adapt_type", "none", "-ts_dt", "0.01", "-output_dir", f"{out}/{label}-run"])
    p, q = read_density(f"{out}/builtin-run/density_0001.h5")[0], read_density(f"{out}/expr-run/density_0001.h5")[0]
    rel = float(np.max(np.abs(p - q)) / np.max(p))
    check(rel < 1e-12, f"{name}: the expression model's transient density equals the built-in one ({rel:.1e})")
    diff = agree(read_csv(f"{out}/expr-run/diagnostics.csv"), read_csv(f"{out}/builtin-run/diagnostics.csv"))
    check(diff < 1e-12, f"{name}: every diagnostic of the run agrees ({diff:.1e})")
    a, b = read_json(f"{out}/expr-ss/stationary_summary.json")["final"], read_json(f"{out}/builtin-ss/stationary_summary.json")["final"]
    diff = max(abs(a[k] - b[k]) / (abs(b[k]) + 1e-2) for k in b)
    check(diff < 1e-10, f"{name}: every stationary diagnostic agrees ({diff:.1e})")

# a parameter of a formula is an option: -tau overrides -expr_param
out = tmpdir("expr-param")
base = ["-model", "expr", "-vars", "v", "-expr_param", "tau=1", "-expr_drift_v", "(-v/tau)", "-expr_diffusion_v", "1/tau", "-grid_n", "64", "-grid_lo", "-6", "-grid_hi", "6"]
run("stationary", base + ["-tau", "3", "-output_dir", out])
s = read_json(out + "/stationary_summary.json")
check(s["parameters"]["tau"] == 3 and abs(s["final"]["var_v"] - 1) < 1e-3, f"-tau 3 reaches the formulas and summary.json (var_v = {s['final']['var_v']:.6f}, exact 1)")

# formula errors, before anything is written
for label, extra, needle in [
    ("syntax error", ["-expr_drift_v", "(-v/tau"], "(-v/tau"),
    ("unknown symbol", ["-expr_drift_v", "(-v/tua)"], "tua"),
    ("diffusion negative on the box", ["-expr_diffusion_v", "v"], "D_v"),
    ("missing formula", ["-expr_diffusion_v", ""], "-expr_diffusion_v"),
    ("bad parameter list", ["-expr_param", "tau"], "-expr_param"),
]:
    o = tmpdir("expr-bad")
    opts = list(base)
    for k in range(0, len(extra), 2):
        i = opts.index(extra[k]) if extra[k] in opts else None
        if i is None:
            opts += extra[k:k + 2]
        else:
            opts[i + 1] = extra[k + 1]
    p = run("run", opts + ["-output_dir", o], expect_ok=False)
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and needle in p.stderr and not os.path.exists(o), f"{label}: {p.stderr.strip()}")
p = run("run", ["-model", "expr", "-expr_drift_v", "1"], expect_ok=False)
check(p.returncode == 1 and "-vars" in p.stderr, f"expr without -vars: {p.stderr.strip()}")

# the Monte Carlo integrates expression models too: its mean matches the solver's
out = tmpdir("expr-mc")
opts = ["-model", "expr"] + CASES["brownian"][1] + ["-init_mean", "-1", "-init_cov", "0.2", "-t_final", "1", "-output_every", "1"]
run("run", opts + ["-output_dir", out + "/fp"])
run("mc", opts + ["-mc_particles", "20000", "-output_dir", out + "/mc"], ranks=2)
fp, mc = read_csv(out + "/fp/diagnostics.csv"), read_csv(out + "/mc/mc.csv")
z = abs(fp["mean_v"][-1] - mc["mean_v"][-1]) / mc["mean_v_stderr"][-1]
check(z < 4, f"mc on an expression model: mean_v {mc['mean_v'][-1]:.4f} ± {mc['mean_v_stderr'][-1]:.4f} vs solver {fp['mean_v'][-1]:.4f} (z = {z:.2f})")
finish()
