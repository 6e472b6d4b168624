"""The plastic population (doc/physics.md §2, 5 variables v, r1, r2, w1, w2):
- its drift and diffusion equal the same formulas written as an expression
  model, through the solver (point evaluation) and through the Monte Carlo
  (the structure-of-arrays kernel, same Philox streams: the same trajectories),
  with every tuning kind, a BCM threshold and multiplicative synaptic noise;
- conformance on a 10^5 grid: mass and positivity over a run, a converged
  stationary solve, Π = Σ Γ_i and the second law of each subsystem at the
  steady state (σ_X = Γ_X - İ_X = Π_X >= 0, likewise Y), and during a run for
  X = {r1} (dS_X/dt by finite differences);
- each pair (v, rk, wk) is a Hebbian model of its own (its equations close):
  every diagnostic of the (v, rk, wk) marginal of the 5-D stationary density
  equals the 3-D hebbian model's with tuning k, on the same cells;
- crosscheck against the Monte Carlo on 2 ranks; stationary on 3 ranks."""
import numpy as np
from common import *

BOX = ["-grid_lo", "-6,-1.2,-1.2,-0.3,-0.3", "-grid_hi", "6,2.2,2.2,1.4,1.4"]
BASE = ["-model", "population_plastic", "-population_plastic_tau_w", "5"] + BOX

# --- 1. the model's formulas against an expression model -------------------
# non-default parameters: a bell and a linear input, a BCM threshold, multiplicative noise (w > 0)
P = dict(tau_v=0.8, sigma_v=1.1, v0=0.2, tau_r=0.15, sigma_r=0.25, tau_w=3.0, sigma_w=0.2, eps=0.4,
         thetaM=0.3, w0=0.6, rmax1=1.2, vpref1=-0.4, s1=0.9, r02=0.5, lambda2=0.2)
U1 = "(rmax1*exp(-0.5*((v-vpref1)/s1)^2))"
U2 = "(r02+lambda2*v)"
FORMULAS = {"v": ("(-(v-v0)/tau_v)", "sigma_v^2/tau_v")}
for k, u in (("1", U1), ("2", U2)):
    FORMULAS["r" + k] = (f"(-r{k}+w{k}*{u})/tau_r", "sigma_r^2/tau_r")
    FORMULAS["w" + k] = (f"(eps*{u}*r{k}*(r{k}-thetaM)-(w{k}-w0))/tau_w", f"sigma_w^2/tau_w*w{k}")
EXPR = ["-model", "expr", "-vars", "v,r1,r2,w1,w2", "-expr_param", ",".join(f"{k}={v}" for k, v in P.items())]
for var, (drift, diffusion) in FORMULAS.items():
    EXPR += [f"-expr_drift_{var}", drift, f"-expr_diffusion_{var}", diffusion]
BUILTIN = ["-model", "population_plastic", "-population_plastic_tuning1", "bell", "-population_plastic_tuning2", "linear",
           "-population_plastic_w_noise", "multiplicative"]
for k, v in P.items():
    BUILTIN += [f"-population_plastic_{k}", str(v)]
SMALL = ["-grid_n", "8", "-grid_lo", "-6,-1.5,-1.5,0.05,0.05", "-grid_hi", "6,2.5,2.5,1.6,1.6",
         "-init_mean", "0,0.4,0.5,0.6,0.6", "-init_cov", "1,0.04,0.04,0.01,0.01", "-t_final", "0.4", "-output_every", "0.2"]
out = tmpdir("pp-expr")
for name, opts in (("builtin", BUILTIN), ("expr", EXPR)):
    run("run", opts + SMALL + ["-ts_type", "beuler", "-ts_adapt_type", "none", "-ts_dt", "0.05", "-ksp_rtol", "1e-14", "-output_dir", f"{out}/{name}"])
    run("mc", opts + SMALL + ["-mc_particles", "3000", "-mc_seed", "11", "-output_dir", f"{out}/{name}-mc"])
