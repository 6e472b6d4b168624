#!/usr/bin/python3
"""Study (c): how long a bistable synapse remembers a binary stimulus, and the
heat it gives off meanwhile. input/study_memory.opts runs once per condition
c = +-1 (h = c h0 on t in (t_on, t_off], 0 otherwise, from the symmetric steady
state); from the snapshots the script computes the stored information
I(c; w) = H(mixture) - [H(p+) + H(p-)]/2 on the grid, fits its exponential
decay time after t_off for several sigma_w (barrier 1/(4 sigma_w^2) in units of
the noise), reports the heat given off after the stimulus (entropy_flow_w_cum),
compares the decay time with 1/(2 lambda_1) from `infotherm spectrum` and from
Kramers' formula, and cross-checks one condition against Monte Carlo with
`infotherm crosscheck`.

    tools/study_memory.py [--quick] [--out DIR] [--mc-particles N]

Writes DIR/memory_information.png, DIR/memory_decay.png and DIR/study_memory.json."""
import glob
import json
import math
import os
import sys

import numpy as np
import matplotlib

import studylib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

H0, T_ON, T_OFF = 1.0, 1.0, 6.0


def infotherm(command, options, check=True):
    return studylib.infotherm("memory", command, options, check)


def snapshots(folder):
    """Times and densities (1-D arrays) of every density_NNNN.h5, and the cell width."""
    times, dens = [], []
    for path in sorted(glob.glob(os.path.join(folder, "density_[0-9]*.h5"))):
        p, attrs = studylib.read_density(path)
        times.append(float(attrs["time"]))
        dens.append(p.ravel())
        width = (float(attrs["hi0"]) - float(attrs["lo0"])) / int(attrs["n0"])
    return np.array(times), np.array(dens), width


def stored_information(pp, pm, width):
    """I(c; w) in nats for c = +-1 equally likely, p(w|c) the two densities."""
    def h(p):
        q = np.clip(p, 0.0, None)
        return -np.sum(np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0)), 0.0)) * width
    return h(0.5 * (pp + pm)) - 0.5 * (h(pp) + h(pm))


def protocol(c, t_on=T_ON, t_off=T_OFF):
    return f"h:0@0,{c * H0:g}@{t_on:g},0@{t_off:g}"


ESTIMATED = ["decay_time", "I_at_stimulus_end", "heat_during_stimulus", "heat_after_stimulus"]


def measure(folder, sigma, grid, t_final, estimate):
    """The plus and minus runs on `grid` cells: the stored information I(c;w) over time, its decay
    time after the stimulus, and the heat given off during and after it (with their error
    estimates when `estimate`: -error_estimate)."""
    runs = {}
    for c, name in ((1, "plus"), (-1, "minus")):
        out = os.path.join(folder, f"sigma{sigma}_{name}")
        infotherm("run", ["-bistable_sigma_w", sigma, "-protocol", protocol(c), "-grid_n", grid, "-t_final", t_final,
                          "-output_dir", out] + (["-error_estimate"] if estimate else []))
        runs[name] = out
    tp, pp, width = snapshots(runs["plus"])
    tm, pm, _ = snapshots(runs["minus"])
    info = np.array([stored_information(a, b, width) for a, b in zip(pp, pm)])
    # decay after the stimulus: skip the fast relaxation inside the wells (2 tau_w)
    # and the round-off floor, fit ln I linearly in t
    sel = (tp >= T_OFF + 2.0) & (info > 1e-8)
    slope, _ = np.polyfit(tp[sel], np.log(info[sel]), 1)
    d = studylib.read_csv(os.path.join(runs["plus"], "diagnostics.csv"))
    t = np.array(d["t"])

    def heats(cum):
        cum = np.array(cum)
        return (float(np.interp(T_OFF, t, cum) - np.interp(T_ON, t, cum)),
                float(cum[-1] - np.interp(T_OFF, t, cum)))

    out = {"decay_time": float(-1.0 / slope), "I_at_stimulus_end": float(np.interp(T_OFF, tp, info)),
           "I_max": float(info.max()), "I_final": float(info[-1]), "_t": tp, "_I": info}
    out["heat_during_stimulus"], out["heat_after_stimulus"] = heats(d["entropy_flow_w_cum"])
    if estimate:  # the error of a difference of a column is the difference of its _err column
        out["heat_during_stimulus_err"], out["heat_after_stimulus_err"] = heats(d["entropy_flow_w_cum_err"])
    return out


