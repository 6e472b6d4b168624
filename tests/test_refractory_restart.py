"""A run with a refractory time (doc/physics.md §8.2) across a checkpoint and
with post ranks: the checkpoint holds the compartment's history, so a run
stopped by -ts_max_steps and restarted gives the uninterrupted run's
diagnostics.csv byte for byte and its final density bit for bit (adaptive
default steps, -fp_order 2 and 4; 1 rank); a restart on 3 ranks of a
checkpoint written on 2 matches the fixed-step run to the stage solves'
tolerance; -post_ranks 1 beside 1 solver rank writes the one-rank table byte
for byte, beside 2 the 2-rank table's refractory_mass exactly; a checkpoint
written by a post rank restarts bit for bit, and one written by two post
ranks beside one solver rank with the one-rank refractory_mass exactly (the
history goes to each post rank; that the solver does not wait for it is by
construction, not checked here); the last good state of a run
that fails restarts with its history. The reference is the same
program uninterrupted on one rank (the restart's claim is that nothing
changes)."""
import numpy as np
from common import *

BASE = ["-model", "lif", "-lif_tau_ref", 0.1, "-grid_n", 128, "-t_final", 1, "-output_every", 0.1, "-snapshot_every", 0.5,
        "-init", "gaussian", "-init_mean", 0.3, "-init_cov", 0.01]


def same_run(ref, out, label):
    a, b = read_density(f"{ref}/density_0002.h5")[0], read_density(f"{out}/density_0002.h5")[0]
    same_csv = open(f"{ref}/diagnostics.csv").read() == open(f"{out}/diagnostics.csv").read()
    check(same_csv and np.array_equal(a, b), f"{label}: diagnostics.csv byte for byte and the final density bit for bit")


for order in (2, 4):
    opts = BASE + ["-fp_order", order]
    ref = tmpdir(f"rr-ref-{order}")
    run("run", opts + ["-output_dir", ref])
    out = tmpdir(f"rr-stop-{order}")
    p = run("run", opts + ["-output_dir", out, "-ts_max_steps", 13], expect_ok=False)
    check(p.returncode == 3, f"-fp_order {order}: stopped after 13 steps with a checkpoint (status {p.returncode})")
    run("run", opts + ["-output_dir", out, "-restart", "auto"])
    same_run(ref, out, f"-fp_order {order}, tau_ref 0.1, stopped at step 13 and restarted on 1 rank")
    if order == 2:
        ref2 = ref

# post ranks: one solver rank and one post rank write the one-rank table
out = tmpdir("rr-post-2")
run("run", BASE + ["-output_dir", out, "-post_ranks", 1], ranks=2)
same_run(ref2, out, "-post_ranks 1 beside 1 solver rank")
# a post rank's checkpoint restarts, with post ranks or without
for post in (True, False):
    out = tmpdir(f"rr-post-stop-{post}")
    p = run("run", BASE + ["-output_dir", out, "-post_ranks", 1, "-ts_max_steps", 13], ranks=2, expect_ok=False)
    check(p.returncode == 3, f"-post_ranks 1: stopped after 13 steps with a checkpoint (status {p.returncode})")
    run("run", BASE + ["-output_dir", out, "-restart", "auto"] + (["-post_ranks", 1] if post else []), ranks=2 if post else 1)
    same_run(ref2, out, f"a checkpoint of -post_ranks 1 restarted {'with' if post else 'without'} post ranks")
# beside 2 solver ranks: the same refractory_mass as 2 ranks alone (the post rank reads the solver's)
two, three = tmpdir("rr-2"), tmpdir("rr-post-3")
run("run", BASE + ["-output_dir", two], ranks=2)
run("run", BASE + ["-output_dir", three, "-post_ranks", 1], ranks=3)
r, s = read_csv(f"{two}/diagnostics.csv"), read_csv(f"{three}/diagnostics.csv")
worst = max(float(np.max(np.abs(r[k] - s[k]) / (np.abs(r[k]) + 1e-2))) for k in r)
check(np.array_equal(r["refractory_mass"], s["refractory_mass"]) and worst <= 1e-12,
      f"-post_ranks 1 beside 2 solver ranks: refractory_mass identical to 2 ranks', every column within {worst:.1e}")
# two post ranks beside one solver rank: each receives the checkpoint's history (sent without
# waiting, completed with its state's slot); their checkpoint restarts with the one-rank history
out = tmpdir("rr-post2-stop")
p = run("run", BASE + ["-output_dir", out, "-post_ranks", 2, "-ts_max_steps", 13], ranks=3, expect_ok=False)
check(p.returncode == 3, f"-post_ranks 2: stopped after 13 steps with a checkpoint (status {p.returncode})")
run("run", BASE + ["-output_dir", out, "-restart", "auto", "-post_ranks", 2], ranks=3)
r, s = read_csv(f"{ref2}/diagnostics.csv"), read_csv(f"{out}/diagnostics.csv")
worst = max(float(np.max(np.abs(r[k] - s[k]) / (np.abs(r[k]) + 1e-2))) for k in r) if len(r["t"]) == len(s["t"]) else np.inf
check(np.array_equal(r["refractory_mass"], s["refractory_mass"]) and worst <= 1e-12,
      f"-post_ranks 2 beside 1 solver rank, stopped at step 13 and restarted: refractory_mass identical to 1 rank's, "
      f"every column within {worst:.1e} (the diagnostics' sums over 2 post ranks)")

# another rank count: checkpoint on 2 ranks, restart on 3 (fixed steps, tight stage solves)
FIXED = BASE + ["-ts_adapt_type", "none", "-ts_dt", 0.01, "-ksp_rtol", 1e-12]
ref, out = tmpdir("rr-fixed"), tmpdir("rr-fixed-23")
run("run", FIXED + ["-output_dir", ref])
run("run", FIXED + ["-output_dir", out, "-ts_max_steps", 37], ranks=2, expect_ok=False)
run("run", FIXED + ["-output_dir", out, "-restart", "auto"], ranks=3)
a, b = read_density(f"{ref}/density_0002.h5")[0], read_density(f"{out}/density_0002.h5")[0]
r, s = read_csv(f"{ref}/diagnostics.csv"), read_csv(f"{out}/diagnostics.csv")
rel = float(np.max(np.abs(a - b)) / np.max(a))
worst = max(float(np.max(np.abs(r[k] - s[k]) / (np.abs(r[k]) + 1e-2))) for k in r)
check(np.array_equal(r["t"], s["t"]) and rel <= 1e-10 and worst <= 1e-9,
      f"fixed steps, stopped at step 37 on 2 ranks, restarted on 3: density within {rel:.1e}, diagnostics within {worst:.1e}")
# a run that fails (explicit Euler past its stability) leaves its last good state, history included, to restart
out = tmpdir("rr-good")
p = run("run", BASE + ["-output_dir", out, "-ts_type", "euler", "-ts_dt", 0.05, "-ts_adapt_type", "none"], expect_ok=False)
check(p.returncode == 1 and "last good state" in p.stderr, f"an unstable explicit step stops with the last good state saved ({p.returncode})")
run("run", BASE + ["-output_dir", out, "-restart", "auto", "-ts_type", "beuler", "-ts_dt", 0.05, "-ts_adapt_type", "none"])
r = read_csv(f"{out}/diagnostics.csv")
gap = float(np.max(np.abs(r["mass"] + r["refractory_mass"] - 1)))
check(gap <= 1e-12, f"restarted from the last good state: grid mass + refractory_mass = 1 within {gap:.1e} at every row")
finish()
