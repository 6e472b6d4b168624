"""A refractory time with two variables (doc/physics.md §8.2): lif_inference
with tau_ref > 0, whose velocity v moves while the neuron is refractory.
Checks: grid mass + refractory_mass = 1 to 1e-12 in every row (the history
defines its outflux from the grid mass, so this holds by construction) and
the mass balance that can fail, refractory_mass = N(t) - N(t - tau_ref) with
N = spike_count_cum (the threshold current's integral: the re-injected
field's integral is the inflow), converging at third order in the step, at
order 2 and 4, with the reset's entropy identity Pi = dS/dt + Gamma_v + Gamma_V;
the same rows on 1 and 3 ranks (fixed steps); the re-injected field against
the Ornstein-Uhlenbeck transition in closed form (with g = 0 the exit field
is the last row of the density, and v an OU process: the re-injected
v-marginal after tau_ref has mean m e^{-tau/tau_v} and variance
s^2 e^{-2 tau/tau_v} + sigma_v^2 (1 - e^{-2 tau/tau_v}) for the exit
marginal's m, s^2), second order in the v cells (the dense re-entry map at
32 and 64 cells, SLEPc's MFN at 320); a restart bit for bit; the
Monte Carlo crosscheck on 2 ranks; the stationary state (mass, refractory
mass tau_ref nu, info_flow_X = -info_flow_Y, the entropy identity, orders 2
and 4) and a run from it that stays there (1 and 2 ranks: the compartment's
field and the stationary operator agree); and the refusals (the Monte Carlo
from a density of mass below 1, -protocol, a second threshold_reset axis, a
variable that does not diffuse at the reset: one line naming the option); -post_ranks and its checkpoint
byte for byte as one rank."""
import math
import h5py
import numpy as np
from common import *

TAU = 0.1
LIF = ["-options_file", "../input/lif_inference.opts", "-lif_inference_tau_ref", TAU]

# --- the mass and the entropy identity in every row, order 2 and 4; 1 and 3 ranks the same ---
FIXED = LIF + ["-grid_n", "32,64", "-t_final", 0.3, "-output_every", 0.05, "-snapshot_every", 100,
               "-ts_adapt_type", "none", "-ts_dt", 0.01, "-ksp_rtol", 1e-12]
ref = None
for ranks, order in ((1, 2), (3, 2), (1, 4)):
    out = tmpdir(f"r2d-mass-{ranks}-{order}")
    run("run", FIXED + ["-fp_order", order, "-output_dir", out], ranks=ranks)
    t = read_csv(f"{out}/diagnostics.csv")
    gap = float(np.max(np.abs(t["mass"] + t["refractory_mass"] - 1)))
    ident = float(np.max(np.abs(t["entropy_production"] - t["entropy_rate"] - t["entropy_flow_v"] - t["entropy_flow_V"])
                         / np.abs(t["entropy_production"])))
    check(gap <= 1e-12 and ident <= 1e-12 and t["refractory_mass"][-1] > 0.05,
          f"lif_inference, tau_ref {TAU}, order {order}, {ranks} rank(s): |mass + refractory_mass - 1| <= {gap:.1e}, "
          f"Pi = dS/dt + Gamma_v + Gamma_V within {ident:.1e} (relative), refractory_mass {t['refractory_mass'][-1]:.4f}")
    # the mass balance, which can fail: the compartment holds what crossed the threshold in the last
    # tau_ref (spike_count_cum, the diagnostics' integral of the threshold current), so that the grid
    # mass changes by the re-injected field's integral, nu(t - tau_ref), less nu(t)
    balance = float(np.max(np.abs(t["refractory_mass"] - (t["spike_count_cum"] - np.interp(t["t"] - TAU, t["t"], t["spike_count_cum"], left=0.0)))))
    check(balance <= 1e-4, f"order {order}, {ranks} rank(s): refractory_mass = N(t) - N(t - tau_ref) within {balance:.1e} "
          f"(N = spike_count_cum; dt 0.01)")
    if order == 2 and ranks == 1:
        out = tmpdir("r2d-balance-half")
        run("run", FIXED[:-4] + ["-ts_dt", 0.005, "-ksp_rtol", 1e-12, "-output_dir", out])
        h = read_csv(f"{out}/diagnostics.csv")
        half = float(np.max(np.abs(h["refractory_mass"] - (h["spike_count_cum"] - np.interp(h["t"] - TAU, h["t"], h["spike_count_cum"], left=0.0)))))
        check(half > 0 and 2.5 <= math.log2(balance / half) <= 3.5,
              f"the mass balance's gap converges with the step: {balance:.1e} at dt 0.01, {half:.1e} at 0.005 "
              f"(order {math.log2(balance / max(half, 1e-300)):.2f}, the third-order history)")
    if order == 2 and ref is None:
        ref = t
    elif order == 2:
        diff = max(float(np.max(np.abs(t[k] - ref[k]))) for k in ("firing_rate", "refractory_mass", "mean_v", "var_v"))
        check(diff <= 1e-10, f"3 ranks against 1: firing_rate, refractory_mass, mean_v, var_v within {diff:.1e}")

