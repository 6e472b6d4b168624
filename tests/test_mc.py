"""Monte Carlo (doc/physics.md §4): `mc` and `crosscheck`. References are closed
forms of the linear model (common.py) or the independent Fokker–Planck solver;
statistical checks are bounds in the run's own standard errors. Every run uses
a fixed seed, so a check passes or fails reproducibly.

- the same mc.csv, byte for byte, on 1, 2 and 3 ranks (same N and seed), and the
  same smoothed density snapshots; also when the particles are sampled from a
  grid density (-init stationary) on a 1-variable grid (slabs that split a
  row of the first axis) and on a grid with fewer planes than ranks (a rank
  without a slab); crosscheck's Monte Carlo side the same on 1 and 3 ranks
  (every array of grid size is spread over the ranks' FFTW slabs);
- linear model: mean, variance and covariance at several times within 4 standard
  errors of the closed form;
- weak error at t = 1 of Euler–Maruyama halves with dt (observed order in
  [0.8, 1.2]); the weak order-2 scheme's falls faster (order >= 1.6);
- the smoothed density integrates to 1 and its L1 distance to the closed-form
  Gaussian shrinks with N (below 2 N^(-1/3) at every N);
- crosscheck passes on the linear model and the sigmoid inference model, and
  fails (exit status 1, "crosscheck failed") with the Monte Carlo run on
  another tau_r;
- the Stratonovich entropy-flow estimate at a steady state is within 4
  standard errors of the solver's entropy_flow_<var> and of the closed form;
- 4 variables (one axis carried as the DMDA's dof, storage order not natural):
  crosscheck passes on 1 and 2 ranks; the smoothed density snapshot is bit for
  bit the same on both and its means are the particles' (within 0.05);
- bad -mc_particles / -mc_dt: one line naming the option, exit 1, nothing written."""
import math
import os

import numpy as np

from common import (cell_centres, check, finish, gaussian_density, linear_diagnostics, linear_moments, read_csv,
                    read_density, read_json, run, tmpdir)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
INFERENCE = os.path.join(ROOT, "input", "inference.opts")
LINEAR = os.path.join(ROOT, "input", "linear.opts")

# --- the same bytes on 1, 2 and 3 ranks -------------------------------------
outs, dirs = [], []
for ranks in (1, 2, 3):
    out = tmpdir(f"bitwise{ranks}")
    dirs.append(out)
    run("mc", ["-options_file", INFERENCE, "-mc_particles", 5000, "-t_final", 0.3, "-output_every", 0.1,
               "-snapshot_every", 1, "-output_dir", out], ranks=ranks)
    outs.append(open(os.path.join(out, "mc.csv")).read())
check(outs[0] == outs[1] == outs[2], "mc.csv is byte for byte the same on 1, 2 and 3 ranks")
snaps = [read_density(os.path.join(d, "mc_density_0001.h5"))[0] for d in dirs]
check(all((s == snaps[0]).all() for s in snaps), "the smoothed density snapshot is bit for bit the same on 1, 2 and 3 ranks")

# sampled from the grid density; one variable (61 cells over 1-3 slabs) and 9 planes over 4 ranks
for label, grid, rank_counts in (("1-variable", ["-model", "linear", "-linear_M", -1, "-linear_b", 0.2, "-linear_D", 1,
                                                  "-grid_n", 61, "-grid_lo", -6, "-grid_hi", 6], (1, 2, 3)),
                                  ("9 planes", ["-model", "linear", "-grid_n", "16,9", "-grid_lo", -6, "-grid_hi", 6,
                                                "-da_processors_x", 1], (1, 4))):
    sampled = []
    for ranks in rank_counts:
        out = tmpdir(f"sampled{ranks}")
        run("mc", grid + ["-init", "stationary", "-mc_particles", 3000, "-t_final", 0.2, "-output_every", 0.1,
                          "-output_dir", out], ranks=ranks)
        sampled.append(open(os.path.join(out, "mc.csv")).read())
    check(all(o == sampled[0] for o in sampled),
          f"{label}, -init stationary: mc.csv is byte for byte the same on {rank_counts} ranks")

