"""Conformance of every model in the catalogue (doc/physics.md §2): mass conserved
to 1e-12 over a long run, no negative density under backward Euler, a
stationary solve that converges and that the dynamics leave in place, and,
where the stationary density is known in closed form, agreement with it."""
import math
import numpy as np
from common import *

MODELS = {
    "linear": ["-grid_n", "48"],
    "brownian": ["-brownian_v0", "0.7", "-brownian_sigma_v", "0.8"],
    "inference": ["-grid_n", "64,48"],
    "inference-linear": ["-model", "inference", "-inference_tuning", "linear", "-inference_lambda", "0.5", "-grid_n", "48,48", "-grid_lo", "-6,-4", "-grid_hi", "6,4"],
    "inference-bell": ["-model", "inference", "-inference_tuning", "bell", "-inference_vpref", "0.5", "-inference_s", "0.8", "-grid_n", "48,48"],
    "population": ["-grid_n", "20"],
    "hebbian": ["-grid_n", "20"],
    "hebbian-bcm-multiplicative": ["-model", "hebbian", "-hebbian_thetaM", "0.3", "-hebbian_w_noise", "multiplicative", "-grid_n", "20", "-grid_lo", "-6,-0.8,0.05", "-grid_hi", "6,1.8,1.6"],
    "bistable": ["-bistable_h", "0.1"],
}


def model_options(name, opts):
    return (["-model", name] if "-model" not in opts else []) + opts


for name, opts in MODELS.items():
    opts = model_options(name, opts)
    out = tmpdir(f"model-{name}")
    # backward Euler with a large fixed step, solved directly (LU): an M-matrix solve, so p >= 0
    # exactly (a Krylov solve keeps it only to its tolerance: -2.3e-18 of the max was seen)
    run("run", opts + ["-t_final", "20", "-output_every", "1", "-ts_type", "beuler", "-ts_dt", "0.5", "-ts_adapt_type", "none", "-ksp_type", "preonly", "-pc_type", "lu", "-output_dir", out + "/be"])
    diag = read_csv(out + "/be/diagnostics.csv")
    drift = float(np.max(np.abs(diag["mass"] - 1)))
    check(drift < 1e-12, f"{name}: mass conserved over 40 backward-Euler steps (max |mass - 1| = {drift:.1e})")
    p, _ = read_density(out + "/be/density_0001.h5")
    check(p.min() >= 0, f"{name}: backward Euler keeps p >= 0 (min {p.min():.1e})")
    check(np.isfinite(diag["entropy"]).all(), f"{name}: entropy finite at every output")

    run("run", opts + ["-t_final", "2", "-output_every", "0.5", "-output_dir", out + "/ark"])
    diag = read_csv(out + "/ark/diagnostics.csv")
    drift = float(np.max(np.abs(diag["mass"] - 1)))
    check(drift < 1e-12, f"{name}: mass conserved by the default adaptive method (max |mass - 1| = {drift:.1e})")

    proc = run("stationary", opts + ["-output_dir", out + "/ss"])
    summary = read_json(out + "/ss/stationary_summary.json")
    check(summary["residual"] < 1e-9, f"{name}: stationary solve converges (residual {summary['residual']:.1e})")
    ss, _ = read_density(out + "/ss/density_stationary.h5")
    check(ss.min() > -1e-10 * ss.max(), f"{name}: stationary density non-negative (min/max {ss.min() / ss.max():.1e})")
    # started at the stationary density, the dynamics must leave it in place
    run("run", opts + ["-init", "file", "-init_file", out + "/ss/density_stationary.h5", "-t_final", "1", "-output_every", "1", "-output_dir", out + "/still"])
    p, _ = read_density(out + "/still/density_0001.h5")
    moved = float(np.abs(p - ss).sum() / np.abs(ss).sum())
    check(moved < 1e-6, f"{name}: the stationary density is a fixed point of the dynamics (relative L1 change {moved:.1e})")

# closed-form stationary densities: Brownian N(v0, sigma_v^2); bistable exp(-U/sigma_w^2), U = w^4/4 - w^2/2 - h w
for name, opts, exact in [
    ("brownian", ["-model", "brownian", "-brownian_v0", "0.7", "-brownian_sigma_v", "0.8", "-brownian_tau_v", "2", "-grid_n", "128", "-grid_lo", "-5", "-grid_hi", "6"],
     lambda v: np.exp(-(v - 0.7) ** 2 / (2 * 0.64))),
    ("bistable", ["-model", "bistable", "-bistable_h", "0.1", "-bistable_sigma_w", "0.5", "-grid_n", "NN", "-grid_lo", "-2.5", "-grid_hi", "2.5"],
     lambda w: np.exp(-(w ** 4 / 4 - w ** 2 / 2 - 0.1 * w) / 0.25)),
]:
    errs = []
    for n in ([128] if name == "brownian" else [64, 128, 256]):
        o = [str(n) if x == "NN" else x for x in opts]
        out = tmpdir(f"exact-{name}-{n}")
        run("stationary", o + ["-output_dir", out])
        p, attrs = read_density(out + "/density_stationary.h5")
        (x,), vol = cell_centres([len(p)], [attrs["lo0"]], [attrs["hi0"]])
        q = exact(x)
        q /= q.sum() * vol
        errs.append(l1_error(p, q, vol))
    if name == "brownian":
        check(errs[0] < 1e-10, f"brownian: stationary density is the Gaussian N(v0, sigma_v^2) to round-off (L1 {errs[0]:.1e})")
    else:
        orders = observed_orders([1, 0.5, 0.25], errs)
        print(f"bistable stationary L1 errors {['%.2e' % e for e in errs]}, orders {['%.2f' % o for o in orders]}")
        check(min(orders) > 1.8 and errs[-1] < 1e-3, f"bistable: stationary density converges to exp(-U/sigma_w^2) at second order")

# a long run: mass to 1e-12 relative over thousands of steps of a non-equilibrium model
out = tmpdir("long")
run("run", ["-model", "linear", "-linear_M", "-1,0.3,0.6,-0.8", "-grid_n", "48", "-grid_lo", "-6", "-grid_hi", "6", "-init_mean", "2,-1", "-init_cov", "0.2,0.2",
            "-t_final", "200", "-output_every", "0.1", "-output_dir", out])
diag = read_csv(out + "/diagnostics.csv")
summary = read_json(out + "/summary.json")
drift = float(np.max(np.abs(diag["mass"] - 1)))
check(drift < 1e-12, f"long run ({summary['steps']} steps to t = 200): max |mass - 1| = {drift:.1e} < 1e-12")

# every registered model (the registry, as the refusal of an unknown -model lists it) has its
# catalogue runs: an entry above or a test of its own (test_<model>.py, or one that runs it); test_conformance_models.c
# checks every registered model's kernels and operator without a list
proc = run("info", ["-model", "no_such_model"], expect_ok=False)
known = proc.stderr.split("known:")[-1].split()
covered = {opts[opts.index("-model") + 1] if "-model" in opts else name for name, opts in MODELS.items()}
# ... or a test of its subject that runs it by name or by its input file (test_spiking.py: lif)
tests = [open(f).read() for f in sorted(os.listdir(".")) if f.startswith("test_") and f.endswith(".py")]
missing = [m for m in known if m not in covered and not os.path.exists(f"test_{m}.py")
           and not any(f'"-model", "{m}"' in t or f"{m}.opts" in t for t in tests)]
check(len(known) >= 8 and not missing, f"every registered model ({' '.join(known)}) has catalogue runs (missing: {missing})")
finish()