TAU_W = 1.0  # input/study_memory.opts


def spectral_decay(out, results, grid, axis):
    """The memory's lifetime from the relaxation spectrum (doc/physics.md §6), beside each fitted decay time:
    lambda_1 of the operator at h = 0 by `infotherm spectrum -error_estimate`, whose 1/(2 lambda_1) is the
    decay time of I(c; w) once barrier crossings dominate (I ~ imbalance^2), and Kramers' weak-noise rate.
    With A_w = -U'(w)/tau_w, U = w^4/4 - w^2/2 and D = sigma_w^2/tau_w (the drift's potential U/tau_w):
    curvatures 2/tau_w in the wells and 1/tau_w at the barrier, height 1/(4 tau_w), so
    lambda_1 ~ 2 sqrt(2/tau_w * 1/tau_w)/(2 pi) exp(-1/(4 sigma_w^2)) = sqrt(2)/(pi tau_w) exp(-1/(4 sigma_w^2))
    (twice the hopping rate over the barrier: the imbalance relaxes through hops both ways)."""
    for r in results:
        folder = os.path.join(out, f"sigma{r['sigma_w']}_spectrum")
        infotherm("spectrum", ["-bistable_sigma_w", r["sigma_w"], "-bistable_h", 0, "-grid_n", grid, "-spectrum_nev", 2,
                               "-error_estimate", "-output_dir", folder])
        final = studylib.read_json(os.path.join(folder, "spectrum_summary.json"))["final"]
        kramers = math.sqrt(2.0) / (math.pi * TAU_W) * math.exp(-1.0 / (4.0 * r["sigma_w"] ** 2))
        r.update({key: final[key] for key in ("lambda_1", "lambda_1_err", "lambda_1_extrap", "lambda_1_order",
                                              "lambda_2")})
        r.update({"decay_time_spectrum": 1.0 / (2.0 * final["lambda_1"]),
                  "decay_time_spectrum_err": abs(final["lambda_1_err"]) / (2.0 * final["lambda_1"] ** 2),
                  "lambda_kramers": kramers, "decay_time_kramers": 1.0 / (2.0 * kramers)})
        print(f"sigma_w = {r['sigma_w']}: lambda_1 = {final['lambda_1']:.6g} +- {abs(final['lambda_1_err']):.1e} "
              f"(extrapolated {final['lambda_1_extrap']:.6g}, order {final['lambda_1_order']:.2f}; lambda_2 = "
              f"{final['lambda_2']:.4g}): decay time of I fitted {r['decay_time']:.3f}, 1/(2 lambda_1) = "
              f"{r['decay_time_spectrum']:.3f}, Kramers 1/(2 lambda_K) = {r['decay_time_kramers']:.3f} tau_w "
              f"(lambda_K/lambda_1 = {kramers / final['lambda_1']:.3f})")
    b = [r["barrier_over_noise"] for r in results]
    axis.semilogy(b, [r["decay_time_spectrum"] for r in results], "s--", label="1/(2 lambda_1), infotherm spectrum")
    axis.semilogy(b, [r["decay_time_kramers"] for r in results], "^:", label="1/(2 lambda_1), Kramers")


