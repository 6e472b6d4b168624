"""Spiking neurons and boundary kinds (doc/physics.md §8): the leaky
integrate-and-fire model's stationary firing rate and density against the
Siegert / Brunel–Hakim closed forms (sub- and supra-threshold, observed order
2), the refractory compartment's mass, the reset's entropy identity
Π = dS/dt + Σ Γ in every row of a transient, mass conservation and rank
invariance on 1–3 ranks for threshold_reset and periodic axes, a periodic
phase variable's stationary density against its closed form, and the
refusals; the Monte Carlo's threshold crossings (Brownian bridge): its rate
against Siegert's within 4 standard errors, its smoothed density at the
threshold against Brunel–Hakim's, rank invariance, and crosscheck
of the lif model and of a periodic phase. References are computed here by
Gauss–Legendre quadrature."""
import math
import numpy as np
from common import *

GL_X, GL_W = np.polynomial.legendre.leggauss(200)


def integral(f, a, b):
    """∫_a^b f by 200-point Gauss–Legendre (smooth integrands: round-off accurate)."""
    x = 0.5 * (b - a) * GL_X + 0.5 * (a + b)
    return 0.5 * (b - a) * float(np.sum(GL_W * f(x)))


def siegert_rate(mu, sigma, V_th=1.0, V_r=0.0, tau_m=1.0, tau_ref=0.0):
    """1/ν = τ_ref + τ_m √π ∫_{y_r}^{y_th} e^{u²}(1 + erf u) du; e^{u²} erfc(-u) has no cancellation."""
    g = np.vectorize(lambda u: math.exp(u * u) * math.erfc(-u))
    return 1.0 / (tau_ref + tau_m * math.sqrt(math.pi) * integral(g, (V_r - mu) / sigma, (V_th - mu) / sigma))


def siegert_density(V, mu, sigma, nu, V_th=1.0, V_r=0.0, tau_m=1.0):
    """p(V) = 2 ν τ_m/σ e^{-y²} ∫_{max(y, y_r)}^{y_th} e^{u² - y²} du (the exponent combined: no overflow)."""
    y_th, y_r = (V_th - mu) / sigma, (V_r - mu) / sigma
    out = []
    for v in V:
        y = (v - mu) / sigma
        out.append(2 * nu * tau_m / sigma * integral(lambda u: np.exp(u * u - y * y), max(y, y_r), y_th))
    return np.array(out)


def stationary(options, label, ranks=1):
    out = tmpdir(label)
    run("stationary", options + ["-output_dir", out], ranks=ranks)
    return read_csv(f"{out}/stationary.csv"), out


# --- Siegert rates and densities, sub- and supra-threshold: observed order 2 ---
for mu in (0.8, 1.2):
    nu = siegert_rate(mu, 0.3)
    rate_err, dens_err, hs = [], [], []
    for n in (64, 128, 256):
        table, out = stationary(["-model", "lif", "-lif_mu", mu, "-lif_sigma", 0.3, "-grid_n", n], f"lif-{mu}-{n}")
        p, attrs = read_density(f"{out}/density_stationary.h5")
        lo, hi = -1.8 if mu < 1 else -1.8, 1.0
        h = (hi - lo) / n
        V = lo + (np.arange(n) + 0.5) * h
        rate_err.append(abs(table["firing_rate"][-1] - nu) / nu)
        dens_err.append(l1_error(p, siegert_density(V, mu, 0.3, nu), h))
        hs.append(h)
    ro, do = observed_orders(hs, rate_err), observed_orders(hs, dens_err)
    check(all(1.8 <= o <= 2.3 for o in ro),
          f"mu = {mu}: firing rate error vs Siegert {rate_err[0]:.2e} {rate_err[1]:.2e} {rate_err[2]:.2e}, orders {ro[0]:.3f} {ro[1]:.3f}")
    check(all(1.8 <= o <= 2.6 for o in do),
          f"mu = {mu}: L1 density error {dens_err[0]:.2e} {dens_err[1]:.2e} {dens_err[2]:.2e}, orders {do[0]:.3f} {do[1]:.3f}")

# 1e-6 relative on a grid that solves in well under a second (8192 cells: (512/8192)^2 x 7.6e-5)
for mu in (0.8, 1.2):
    table, _ = stationary(["-model", "lif", "-lif_mu", mu, "-grid_n", 8192], f"lif-fine-{mu}")
    err = abs(table["firing_rate"][-1] - siegert_rate(mu, 0.3)) / siegert_rate(mu, 0.3)
    check(err <= 1e-6, f"mu = {mu}, 8192 cells: firing rate within {err:.2e} of Siegert (<= 1e-6)")