for kind, file in (("solver", "diagnostics.csv"), ("Monte Carlo", "mc.csv")):
    suffix = "" if kind == "solver" else "-mc"
    a, b = read_csv(f"{out}/builtin{suffix}/{file}"), read_csv(f"{out}/expr{suffix}/{file}")
    cols = [c for c in a if c.startswith(("mean_", "var_", "entropy", "mi_", "info_flow"))]
    # information columns near 0 are differences of O(1) entropies: compare them to 1e-3 at least
    err = max(np.max(np.abs(a[c] - b[c]) / np.maximum(np.abs(b[c]), 1e-3)) for c in cols)
    check(err < 1e-10, f"{kind}: population_plastic equals its formulas as an expression model "
          f"({len(cols)} columns, max rel. difference {err:.1e})")

# --- 2. conformance on 10^5 ---------------------------------------------------
G10 = BASE + ["-grid_n", "10"]
out = tmpdir("pp-conf")
run("run", G10 + ["-init_mean", "0,0,0,0.2,0.2", "-init_cov", "1,0.04,0.04,0.01,0.01", "-t_final", "2",
                  "-output_every", "0.5", "-snapshot_every", "2", "-ts_type", "beuler", "-ts_dt", "0.25", "-ts_adapt_type", "none",
                  "-ksp_rtol", "1e-14", "-output_dir", out + "/be"])
c = read_csv(out + "/be/diagnostics.csv")
check(np.max(np.abs(c["mass"] - 1)) < 1e-11, f"backward Euler to t = 2: mass 1 to {np.max(np.abs(c['mass'] - 1)):.1e}")
p, _ = read_density(out + "/be/density_0001.h5")
# an M-matrix step keeps p >= 0 exactly only for an exact solve: the Krylov solve leaves round-off
check(p.min() >= -1e-14 * p.max(), f"backward Euler: the density at t = 2 is non-negative to round-off (min {p.min():.2e}, max {p.max():.2e})")
proc = run("stationary", G10 + ["-stationary_ksp_rtol", "1e-13", "-output_dir", out + "/ss"])
ss = read_json(out + "/ss/stationary_summary.json")
f = ss["final"]
check(ss["residual"] < 1e-8, f"stationary solve converged (residual {ss['residual']:.1e})")
check(abs(f["mass"] - 1) < 1e-10, f"stationary density has mass 1 ({f['mass']:.15f})")
names = ss["variables"]
Gam = {v: f[f"entropy_flow_{v}"] for v in names}
Pi = {v: f[f"entropy_production_{v}"] for v in names}
err = abs(f["entropy_production"] - sum(Gam.values())) / f["entropy_production"]
check(err < 1e-8, f"steady state: Π = Σ Γ_i ({f['entropy_production']:.6f} vs {sum(Gam.values()):.6f})")
check(min(Pi.values()) >= 0, "steady state: every Π_i >= 0")
X, Y = names[1:], names[:1]  # the default sensor: every variable but v
for part, sub, flow in (("X", X, "info_flow_X"), ("Y", Y, "info_flow_Y")):
    sigma = sum(Gam[v] for v in sub) - f[flow]
    pi = sum(Pi[v] for v in sub)
    check(pi >= 0 and abs(sigma - pi) < 1e-6 * f["entropy_production"],
          f"steady state, subsystem {part} = {{{','.join(sub)}}}: σ = Γ - İ = {sigma:.8f}, Π = {pi:.8f} >= 0")
# one pair as the sensor, X = {r1, w1}, Y = {v, r2, w2}: the same density analysed again
run("analyze", [out + "/ss/density_stationary.h5", "-sensor", "r1,w1", "-output_dir", out + "/pair"])
f = read_json(out + "/pair/summary.json")["final"]
for part, sub, flow in (("X", ["r1", "w1"], "info_flow_X"), ("Y", ["v", "r2", "w2"], "info_flow_Y")):
    sigma = sum(f[f"entropy_flow_{v}"] for v in sub) - f[flow]
    pi = sum(f[f"entropy_production_{v}"] for v in sub)
    check(pi >= 0 and abs(sigma - pi) < 1e-6 * f["entropy_production"],
          f"steady state, subsystem {part} = {{{','.join(sub)}}}: σ = {sigma:.8f}, Π = {pi:.8f} >= 0")

# the second law of X = {r1} during a run, from the stationary v marginal with silent neurons
run("run", BASE + ["-grid_n", "8", "-sensor", "r1", "-init_mean", "0,0,0,0.5,0.5", "-init_cov", "1,0.04,0.04,0.01,0.01",
                  "-t_final", "0.2", "-output_every", "0.005", "-ts_rtol", "1e-8", "-ts_atol", "1e-10",
                  "-output_dir", out + "/law"])
