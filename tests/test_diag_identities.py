"""Identities that hold for any model, checked at every output time of
nonlinear models (sigmoid inference; the 3-D population and Hebbian models):
  Π = dS/dt + Σ_i Γ_i                     (to round-off: same discrete currents)
  Π_i >= 0                                 (face by face)
  σ_X = dS_X/dt + Γ_X - İ_X = Π_X >= 0     (dS_X/dt by finite differences in time)
  dI/dt = İ_X + İ_Y                        (dI/dt by finite differences in time)
  *_cum = ∫ rate dt                        (against the trapezoidal rule over the rows)
and the parity convention of doc/physics.md §3b: a Brownian particle dragged at
mean velocity v0 dissipates Π = v0^2/(tau_v sigma_v^2) with v odd, 0 with v even."""
import numpy as np
from common import *

TIGHT = ["-ts_rtol", "1e-8", "-ts_atol", "1e-10", "-ksp_rtol", "1e-13", "-stationary_ksp_rtol", "1e-13"]

# sigmoid inference from a Gaussian away from the steady state
out = tmpdir("identities")
run("run", ["-model", "inference", "-inference_tuning", "sigmoid", "-grid_n", "96,80", "-init_mean", "1.5,0.2", "-init_cov", "0.3,0.02",
            "-t_final", "1", "-output_every", "0.002", "-output_dir", out] + TIGHT)
c = read_csv(out + "/diagnostics.csv")
t = c["t"]
Pi, Sdot = c["entropy_production"], c["entropy_rate"]
Gam = c["entropy_flow_v"] + c["entropy_flow_r"]
scale = np.abs(Pi) + np.abs(Sdot) + np.abs(Gam)
err = np.max(np.abs(Pi - Sdot - Gam) / scale)
check(err < 1e-10, f"inference: Π = dS/dt + Σ Γ_i at all {len(t)} output times (max rel. residual {err:.1e})")
check(c["entropy_production_v"].min() >= 0 and c["entropy_production_r"].min() >= 0, "inference: Π_v, Π_r >= 0 at every output time")
# σ_X with X = {r}: dS_r/dt + Γ_r - İ_X, by centred differences of entropy_r
dSx = np.gradient(c["entropy_r"], t, edge_order=2)
sigma_x = dSx + c["entropy_flow_r"] - c["info_flow_X"]
inner = slice(2, -2)
gap = np.max(np.abs(sigma_x - c["entropy_production_r"])[inner]) / np.max(c["entropy_production_r"])
print(f"  σ_X vs Π_X: max |difference| / max Π_X = {gap:.2e} (finite differences in time, dt = 0.002)")
check(gap < 2e-3, f"inference: subsystem second law σ_X = Π_X at every output time ({gap:.1e})")
check(np.min(sigma_x[inner]) > -2e-3 * np.max(c["entropy_production_r"]), "inference: σ_X >= 0 at every output time")
dI = np.gradient(c["mutual_information"], t, edge_order=2)
gap = np.max(np.abs(dI - c["info_flow_X"] - c["info_flow_Y"])[inner]) / np.max(np.abs(c["info_flow_X"]))
check(gap < 2e-3, f"inference: dI/dt = İ_X + İ_Y at every output time ({gap:.1e})")
trap = np.concatenate([[0], np.cumsum(0.5 * np.diff(t) * (Pi[1:] + Pi[:-1]))])
gap = np.max(np.abs(trap - c["entropy_production_cum"])) / trap[-1]
# the program integrates over every time step, the check over the rows: two O(dt^2) rules
check(gap < 1e-3, f"inference: entropy_production_cum = ∫ Π dt ({gap:.1e})")
trap = np.concatenate([[0], np.cumsum(0.5 * np.diff(t) * (c["info_flow_X"][1:] + c["info_flow_X"][:-1]))])
gap = np.max(np.abs(trap - c["info_flow_X_cum"])) / np.max(np.abs(trap))
check(gap < 1e-4, f"inference: info_flow_X_cum = ∫ İ_X dt ({gap:.1e})")

# 3-D nonlinear models: the balance and positivity at every output time, on 3 ranks
for model in ("population", "hebbian"):
    out = tmpdir(f"identities-{model}")
    run("run", ["-model", model, "-grid_n", "24", "-t_final", "1", "-output_every", "0.1", "-output_dir", out], ranks=3)
    c = read_csv(out + "/diagnostics.csv")
    names = read_json(out + "/summary.json")["variables"]
    Gam = sum(c[f"entropy_flow_{v}"] for v in names)
    scale = np.abs(c["entropy_production"]) + np.abs(c["entropy_rate"]) + np.abs(Gam)
    err = np.max(np.abs(c["entropy_production"] - c["entropy_rate"] - Gam) / scale)
    check(err < 1e-10, f"{model}: Π = dS/dt + Σ Γ_i at every output time ({err:.1e})")
    check(all(c[f"entropy_production_{v}"].min() >= 0 for v in names), f"{model}: every Π_i >= 0")
    check(all(np.isfinite(c[k]).all() for k in c if k != "cost_per_bit"), f"{model}: every diagnostic finite")

# parity: dragged Brownian particle at its steady state
for parity, expected in (("odd", 1.2 ** 2 / (0.5 * 0.8 ** 2)), ("even", 0.0)):
    errs = []
    for n in (200, 400):
        out = tmpdir(f"parity-{parity}-{n}")
        run("stationary", ["-model", "brownian", "-brownian_v0", "1.2", "-brownian_tau_v", "0.5", "-brownian_sigma_v", "0.8", "-grid_n", n, "-grid_lo", "-4", "-grid_hi", "6.4",
                           "-parity", f"v:{parity}", "-output_dir", out])
        s = read_json(out + "/stationary_summary.json")
        errs.append(abs(s["final"]["entropy_production"] - expected))
    check(s["parity"] == {"v": parity} and s["entropy_production_current"] == ("irreversible" if parity == "odd" else "full"), f"summary.json records v {parity}")
    if parity == "odd":
        order = math.log(errs[0] / errs[1], 2)
        check(errs[1] / expected < 1e-3 and order > 1.8, f"v odd: Π = v0^2/(tau_v sigma_v^2) = {expected:.6g}, relative error {errs[1] / expected:.1e}, order {order:.2f}")
    else:
        check(errs[1] < 1e-10, f"v even: Π = 0 at the steady state ({errs[1]:.1e})")
finish()
