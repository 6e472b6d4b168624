#!/usr/bin/python3
"""Study (a): how much a noisy neuron learns about a Brownian velocity, and at
what heat. Solves the steady state of input/study_inference.opts over a grid
of neuron noise sigma_r and time constant tau_r, for linear and sigmoid
tuning; plots mutual_information and decoding_mse against the neuron's heat
rate heat_rate_r and against cost_per_bit (with the bound ln 2 k_B T per bit),
prints the best information per k_B T (I / heat_rate_r), and cross-checks the
best point against Monte Carlo with `infotherm crosscheck`. Every solve runs
with -error_estimate: each key number is reported with its error estimate
(doc/physics.md §5), and a point whose estimate exceeds 1% of its value is solved
again on a grid doubled per axis (once with --quick, up to twice otherwise).

    tools/study_inference.py [--quick] [--out DIR] [--mc-particles N]

Writes DIR/study_inference.csv, DIR/inference_accuracy_cost.png,
DIR/inference_cost_per_bit.png and DIR/study_inference.json."""
import csv
import json
import math
import os
import sys

import matplotlib

import studylib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def infotherm(command, options, check=True):
    return studylib.infotherm("inference", command, options, check)


KEYS = ["mutual_information", "decoding_mse", "heat_rate_r", "cost_per_bit"]