ccs = []
for ranks in (1, 3):
    out = tmpdir(f"cross-ranks{ranks}")
    # -ksp_rtol 1e-12: the default stage tolerance (1e-3 x -ts_rtol) leaves 1e-6 between rank counts
    run("crosscheck", ["-options_file", LINEAR, "-init_mean", "0,0", "-init_cov", "0.5,0.2", "-mc_particles", 5000,
                       "-t_final", 0.5, "-output_every", 0.25, "-crosscheck_z", 10, "-ksp_rtol", "1e-12",
                       "-output_dir", out], ranks=ranks)
    ccs.append((read_csv(os.path.join(out, "crosscheck_mc.csv")), read_json(os.path.join(out, "crosscheck.json"))))
(mc1, cc1), (mc3, cc3) = ccs
# the solver's output times, its density and diagnostics carry its rank-dependent round-off
# (doc/design.md: 1e-10), and with them the interval means and kl_mc_fp
def close(a, b):
    if a is None or b is None or a != a or b != b:  # NaN (JSON null): undefined on both
        return (a is None or a != a) and (b is None or b != b)
    return abs(a - b) <= 1e-10 * max(abs(a), abs(b)) + 1e-13



check(all(close(a, b) for k in mc1 for a, b in zip(mc1[k], mc3[k])) and
      all(close(a, b) for q in cc1["quantities"] for a, b in zip(cc1["quantities"][q]["fp"], cc3["quantities"][q]["fp"])),
      "crosscheck: the Monte Carlo estimates and the solver's values agree to 1e-10 on 1 and 3 ranks")
check(all(close(a, b) for v in ("x1", "x2") for w in ("fp", "mc")
          for a, b in zip(cc1["marginals"][v][w], cc3["marginals"][v][w])),
      "crosscheck: the final marginals agree to 1e-10 on 1 and 3 ranks")

# 4 variables: the grid carries one axis as the DMDA's dof, so its storage order is not the
# natural one; the solver's density must reach the slabs cell for cell (moving it by ranges of
# the DMDA's natural indices put cov_x1_x4 10 standard errors off)
ND = ["-model", "linear", "-linear_M", "-1,0.3,0,0,0.2,-1,0.2,0,0,0,-1,0.3,0,0,0.2,-1", "-linear_D", "0.5,0.4,0.3,0.4",
      "-grid_n", 12, "-grid_lo", -3.5, "-grid_hi", 3.5, "-t_final", 0.2, "-output_every", 0.1, "-mc_particles", 20000]
for ranks in (1, 2):
    out = tmpdir(f"nd{ranks}")
    proc = run("crosscheck", ND + ["-output_dir", out], ranks=ranks, expect_ok=False)
    cc = read_json(os.path.join(out, "crosscheck.json")) if os.path.exists(os.path.join(out, "crosscheck.json")) else {}
    check(proc.returncode == 0 and cc.get("passed") is True,
          f"4-variable crosscheck on {ranks} rank(s) passes (max |z| {cc.get('max_abs_z')}; {cc.get('worst')})")
# the smoothed density back on the grid: the same on 1 and 2 ranks, and its means those of the particles
nd_snap = []
for ranks in (1, 2):
    out = tmpdir(f"nd-mc{ranks}")
    run("mc", ND + ["-init_mean", "0.6,0,-0.6,0.3", "-init_cov", "0.2,0.2,0.2,0.2", "-snapshot_every", 0.1, "-output_dir", out], ranks=ranks)
    nd_snap.append(read_density(os.path.join(out, "mc_density_0002.h5"))[0])
    nd_rows = read_csv(os.path.join(out, "mc.csv"))
(xs, cell) = cell_centres([12] * 4, [-3.5] * 4, [3.5] * 4)
mass = nd_snap[0].sum() * cell
means = [float((nd_snap[0] * x).sum() * cell / mass) for x in xs]
check(np.array_equal(nd_snap[0], nd_snap[1]) and
      all(abs(m - nd_rows[f"mean_x{a + 1}"][-1]) < 0.05 for a, m in enumerate(means)),
      f"4-variable mc density snapshot: bit for bit on 1 and 2 ranks, means {[round(m, 3) for m in means]} "
      f"vs the particles' {[round(nd_rows[f'mean_x{a + 1}'][-1], 3) for a in range(4)]}")

