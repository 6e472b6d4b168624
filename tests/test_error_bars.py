"""-error_estimate's per-row error bars (doc/physics.md §5) against closed forms
(common.py: the linear model's Gaussian moments and diagnostics; the cumulative columns
by Gauss-Legendre quadrature of the closed-form rates, tools/error_bars.py): on 1-3
variables, stationary and transient (a stiff fast neuron and a 3-variable chain among them),
every value whose <q>_trusted is 1 has a <q>_uncertainty at least half its true error, no
trusted <q>_err has the wrong sign, and at least 95 % of the trusted bars of each case, and of
the cumulative integrals', lie within 2x of the true error (a miss can only be a bar too wide:
the half-width is at most twice the correction where trusted); the spectrum's rotating pair; t = 0 rows
are not extrapolated; the final row's columns are summary.json's; analyze's integrals over the
snapshots are named apart and their error from the spacing is within 2x. A cross-check that passes
only through untrusted solver estimates is inconclusive (exit status 4); a run whose grid
coarsened by 4 exceeds the Peclet limit falls back to the grid coarsened by 2."""
import glob
import numpy as np
from common import *

from infotherm import errorbars as error_bars  # noqa: E402  (python/infotherm/errorbars.py)

CASES = [
    # label, M, b, D, n, lo, hi, sensor, init (None: stationary), t_final
    ("1-D stationary", [[-1.5]], [-0.4], [0.6], 128, -5, 4, ["x1"], None, 0),
    ("1-D transient", [[-1.0]], [0.3], [0.5], 128, -5, 5, ["x1"], ([-0.8], [[0.2]]), 0.5),
    ("2-D stationary", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 96, -7, 7, ["x2"], None, 0),
    ("2-D transient", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 96, -5, 5, ["x2"],
     ([1.0, -0.8], [[0.3, 0.05], [0.05, 0.2]]), 0.5),
    ("2-D stiff fast neuron", [[-1.0, 0.0], [3.0, -10.0]], [0.0, 0.0], [0.5, 1.0], 96, -4, 4, ["x2"],
     ([0.5, 0.2], [[0.3, 0.0], [0.0, 0.1]]), 0.5),
    ("3-D stationary chain", [[-1.0, 0.0, 0.0], [0.8, -1.0, 0.0], [0.0, 0.8, -1.0]], [0.1, 0.0, 0.0], [0.5, 0.3, 0.3], 40, -5, 5,
     ["x2", "x3"], None, 0),
    ("3-D transient chain", [[-1.0, 0.0, 0.0], [0.8, -1.0, 0.0], [0.0, 0.8, -1.0]], [0.0, 0.0, 0.0], [0.5, 0.3, 0.3], 40, -5, 5,
     ["x2", "x3"], ([0.5, 0.0, 0.0], [[0.4, 0.0, 0.0], [0.0, 0.4, 0.0], [0.0, 0.0, 0.4]]), 0.5),
]
cum = [0, 0]
for label, M, b, D, n, lo, hi, sensor, init, T in CASES:
    s = error_bars.run_case(BIN, label, M, b, D, n, lo, hi, sensor, init, T, T / 2 if T else 0)
    print(f"  {label}: {s['trusted']}/{s['all']} trusted, {s['within']} within 2x, {s['small']} too small, {s['wrong']} wrong sign")
    for line in s["worst"][:4]:
        print("    " + line)
    check(s["trusted"] > 0.5 * s["all"], f"{label}: most bars trusted ({s['trusted']} of {s['all']})")
    check(s["small"] == 0, f"{label}: no trusted <q>_uncertainty below half the true error ({s['small']})")
    check(s["wrong"] == 0, f"{label}: no trusted <q>_err of the wrong sign ({s['wrong']})")
    check(s["within"] >= 0.95 * s["trusted"], f"{label}: {s['within']} of {s['trusted']} trusted bars within 2x of the true error (>= 95 %)")
    cum = [cum[0] + s["cum_within"], cum[1] + s["cum"]]
    check(s["t0_changed"] == 0, f"{label}: t = 0 values unchanged by the extrapolation")
check(cum[1] > 0 and cum[0] >= 0.95 * cum[1], f"the cumulative integrals: {cum[0]} of {cum[1]} trusted bars within 2x of the true error (>= 95 %)")

# the columns: _uncertainty >= 0, _trusted 0/1, _extrap = q + _err, the final row = summary.json
out = tmpdir("eb-cols")
run("run", error_bars.linear_options(*CASES[2][1:4], 64, -5, 5) + ["-init_mean", "1.0,-0.8", "-init_cov", "0.3,0.05,0.05,0.2",
    "-t_final", 0.4, "-output_every", 0.2, "-error_estimate", "-output_dir", out])
