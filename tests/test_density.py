"""Densities that are not densities: every density that
enters (an initial file, a checkpoint being restarted, a snapshot given to
analyze, a -kl_reference file) or leaves a time step must be finite with a
positive mass, its cells of negative value holding at most 1e-3 of it.
Otherwise the command stops with one line on stderr naming the time, the file
or the option to change, and exit status 1; a run first writes a checkpoint
of its last good state, from which a stable method continues."""
import os
import h5py
import numpy as np
from common import *

BROWNIAN = ["-model", "brownian", "-grid_n", "64", "-t_final", "10", "-output_every", "1"]


def one_line(p, needle, label):
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and needle in p.stderr, f"{label}: {p.stderr.strip()}")


# an unstable explicit method: stops at its first bad step, after a checkpoint of the last good state (t = 0)
for ranks in (1, 2):
    out = tmpdir(f"density-euler-{ranks}")
    p = run("run", BROWNIAN + ["-ts_type", "euler", "-ts_adapt_type", "none", "-ts_dt", "1", "-output_dir", out], ranks=ranks, expect_ok=False)
    one_line(p, "-ts_dt", f"explicit Euler with dt = 1 on {ranks} rank(s)")
    check("t = 1" in p.stderr and "checkpoint.h5" in p.stderr and os.path.exists(out + "/checkpoint.h5"), "the line names the time and the checkpoint")
p = run("run", BROWNIAN + ["-output_dir", out, "-restart", "auto"])
mass = read_json(out + "/summary.json")["final"]["mass"]
check(abs(mass - 1) < 1e-10, f"the last good state continues with the default stable method (final mass {mass:.12f})")

# files that enter: a snapshot holding +inf as -init_file, a checkpoint with negative values, a snapshot full of NaN
src = tmpdir("density-src")
run("run", BROWNIAN + ["-t_final", "1", "-output_every", "0.1", "-ts_max_steps", "4", "-output_dir", src], expect_ok=False)
inf, nan = src + "/inf.h5", src + "/nan.h5"
for path, fill in ((inf, "inf"), (nan, "nan")):
    with open(src + "/density_0000.h5", "rb") as f, open(path, "wb") as g:
        g.write(f.read())
    with h5py.File(path, "r+") as f:
        d = f["density"][...]
        if fill == "inf":
            d[len(d) // 2] = np.inf
        else:
            d[...] = np.nan
        f["density"][...] = d
with h5py.File(src + "/checkpoint.h5", "r+") as f:
    d = f["density"][...]
    d[: len(d) // 4] -= 0.1 * d.max()  # a block of negative values in the tail; the mass stays positive
    f["density"][...] = d

out = tmpdir("density-inf")
p = run("run", BROWNIAN + ["-t_final", "1", "-init", "file", "-init_file", inf, "-output_dir", out], expect_ok=False)
one_line(p, inf, "-init_file holding +inf")
check(not os.path.exists(out), "nothing is written for a bad -init_file")
p = run("run", BROWNIAN + ["-t_final", "1", "-output_every", "0.1", "-output_dir", src, "-restart", "auto"], expect_ok=False)
one_line(p, "checkpoint", "a checkpoint with negative values")
out = tmpdir("density-nan")
p = run("analyze", [nan, "-output_dir", out], expect_ok=False)
one_line(p, nan, "analyze on a snapshot full of NaN")
check(not os.path.exists(out), "analyze writes nothing for a bad snapshot")
p = run("run", BROWNIAN + ["-kl_reference", nan, "-output_dir", tmpdir("density-kl")], expect_ok=False)
one_line(p, nan, "-kl_reference full of NaN")
finish()