# --- the re-injected field against the OU transition, second order in the v cells ---
errs = []
for nv in (32, 64, 320):  # 320 > 256 cells: E applied by SLEPc's MFN (Expokit), not a dense E
    out = tmpdir(f"r2d-ou-{nv}")
    tau = 0.5
    run("run", LIF + ["-lif_inference_g", 0, "-lif_inference_mu0", 1.5, "-lif_inference_tau_ref", tau,
                      "-init_mean", "1.5,0.5", "-init_cov", "0.25,0,0,0.0025", "-grid_n", f"{nv},64", "-t_final", 0.5,
                      "-output_every", 0.5, "-checkpoint_every", 0.5, "-output_dir", out])
    with h5py.File(f"{out}/checkpoint.h5", "r") as f:
        p, v, s = f["density"][...], f["v"][...], f["refractory_history"][...]
    m = int(s[4])
    ny = int(s[5 + 3 * m])
    nu_last = s[5 + 3 * m + 1 + ny + m * ny:].reshape(m, ny)[-1]  # e^{tau L_v} of the exit field at t = 0.5
    exit_field = p[-1, :]  # g = 0: the threshold's coefficient is the same in every column
    e = math.exp(-tau)  # tau_v = 1, sigma_v = 1, v0 = 0

    def moments(w):
        w = w / w.sum()
        mu = float((w * v).sum())
        return mu, float((w * (v - mu) ** 2).sum())

    m0, s0 = moments(exit_field)
    m1, s1 = moments(nu_last)
    errs.append((abs(m1 - m0 * e), abs(s1 - (s0 * e * e + 1 - e * e)), abs(nu_last.sum() - s[5 + 3 * m - 1])))
order = math.log2(errs[0][0] / errs[1][0])
order_mfn = math.log(errs[1][0] / errs[2][0]) / math.log(5)
check(errs[1][0] <= 2e-3 and errs[1][1] <= 1e-4 and 1.7 <= order <= 2.3 and 1.7 <= order_mfn <= 2.3
      and max(x[2] for x in errs) <= 1e-15,
      f"re-injected v-marginal after tau_ref 0.5 against the OU transition: mean off by {errs[0][0]:.1e}, {errs[1][0]:.1e}, "
      f"{errs[2][0]:.1e} (32, 64, 320 v cells; orders {order:.2f}, {order_mfn:.2f}), variance by {errs[0][1]:.1e}, "
      f"{errs[1][1]:.1e}, {errs[2][1]:.1e}; its sum the rate")

# --- restart bit for bit ---
BASE = LIF + ["-grid_n", "32,64", "-t_final", 0.3, "-output_every", 0.05, "-snapshot_every", 0.15]
ref, out = tmpdir("r2d-ref"), tmpdir("r2d-stop")
run("run", BASE + ["-output_dir", ref])
proc = run("run", BASE + ["-output_dir", out, "-ts_max_steps", 13], expect_ok=False)
run("run", BASE + ["-output_dir", out, "-restart", "auto"])
a, b = read_density(f"{ref}/density_0002.h5")[0], read_density(f"{out}/density_0002.h5")[0]
same = open(f"{ref}/diagnostics.csv").read() == open(f"{out}/diagnostics.csv").read()
check(proc.returncode == 3 and same and np.array_equal(a, b),
      f"stopped after 13 steps (status {proc.returncode}) and restarted: diagnostics.csv byte for byte, the final density bit for bit")

# --- -post_ranks: the post rank receives the re-injection field with each state; its checkpoint restarts ---
out = tmpdir("r2d-post")
run("run", BASE + ["-output_dir", out, "-post_ranks", 1], ranks=2)
same_post = open(f"{ref}/diagnostics.csv").read() == open(f"{out}/diagnostics.csv").read()
out = tmpdir("r2d-post-stop")
run("run", BASE + ["-output_dir", out, "-post_ranks", 1, "-ts_max_steps", 9], ranks=2, expect_ok=False)
run("run", BASE + ["-output_dir", out, "-restart", "auto", "-post_ranks", 1], ranks=2)
same_restart = open(f"{ref}/diagnostics.csv").read() == open(f"{out}/diagnostics.csv").read()
check(same_post and same_restart,
      "-post_ranks 1 beside 1 solver rank, and its checkpoint restarted: diagnostics.csv byte for byte as on one rank")

