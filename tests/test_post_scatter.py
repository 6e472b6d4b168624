"""Post-processing ranks fed by the solver ranks' layout (-post_ranks K,
doc/performance.md "Post-processing ranks"): each post rank receives its block
of the grid from the solver ranks that own its parts (one PetscSF between the
groups), and the post group computes the diagnostics on its own DMDA.

- A 4-variable grid (3 distributed axes and one carried as the points' dof,
  unequal sizes) with K = 0, 1, 2 post ranks on 2-5 ranks in all
  (oversubscribed): diagnostics.csv equals that of -post_ranks 0 on as many
  ranks as the solver group has to 1e-12 relative + 1e-12 absolute (the post
  group sums its reductions over another number of ranks: round-off), and the
  snapshots are bit for bit (the density is only moved);
- -post_ranks from an options file splits the ranks as on the command line;
  a later -post_ranks 0 on the command line wins; for stationary (which the
  same file may serve) it splits nothing;
- crosscheck with -post_ranks 1 on 2 ranks: the solver's table to 1e-12 and the
  Monte Carlo's table to 1e-12 of crosscheck on 1 rank (the post rank runs the
  Monte Carlo; its particles do not depend on the rank count);
- -post_ranks as many as the ranks, on the command line or in an options file:
  one line naming -post_ranks, exit status 1, nothing written."""
import os

import h5py
import numpy as np
from common import check, compare_runs, finish, run, tmpdir

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
M4 = [[-1, 0.3, 0, 0], [0, -1.5, 0.2, 0], [0.1, 0, -1.2, 0], [0, 0, 0.3, -0.8]]
CASE = ["-model", "linear", "-linear_M", ",".join(str(x) for r in M4 for x in r),
        "-linear_D", "0.5,0.4,0.3,0.4", "-grid_n", "14,12,16,10", "-grid_lo", "-4", "-grid_hi", "4",
        "-init_mean", "0.6,0,-0.4,0.2", "-init_cov", "0.45,0.4,0.35,0.4",
        "-t_final", "0.1", "-output_every", "0.05", "-snapshot_every", "0.1",
        "-ts_adapt_type", "none", "-ts_dt", "0.025"]


def snapshots_equal(ref, out):
    names = sorted(f for f in os.listdir(ref) if f.startswith("density_") and f.endswith(".h5"))
    same = len(names) == 2 and names == sorted(f for f in os.listdir(out) if f.startswith("density_") and f.endswith(".h5"))
    for name in names if same else []:
        with h5py.File(os.path.join(ref, name)) as f, h5py.File(os.path.join(out, name)) as g:
            same = same and np.array_equal(np.array(f["density"]), np.array(g["density"]))
    return same


refs = {}
for solvers in (1, 2, 3):
    refs[solvers] = tmpdir(f"scatter-ref{solvers}")
    run("run", CASE + ["-output_dir", refs[solvers]], ranks=solvers)
for ranks, K in ((2, 1), (3, 2), (4, 2), (5, 2)):  # 3 ranks with K = 1: tests/test_post_ranks.py
    out = tmpdir(f"scatter{ranks}-{K}")
    proc = run("run", CASE + ["-post_ranks", K, "-output_dir", out], ranks=ranks)
    check(f"post: {ranks - K} solver rank(s)" in proc.stdout, f"{ranks} ranks, -post_ranks {K}: the post ranks report the solver's pace")
    compare_runs(refs[ranks - K], out, f"{ranks} ranks, -post_ranks {K} vs {ranks - K} rank(s)", 1e-12)
    check(snapshots_equal(refs[ranks - K], out), f"{ranks} ranks, -post_ranks {K}: snapshots bit for bit")

# -post_ranks in an options file, and the command line after it
opts = tmpdir("scatter-opts") + ".opts"
with open(opts, "w") as f:
    f.write("# two ranks: one steps, one computes the diagnostics\n-post_ranks 1\n")
out = tmpdir("scatter-optfile")
proc = run("run", ["-options_file", opts] + CASE + ["-output_dir", out], ranks=2)
check("post: 1 solver rank(s)" in proc.stdout, "-post_ranks 1 in an options file splits the ranks")
compare_runs(refs[1], out, "-post_ranks 1 from an options file", 1e-12)
out = tmpdir("scatter-optfile0")
proc = run("run", ["-options_file", opts] + CASE + ["-post_ranks", 0, "-output_dir", out], ranks=2)
check("post:" not in proc.stdout, "-post_ranks 0 on the command line after the options file wins")
compare_runs(refs[2], out, "-post_ranks 0 after an options file's -post_ranks 1", 1e-12)
# an options file serves every command: for stationary its -post_ranks splits nothing
out = tmpdir("scatter-optfile-stationary")
proc = run("stationary", ["-options_file", opts, "-model", "linear", "-grid_n", "16", "-output_dir", out], ranks=2, expect_ok=False)
check(proc.returncode == 0 and os.path.exists(os.path.join(out, "stationary.csv")),
      f"stationary with an options file's -post_ranks 1 runs on both ranks (status {proc.returncode}: {proc.stderr.strip()[:200]})")

# crosscheck: the solver steps, the post rank computes the diagnostics and runs the Monte Carlo
CROSS = ["-options_file", os.path.join(ROOT, "input", "linear.opts"), "-grid_n", "48,40",
         "-init_mean", "0,0", "-init_cov", "0.5,0.2", "-mc_particles", 4000, "-t_final", 0.3,
         "-output_every", 0.15, "-crosscheck_z", 10, "-ksp_rtol", "1e-12"]
cc = {}
for ranks, K in ((1, 0), (2, 1)):
    cc[K] = tmpdir(f"scatter-cross{K}")
    proc = run("crosscheck", CROSS + ["-post_ranks", K, "-output_dir", cc[K]], ranks=ranks)
check("post: 1 solver rank(s)" in proc.stdout, "crosscheck -post_ranks 1: the post rank reports the solver's pace")
compare_runs(cc[0], cc[1], "crosscheck, -post_ranks 1 on 2 ranks vs 1 rank", 1e-12, name="crosscheck_diagnostics.csv")
compare_runs(cc[0], cc[1], "crosscheck's Monte Carlo, -post_ranks 1 on 2 ranks vs 1 rank", 1e-12, name="crosscheck_mc.csv")
check(os.path.exists(os.path.join(cc[1], "crosscheck.json")), "crosscheck -post_ranks 1 writes crosscheck.json")

# refused: as many post ranks as ranks, on the command line and in an options file
with open(opts, "w") as f:
    f.write("-post_ranks 3\n")
for label, ranks, extra in (("on the command line", 2, ["-post_ranks", 2]), ("in an options file", 3, ["-options_file", opts])):
    out = tmpdir("scatter-bad")
    proc = run("run", extra + CASE + ["-output_dir", out], ranks=ranks, expect_ok=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    check(proc.returncode == 1 and len(lines) == 1 and "-post_ranks" in lines[0] and not os.path.exists(out),
          f"-post_ranks {ranks} {label} on {ranks} ranks: exit {proc.returncode}, one line naming -post_ranks, nothing written: {lines}")
os.remove(opts)
finish()