# --- Richardson's estimate (doc/physics.md §5) on the rate: trusted and within 3e-6; the two parts of Π diverge
#     like ln h by construction (§8.3) and are flagged untrusted ---
out = tmpdir("lif-estimate")
run("stationary", ["-model", "lif", "-grid_n", 512, "-error_estimate", "-output_dir", out])
t = read_csv(f"{out}/stationary.csv")
nu = siegert_rate(0.8, 0.3)
err = abs(t["firing_rate_extrap"][-1] - nu) / nu
check(err <= 3e-6 and t["firing_rate_trusted"][-1] == 1 and t["entropy_production_reset_trusted"][-1] == 0
      and t["entropy_production_trusted"][-1] == 1,
      f"-error_estimate, 512 cells: firing_rate_extrap within {err:.1e} of Siegert (raw {abs(t['firing_rate'][-1] - nu) / nu:.1e}), "
      f"trusted; entropy_production trusted, its reset part not")

# --- the reset operator's slowest relaxation (a complex pair): second order on 128, 256, 512 cells ---
lam = []
for n in (128, 256, 512):
    out = tmpdir(f"lif-spectrum-{n}")
    run("spectrum", ["-model", "lif", "-grid_n", n, "-output_dir", out])
    sp = read_csv(f"{out}/spectrum.csv")
    lam.append(complex(sp["lambda"][0], abs(sp["lambda_imag"][0])))
orders = [math.log2(abs(lam[1] - lam[0]) / abs(lam[2] - lam[1]))]
check(1.8 <= orders[0] <= 2.3 and lam[2].imag > 0,
      f"spectrum of lif: lambda_1 = {lam[2].real:.6f} +- {lam[2].imag:.6f} i (complex: the reset is not reversible), observed order {orders[0]:.2f}")

# --- the refractory compartment: rate with tau_ref, mass + refractory_mass = 1 ---
for mu in (0.8, 1.2):
    nu = siegert_rate(mu, 0.3, tau_ref=0.1)
    table, _ = stationary(["-model", "lif", "-lif_mu", mu, "-lif_tau_ref", 0.1, "-grid_n", 2048], f"lif-ref-{mu}")
    err = abs(table["firing_rate"][-1] - nu) / nu
    total = table["mass"][-1] + table["refractory_mass"][-1]
    check(err <= 2e-5 and abs(table["refractory_mass"][-1] - 0.1 * table["firing_rate"][-1]) <= 1e-15
          and abs(total - 1) <= 1e-12,
          f"mu = {mu}, tau_ref = 0.1: rate error {err:.2e} (<= 2e-5, 2048 cells); mass + refractory_mass - 1 = {total - 1:.1e}")

# --- rank invariance and conservation; the reset's entropy identity, row by row ---
lif_run = ["-options_file", "../input/lif.opts", "-grid_n", 256, "-t_final", 2, "-ts_adapt_type", "none", "-ts_dt", 0.02, "-ts_rtol", 1e-10,
           "-output_every", 0.1, "-snapshot_every", 100]
ref = None
for ranks in (1, 2, 3):
    table, _ = stationary(["-model", "lif", "-grid_n", 256], f"lif-ranks-{ranks}", ranks=ranks)
    if ranks == 1:
        ref = table
    else:
        d = abs(table["firing_rate"][-1] - ref["firing_rate"][-1]) / ref["firing_rate"][-1]
        check(d <= 1e-10, f"lif stationary on {ranks} ranks: firing rate within {d:.1e} of 1 rank's")
    out = tmpdir(f"lif-run-{ranks}")
    run("run", lif_run + ["-output_dir", out], ranks=ranks)
    t = read_csv(f"{out}/diagnostics.csv")
    mass = float(np.max(np.abs(t["mass"] - 1)))
    balance = float(np.max(np.abs(t["entropy_production"] - t["entropy_rate"] - t["entropy_flow_V"])
                           / (np.abs(t["entropy_production"]) + 1)))
    reset = bool(np.all(t["entropy_production_reset"][1:] < 0))
    spikes = t["spike_count_cum"][-1]
    trapz = float(np.sum(0.5 * np.diff(t["t"]) * (t["firing_rate"][1:] + t["firing_rate"][:-1])))
    check(mass <= 1e-12 and balance <= 1e-10 and reset and abs(spikes - trapz) <= 2e-3 * spikes,
          f"lif run on {ranks} rank(s): |mass - 1| <= {mass:.1e}, Pi - dS/dt - Gamma_V <= {balance:.1e} (relative), "
          f"reset part negative: {reset}, spike_count_cum {spikes:.5f} vs the rate's trapezoid {trapz:.5f}")