# --- the Monte Carlo (refractory particles hold V at V_r, v moves): crosscheck on 2 ranks ---
out = tmpdir("r2d-crosscheck")
proc = run("crosscheck", LIF + ["-grid_n", "64,64", "-t_final", 0.5, "-output_every", 0.25, "-mc_particles", 20000,
                                "-output_dir", out], ranks=2, expect_ok=False)
cc = read_json(f"{out}/crosscheck.json") if proc.returncode == 0 else {}
check(proc.returncode == 0 and cc.get("verdict") == "passed",
      f"crosscheck of lif_inference with tau_ref {TAU} on 2 ranks: status {proc.returncode}, verdict {cc.get('verdict')}, "
      f"max |z| {cc.get('max_abs_z', float('nan')):.2f}")

# --- the stationary state: the operator L + S (E - I) J; a run from it stays there ---
for order in (2, 4):
    out = tmpdir(f"r2d-ss-{order}")
    run("stationary", LIF + ["-grid_n", "32,64", "-fp_order", order, "-output_dir", out])
    t = read_csv(f"{out}/stationary.csv")
    nu, held = t["firing_rate"][-1], t["refractory_mass"][-1]
    gap = abs(t["mass"][-1] + held - 1)
    flows = abs(t["info_flow_X"][-1] + t["info_flow_Y"][-1]) / abs(t["info_flow_X"][-1])
    ident = abs(t["entropy_production"][-1] - t["entropy_flow_v"][-1] - t["entropy_flow_V"][-1]) / t["entropy_production"][-1]
    check(gap <= 1e-12 and abs(held - TAU * nu) <= 1e-12 and flows <= 1e-10 and ident <= 1e-10 and abs(t["entropy_rate"][-1]) <= 1e-10,
          f"stationary, order {order}: rate {nu:.6f}, mass + refractory_mass - 1 = {gap:.1e}, refractory_mass = tau_ref nu, "
          f"info_flow_X = -info_flow_Y within {flows:.1e}, Pi = Gamma_v + Gamma_V within {ident:.1e}, dS/dt = {t['entropy_rate'][-1]:.1e}")
for ranks in (1, 2):
    out = tmpdir(f"r2d-from-ss-{ranks}")
    run("run", LIF + ["-grid_n", "32,64", "-init", "stationary", "-t_final", 0.5, "-output_every", 0.25, "-output_dir", out], ranks=ranks)
    t = read_csv(f"{out}/diagnostics.csv")
    drift = float(np.max(np.abs(t["firing_rate"] - t["firing_rate"][0]))) / t["firing_rate"][0]
    dv = float(np.max(np.abs(t["mean_v"] - t["mean_v"][0])))
    check(drift <= 1e-10 and dv <= 1e-12 and abs(t["refractory_mass"][0] - TAU * t["firing_rate"][0]) <= 1e-12,
          f"run from the stationary density on {ranks} rank(s): firing rate kept within {drift:.1e}, mean_v within {dv:.1e}, "
          f"refractory_mass(0) = tau_ref nu (the compartment's field and the stationary operator agree)")

# --- refusals: one line naming the option ---
expect_refused("the Monte Carlo from the stationary density with a refractory time in two variables", "mc",
               LIF + ["-grid_n", "32,64", "-init", "stationary", "-t_final", 0.1, "-mc_particles", 1000], ["-init gaussian", "refractory"])
expect_refused("a schedule with a refractory time in two variables", "run",
               LIF + ["-t_final", 0.1, "-protocol", "mu0:0.6@0,0.8@0.05"], ["-protocol", "-lif_inference_tau_ref 0"])
EXPR = ["-options_file", "../input/expr.opts", "-grid_n", "64,96", "-t_final", 0.1]
expect_refused("a refractory time with a second threshold_reset axis", "run",
               EXPR + ["-grid_boundary", "v:threshold_reset,r:threshold_reset", "-reset_v", 0, "-reset_r", 0,
                       "-refractory_r", 0.1], ["second threshold_reset", "-refractory_r 0"])
expect_refused("a refractory time whose other variable does not diffuse at the reset", "run",
               EXPR + ["-grid_boundary", "r:threshold_reset", "-reset_r", 0, "-refractory_r", 0.1,
                       "-expr_diffusion_v", "sigma_v^2/tau_v*r^2"], ["positive diffusion", "-refractory_r 0"])
finish()
