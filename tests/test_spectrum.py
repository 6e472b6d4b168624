"""infotherm spectrum (doc/physics.md §6): the slowest relaxation rates of the
Fokker–Planck operator and their eigenvectors, against references the solver
does not produce:
- the 1-D Ornstein–Uhlenbeck operator (-model brownian): rates k/tau_v and
  eigenvectors He_k(v/sigma_v) p_ss(v) (Hermite functions), converging at
  second order in the cell size;
- the bistable synapse at h = 0, tau_w = 1: lambda_1 from an independent
  Chebyshev collocation of the symmetrised operator; the
  Richardson value (4 lambda_h - lambda_2h)/3 (lambda_1_extrap of
  -error_estimate) within 1e-6 of it, lambda_1_err within [0.5, 2] of the true
  error;
- a 2-D linear model whose drift matrix has eigenvalues -1 +- i: its slowest
  rates are the complex pair 1 +- i (sums of the drift's eigenvalues);
- -spectrum_t: the operator of a -protocol's parameters at that time;
- the same numbers and eigenvectors on 1, 2 and 3 ranks (1e-10 relative);
- bad input: one line naming the option, non-zero exit status, nothing written;
  a folder shared with another command keeps both outputs."""
import math
import os
import re

import numpy as np

from common import check, finish, option_tables, read_density, read_json, run, tmpdir, unknown_options

TAU, SIGMA, BOX = 0.5, 1.3, 9.0
OU = ["-model", "brownian", "-brownian_tau_v", TAU, "-brownian_sigma_v", SIGMA, "-grid_lo", -BOX, "-grid_hi", BOX]
BISTABLE = ["-model", "bistable", "-bistable_tau_w", 1, "-bistable_h", 0, "-grid_lo", -2.5, "-grid_hi", 2.5]
# lambda_1 of the bistable synapse (tau_w = 1, h = 0) by Chebyshev collocation: written by
# tools/chebyshev_bistable.py (tests/test_chebyshev_reference.py checks that it still gives these)
REFERENCE = {0.35: 0.0543732893, 0.40: 0.0925530942, 0.45: 0.1374209581, 0.50: 0.1871704181}


def spectrum(options, name, ranks=1, nev=3):
    out = tmpdir(name)
    run("spectrum", options + ["-spectrum_nev", nev, "-output_dir", out], ranks=ranks)
    return out, read_json(os.path.join(out, "spectrum_summary.json"))["final"]


def hermite_mode(k, v):
    """He_k(v/sigma) exp(-v^2/(2 sigma^2)), the OU eigenvector of rate k/tau, with int |.| = 1 (by quadrature
    on a fine grid) and the sign that makes its overlap with an increasing weight positive (k = 1: odd,
    positive right; k = 2: positive in the tails)."""
    def shape(x):
        he = {1: x / SIGMA, 2: (x / SIGMA) ** 2 - 1}[k]
        return he * np.exp(-x * x / (2 * SIGMA * SIGMA))
    fine = np.linspace(-BOX, BOX, 200001)
    return shape(v) / (np.sum(np.abs(shape(fine))) * (fine[1] - fine[0]))


# --- Ornstein–Uhlenbeck: rates k/tau at second order, eigenvectors ---
grids, rates, vector_error = [64, 128, 256], {}, {}
for n in grids:
    out, final = spectrum(OU + ["-grid_n", n], f"ou{n}")
    rates[n] = [final[f"lambda_{k}"] for k in (1, 2, 3)]
    v = (np.arange(n) + 0.5) * (2 * BOX / n) - BOX
    vector_error[n] = []
    for k in (1, 2):
        # the shape, with its scale fitted: the midpoint sum of |v| is not smooth where v changes sign
        got, exact = read_density(os.path.join(out, f"eigenvector_{k}.h5"))[0], hermite_mode(k, v)
        scale = np.dot(got, exact) / np.dot(exact, exact)
        check(abs(scale - 1) < 1e-2, f"OU {n} cells: eigenvector_{k}.h5 has int |v| = 1 and the expected sign "
                                     f"(scale {scale:.5f})")
        vector_error[n].append(np.abs(got - scale * exact).max())
    check(all(f"lambda_{k}_imag" not in final for k in (1, 2, 3)), f"OU {n} cells: every rate real")