c = read_csv(out + "/law/diagnostics.csv")
t = c["t"]
sigma_x = np.gradient(c["entropy_r1"], t, edge_order=2) + c["entropy_flow_r1"] - c["info_flow_X"]
inner = slice(2, -2)
gap = np.max(np.abs(sigma_x - c["entropy_production_r1"])[inner]) / np.max(c["entropy_production_r1"])
check(gap < 5e-3, f"run: σ_X = dS_r1/dt + Γ_r1 - İ_X equals Π_r1 >= 0 at every output time (gap {gap:.1e})")
check(c["entropy_production_r1"].min() >= 0, "run: Π_r1 >= 0")

# --- 3. each pair is a Hebbian model: marginal diagnostics on the same cells ----
pp = read_json(out + "/ss/stationary_summary.json")["final"]
for k, tuning in (("1", ["-hebbian_beta", "3", "-hebbian_theta", "-0.5"]), ("2", ["-hebbian_beta", "-3", "-hebbian_theta", "0.5"])):
    run("stationary", ["-model", "hebbian", "-hebbian_tau_w", "5", "-hebbian_sigma_r", "0.2", "-grid_n", "10"] + tuning +
        ["-grid_lo", "-6,-1.2,-0.3", "-grid_hi", "6,2.2,1.4", "-stationary_ksp_rtol", "1e-13", "-output_dir", f"{out}/heb{k}"])
    h = read_json(f"{out}/heb{k}/stationary_summary.json")["final"]
    pairs = [(f"mean_r{k}", "mean_r"), (f"var_r{k}", "var_r"), (f"mean_w{k}", "mean_w"), (f"var_w{k}", "var_w"),
             (f"entropy_r{k}", "entropy_r"), (f"entropy_w{k}", "entropy_w"), (f"mi_v_r{k}", "mi_v_r"),
             (f"mi_v_w{k}", "mi_v_w"), (f"mi_r{k}_w{k}", "mi_r_w")]
    err = max(abs(pp[a] - h[b]) / max(abs(h[b]), 1e-3) for a, b in pairs)
    check(err < 1e-7, f"pair {k}: the (v, r{k}, w{k}) marginal equals the hebbian model with tuning {k} "
          f"({len(pairs)} diagnostics, max rel. difference {err:.1e}; mean_w{k} = {pp[f'mean_w{k}']:.6f})")

# --- 4. MPI: the same stationary state on 3 ranks; crosscheck on 2 ---------------
run("stationary", G10 + ["-stationary_ksp_rtol", "1e-13", "-output_dir", out + "/ss3"], ranks=3)
f3 = read_json(out + "/ss3/stationary_summary.json")["final"]
# columns that vanish at the steady state (mean_v, entropy_rate, ...) are round-off of O(1) sums
err = max(abs(f3[key] - pp[key]) / max(abs(pp[key]), 1e-3) for key in pp if isinstance(pp[key], float))
check(err < 1e-8, f"stationary on 3 ranks equals 1 rank (max rel. difference {err:.1e})")
# broad noises (sigma_r 0.5, sigma_w 0.3: about a cell per std on 10^5) so that the grid's
# error stays below the Monte Carlo's standard errors; the narrow defaults need a finer grid
d = out + "/cc"
proc = run("crosscheck", ["-model", "population_plastic", "-population_plastic_tau_w", "5", "-population_plastic_sigma_r", "0.5", "-population_plastic_sigma_w", "0.3",
                          "-grid_n", "10", "-grid_lo", "-5,-2,-2,-0.8,-0.8", "-grid_hi", "5,3,3,1.8,1.8",
                          "-init_mean", "0,0.3,0.3,0.5,0.5", "-init_cov", "1,0.16,0.16,0.0625,0.0625",
                          "-t_final", "0.2", "-output_every", "0.1", "-mc_particles", "20000", "-output_dir", d],
           ranks=2, expect_ok=False)
cc = read_json(d + "/crosscheck.json")
check(proc.returncode == 0 and cc["passed"] and cc["judged"] >= 80,
      f"crosscheck on 2 ranks: {cc['judged']} judged, max |z| = {cc['max_abs_z']:.2f} (limit {cc['z_limit']}), status {proc.returncode}")
finish()