# 5 variables: a particle's 2^5 corner weights (products of five quantised factors) must stay
# exact integers (with 256 levels per axis they overflowed 32 bits: the density's mass and
# kl_mc_fp came out wrong, the KL negative)
out = tmpdir("nd5-mc")
run("mc", ["-model", "linear", "-linear_M", "-1,0.3,0,0,0.2,0.5,-1,0.2,0,0,0,0.4,-1,0.3,0,0,0,0.5,-1,0.3,0.3,0,0,0.4,-1",
           "-linear_D", "0.5,0.4,0.3,0.4,0.3", "-grid_n", 8, "-grid_lo", -3.6, "-grid_hi", 3.6, "-t_final", 0.2,
           "-output_every", 0.2, "-snapshot_every", 0.2, "-mc_particles", 20000, "-init_mean", "0.5,0,-0.5,0.3,0",
           "-init_cov", "0.3,0.3,0.3,0.3,0.3", "-output_dir", out])
p5 = read_density(os.path.join(out, "mc_density_0001.h5"))[0]
rows5 = read_csv(os.path.join(out, "mc.csv"))
(xs5, cell5) = cell_centres([8] * 5, [-3.6] * 5, [3.6] * 5)
mass5 = p5.sum() * cell5
means5 = [float((p5 * x).sum() * cell5 / mass5) for x in xs5]
check(abs(mass5 - 1) < 1e-10 and p5.min() >= -1e-12 * p5.max() and
      all(abs(m - rows5[f"mean_x{a + 1}"][-1]) < 0.05 for a, m in enumerate(means5)),
      f"5-variable mc density: mass {mass5:.12f}, min {p5.min():.1e}, means {[round(m, 3) for m in means5]} "
      f"vs the particles' {[round(rows5[f'mean_x{a + 1}'][-1], 3) for a in range(5)]}")

# --- linear model: moments against the closed form --------------------------
M, b, D = [[-1, 0], [1, -2]], [1, 0], [1, 0.25]
m0, S0 = [-2.5, 2], [[0.25, 0], [0, 0.0625]]
out = tmpdir("linear")
run("mc", ["-options_file", LINEAR, "-mc_particles", 20000, "-t_final", 2, "-output_every", 0.5, "-output_dir", out])
mc = read_csv(os.path.join(out, "mc.csv"))
worst = 0
for k, t in enumerate(mc["t"]):
    mean, S = linear_moments(M, b, D, m0, S0, t)
    for name, exact in (("mean_x1", mean[0]), ("mean_x2", mean[1]), ("var_x1", S[0, 0]), ("var_x2", S[1, 1]),
                        ("cov_x1_x2", S[0, 1])):
        if t == 0 and name == "cov_x1_x2":
            exact = 0.0
        z = (mc[name][k] - exact) / mc[name + "_stderr"][k]
        worst = max(worst, abs(z))
        check(abs(z) < 4, f"linear t = {t:g}: {name} {mc[name][k]:.5f} vs closed form {exact:.5f} (z = {z:+.2f})")
print(f"linear moments: largest |z| = {worst:.2f}")


# --- weak orders -------------------------------------------------------------
def weak_error(scheme, dt):
    """|E X - exact| + |Var X - exact| at t = 1 for dx = -x dt + sqrt(0.02) dW, x0 ~ N(3, 0.01)."""
    out = tmpdir(f"weak-{scheme}-{dt}")
    run("mc", ["-model", "linear", "-linear_M", -1, "-linear_b", 0, "-linear_D", 0.01, "-grid_n", 64,
               "-grid_lo", -1, "-grid_hi", 4, "-init_mean", 3, "-init_cov", 0.01, "-t_final", 1,
               "-output_every", 1, "-mc_particles", 1000000, "-mc_scheme", scheme, "-mc_dt", dt,
               "-output_dir", out])
    f = read_json(os.path.join(out, "mc_summary.json"))["final"]
    mean, S = linear_moments([[-1]], [0], [0.01], [3], [[0.01]], 1.0)
    return abs(f["mean_x1"] - mean[0]) + abs(f["var_x1"] - S[0, 0]), f["mean_x1_stderr"]


