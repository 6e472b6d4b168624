#!/usr/bin/python3
"""Study: a spiking sensor of a Brownian velocity against its rate-neuron
counterpart. Solves the steady state of the leaky integrate-and-fire sensor
(input/lif_inference.opts: tau_m dV = (mu0 + g u(v) - V) dt + sigma sqrt(tau_m) dW,
absorbed at V_th = 1, reset to V_r = 0) over the input gain g, and of the
same neuron without threshold, the rate neuron of input/inference.opts with
tau_r = tau_m, f(v) = g u(v) (the membrane without threshold, shifted by
-mu0) and sigma_r = sigma/sqrt 2 (the same diffusion, sigma^2/(2 tau_m)). Prints
and plots, in bits, the information flow into the sensor (info_flow_X),
the information per spike (info_per_spike) and the heat per bit
(cost_per_bit, k_B T per bit; the spiking sensor's includes the reset's
convention of doc/physics.md §8.3), and cross-checks the spiking sensor at
the largest gain against Monte Carlo.

    tools/study_spiking.py [--quick] [--out DIR] [--mc-particles N]

Writes DIR/study_spiking.csv, DIR/spiking_information_cost.png and
DIR/study_spiking.json."""
import csv
import json
import math
import os
import subprocess
import sys

import matplotlib

import studylib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TAU_M, MU0, SIGMA = 0.2, 0.6, 0.3


def solve(model_file, options, out):
    argv = [studylib.BIN, "stationary", "-options_file", os.path.join(studylib.ROOT, "input", model_file),
            "-bits", "-output_dir", out, "-quiet", "-overwrite"] + [str(o) for o in options]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"study_spiking: {' '.join(argv)} failed:\n{proc.stderr}")
    table = studylib.read_csv(os.path.join(out, "stationary.csv"))
    return {k: float(v[-1]) for k, v in table.items()}


def main():
    args = studylib.parse_args("spiking", __doc__, "fewer gains and a coarser grid")
    gains = [0.2, 0.6, 1.0] if args.quick else [0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.4]
    grid = "48,96" if args.quick else "96,192"
    particles = args.mc_particles or (20000 if args.quick else 100000)
    rows = []
    for g in gains:
        spk = solve("lif_inference.opts", ["-lif_inference_g", g, "-grid_n", grid], os.path.join(args.out, "runs", f"lif_g{g}"))
        # the threshold-free membrane, shifted by -mu0 (a translation: the same information and heat)
        rate = solve("inference.opts", ["-inference_tau_r", TAU_M, "-inference_sigma_r", SIGMA / math.sqrt(2), "-inference_tuning", "sigmoid",
                                        "-inference_rmax", g, "-inference_beta", 2, "-inference_theta", 0, "-grid_n", grid,
                                        "-grid_lo", f"-6,{-6 * SIGMA}", "-grid_hi", f"6,{g + 6 * SIGMA}"],
                     os.path.join(args.out, "runs", f"rate_g{g}"))
        rows.append({"g": g, "firing_rate": spk["firing_rate"],
                     "spiking_info_flow_bits": spk["info_flow_X_bits"],
                     "spiking_info_per_spike_bits": spk["info_per_spike_bits"],
                     "spiking_mi_bits": spk["mutual_information_bits"],
                     "spiking_cost_per_bit": spk["cost_per_bit"],
                     "rate_info_flow_bits": rate["info_flow_X_bits"], "rate_mi_bits": rate["mutual_information_bits"],
                     "rate_cost_per_bit": rate["cost_per_bit"]})
        r = rows[-1]
        print(f"g = {g}: spiking {r['firing_rate']:.4f} spikes/time, {r['spiking_info_flow_bits']:.5f} bits/time, "
              f"{r['spiking_info_per_spike_bits']:.5f} bits/spike, {r['spiking_cost_per_bit']:.4g} k_B T/bit; "
              f"rate neuron {r['rate_info_flow_bits']:.5f} bits/time, {r['rate_cost_per_bit']:.4g} k_B T/bit")
    with open(os.path.join(args.out, "study_spiking.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)

    fig, ax = plt.subplots(1, 3, figsize=(14, 4.2))
    gs = [r["g"] for r in rows]
    ax[0].plot(gs, [r["spiking_info_flow_bits"] for r in rows], "o-", label="spiking (LIF)")
    ax[0].plot(gs, [r["rate_info_flow_bits"] for r in rows], "s-", label="rate neuron, same membrane")
    ax[0].set_ylabel("information flow into the sensor [bits / time]")
    ax[1].plot(gs, [r["spiking_info_per_spike_bits"] for r in rows], "o-")
    ax[1].set_ylabel("information per spike [bits]")
    ax[2].plot(gs, [r["spiking_cost_per_bit"] for r in rows], "o-", label="spiking (LIF)")
    ax[2].plot(gs, [r["rate_cost_per_bit"] for r in rows], "s-", label="rate neuron")
    ax[2].axhline(math.log(2), color="k", ls="--", label="ln 2")
    ax[2].set_yscale("log")
    ax[2].set_ylabel("heat per bit [k_B T / bit]")
    for a in ax:
        a.set_xlabel("input gain g")
    ax[0].legend(fontsize=8)
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "spiking_information_cost.png"), dpi=120)

    ccdir = os.path.join(args.out, "crosscheck")
    argv = [studylib.BIN, "crosscheck", "-options_file", os.path.join(studylib.ROOT, "input", "lif_inference.opts"),
            "-lif_inference_g", gains[-1], "-grid_n", grid, "-t_final", 1, "-output_every", 0.5, "-mc_particles", particles,
            "-output_dir", ccdir, "-quiet", "-overwrite"]
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    cc = studylib.read_json(os.path.join(ccdir, "crosscheck.json"))
    print(f"crosscheck of the spiking sensor at g = {gains[-1]} ({particles} particles): verdict {cc.get('verdict')} "
          f"(exit status {proc.returncode})")
    with open(os.path.join(args.out, "study_spiking.json"), "w") as f:
        json.dump({"rows": rows, "crosscheck": {"verdict": cc.get("verdict"), "exit_status": proc.returncode}}, f, indent=1)
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