def main():
    args = studylib.parse_args("memory", __doc__, "coarse grid, fewer barriers (the test suite's)")
    if args.quick:
        sigmas, grid, t_final, particles, max_doublings = [0.5, 0.4], 128, 30.0, 20000, 1
    else:
        sigmas, grid, t_final, particles, max_doublings = [0.55, 0.5, 0.45, 0.4, 0.35], 256, 60.0, 100000, 2
    particles = args.mc_particles or particles

    results = []
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.2))
    for sigma in sigmas:
        # the key numbers with error estimates (doc/physics.md §5): the heats from -error_estimate's
        # _err columns, the decay time and I(c;w) (from the snapshots) by the same Richardson
        # formula from a second pair of runs on half the cells; the grid doubled while one
        # estimate exceeds 1% of its value
        g = grid
        for attempt in range(max_doublings + 1):
            fine = measure(args.out, sigma, g, t_final, estimate=True)
            coarse = measure(os.path.join(args.out, "half"), sigma, g // 2, t_final, estimate=False)
            for k in ("decay_time", "I_at_stimulus_end"):
                fine[k + "_err"] = (fine[k] - coarse[k]) / 3
            above = [k for k in ESTIMATED if not abs(fine[k + "_err"]) <= studylib.TOLERANCE * abs(fine[k])]
            if not above or attempt == max_doublings:
                break
            g *= 2
        tp, info, barrier = fine.pop("_t"), fine.pop("_I"), 1.0 / (4.0 * sigma ** 2)
        decay, i_off = fine["decay_time"], fine["I_at_stimulus_end"]
        heat_during, heat_after = fine["heat_during_stimulus"], fine["heat_after_stimulus"]
        results.append(dict(sigma_w=sigma, barrier_over_noise=barrier, grid_n=g, error_above_1pct=above,
                            t=tp.tolist(), I=info.tolist(), **fine))
        e = studylib.with_error
        print(f"sigma_w = {sigma} (grid {g}): barrier/noise = {barrier:.3f}, I(c;w) at stimulus end = "
              f"{e(i_off, fine['I_at_stimulus_end_err'])} nats (ln 2 = {math.log(2):.4f}), decay time after it = "
              f"{e(decay, fine['decay_time_err'])} tau_w, heat during the stimulus "
              f"{e(heat_during, fine['heat_during_stimulus_err'])} k_B T, after it "
              f"{e(heat_after, fine['heat_after_stimulus_err'])} k_B T"
              + (f"; above 1%: {', '.join(above)}" if above else ""))
        ax[0].plot(tp, info, label=f"sigma_w={sigma} (barrier {barrier:.2f})")
    ax[0].axhline(math.log(2), color="k", ls=":", label="ln 2")
    ax[0].axvspan(T_ON, T_OFF, color="0.9", label="stimulus on")
    ax[0].set_yscale("log")
    ax[0].set_ylim(1e-6, 1)
    ax[0].set_xlabel("t [tau_w]")
    ax[0].set_ylabel("stored information I(c; w) [nats]")
    ax[0].legend(fontsize=7)
    spectral_decay(args.out, results, grid, ax[1])
    b = [r["barrier_over_noise"] for r in results]
    ax[1].semilogy(b, [r["decay_time"] for r in results], "o-", label="fitted decay time of I")
    ax[1].set_xlabel("barrier / noise = 1/(4 sigma_w^2)")
    ax[1].set_ylabel("decay time [tau_w]")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "memory_information.png"), dpi=120)
    fig2, bx = plt.subplots(figsize=(6, 4))
    bx.plot(b, [r["heat_after_stimulus"] for r in results], "o-", label="after the stimulus")
    bx.plot(b, [r["heat_during_stimulus"] for r in results], "s-", label="while it is on")
    bx.set_xlabel("barrier / noise = 1/(4 sigma_w^2)")
    bx.set_ylabel("heat given off by w, entropy_flow_w_cum [k_B T]")
    bx.legend()
    fig2.tight_layout()
    fig2.savefig(os.path.join(args.out, "memory_decay.png"), dpi=120)

    sigma_cc = 0.4
    ccdir = os.path.join(args.out, "crosscheck")
    proc = infotherm("crosscheck", ["-bistable_sigma_w", sigma_cc, "-protocol", protocol(1, 0.5, 1.5), "-grid_n", grid,
                                    "-t_final", 2.5, "-output_every", 0.5, "-snapshot_every", 2.5,
                                    "-mc_particles", particles, "-output_dir", ccdir], check=False)
    cc = studylib.read_json(os.path.join(ccdir, "crosscheck.json"))
    print(f"crosscheck (sigma_w = {sigma_cc}, h = {H0} on t in (0.5, 1.5], to t = 2.5, {particles} particles): "
          f"passed = {cc['passed']}, {cc['judged']} judged, max |z| = {cc['max_abs_z']:.2f} (exit status {proc.returncode})")
    with open(os.path.join(args.out, "study_memory.json"), "w") as f:
        json.dump({"h0": H0, "t_on": T_ON, "t_off": T_OFF, "results": results,
                   "crosscheck": {"passed": cc["passed"], "judged": cc["judged"], "max_abs_z": cc["max_abs_z"],
                                  "exit_status": proc.returncode}}, f, indent=1)
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