dts = [0.2, 0.1, 0.05]
for scheme in ("euler", "weak2"):
    errs = [weak_error(scheme, dt) for dt in dts]
    orders = [math.log2(errs[k][0] / errs[k + 1][0]) for k in range(2)]
    print(f"{scheme}: weak errors {[f'{e:.2e}' for e, _ in errs]} (stderr {errs[0][1]:.1e}), observed orders {[f'{o:.2f}' for o in orders]}")
    if scheme == "euler":
        euler_ratio = errs[0][0] / errs[-1][0]
        check(all(0.8 <= o <= 1.2 for o in orders), f"Euler-Maruyama weak order {orders[0]:.2f}, {orders[1]:.2f} in [0.8, 1.2]")
    else:
        check(orders[0] >= 1.6, f"weak2: observed order {orders[0]:.2f} >= 1.6 from dt = 0.2 to 0.1")
        check(errs[0][0] / errs[-1][0] > 2 * euler_ratio,
              f"weak2's error falls faster than Euler's: x{errs[0][0] / errs[-1][0]:.1f} vs x{euler_ratio:.1f} from dt = 0.2 to 0.05")

# --- the FFTW density estimate ----------------------------------------------
mean0, cov0 = [0.0, 0.5], [[1.0, 0.3], [0.3, 0.5]]
l1 = []
for n in (1000, 10000, 100000):
    out = tmpdir(f"density{n}")
    run("mc", ["-model", "linear", "-grid_n", 64, "-grid_lo", -5, "-grid_hi", 5, "-init_mean", "0,0.5",
               "-init_cov", "1,0.3,0.3,0.5", "-t_final", 0.01, "-output_every", 0.01, "-mc_particles", n,
               "-output_dir", out])
    p, attrs = read_density(os.path.join(out, "mc_density_0000.h5"))
    exact, vol = gaussian_density([64, 64], [-5, -5], [5, 5], mean0, cov0)
    mass = p.sum() * vol
    l1.append(abs(p - exact).sum() * vol)
    check(abs(mass - 1) < 1e-12 and p.min() > -1e-12, f"N = {n}: the smoothed density integrates to 1 ({mass - 1:+.1e}) and is not negative")
    check(l1[-1] < 2 * n ** (-1 / 3), f"N = {n}: L1 distance to the closed form {l1[-1]:.4f} < 2 N^(-1/3) = {2 * n ** (-1 / 3):.4f}")
check(l1[0] > l1[1] > l1[2], f"L1 distance shrinks with N: {[f'{e:.4f}' for e in l1]}")

# --- crosscheck: passes on linear and inference, fails on a changed parameter -
out = tmpdir("cross-linear")
# (from linear.opts' own start the solver's transient var_x2 is 5% off at 96^2 and t = 0.5,
# and the cross-check says so; a start nearer the steady state keeps the grid error small)
proc = run("crosscheck", ["-options_file", LINEAR, "-init_mean", "0,0", "-init_cov", "0.5,0.2", "-mc_particles", 20000,
                          "-t_final", 2, "-output_every", 0.5, "-grid_n", 96, "-output_dir", out])
cc = read_json(os.path.join(out, "crosscheck.json"))
check(proc.returncode == 0 and cc["passed"] and cc["judged"] > 20, f"crosscheck passes on the linear model ({cc['judged']} judged, max |z| {cc['max_abs_z']:.2f})")
check(all(os.path.exists(os.path.join(out, f)) for f in ("crosscheck.txt", "crosscheck_mc.csv", "crosscheck_mc_summary.json", "crosscheck_diagnostics.csv", "crosscheck_summary.json")),
      "crosscheck writes crosscheck.json/.txt beside both runs' outputs, named crosscheck_*")