t, summary = read_csv(out + "/diagnostics.csv"), read_json(out + "/summary.json")
names = [k[:-len("_uncertainty")] for k in t if k.endswith("_uncertainty")]
check("mass" not in names and "var_x1" in names and all(k + "_trusted" in t and k + "_err" in t for k in names),
      f"diagnostics.csv: <q>_err, _extrap, _uncertainty, _trusted for {len(names)} columns, none for mass")
check(all(np.all(t[k + "_uncertainty"] >= 0) for k in names if np.all(np.isfinite(t[k + "_uncertainty"]))), "<q>_uncertainty >= 0")
check(all(set(np.unique(t[k + "_trusted"])) <= {0.0, 1.0} for k in names), "<q>_trusted is 0 or 1")
late = t["t"] > 0
check(all(np.all(t[k + "_uncertainty"][late & (t[k + "_trusted"] == 1)] <= 2 * np.abs(t[k + "_err"][late & (t[k + "_trusted"] == 1)]) * (1 + 1e-12))
          for k in names), "a trusted bar's half-width is at most twice its correction (grid and time parts do not cancel)")
check(all(t[k + "_err"][0] == 0 and t[k + "_extrap"][0] == t[k][0] for k in names if np.isfinite(t[k][0])),
      "t = 0: _err 0 and _extrap = q (the initial density is exact on every grid)")
f, qs = summary["final"], summary["error_estimate"]["quantities"]
check(all(abs(f[k + "_uncertainty"] - t[k + "_uncertainty"][-1]) <= 1e-12 * max(1, abs(f[k + "_uncertainty"]))
          and f[k + "_trusted"] == t[k + "_trusted"][-1] == int(qs[k]["trusted"]) for k in names if f[k + "_uncertainty"] is not None),
      "the final row's _uncertainty and _trusted are summary.json's")

# spectra: the rotating linear model's pair 1 +- i (drift eigenvalues -1 +- i): both parts' bars
out = tmpdir("eb-spectrum")
run("spectrum", ["-model", "linear", "-linear_M", "-1,1,-1,-1", "-linear_D", "0.5,0.5", "-grid_n", "48,48", "-grid_lo", "-4.5,-4.5",
                 "-grid_hi", "4.5,4.5", "-spectrum_nev", 3, "-error_estimate", "-output_dir", out])
f = read_json(out + "/spectrum_summary.json")["final"]
table = read_csv(out + "/spectrum.csv")
for part in ("lambda_1", "lambda_1_imag"):
    true = 1 - f[part]
    check(f[part + "_trusted"] == 1 and f[part + "_uncertainty"] / 2 <= abs(true) <= 2 * f[part + "_uncertainty"] and f[part + "_err"] * true > 0,
          f"{part}: true error {true:.3e}, err {f[part + '_err']:.3e}, uncertainty {f[part + '_uncertainty']:.3e} (within 2x, same sign)")
check(all(c in table for c in ("lambda_uncertainty", "lambda_trusted", "lambda_imag_err", "lambda_imag_extrap", "lambda_imag_uncertainty", "lambda_imag_trusted"))
      and table["lambda_imag_err"][2] == 0 and table["lambda_imag_trusted"][2] == 1,
      "spectrum.csv: _uncertainty, _trusted and the imaginary part's columns (0 and trusted for the real rate 2)")

# a cross-check excused only by untrusted solver estimates: inconclusive, exit status 4
out = tmpdir("eb-cc")
proc = run("crosscheck", error_bars.linear_options(*CASES[2][1:4], 48, -8, 8) + [
    "-init_mean", "1.0,-0.8", "-init_cov", "0.3,0.05,0.05,0.2", "-t_final", 1, "-output_every", 0.5,
    "-mc_particles", 200000, "-error_estimate", "-output_dir", out], expect_ok=False)
cj = read_json(out + "/crosscheck.json")
check(proc.returncode == 4 and cj["verdict"] == "inconclusive" and not cj["passed"] and cj["inconclusive"] > 0,
      f"crosscheck passing only through untrusted estimates: exit {proc.returncode}, verdict {cj['verdict']}, {cj['inconclusive']} inconclusive")
check("inconclusive" in proc.stderr and "-grid_n" in proc.stderr, "stderr says inconclusive and what to refine")
flagged = [(k, i) for k, q in cj["quantities"].items() if "inconclusive" in q for i, x in enumerate(q["inconclusive"]) if x]
check(len(flagged) == cj["inconclusive"] and all(not cj["quantities"][k]["fp_trusted"][i] for k, i in flagged),
      f"crosscheck.json names the inconclusive values, each with an untrusted solver estimate ({flagged[:3]} ...)")
mc_only = [abs(cj["quantities"][k]["fp"][i] - cj["quantities"][k]["mc"][i]) / cj["quantities"][k]["stderr"][i] for k, i in flagged]
check(all(z > cj["z_limit"] for z in mc_only), "each inconclusive value is beyond -crosscheck_z without the solver's error")