for k in (1, 2, 3):
    err = [abs(rates[n][k - 1] - k / TAU) for n in grids]
    orders = [math.log2(err[i] / err[i + 1]) for i in range(2)]
    print(f"OU lambda_{k}: {[rates[n][k - 1] for n in grids]} vs {k / TAU}, errors {err}, orders {orders}")
    check(all(1.8 <= p <= 2.2 for p in orders), f"OU lambda_{k} -> {k}/tau at order {orders[0]:.3f}, {orders[1]:.3f}")
    check(err[-1] < 2e-3 * k / TAU, f"OU lambda_{k} at 256 cells within 2e-3 relative ({err[-1] / (k / TAU):.2e})")
for k in (1, 2):
    e128, e256 = vector_error[128][k - 1], vector_error[256][k - 1]
    peak = np.abs(hermite_mode(k, np.linspace(-BOX, BOX, 4001))).max()
    check(e256 < 5e-3 * peak and e128 / e256 > 3.5,
          f"OU eigenvector_{k}.h5 = He_{k} p_ss (max error {e256 / peak:.1e} of the peak at 256 cells, "
          f"{e128 / e256:.2f}x smaller than at 128)")

# --- bistable synapse: lambda_1 against the Chebyshev reference ---
for sigma in (0.35, 0.50):
    out, final = spectrum(BISTABLE + ["-bistable_sigma_w", sigma, "-grid_n", 256, "-error_estimate"], f"bistable{sigma}", nev=2)
    ref, lam = REFERENCE[sigma], final["lambda_1"]
    true_error = ref - lam
    print(f"bistable sigma_w = {sigma}: lambda_1 = {lam:.10f} (256 cells), extrap {final['lambda_1_extrap']:.10f}, "
          f"err {final['lambda_1_err']:.3e} vs true {true_error:.3e}, order {final['lambda_1_order']:.4f}; "
          f"reference {ref}")
    check(abs(final["lambda_1_extrap"] - ref) < 1e-6,
          f"sigma_w = {sigma}: Richardson lambda_1 within 1e-6 of {ref} ({final['lambda_1_extrap'] - ref:.1e})")
    check(1.8 <= final["lambda_1_order"] <= 2.2, f"sigma_w = {sigma}: observed order {final['lambda_1_order']:.3f}")
    check(0.5 <= final["lambda_1_err"] / true_error <= 2,
          f"sigma_w = {sigma}: lambda_1_err {final['lambda_1_err']:.3e} brackets the true error {true_error:.3e}")
    check(final["lambda_2"] > 5 * lam, f"sigma_w = {sigma}: lambda_2 = {final['lambda_2']:.4f} >> lambda_1 (in-well)")
    v1 = read_density(os.path.join(out, "eigenvector_1.h5"))[0]
    check(abs(v1.sum()) < 1e-10 * np.abs(v1).sum() and np.allclose(v1, -v1[::-1], atol=1e-10 * np.abs(v1).max()),
          "the slowest eigenvector sums to zero and is odd in w (the imbalance between the wells)")

# --- -spectrum_t: the operator of the parameters at that time (a -protocol schedule) ---
tilted = [spectrum(BISTABLE + ["-bistable_sigma_w", 0.4, "-grid_n", 64] + extra, f"tilt{i}", nev=1)[1]["lambda_1"]
          for i, extra in enumerate((["-protocol", "h:0@0,0.3@1", "-spectrum_t", 2], ["-bistable_h", 0.3], ["-protocol", "h:0@0,0.3@1"]))]
check(tilted[0] == tilted[1] and tilted[2] < 0.6 * tilted[0],
      f"-spectrum_t 2 with h switched to 0.3 at t = 1 is -h 0.3 ({tilted[0]:.6f}, {tilted[1]:.6f}); at t = 0, h = 0 "
      f"({tilted[2]:.6f}: the untilted wells hold longer)")

# --- complex pair, and the same answer on 1, 2, 3 ranks ---
LINEAR = ["-model", "linear", "-linear_M", "-1,1,-1,-1", "-linear_D", "0.5,0.5", "-grid_n", "48,48", "-grid_lo", -4.5,
          "-grid_hi", 4.5]
