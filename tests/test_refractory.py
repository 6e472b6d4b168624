"""The refractory time of a threshold_reset axis (doc/physics.md §8.2): the
stationary firing rate of the leaky integrate-and-fire neuron with τ_ref > 0
within 1e-6 of Siegert's (sub- and supra-threshold), grid mass + refractory
mass = 1 to round-off in the stationary state and in every row of a transient
on 1-3 ranks (the same rows on each), the compartment's mass against the
integral of the firing rate over the last τ_ref, the stationary density kept
by the transient, the transient's time order (3: the history's cubic Hermite
interpolant), the Monte Carlo's rate within 4 standard errors of Siegert's
with refractory particles, its rank invariance, a crosscheck, and the
refusals. References: Siegert's formula by Gauss-Legendre quadrature."""
import math
import numpy as np
from common import *

GL_X, GL_W = np.polynomial.legendre.leggauss(200)
TAU = 0.1


def siegert_rate(mu, sigma=0.3, V_th=1.0, V_r=0.0, tau_m=1.0, tau_ref=TAU):
    """1/ν = τ_ref + τ_m √π ∫_{y_r}^{y_th} e^{u²} erfc(-u) du (200-point Gauss-Legendre)."""
    a, b = (V_r - mu) / sigma, (V_th - mu) / sigma
    u = 0.5 * (b - a) * GL_X + 0.5 * (a + b)
    g = np.array([math.exp(x * x) * math.erfc(-x) for x in u])
    return 1.0 / (tau_ref + tau_m * math.sqrt(math.pi) * 0.5 * (b - a) * float(np.sum(GL_W * g)))


# --- stationary: Siegert's rate with tau_ref within 1e-6 (8192 cells: second order, 7.6e-5 at 512) ---
for mu in (0.8, 1.2):
    out = tmpdir(f"refr-ss-{mu}")
    run("stationary", ["-model", "lif", "-lif_mu", mu, "-lif_tau_ref", TAU, "-grid_n", 8192, "-output_dir", out])
    t = read_csv(f"{out}/stationary.csv")
    nu = siegert_rate(mu)
    err = abs(t["firing_rate"][-1] - nu) / nu
    total = t["mass"][-1] + t["refractory_mass"][-1] - 1
    check(err <= 1e-6 and abs(total) <= 1e-12,
          f"stationary mu = {mu}, tau_ref = {TAU}, 8192 cells: rate {t['firing_rate'][-1]:.9f} vs Siegert {nu:.9f} "
          f"(relative {err:.1e} <= 1e-6), mass + refractory_mass - 1 = {total:.1e}")

# --- analyze of a refractory model's snapshots (doc/outputs.md): the stationary one (grid mass
# 1 - nu tau_ref) gives Siegert's rate and the full mass; a transient's is refused, since the
# compartment's history is not in a snapshot; -init_file refuses a snapshot of mass below 1 ---
stat = f"{out}/density_stationary.h5"
ana = tmpdir("refr-analyze")
run("analyze", [stat, "-output_dir", ana])
a = read_csv(f"{ana}/diagnostics.csv")
nu = siegert_rate(1.2)
err, total = abs(a["firing_rate"][-1] - nu) / nu, a["mass"][-1] + a["refractory_mass"][-1] - 1
check(err <= 1e-6 and abs(total) <= 1e-12 and a["mass"][-1] < 1 - 0.01,
      f"analyze of the stationary snapshot (mass {a['mass'][-1]:.4f}): rate vs Siegert {err:.1e} (<= 1e-6), "
      f"mass + refractory_mass - 1 = {total:.1e}")
trans = tmpdir("refr-transient")
run("run", ["-model", "lif", "-lif_tau_ref", TAU, "-grid_n", 256, "-t_final", 0.5, "-output_dir", trans])
last = sorted(f for f in os.listdir(trans) if f.startswith("density_0") and f.endswith(".h5"))[-1]
expect_refused("analyze of a transient snapshot with a refractory time", "analyze", [f"{trans}/{last}"],
               ["refractory time", "history", "diagnostics.csv"], ranks=(1, 2))
expect_refused("-init_file of a refractory model's stationary snapshot", "run",
               ["-model", "lif", "-lif_tau_ref", TAU, "-grid_n", 8192, "-init", "file", "-init_file", stat, "-t_final", 0.1],
               ["-init_file", "less than 1", "refractory time"])

# --- transient: the compartment keeps the mass on 1-3 ranks, and holds the rate's last tau_ref ---
base = ["-model", "lif", "-lif_tau_ref", TAU, "-grid_n", 256, "-t_final", 2, "-output_every", 0.01, "-snapshot_every", 100]
ref = None
for ranks in (1, 2, 3):
    out = tmpdir(f"refr-run-{ranks}")
    run("run", base + ["-ts_adapt_type", "none", "-ts_dt", 0.01, "-ts_rtol", 1e-10, "-output_dir", out], ranks=ranks)
    t = read_csv(f"{out}/diagnostics.csv")
    total = float(np.max(np.abs(t["mass"] + t["refractory_mass"] - 1)))
    diff = 0.0 if ref is None else float(np.max(np.abs(t["firing_rate"] - ref["firing_rate"])))
    if ref is None:
        ref = t
    check(total <= 1e-12 and diff <= 1e-10 * float(np.max(ref["firing_rate"])),
          f"run with tau_ref on {ranks} rank(s): |mass + refractory_mass - 1| <= {total:.1e}, firing_rate vs 1 rank {diff:.1e}")