# --- a periodic phase variable: dθ = (w - a sin θ) dt + sqrt(2D) dW on the circle ---
w, a, D = 1.0, 1.5, 0.5
two_pi = 2 * math.pi
phase = ["-model", "expr", "-vars", "th", "-expr_param", f"w={w},a={a},D={D}", "-expr_drift_th", "w - a*sin(th)",
         "-expr_diffusion_th", "D", "-grid_boundary", "th:periodic", "-grid_lo", 0, "-grid_hi", repr(two_pi)]


def phase_density(th):
    """p ∝ e^{-U(θ)/D} ∫_θ^{θ+2π} e^{U(s)/D} ds, U = -w θ - a cos θ; the current J = (1 - e^{-2πw/D}) / ∫ ..."""
    U = lambda s: -w * s - a * np.cos(s)
    q = np.array([integral(lambda s: np.exp((U(s) - U(x)) / D), x, x + two_pi) for x in th])
    return q


errs, hs = [], []
for n in (64, 128, 256):
    table, out = stationary(phase + ["-grid_n", n], f"phase-{n}")
    p, _ = read_density(f"{out}/density_stationary.h5")
    h = two_pi / n
    th = (np.arange(n) + 0.5) * h
    q_raw = phase_density(th)
    q = q_raw / (q_raw.sum() * h)
    errs.append(l1_error(p, q, h))
    hs.append(h)
    if n == 256:
        # J = A q - D q' = D (1 - e^{-2π w/D}) for the unnormalised q; Π = Γ = J ∫ F dθ = J 2π w/D
        J = D * (1 - math.exp(-two_pi * w / D)) / (q_raw.sum() * h)
        ep, ep_exact = table["entropy_production"][-1], J * two_pi * w / D
o = observed_orders(hs, errs)
check(abs(ep - ep_exact) <= 1e-3 * ep_exact, f"periodic phase, 256 cells: entropy production {ep:.6f} vs J 2 pi w/D = {ep_exact:.6f}")
check(all(1.8 <= x <= 2.3 for x in o), f"periodic phase: L1 error vs the closed form {errs[0]:.2e} {errs[1]:.2e} {errs[2]:.2e}, orders {o[0]:.3f} {o[1]:.3f}")

ref = None
for ranks in (1, 2, 3):
    out = tmpdir(f"phase-run-{ranks}")
    run("run", phase + ["-grid_n", 96, "-t_final", 1, "-ts_adapt_type", "none", "-ts_dt", 0.02, "-ts_rtol", 1e-10, "-output_every", 0.1,
                        "-snapshot_every", 100, "-init", "gaussian", "-init_mean", 3.0, "-init_cov", 0.09, "-output_dir", out],
        ranks=ranks)
    t = read_csv(f"{out}/diagnostics.csv")
    mass = float(np.max(np.abs(t["mass"] - 1)))
    diff = 0.0 if ref is None else float(np.max(np.abs(t["entropy"] - ref["entropy"])))
    ref = ref or t
    check(mass <= 1e-12 and diff <= 1e-10 * float(np.max(np.abs(ref["entropy"]))), f"periodic run on {ranks} rank(s): |mass - 1| <= {mass:.1e}, entropy vs 1 rank {diff:.1e}")

# --- the Monte Carlo: threshold crossings with the Brownian bridge, the rate within its standard error ---
for mu in (0.8, 1.2):
    out = tmpdir(f"lif-mc-{mu}")
    run("mc", ["-model", "lif", "-lif_mu", mu, "-grid_n", 256, "-init", "stationary", "-t_final", 5, "-output_every", 5,
               "-mc_particles", 20000, "-mc_dt", 0.005, "-output_dir", out])
    t = read_csv(f"{out}/mc.csv")
    nu, rate, se = siegert_rate(mu, 0.3), t["firing_rate"][-1], t["firing_rate_stderr"][-1]
    check(abs(rate - nu) <= 4 * se, f"Monte Carlo mu = {mu}: firing rate {rate:.5f} +- {se:.5f} against Siegert's {nu:.5f} (z = {(rate - nu) / se:.2f}, |z| <= 4)")
tables = []
for ranks in (1, 3):
    out = tmpdir(f"lif-mc-ranks-{ranks}")
    run("mc", ["-options_file", "../input/lif.opts", "-t_final", 1, "-output_every", 0.5, "-mc_particles", 5000, "-output_dir", out],
        ranks=ranks)
    tables.append(open(f"{out}/mc.csv").read())
