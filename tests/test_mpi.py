"""The same answer on 1, 2 and 3 ranks (and 4, oversubscribed): transient and
stationary densities and every diagnostics column agree to 1e-10 relative."""
import numpy as np
from common import *

# the stationary solve's GMRES measures the true residual (right preconditioning): 1e-16 of the
# right-hand side keeps the residual-sized diagnostics (entropy_rate ~ 1e-12 at a steady state)
# rank-independent; at 1e-14 they differed by 2e-10 (relative to |value| + 0.01)
TIGHT = ["-ksp_rtol", "1e-14", "-stationary_ksp_rtol", "1e-16", "-ts_rtol", "1e-6", "-ts_atol", "1e-8"]
CASES = [
    ("2-D linear", ["-model", "linear", "-linear_M", "-1,0.3,0.6,-0.8", "-linear_b", "0.2,-0.1", "-grid_n", "48,40", "-grid_lo", "-5", "-grid_hi", "5", "-init_mean", "1,-0.8", "-init_cov", "0.3,0.2"], [1, 2, 3, 4]),
    ("3-D linear", ["-model", "linear", "-linear_M", "-1,0,0.2,0.5,-1,0,0,0.5,-1", "-grid_n", "20,18,16", "-grid_lo", "-5", "-grid_hi", "5", "-init_mean", "0.8,0,-0.5", "-init_cov", "0.3,0.25,0.25"], [1, 2, 3]),
    ("1-D bistable", ["-model", "bistable", "-grid_n", "96", "-bistable_h", "0.2", "-init_mean", "-1", "-init_cov", "0.05"], [1, 3]),
]


def rel(a, b):
    """Largest difference relative to the largest value of the series (NaN = NaN)."""
    same_nan = np.isnan(a) == np.isnan(b)
    a, b = np.nan_to_num(a), np.nan_to_num(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)) if same_nan.all() else float("inf")


for name, opts, ranks in CASES:
    ref = None
    for np_ in ranks:
        out = tmpdir(f"mpi-{name.replace(' ', '')}-{np_}")
        run("run", opts + ["-t_final", "0.6", "-output_every", "0.2", "-output_dir", out + "/run"] + TIGHT, ranks=np_)
        run("stationary", opts + ["-output_dir", out + "/ss"] + TIGHT, ranks=np_)
        res = dict(p=read_density(out + "/run/density_0001.h5")[0], ss=read_density(out + "/ss/density_stationary.h5")[0],
                   diag=read_csv(out + "/run/diagnostics.csv"), sdiag=read_csv(out + "/ss/stationary.csv"))
        if ref is None:
            ref = res
            continue
        check(rel(res["p"], ref["p"]) < 1e-10, f"{name}: transient density on {np_} ranks = 1 rank (max rel diff {rel(res['p'], ref['p']):.1e})")
        check(rel(res["ss"], ref["ss"]) < 1e-10, f"{name}: stationary density on {np_} ranks = 1 rank (max rel diff {rel(res['ss'], ref['ss']):.1e})")
        worst = max(rel(res["diag"][k], ref["diag"][k]) for k in ref["diag"] if not k.startswith("mean"))
        means = max(float(np.max(np.abs(res["diag"][k] - ref["diag"][k]))) for k in ref["diag"] if k.startswith("mean"))
        check(worst < 1e-10 and means < 1e-10, f"{name}: diagnostics.csv on {np_} ranks = 1 rank (rel {worst:.1e}, means abs {means:.1e})")
        check(len(res["diag"]["t"]) == len(ref["diag"]["t"]), f"{name}: same output times on {np_} ranks")
        sworst = max(float(np.max(np.abs(res["sdiag"][k] - ref["sdiag"][k]) / (np.abs(ref["sdiag"][k]) + 1e-2))) for k in ref["sdiag"] if k != "t")
        check(sworst < 1e-10, f"{name}: stationary diagnostics on {np_} ranks = 1 rank (max diff {sworst:.1e}, relative to |value| + 0.01)")
finish()