def main():
    args = studylib.parse_args("inference", __doc__, "coarse grid and fewer points (the test suite's)")
    if args.quick:
        sigmas, taus, grid, particles, max_doublings = [0.2, 0.3, 0.5], [0.1, 0.5], "48,48", 20000, 1
    else:
        sigmas, taus, grid, particles, max_doublings = [0.1, 0.15, 0.2, 0.3, 0.4, 0.5], [0.05, 0.1, 0.2, 0.5, 1.0], "128,160", 100000, 2
    particles = args.mc_particles or particles

    rows = []
    for tuning in ("linear", "sigmoid"):
        for tau in taus:
            for sigma in sigmas:
                def solve(g, tuning=tuning, tau=tau, sigma=sigma):
                    out = os.path.join(args.out, "runs", f"{tuning}_tau{tau}_sigma{sigma}")
                    infotherm("stationary", ["-inference_tuning", tuning, "-inference_tau_r", tau, "-inference_sigma_r", sigma, "-grid_n", g,
                                             "-output_dir", out, "-error_estimate"])
                    return studylib.read_json(os.path.join(out, "stationary_summary.json"))["final"]
                # each key number with its error estimate; the grid doubled where one exceeds 1%
                final, g, coarse = studylib.refined(solve, grid, KEYS, max_doublings)
                row = {"tuning": tuning, "tau_r": tau, "sigma_r": sigma, "grid_n": g}
                for k in KEYS + ["info_flow_X"]:
                    row[k] = final[k]
                for k in KEYS:
                    row[k + "_err"] = final[k + "_err"]
                    # the error bar (doc/physics.md §5): half-width and whether it is trusted
                    row[k + "_uncertainty"] = final.get(k + "_uncertainty", abs(final[k + "_err"]))
                    row[k + "_trusted"] = final.get(k + "_trusted", 1)
                row["info_per_kT"] = row["mutual_information"] / row["heat_rate_r"]
                row["info_per_kT_err"] = (final["mutual_information_extrap"] / final["heat_rate_r_extrap"]
                                          - row["info_per_kT"])
                row["error_above_1pct"] = " ".join(coarse)
                rows.append(row)
    with open(os.path.join(args.out, "study_inference.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    fig2, bx = plt.subplots(1, 2, figsize=(11, 4.2))
    markers = {"linear": "o", "sigmoid": "s"}
    for tuning in ("linear", "sigmoid"):
        for tau in taus:
            sel = [r for r in rows if r["tuning"] == tuning and r["tau_r"] == tau]
            lab = f"{tuning}, tau_r={tau}"
            for a, key in ((ax, "heat_rate_r"), (bx, "cost_per_bit")):
                # error bars from each value's _uncertainty; untrusted ones drawn dashed
                for panel, ykey in ((a[0], "mutual_information"), (a[1], "decoding_mse")):
                    bars = panel.errorbar([r[key] for r in sel], [r[ykey] for r in sel],
                                          xerr=[r[key + "_uncertainty"] for r in sel],
                                          yerr=[r[ykey + "_uncertainty"] for r in sel], marker=markers[tuning],
                                          capsize=2, label=lab)
                    if any(not (r[key + "_trusted"] and r[ykey + "_trusted"]) for r in sel):
                        for collection in bars[2]:
                            collection.set_linestyle("--")
    for a in ax:
        a.set_xscale("log")
        a.set_xlabel("heat rate of the neuron, heat_rate_r [k_B T / time]")
    for a in bx:
        a.axvline(math.log(2), color="k", ls="--", label="bound ln 2 k_B T/bit")
        a.set_xlabel("cost_per_bit [k_B T / bit]")
    for a in (ax, bx):
        a[0].set_ylabel("mutual information I(v;r) [nats]")
        a[1].set_ylabel("decoding_mse  E[(v - E[v|r])^2]")
        a[0].legend(fontsize=7)
    fig.suptitle("steady state over sigma_r (along each line, sigma_r grows towards less information)")
    fig2.suptitle("cost per bit acquired by the neuron vs the second-law bound")
    fig.tight_layout()
    fig2.tight_layout()
    fig.savefig(os.path.join(args.out, "inference_accuracy_cost.png"), dpi=120)
    fig2.savefig(os.path.join(args.out, "inference_cost_per_bit.png"), dpi=120)

    best = max(rows, key=lambda r: r["info_per_kT"])
    e = studylib.with_error
    print(f"best information per k_B T: I/heat_rate_r = {e(best['info_per_kT'], best['info_per_kT_err'])} nats per "
          f"(k_B T/time) at {best['tuning']} tuning, tau_r = {best['tau_r']}, sigma_r = {best['sigma_r']} "
          f"(grid {best['grid_n']}; I = {e(best['mutual_information'], best['mutual_information_err'])} nats, "
          f"heat_rate_r = {e(best['heat_rate_r'], best['heat_rate_r_err'])}, "
          f"cost_per_bit = {e(best['cost_per_bit'], best['cost_per_bit_err'])})")
    cheapest = min(rows, key=lambda r: r["cost_per_bit"])
    print(f"smallest cost_per_bit: {e(cheapest['cost_per_bit'], cheapest['cost_per_bit_err'])} k_B T/bit "
          f"(bound ln 2 = {math.log(2):.4f})")
    coarse = [r for r in rows if r["error_above_1pct"]]
    print(f"error estimates above 1% after refining: {len(coarse)} of {len(rows)} points"
          + "".join(f"; {r['tuning']} tau_r={r['tau_r']} sigma_r={r['sigma_r']} ({r['error_above_1pct']}, grid "
                    f"{r['grid_n']})" for r in coarse))

    ccdir = os.path.join(args.out, "crosscheck")
    proc = infotherm("crosscheck", ["-inference_tuning", best["tuning"], "-inference_tau_r", best["tau_r"], "-inference_sigma_r", best["sigma_r"],
                                    "-grid_n", best["grid_n"], "-mc_particles", particles, "-output_dir", ccdir], check=False)
    cc = studylib.read_json(os.path.join(ccdir, "crosscheck.json"))
    print(f"crosscheck at the best point ({particles} particles): passed = {cc['passed']}, "
          f"{cc['judged']} judged, max |z| = {cc['max_abs_z']:.2f} (exit status {proc.returncode})")
    with open(os.path.join(args.out, "study_inference.json"), "w") as f:
        json.dump({"best": best, "crosscheck": {"passed": cc["passed"], "judged": cc["judged"],
                                                "max_abs_z": cc["max_abs_z"], "exit_status": proc.returncode},
                   "rows": rows}, f, indent=1)
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