check(tables[0] == tables[1], "Monte Carlo with threshold crossings: mc.csv on 3 ranks is 1 rank's, byte for byte")
out = tmpdir("lif-crosscheck")
proc = run("crosscheck", ["-options_file", "../input/lif.opts", "-t_final", 2, "-output_every", 0.5, "-mc_particles", 20000,
                          "-output_dir", out], expect_ok=False)
cc = read_json(f"{out}/crosscheck.json") if proc.returncode == 0 else {}
check(proc.returncode == 0 and cc.get("verdict") == "passed" and "firing_rate" in cc.get("quantities", {}),
      f"crosscheck of lif (firing_rate, spike_count_cum, moments, entropy flows judged): status {proc.returncode}, verdict {cc.get('verdict')}")
out = tmpdir("phase-crosscheck")
proc = run("crosscheck", phase + ["-grid_n", 128, "-init_mean", 3, "-init_cov", 0.09, "-t_final", 1, "-output_every", 0.5,
                                  "-mc_particles", 20000, "-output_dir", out], expect_ok=False)
check(proc.returncode == 0, f"crosscheck of the periodic phase (wrapped particles): status {proc.returncode}")

# --- lif_inference: a spiking sensor of the velocity ---
out = tmpdir("lif-inference-ss")
run("stationary", ["-options_file", "../input/lif_inference.opts", "-output_dir", out])
t = read_csv(f"{out}/stationary.csv")
flows = abs(t["info_flow_X"][-1] + t["info_flow_Y"][-1])
check(t["info_flow_X"][-1] > 0 and flows <= 1e-10 * t["info_flow_X"][-1]
      and abs(t["info_per_spike"][-1] - t["info_flow_X"][-1] / t["firing_rate"][-1]) <= 1e-12
      and abs(t["entropy_production"][-1] - t["entropy_rate"][-1] - t["entropy_flow_v"][-1] - t["entropy_flow_V"][-1]) <= 1e-10 * t["entropy_production"][-1],
      f"lif_inference stationary: info_flow_X {t['info_flow_X'][-1]:.5f} = -info_flow_Y ({flows:.1e}), info_per_spike = info_flow_X / firing_rate, Pi = dS/dt + Gamma_v + Gamma_V")
out = tmpdir("lif-inference-cc")
proc = run("crosscheck", ["-options_file", "../input/lif_inference.opts", "-t_final", 0.5, "-output_every", 0.25, "-mc_particles", 20000,
                          "-output_dir", out], expect_ok=False)
cc = read_json(f"{out}/crosscheck.json") if proc.returncode == 0 else {}
check(proc.returncode == 0 and cc.get("verdict") == "passed",
      f"crosscheck of lif_inference: status {proc.returncode}, verdict {cc.get('verdict')}")

# --- the Monte Carlo's smoothed density at the threshold (odd reflection there): the last cells against the
# Brunel-Hakim density (an even reflection put the last cell 0.08 high) ---
out = tmpdir("lif-mc-density")
run("mc", ["-model", "lif", "-grid_n", 256, "-init", "stationary", "-t_final", 1, "-output_every", 1, "-snapshot_every", 1,
           "-mc_particles", 200000, "-output_dir", out])
p, _ = read_density(f"{out}/mc_density_0001.h5")
V = -1.8 + (np.arange(256) + 0.5) * 2.8 / 256
nu = siegert_rate(0.8, 0.3)
exact = siegert_density(V, 0.8, 0.3, nu)
last = np.abs(p[-4:] - exact[-4:])
check(float(np.max(last)) <= 0.02 and abs(float(np.sum(p)) * 2.8 / 256 - 1) <= 1e-12,
      f"Monte Carlo density at the threshold: the last four cells within {float(np.max(last)):.4f} (<= 0.02) of Brunel-Hakim's "
      f"({exact[-1]:.4f} in the last), mass 1")

# --- refusals: one line naming the option ---
expect_refused("-grid_hi off the threshold", "stationary", ["-model", "lif", "-grid_hi", 1.2], ["-grid_hi", "threshold"])
expect_refused("a kind that does not exist", "stationary", ["-model", "lif", "-grid_boundary", "V:sticky"], ["-grid_boundary", "sticky"])
expect_refused("a schedule on the threshold", "run", ["-model", "lif", "-t_final", 0.1, "-protocol", "V_th:1@0,1.2@0.05"],
               ["-protocol", "'V_th'", "-lif_V_th without a schedule"])
expect_refused("a schedule on the reset of lif_inference", "run", ["-model", "lif_inference", "-t_final", 0.1, "-protocol", "V_r:ramp:0@0,0.2@0.1"],
               ["-protocol", "'V_r'"])
expect_refused("threshold_reset without a reset", "stationary", phase[:-6] + ["-grid_boundary", "th:threshold_reset"], ["-reset_th"])
finish()