out = tmpdir("cross-inference")
proc = run("crosscheck", ["-options_file", INFERENCE, "-mc_particles", 20000, "-t_final", 1, "-output_every", 0.25,
                          "-output_dir", out])
cc = read_json(os.path.join(out, "crosscheck.json"))
check(proc.returncode == 0 and cc["passed"], f"crosscheck passes on the sigmoid inference model (max |z| {cc['max_abs_z']:.2f})")
q = cc["quantities"]
check(not q["mutual_information"]["judged"] and q["mean_r"]["judged"] and q["entropy_flow_r"]["judged"],
      "moments and entropy flows are judged, the binned mutual information is not")
check(len(cc["kl_mc_fp"]) == len(cc["t"]) and all(k >= 0 for k in cc["kl_mc_fp"]), "D(p_MC || p_FP) at every output time")

out = tmpdir("cross-fail")
proc = run("crosscheck", ["-options_file", INFERENCE, "-mc_particles", 20000, "-t_final", 1, "-output_every", 0.25,
                          "-crosscheck_mc_param", "tau_r=0.13", "-output_dir", out], expect_ok=False)
check(proc.returncode == 1 and "crosscheck failed" in proc.stderr, f"crosscheck fails with tau_r = 0.13 in the Monte Carlo only: status {proc.returncode}, {proc.stderr.strip()[:120]}")
check(os.path.exists(os.path.join(out, "crosscheck.json")) and not read_json(os.path.join(out, "crosscheck.json"))["passed"],
      "a failed crosscheck still writes its report")

# --- Stratonovich entropy flow at a steady state ----------------------------
out = tmpdir("flow")
Ms, bs, Ds = [[-1, 0.5], [1, -2]], [0, 0], [1, 0.25]
run("crosscheck", ["-model", "linear", "-linear_M", "-1,0.5,1,-2", "-linear_b", "0,0", "-linear_D", "1,0.25",
                   "-grid_n", 96, "-grid_lo", -6, "-grid_hi", 6, "-init", "stationary", "-t_final", 1,
                   "-output_every", 0.5, "-mc_particles", 40000, "-output_dir", out])
cc = read_json(os.path.join(out, "crosscheck.json"))
from common import lyapunov  # noqa: E402
exact = linear_diagnostics(Ms, bs, Ds, [0, 0], lyapunov(__import__("numpy").array(Ms, float), __import__("numpy").array(Ds)), ["x2"], ["x1", "x2"], reference=False)
for var in ("x1", "x2"):
    f = cc["quantities"][f"entropy_flow_{var}"]
    for k in range(1, len(cc["t"])):
        z_fp = f["z"][k]
        z_exact = (f["mc"][k] - exact[f"entropy_flow_{var}"]) / f["stderr"][k]
        check(abs(z_fp) < 4 and abs(z_exact) < 4,
              f"steady state t = {cc['t'][k]:g}: Stratonovich entropy_flow_{var} {f['mc'][k]:.4f} +- {f['stderr'][k]:.4f} vs solver {f['fp'][k]:.4f} (z {z_fp:+.2f}), closed form {exact[f'entropy_flow_{var}']:.4f} (z {z_exact:+.2f})")

# --- bad input ---------------------------------------------------------------
for label, argv, needle in [("no particles", ["-mc_particles", 0], "-mc_particles"),
                            ("zero step", ["-mc_dt", 0], "-mc_dt"),
                            ("negative step", ["-mc_dt", -0.1], "-mc_dt"),
                            ("unstable step", ["-mc_dt", 0.3], "-mc_dt"),
                            ("bad z limit", ["-crosscheck_z", 0], "-crosscheck_z")]:
    out = tmpdir("bad")
    command = "crosscheck" if "-crosscheck_z" in argv else "mc"
    proc = run(command, ["-model", "inference"] + argv + ["-output_dir", out], expect_ok=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    check(proc.returncode == 1 and len(lines) == 1 and needle in lines[0] and not os.path.exists(out),
          f"{label}: exit {proc.returncode}, one line naming {needle}, nothing written: {lines}")
finish()
