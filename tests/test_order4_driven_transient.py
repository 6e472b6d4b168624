"""The transient's fourth-order blend on a driven axis (doc/numerics.md,
"The blend's width"): a chain x1 -> x2 (A = (-x1, 2 x1 - 2 x2), D = (1,
0.1), box +- 6 sd) at 32^2 under -fp_order 4, to t = 0.5, against the
Gaussian moments of the Ornstein-Uhlenbeck process (doc/physics.md §3).
x2's own relaxation gives it a width of sqrt(0.05) (h^2 k/D = 2.0 on its
faces, mostly Scharfetter-Gummel's), but it follows 2 x1 and spreads 0.52
given x1 (h^2/s^2 = 0.37). From the stationary covariance (shifted mean) the
transient takes that width: var_x2 within 1 % and the mutual information
within 8 % (the drift's width: 4.0 % and 16 %) under -fp_guard_width 1.5,
within 0.1 % and 2.5 % under the default 1.875 (which the guard's wider
factor leaves fourth order longer), the same on 1 and 2 ranks (to 1e-5: the stage solves).
From a start 0.05 times as wide (x2 0.47 cells per standard deviation) the
guard from the density's own width runs to the end (the stationary width
alone stopped at its first step, 2.1e-2 of the mass negative). Its negative
mass there, 8.1-8.3e-4, is held under the run's limit (1e-3) by the first
step's time error: with the time error removed the faces leave 1.5e-3 at
32^2 (2.8e-3 at 24^2, 1.1e-3 at 40^2, 7.6e-4 at 48^2, 3.4e-4 at 64^2, 2.5e-5
at 96^2), so the limit is checked at 64^2 with the time error removed.
There x2's faces fall back to Scharfetter-Gummel (Péclet number about 6).
With its coefficients at the face (-fp_fallback face, the default before
2026-12-06) the Fickian form's artificial diffusion drifts the mean: mean_x2
-0.041 off the closed form, the mutual information -27 %, var_x2 +4.4 %.
The default, -fp_fallback balanced (doc/numerics.md "The balanced fallback":
the face's equilibrium ratio, its magnitude mixed with the cells' so the
means move as sum A p), keeps mean_x2 within 0.015 (measured -9.6e-3), the
mutual information within 25 % (-21 %) and var_x2 within 13 % (+11.4 %,
with the time error pinned by tight -ts_rtol, -ts_atol, -ksp_rtol: the
upwind artificial diffusion's spread, which the face's drift offset).
A fast neuron r following the velocity v (A = (-v, 1.5 v - 10 r + 1), D = (1,
0.4); input/population_plastic.opts's neurons on its cells: 13 x 14 on
[-5.5, 5.5] x [-1.05, 1.9], r 1.0 cells per standard deviation) from
N(0, diag(1, 0.04)) to t = 1: var_r within 0.5 % and the mutual information
within 0.6 % (measured +0.05 % and +0.23 %; face -0.20 % and -1.03 %, at
t = 0.25 -1.3 % and -3.8 %; the cells' coefficients, -fp_fallback cells,
widen r: +3.8 % and -3.0 %)."""
import numpy as np
from common import *

M = np.array([[-1.0, 0.0], [2.0, -2.0]])
D = np.array([1.0, 0.1])
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
BASE = ["-model", "linear", "-linear_M", "-1,0,2,-2", "-linear_D", "1,0.1", "-grid_n", 32,
        "-grid_lo", f"{-6 * sd[0]!r},{-6 * sd[1]!r}", "-grid_hi", f"{6 * sd[0]!r},{6 * sd[1]!r}", "-fp_order", 4,
        "-init", "gaussian", "-init_mean", "1,0", "-t_final", 0.5, "-output_every", 0.5]
h = 12 * sd / 32