results = {}
for ranks in (1, 2, 3):
    out, final = spectrum(LINEAR, f"linear{ranks}", ranks=ranks, nev=3)
    vectors = [read_density(os.path.join(out, f"eigenvector_{k}.h5"))[0] for k in range(1, 4)]
    results[ranks] = (final, vectors)
final, vectors = results[1]
print("linear 2-D:", final)
check(final["lambda_1"] == final["lambda_2"] and final["lambda_1_imag"] == -final["lambda_2_imag"] > 0,
      "a complex pair is reported twice, +omega first")
check(abs(final["lambda_1"] - 1) < 0.02 and abs(final["lambda_1_imag"] - 1) < 0.02,
      f"the pair is 1 +- i (drift eigenvalues -1 +- i): {final['lambda_1']:.4f} +- {final['lambda_1_imag']:.4f} i")
check(abs(final["lambda_3"] - 2) < 0.06 and "lambda_3_imag" not in final, f"then the real rate 2: {final['lambda_3']:.4f}")
for ranks in (2, 3):
    f, vs = results[ranks]
    worst = max(abs(f[key] - final[key]) / abs(final[key]) for key in final)
    worst_vector = max(np.abs(a - b).max() / np.abs(a).max() for a, b in zip(vectors, vs))
    check(set(f) == set(final) and worst < 1e-10 and worst_vector < 1e-10,
          f"{ranks} ranks: rates to {worst:.1e}, eigenvectors to {worst_vector:.1e} (relative) of 1 rank's")

# --- bad input: one line naming the option, nothing written ---
for label, options, needle in (
        ("-spectrum_nev 0", ["-spectrum_nev", 0], "-spectrum_nev"),
        ("-spectrum_nev too large", ["-spectrum_nev", 40], "-spectrum_nev"),
        ("-spectrum_t -1", ["-spectrum_t", -1], "-spectrum_t"),
        ("a misspelt -spectrum_nve", ["-spectrum_nve", 2], "-spectrum_nev"),
        ("-error_estimate on 66 cells", ["-error_estimate", "-grid_n", 66], "-grid_n")):
    out = tmpdir("bad")
    proc = run("spectrum", ["-model", "brownian", "-grid_n", 64, "-output_dir", out] + options, expect_ok=False)
    lines = proc.stderr.strip().splitlines()
    check(proc.returncode == 1 and len(lines) == 1 and needle in lines[0] and not os.path.exists(out),
          f"{label}: exit {proc.returncode}, one line naming {needle}, nothing written ({lines[:1]})")

# --- a folder shared with stationary: both outputs stay; a second spectrum is refused ---
out = tmpdir("shared")
run("stationary", ["-model", "brownian", "-grid_n", 64, "-output_dir", out])
run("spectrum", ["-model", "brownian", "-grid_n", 64, "-output_dir", out])
before = sorted(os.listdir(out))
proc = run("spectrum", ["-model", "brownian", "-grid_n", 64, "-output_dir", out], expect_ok=False)
check(proc.returncode == 1 and "-overwrite" in proc.stderr and sorted(os.listdir(out)) == before
      and {"stationary_summary.json", "density_stationary.h5", "spectrum_summary.json", "eigenvector_1.h5",
           "spectrum.csv", "eigenvectors.xmf"} <= set(before),
      f"spectrum beside stationary in one folder; a second spectrum is refused, nothing lost ({before})")

# -help lists the spectrum's options, and every option it reads after the unused-option check is in
# a module's table of option names (as tests/test_input.py checks for the other commands)
text = run("spectrum", ["-model", "brownian", "-grid_n", 32, "-output_dir", tmpdir("help"), "-help"], expect_ok=False).stdout
late = set(re.findall(r"^[ \t]+-([A-Za-z]\w*)", text.split("Grid options:")[-1].split("-----", 1)[-1], re.M))
missing = unknown_options(late, option_tables())
check({"spectrum_nev", "spectrum_t", "spectrum_eps_target", "error_estimate"} <= late and not missing,
      f"spectrum -help lists -spectrum_nev, -spectrum_t, -spectrum_eps_*; every option is known (missing {missing})")
finish()
