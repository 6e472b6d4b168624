#!/usr/bin/python3
"""infotherm against DiPDE (the Allen Institute's population density code)
on one leaky integrate-and-fire population (doc/peer-comparison.md "DiPDE").

    tools/bench_dipde.py --dipde /path/to/dipde-checkout [--infotherm build/infotherm]

DiPDE drives its population with Poisson jumps; balanced excitatory and
inhibitory inputs of jump +-w at rates l_e, l_i give the drift (l_e - l_i) w
= mu/tau_m and the diffusion (l_e + l_i) w^2 / 2 = sigma^2 / (2 tau_m) of
infotherm's `lif` (tau_m = 20 ms, V_th = 20 mV, V_r = 0, mu = 16 mV,
sigma = 6 mV), whose diffusion limit (w -> 0) has Siegert's rate, computed
here by Gauss-Legendre quadrature: the independent reference. Printed:
the stationary rate's error and wall time of each code and setting (DiPDE
to t = 0.3 s = 15 tau_m from rest, its forward-Euler Taylor update at the
largest stable step; infotherm's `stationary`), the wall time each needs
for a given error, and the response to a step of mu from 16 to 24 mV at
t = 0.1 s. DiPDE is imported from the given path (a copy patched for
today's numpy: np.float, np.int -> float, int); nothing of it is copied
here. Wall times leave out start-up (infotherm's summary wall_time,
DiPDE's Network.run); the machine may be loaded, so compare ratios, not
seconds."""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.results import read_columns as read_table  # noqa: E402

TAU, VTH, MU, SIGMA, MU_STEP = 0.02, 0.02, 0.016, 0.006, 0.024


def siegert(mu, sigma=SIGMA, tau=TAU, vth=VTH, vr=0.0):
    """1/nu = tau sqrt(pi) int_{(vr-mu)/sigma}^{(vth-mu)/sigma} e^{u^2} erfc(-u) du (200-point Gauss-Legendre)."""
    x, w = np.polynomial.legendre.leggauss(200)
    a, b = (vr - mu) / sigma, (vth - mu) / sigma
    u = 0.5 * (b - a) * x + 0.5 * (a + b)
    g = np.array([math.exp(v * v) * math.erfc(-v) for v in u])
    return 1.0 / (tau * math.sqrt(math.pi) * 0.5 * (b - a) * float(np.sum(w * g)))


def dipde_rates(w, mu):
    """Excitatory and inhibitory Poisson rates for jumps +-w with drift mu/tau and diffusion sigma^2/(2 tau)."""
    total = SIGMA ** 2 / (TAU * w * w)
    diff = mu / (TAU * w)
    return 0.5 * (total + diff), 0.5 * (total - diff)


def dipde_run(w, dv, tf, step=False):
    """DiPDE's population to tf: (t, rate) records and wall seconds."""
    from dipde.internals.internalpopulation import InternalPopulation
    from dipde.internals.externalpopulation import ExternalPopulation
    from dipde.internals.network import Network
    from dipde.internals.connection import Connection
    le, li = dipde_rates(w, MU)
    if step:
        le1, li1 = dipde_rates(w, MU_STEP)
        fe = f"Piecewise(({le}, t < 0.1), ({le1}, True))"
        fi = f"Piecewise(({li}, t < 0.1), ({li1}, True))"
    else:
        fe, fi = str(le), str(li)
    # forward Euler (approx_order 1) keeps p >= 0 (DiPDE stops otherwise) for dt times the
    # largest outflow rate, le + li + V_th/(tau_m dv) (the leak's top bin), below 1: 0.9
    rate = sum(dipde_rates(w, MU_STEP if step else MU)) + VTH / (TAU * dv)
    dt = tf / math.ceil(tf * rate / 0.9)
    e, i = ExternalPopulation(fe), ExternalPopulation(fi)
    p = InternalPopulation(v_min=-0.015, v_max=VTH, dv=dv, update_method="approx", approx_order=1,
                           tau_m=TAU)
    net = Network([e, i, p], [Connection(e, p, 1, weights=w, delays=0.0),
                              Connection(i, p, 1, weights=-w, delays=0.0)])
    start = time.time()
    net.run(dt=dt, tf=tf, t0=0.0)
    return np.array(p.t_record), np.array(p.firing_rate_record), time.time() - start, dt