def transient(scale, ranks=1, extra=()):
    S0 = scale * S
    out = tmpdir(f"o4drv-{scale}-{ranks}")
    run("run", BASE + list(extra) + ["-init_cov", ",".join(repr(float(x)) for x in S0.ravel()), "-output_dir", out], ranks=ranks)
    m1, S1 = linear_moments(M, np.zeros(2), D, [1.0, 0.0], S0, 0.5)
    exact = linear_diagnostics(M, np.zeros(2), D, m1, S1, ["x2"], ["x1", "x2"])
    row = read_csv(out + "/diagnostics.csv")
    errs = {c: float(row[c][-1]) / exact[c] - 1 for c in ("var_x2", "mutual_information")}
    errs["mean_x2"] = float(row["mean_x2"][-1]) - m1[1]
    summary = read_json(out + "/summary.json")
    p, _ = read_density(out + "/density_0001.h5")
    print(f"   start {scale} x stationary, {ranks} rank(s): " + ", ".join(f"{c} {e:+.2e}" for c, e in errs.items())
          + f", negative mass at most {summary['positivity']['negative_mass_max']:.2e}")
    check(abs(p.sum() * h.prod() - 1) < 1e-12, f"mass {p.sum() * h.prod():.15f}")
    return errs, summary, row


wide, _, row1 = transient(1.0)
# -fp_guard_width (doc/numerics.md "The blend's width"): the guard's R_v = h^2/(c v), c = 1.875 by
# default since 2026-12-07, leaves more of x2's faces fourth order while the density is narrow than
# the former 1.5; from the stationary covariance (measured 2026-12-07) var_x2 -6.9e-6 and the mutual
# information -1.7 % (at 1.5: +0.105 % and -2.94 %)
check(abs(wide["var_x2"]) < 1e-3 and abs(wide["mutual_information"]) < 0.025,
      f"from the stationary width: var_x2 within 0.1 % ({wide['var_x2']:+.2%}) and the mutual information "
      f"within 2.5 % ({wide['mutual_information']:+.2%})")
former, _, _ = transient(1.0, extra=["-fp_guard_width", "1.5"])
check(abs(former["var_x2"]) < 0.01 and abs(former["mutual_information"]) < 0.08,
      f"-fp_guard_width 1.5: var_x2 within 1 % ({former['var_x2']:+.2%}) and the mutual information "
      f"within 8 % ({former['mutual_information']:+.2%})")
check(abs(former["var_x2"]) >= 1e-3 or abs(former["mutual_information"]) >= 0.025,
      f"-fp_guard_width 1.5 is not as close as the default 1.875 ({former['var_x2']:+.2%}, "
      f"{former['mutual_information']:+.2%}): the option reaches the faces")
expect_refused("-fp_guard_width 0", "run", BASE + ["-fp_guard_width", 0],
               ["-fp_guard_width", "positive"])
_, _, row2 = transient(1.0, ranks=2)
for c in ("var_x2", "mutual_information", "entropy_production"):
    a, b = float(row1[c][-1]), float(row2[c][-1])
    check(abs(a - b) <= 1e-5 * abs(a), f"{c} on 1 and 2 ranks within the stage solves' tolerance: {a!r} and {b!r}")
# the time error pinned (at the default tolerances it moved var_x2 by 0.1 %, next to a space error
# of +11.8 %): the bounds then test the fallback's artificial diffusion alone
TIGHT = ["-ts_rtol", "1e-6", "-ts_atol", "1e-8", "-ksp_rtol", "1e-12"]
# the run's own limit on negative mass (1e-3, doc/numerics.md "Fourth order": positivity is not
# guaranteed) stops a run beyond it; at 32^2 its margin is the first step's, not the faces' (below)
face, summary, _ = transient(0.05, extra=TIGHT + ["-fp_fallback", "face"])
check(abs(face["var_x2"]) < 0.06, f"narrow start, -fp_fallback face: var_x2 within 6 % ({face['var_x2']:+.2%})")
narrow, summary, _ = transient(0.05, extra=TIGHT)
check(abs(narrow["var_x2"]) < 0.13, f"narrow start: var_x2 within 13 % ({narrow['var_x2']:+.2%})")
check(abs(narrow["mean_x2"]) < 0.015, f"narrow start: mean_x2 within 0.015 ({narrow['mean_x2']:+.2e})")
check(abs(narrow["mean_x2"]) < 0.5 * abs(face["mean_x2"]),
      f"the balanced fallback halves the face's error of the mean at least ({narrow['mean_x2']:+.2e} against {face['mean_x2']:+.2e})")
