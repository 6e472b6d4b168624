#!/usr/bin/env python3
"""The stationary multigrid under PCMG's other cycle types and its own options.

Kaskade calls each level's smoother once per apply from the interpolated
guess, so a smoother that told pre- from post-smoothing by the order of its
calls varied from one apply to the next (1 and 2 sweeps on the level below
the fine one under -stationary_mg_fine_v): GMRES's recursive residual then
drifted from the true one and a 128^2 solve ended 1.2e-5 from the answer
with exit 0. The reference is the default solve (multiplicative W/V-cycles):
Kaskade, additive and full cycles must give its density to 1e-9, on 1 and 2
ranks. Sweeps that differ before and after are refused under Kaskade with
one line (the other -stationary_mg_* refusals: tests/test_hostile.py).
"""
from common import *

GRID = ["-model", "linear", "-grid_n", "128"]


def density(opts, ranks=1):
    out = tmpdir("mgc")
    run("stationary", GRID + opts + ["-output_dir", out], ranks=ranks)
    return read_density(out + "/density_stationary.h5")[0]


ref = density([])
for ranks in (1, 2):
    for label, opts in [("kaskade", ["-stationary_pc_mg_type", "kaskade"]),
                        ("kaskade, fine V", ["-stationary_pc_mg_type", "kaskade", "-stationary_mg_fine_v", "true"]),
                        ("additive, fine V", ["-stationary_pc_mg_type", "additive", "-stationary_mg_fine_v", "true"]),
                        ("full, fine V", ["-stationary_pc_mg_type", "full", "-stationary_mg_fine_v", "true"])]:
        p = density(opts, ranks)
        d = float(np.abs(p - ref).sum() / np.abs(ref).sum())
        check(d < 1e-9, f"{label} on {ranks} rank(s): the default solve's density within {d:.1e} (L1, relative)")

expect_refused("alternating sweeps under kaskade", "stationary",
               GRID + ["-stationary_pc_mg_type", "kaskade", "-stationary_mg_sweeps", "alternating"],
               ["-stationary_mg_sweeps", "-stationary_pc_mg_type kaskade"])
finish()