def infotherm(binary, command, options):
    """Runs infotherm; returns (output folder, its own wall seconds: summary.json's wall_time,
    from after start-up to the end, as DiPDE's are those of Network.run)."""
    import json
    out = tempfile.mkdtemp(prefix="bench-dipde-")
    argv = [binary, command, "-model", "lif", "-lif_tau_m", TAU, "-lif_V_th", VTH, "-lif_V_r", 0, "-lif_sigma", SIGMA,
            "-quiet", "-output_dir", out + "/o"] + options
    subprocess.run([str(a) for a in argv], check=True, capture_output=True)
    name = "stationary_summary.json" if command == "stationary" else "summary.json"
    return out + "/o", float(json.load(open(f"{out}/o/{name}"))["wall_time"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dipde", help="a DiPDE checkout (the folder holding the dipde package)")
    ap.add_argument("--infotherm", default=os.path.join(os.path.dirname(__file__), "..", "build", "infotherm"))
    ap.add_argument("--quick", action="store_true", help="the two coarsest DiPDE settings only")
    ap.add_argument("--fine", action="store_true", help="also DiPDE's finest setting (minutes)")
    args = ap.parse_args()
    if not args.dipde:
        print("bench_dipde.py: give --dipde PATH (a DiPDE checkout); nothing run")
        return 0
    sys.path.insert(0, args.dipde)
    nu = siegert(MU)
    print(f"LIF tau_m 20 ms, V_th 20 mV, V_r 0, mu 16 mV, sigma 6 mV: Siegert rate {nu:.6f} Hz")
    print("\nStationary rate")
    print(f"{'code':10s} {'setting':34s} {'rate (Hz)':>12s} {'rel. error':>11s} {'wall (s)':>9s}")
    infot = []
    for n in (32, 64, 128, 256, 512, 1024, 2048):
        out, wall = infotherm(args.infotherm, "stationary", ["-lif_mu", MU, "-grid_n", n])
        rate = read_table(out + "/stationary.csv")["firing_rate"][-1]
        infot.append((abs(rate - nu) / nu, wall, n))
        print(f"{'infotherm':10s} {f'stationary, {n} cells':34s} {rate:12.6f} {infot[-1][0]:11.2e} {wall:9.3f}")
    out, wall = infotherm(args.infotherm, "stationary", ["-lif_mu", MU, "-grid_n", 128, "-error_estimate"])
    rate = read_table(out + "/stationary.csv")["firing_rate_extrap"][-1]
    infot.append((abs(rate - nu) / nu, wall, "128+richardson"))
    print(f"{'infotherm':10s} {'stationary, 128 cells, extrapolated':34s} {rate:12.6f} {infot[-1][0]:11.2e} {wall:9.3f}")
    settings = [(1e-3, 5e-4), (5e-4, 2.5e-4), (2.5e-4, 1.25e-4), (1.25e-4, 6.25e-5)]
    dip = []
    for w, dv in settings[:2] if args.quick else settings if args.fine else settings[:3]:
        t, r, wall, dt = dipde_run(w, dv, 0.3)
        dip.append((abs(r[-1] - nu) / nu, wall, w))
        print(f"{'DiPDE':10s} {f'w {w * 1e3:g} mV, dv {dv * 1e3:g} mV, dt {dt:.2g} s':34s} {r[-1]:12.6f} {dip[-1][0]:11.2e} {wall:9.3f}")
    print("\nWall time to a relative rate error")
    print(f"{'error':>9s} {'infotherm (s)':>14s} {'DiPDE (s)':>10s} {'ratio':>7s}")
    for target in sorted({1e-4, 1e-3} | {e for e, _, _ in dip}):
        ti = min((wl for e, wl, _ in infot if e <= target), default=float("nan"))
        td = min((wl for e, wl, _ in dip if e <= target), default=float("nan"))
        ratio = td / ti if td == td and ti == ti else float("nan")
        print(f"{target:9.2e} {ti:14.3f} {td:10.3f} {ratio:7.1f}")
    print("\nStep of mu from 16 to 24 mV at t = 0.1 s (rates in Hz; Siegert after the step "
          f"{siegert(MU_STEP):.4f})")
    out, wall_i = infotherm(args.infotherm, "run", ["-lif_mu", MU, "-protocol", f"mu:{MU}@0,{MU_STEP}@0.1", "-grid_n", 512,
                                                      "-init", "gaussian", "-init_mean", 0.0, "-init_cov", 1e-7,
                                                      "-t_final", 0.2, "-output_every", 0.001, "-snapshot_every", 1])
    ti = read_table(out + "/diagnostics.csv")
    w, dv = settings[1] if args.quick else settings[2]
    td, rd, wall_d, _ = dipde_run(w, dv, 0.2, step=True)
    print(f"{'t (ms)':>7s} {'infotherm':>10s} {'DiPDE':>10s}   (infotherm 512 cells {wall_i:.2f} s; DiPDE w {w * 1e3:g} mV {wall_d:.2f} s)")
    for tt in (0.1, 0.102, 0.105, 0.11, 0.12, 0.15, 0.2):
        print(f"{tt * 1e3:7.0f} {np.interp(tt, ti['t'], ti['firing_rate']):10.4f} {np.interp(tt, td, rd):10.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
