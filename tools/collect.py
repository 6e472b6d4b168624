#!/usr/bin/python3
"""Gathers the stationary_summary.json (or summary.json) files of a parameter sweep (jobs/sweep.sbatch, one
folder per value) into SWEEP_DIR/sweep.csv and plots decoding accuracy against
energy cost in SWEEP_DIR/sweep.png.

    tools/collect.py SWEEP_DIR [--param NAME]

The swept parameter is the one that differs between the summaries (or
--param). Columns: the parameter, mutual_information, decoding_mse, the heat
rate of every sensor variable, their sum, cost_per_bit, entropy_production;
under -error_estimate also each one's _uncertainty and _trusted (doc/physics.md
§5; sensor_heat_rate's uncertainty the sum of its parts', trusted when all
are); and the box warnings boundary_mass and box_too_small."""
import argparse
import csv
import glob
import math
import os
import sys

# the reader is the package's (python/infotherm of this source tree, else the installed one)
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if os.path.isdir(os.path.join(_ROOT, "python", "infotherm")):
    sys.path.insert(0, os.path.join(_ROOT, "python"))
import infotherm  # noqa: E402

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweep_dir")
    ap.add_argument("--param", help="the swept parameter (default: the one that varies)")
    args = ap.parse_args()
    runs = []
    # a folder per value: stationary_summary.json (COMMAND=stationary, the default) or summary.json (run)
    for folder in sorted(glob.glob(os.path.join(args.sweep_dir, "*", ""))):
        for name in ("stationary_summary.json", "summary.json"):
            if os.path.exists(os.path.join(folder, name)):
                runs.append(infotherm.read_json(os.path.join(folder, name)))
                break
    if not runs:
        sys.exit(f"collect: no */stationary_summary.json or */summary.json under {args.sweep_dir}")
    param = args.param
    if not param:
        varying = [k for k in runs[0]["parameters"] if len({r["parameters"].get(k) for r in runs}) > 1]
        if len(varying) != 1:
            sys.exit(f"collect: cannot tell the swept parameter ({varying or 'none varies'}); give --param")
        param = varying[0]
    runs.sort(key=lambda r: r["parameters"][param])
    sensor = runs[0].get("sensor", [])
    heat = [f"heat_rate_{v}" for v in sensor]
    columns = [param, "mutual_information", "decoding_mse"] + heat + ["sensor_heat_rate", "cost_per_bit", "entropy_production"]
    quantities = columns[1:]
    if any("mutual_information_uncertainty" in r["final"] for r in runs):
        columns += [f"{k}_{s}" for k in quantities for s in ("uncertainty", "trusted")]
    columns += ["boundary_mass", "box_too_small"]
    rows = []
    for r in runs:
        final = dict(r["final"])
        if heat:
            final["sensor_heat_rate_uncertainty"] = sum(final.get(h + "_uncertainty", math.nan) or math.nan for h in heat)
            final["sensor_heat_rate_trusted"] = int(all(final.get(h + "_trusted", 0) == 1 for h in heat))
        row = {param: r["parameters"][param], "boundary_mass": r.get("boundary_mass", math.nan),
               "box_too_small": int(bool(r.get("box_too_small", False)))}
        for k in columns[1:]:
            if k in ("boundary_mass", "box_too_small"):
                continue
            row[k] = sum(final.get(h, math.nan) for h in heat) if k == "sensor_heat_rate" else final.get(k, math.nan)
            row[k] = math.nan if row[k] is None else row[k]
        rows.append(row)
    out = os.path.join(args.sweep_dir, "sweep.csv")
    with open(out + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    os.replace(out + ".tmp", out)
    print(out)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    x = [row["sensor_heat_rate"] for row in rows]
    fig, ax = plt.subplots(1, 3, figsize=(13, 3.8))
    ax[0].plot(x, [row["mutual_information"] for row in rows], "o-")
    ax[0].set(xlabel="sensor heat rate [k_B T/time]", ylabel="mutual information [nats]", title="accuracy vs cost")
    ax[1].plot(x, [row["decoding_mse"] for row in rows], "o-", color="C1")
    ax[1].set(xlabel="sensor heat rate [k_B T/time]", ylabel="decoding_mse", title="decoding error vs cost")
    ax[2].plot([row[param] for row in rows], [row["cost_per_bit"] for row in rows], "o-", color="C2")
    ax[2].axhline(math.log(2), color="gray", ls=":", label="ln 2")
    ax[2].set(xlabel=param, ylabel="cost_per_bit [k_B T/bit]", title="cost per bit", xscale="log")
    ax[2].legend()
    for a, row_param in zip(ax[:2], (None, None)):
        for row in rows:
            a.annotate(f"{row[param]:g}", (row["sensor_heat_rate"], row["mutual_information"] if a is ax[0] else row["decoding_mse"]), fontsize=7)
    fig.suptitle(f"sweep of {param} ({len(rows)} runs, {runs[0]['model']})")
    fig.tight_layout()
    png = os.path.join(args.sweep_dir, "sweep.png")
    fig.savefig(png + ".tmp.png", dpi=120)
    os.replace(png + ".tmp.png", png)
    print(png)


if __name__ == "__main__":
    main()