# m_ref(t) = ∫_{t - τ}^{t} ν: Simpson's rule on the 0.01-spaced rows (10 intervals; its error
# h^4 τ max|ν''''|/180 is far below the time stepper's)
tt, nu, held = ref["t"], ref["firing_rate"], ref["refractory_mass"]
worst = 0.0
for i in range(len(tt)):
    if tt[i] < TAU - 1e-9:
        continue
    j = int(np.argmin(np.abs(tt - (tt[i] - TAU))))
    f, h = nu[j:i + 1], (tt[i] - tt[j]) / (i - j)
    integral = h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())
    worst = max(worst, abs(held[i] - integral))
scale = float(np.max(held))
check(worst <= 1e-5 * scale,
      f"refractory_mass against Simpson's integral of the firing rate over the last tau_ref: within {worst:.1e} ({worst / scale:.1e} of its largest value, <= 1e-5)")

# --- the stationary density (grid mass 1 - nu tau_ref, the compartment full) stays stationary ---
out = tmpdir("refr-init-stationary")
run("run", ["-model", "lif", "-lif_tau_ref", TAU, "-grid_n", 256, "-init", "stationary", "-t_final", 1, "-output_every", 0.25,
            "-output_dir", out])
t = read_csv(f"{out}/diagnostics.csv")
drift = float(np.max(np.abs(t["firing_rate"] - t["firing_rate"][0]))) / t["firing_rate"][0]
check(drift <= 1e-8 and abs(t["refractory_mass"][0] - TAU * t["firing_rate"][0]) <= 1e-12,
      f"run from the stationary density: firing rate kept within {drift:.1e} (<= 1e-8), refractory_mass(0) = tau_ref nu")

# --- time order of the delayed re-injection: fixed steps tau_ref, /2, /4 against /32 (third order) ---
rates = {}
for k in (1, 2, 4, 32):
    out = tmpdir(f"refr-order-{k}")
    run("run", ["-model", "lif", "-lif_tau_ref", TAU, "-grid_n", 128, "-t_final", 2, "-output_every", 0.5, "-ts_adapt_type", "none",
                "-ts_dt", TAU / k, "-ts_rtol", 1e-10, "-snapshot_every", 100, "-output_dir", out])
    rates[k] = read_csv(f"{out}/diagnostics.csv")["firing_rate"]
errs = [float(np.max(np.abs(rates[k] - rates[32]))) for k in (1, 2, 4)]
orders = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
check(all(2.6 <= o <= 3.4 for o in orders),
      f"time steps tau_ref, /2, /4: firing rate errors {errs[0]:.2e} {errs[1]:.2e} {errs[2]:.2e}, orders {orders[0]:.2f} {orders[1]:.2f} (third order)")

# --- the Monte Carlo: refractory particles, the rate within 4 standard errors of Siegert's ---
for mu in (0.8, 1.2):
    out = tmpdir(f"refr-mc-{mu}")
    run("mc", ["-model", "lif", "-lif_mu", mu, "-lif_tau_ref", TAU, "-grid_n", 256, "-init", "stationary", "-t_final", 5,
               "-output_every", 5, "-mc_particles", 20000, "-mc_dt", 0.005, "-output_dir", out])
    t = read_csv(f"{out}/mc.csv")
    nu, rate, se = siegert_rate(mu), t["firing_rate"][-1], t["firing_rate_stderr"][-1]
    check(abs(rate - nu) <= 4 * se, f"Monte Carlo mu = {mu}, tau_ref = {TAU}: rate {rate:.5f} +- {se:.5f} vs Siegert {nu:.5f} (z = {(rate - nu) / se:.2f})")
tables = []
for ranks in (1, 3):
    out = tmpdir(f"refr-mc-ranks-{ranks}")
    run("mc", ["-options_file", "../input/lif.opts", "-lif_tau_ref", TAU, "-t_final", 1, "-output_every", 0.5, "-mc_particles", 5000,
               "-output_dir", out], ranks=ranks)
    tables.append(open(f"{out}/mc.csv").read())
check(tables[0] == tables[1], "Monte Carlo with refractory particles: mc.csv on 3 ranks is 1 rank's, byte for byte")
out = tmpdir("refr-crosscheck")
proc = run("crosscheck", ["-options_file", "../input/lif.opts", "-lif_tau_ref", TAU, "-t_final", 2, "-output_every", 0.5,
                          "-mc_particles", 20000, "-output_dir", out], expect_ok=False)
cc = read_json(f"{out}/crosscheck.json") if proc.returncode == 0 else {}
check(proc.returncode == 0 and cc.get("verdict") == "passed",
      f"crosscheck of lif with tau_ref {TAU}: status {proc.returncode}, verdict {cc.get('verdict')}")

# --- refusals: one line naming the option ---
expect_refused("spectrum with a refractory time", "spectrum", ["-model", "lif", "-lif_tau_ref", TAU], ["-lif_tau_ref 0", "nonlinear"])
expect_refused("a fixed step longer than tau_ref", "run",
               ["-model", "lif", "-lif_tau_ref", 0.01, "-ts_adapt_type", "none", "-ts_dt", 0.05, "-t_final", 0.1], ["-ts_dt <= 0.01"])
finish()