check(abs(narrow["mutual_information"]) < 0.25,
      f"narrow start: mutual information within 25 % ({narrow['mutual_information']:+.2%})")
# The narrow start's negative mass is the faces' where its limit holds without the time error's
# help (measured 2026-12-06, -fp_fallback face; cells within 3 %, balanced within 1 %): at 32^2 the runs above end at
# 8.1-8.3e-4 of the mass because their first step (0.025, a twentieth of the output interval)
# damps the overshoot; with the time error removed (-ts_rtol 1e-8, 1e-10, or fixed steps of 1e-3
# and 2.5e-4: all within 2 %) the faces leave 1.5e-3 there (t = 0.007), past the limit, 2.8e-3 at
# 24^2, 1.1e-3 at 40^2, 7.6e-4 at 48^2, 3.4e-4 at 64^2, 2.5e-5 at 96^2. So the documented limit is
# checked at 64^2, the first of these grids where the scheme itself stays well under it (a factor
# 2.9; 48^2 is as thin as 32^2 was).
S0 = 0.05 * S
out = tmpdir("o4drv-narrow-64")
run("run", BASE + ["-grid_n", 64, "-ts_rtol", "1e-8", "-ts_atol", "1e-10", "-ksp_rtol", "1e-12",
                   "-init_cov", ",".join(repr(float(x)) for x in S0.ravel()), "-output_dir", out])
negative = read_json(out + "/summary.json")["positivity"]["negative_mass_max"]
# The run itself stops past 1e-3 (exit 1, run() raises): the check asks for the measured factor's margin.
check(negative <= 5e-4, f"narrow start at 64^2, the time error removed: negative mass at most half the run's limit "
      f"1e-3 ({negative:.2e}; at 32^2 the faces alone leave 1.5e-3)")
# the fast neuron: its variance and the mutual information at t = 0.25, 0.5, 0.75, 1
MN, DN, BN = np.array([[-1.0, 0.0], [1.5, -10.0]]), np.array([1.0, 0.4]), np.array([0.0, 1.0])
SN = np.diag([1.0, 0.04])
out = tmpdir("o4drv-neuron")
run("run", ["-model", "linear", "-linear_M", "-1,0,1.5,-10", "-linear_D", "1,0.4", "-linear_b", "0,1",
            "-grid_n", "13,14", "-grid_lo", "-5.5,-1.05", "-grid_hi", "5.5,1.9", "-fp_order", 4, "-init", "gaussian",
            "-init_mean", "0,0", "-init_cov", "1,0,0,0.04", "-t_final", 1, "-output_every", 0.25, "-output_dir", out])
row = read_csv(out + "/diagnostics.csv")
for i, t in enumerate(row["t"]):
    if t == 0:
        continue
    m1, S1 = linear_moments(MN, BN, DN, [0.0, 0.0], SN, t)
    exact = linear_diagnostics(MN, BN, DN, m1, S1, ["x2"], ["x1", "x2"])
    e_var = float(row["var_x2"][i]) / S1[1, 1] - 1
    e_mi = float(row["mutual_information"][i]) / exact["mutual_information"] - 1
    check(abs(e_var) < 0.005 and abs(e_mi) < 0.006,
          f"fast neuron at t = {t:g}: var_r within 0.5 % ({e_var:+.3%}), mutual information within 0.6 % ({e_mi:+.3%})")
finish()