# analyze: the integrals over the snapshots' spacing are named apart from the run's, with their
# error from that spacing: against the run's own *_cum (integrated over every step, at tight
# tolerances: an independent quadrature of the same rates) within 2x on every row
out = tmpdir("eb-analyze")
run("run", error_bars.linear_options([[-1.3]], [0.4], [0.5], 64, -5, 5) + ["-init_mean", "1.5", "-init_cov", "0.1", "-t_final", 2,
    "-output_every", 0.02, "-snapshot_every", 0.25, "-ts_rtol", 1e-7, "-ts_atol", 1e-9, "-output_dir", out])
run("analyze", sorted(glob.glob(out + "/density_*.h5")))
a, r = read_csv(out + "/analysis/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
fa = read_json(out + "/analysis/summary.json")["final"]
check("entropy_production_cum" in r and "entropy_production_cum" not in a and "entropy_production_cum_snapshots" in a
      and "entropy_production_cum" not in fa and "entropy_production_cum_snapshots" in fa,
      "analyze: *_cum_snapshots in diagnostics.csv and summary.json, never the run's *_cum")
rows = [int(np.argmin(abs(r["t"] - t))) for t in a["t"]]
for k in ("entropy_production", "entropy_flow_x1"):
    true = r[k + "_cum"][rows] - r[k + "_cum"][rows[0]] - a[k + "_cum_snapshots"]
    U, err = a[k + "_cum_snapshots_uncertainty"][1:], a[k + "_cum_snapshots_err"][1:]
    ratio = abs(true[1:]) / U
    check(len(ratio) == 8 and np.all((ratio >= 0.5) & (ratio <= 2)) and np.all(err * true[1:] > 0),
          f"analyze: {k}_cum_snapshots_uncertainty within 2x of the error from the spacing 0.25 on every row, "
          f"_err of its sign (|error|/uncertainty {ratio.min():.2f} .. {ratio.max():.2f})")

out = tmpdir("eb-analyze-bits")  # under -bits the information integral is info_flow_X_cum_bits
run("run", error_bars.linear_options([[-1.0, 0.5], [0.5, -1.0]], [0.0, 0.0], [0.5, 0.5], 32, -5, 5) + [
    "-sensor", "x1", "-bits", "-init_mean", "1,0", "-init_cov", "0.6,0,0,0.6", "-t_final", 0.5, "-output_every", 0.25,
    "-snapshot_every", 0.25, "-output_dir", out])
run("analyze", sorted(glob.glob(out + "/density_*.h5")))
a = read_csv(out + "/analysis/diagnostics.csv")
check("info_flow_X_cum_bits" not in a and "info_flow_X_cum_bits_snapshots" in a and "info_flow_X_cum_bits_snapshots_err" in a,
      "analyze -bits: info_flow_X_cum_bits_snapshots, never the run's info_flow_X_cum_bits")

# a grid coarsened by 4 beyond the Peclet limit: the fall-back to the grid coarsened by 2 (refused before)
out = tmpdir("eb-peclet")
proc = run("run", ["-model", "inference", "-inference_tuning", "linear", "-inference_lambda", 10, "-inference_tau_r", 0.1, "-inference_sigma_r", 1, "-grid_n", "128,128",
                   "-grid_lo", "-8,-80", "-grid_hi", "8,80", "-init_mean", "0,0", "-init_cov", "1,25", "-t_final", 0.25,
                   "-output_every", 0.25, "-error_estimate", "-output_dir", out], expect_ok=False)
check(proc.returncode == 0, f"a box whose grid coarsened by 4 exceeds the Peclet limit runs (exit {proc.returncode}: {proc.stderr.strip()[:200]})")
if proc.returncode == 0:
    s = read_json(out + "/summary.json")["error_estimate"]
    t = read_csv(out + "/diagnostics.csv")
    check(s["fallback"] and "coarsened by 4" in s["fallback"] and "Peclet" in s["fallback"], "summary.json says why it fell back")
    check(np.isfinite(t["var_r_err"][-1]) and t["var_r_uncertainty"][-1] >= abs(t["var_r_err"][-1]) and t["var_r_trusted"][-1] == 0,
          "the fall-back's bars: finite, at least the correction, not trusted")
proc = run("run", ["-model", "inference", "-inference_tuning", "linear", "-inference_lambda", 10, "-inference_tau_r", 0.1, "-inference_sigma_r", 1, "-grid_n", "64,64",
                   "-grid_lo", "-8,-80", "-grid_hi", "8,80", "-init_mean", "0,0", "-init_cov", "1,25", "-t_final", 0.25,
                   "-output_every", 0.25, "-error_estimate", "-output_dir", tmpdir("eb-peclet2")], expect_ok=False)
check(proc.returncode == 1 and "coarsened by 2" in proc.stderr and "Peclet number" in proc.stderr,
      f"a grid coarsened by 2 beyond the limit is refused naming it and the number: {proc.stderr.strip()[:160]}")
finish()
