"""Checkpoint and restart without Slurm (doc/design.md: checkpoint.h5, never a
half-written file): a run stopped by -ts_max_steps, SIGUSR1 or SIGTERM writes
a checkpoint and exits with status 3; -restart continues it, and the final
density and diagnostics.csv equal an uninterrupted run's (1e-12 with a fixed
step; bitwise in practice with the adaptive default too); kill -9 at any
moment leaves a readable checkpoint; foreign, damaged or non-checkpoint files
are refused with one clear line."""
import os
import signal
import subprocess
import time
import numpy as np
from common import *

# -ksp_rtol 1e-12: a restart on another number of ranks matches to the stage solves' tolerance (the
# default, 1e-3 x -ts_rtol, left 7.5e-12 in the density and 2e-7 in the diagnostics)
FIXED = ["-model", "inference", "-grid_n", "64,48", "-t_final", "2", "-output_every", "0.1", "-snapshot_every", "0.5", "-ts_adapt_type", "none", "-ts_dt", "0.01", "-ksp_rtol", "1e-12"]


def compare(ref, out, label, tol):
    a, b = read_density(ref + "/density_0004.h5")[0], read_density(out + "/density_0004.h5")[0]
    rel = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
    check(rel <= tol, f"{label}: final density equals the uninterrupted run's (max rel diff {rel:.1e} <= {tol:g})")
    r, s = read_csv(ref + "/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
    check(np.array_equal(r["t"], s["t"]), f"{label}: diagnostics.csv has the same rows, none duplicated or missing ({len(s['t'])} rows)")
    worst = max(float(np.max(np.abs(r[k] - s[k]) / (np.abs(r[k]) + 1e-2))) for k in r)
    check(worst <= 1e3 * tol, f"{label}: every diagnostics column continues unchanged (max diff {worst:.1e})")
    check(len(open(out + "/density.xmf").read().split("<Time ")) - 1 == 5, f"{label}: density.xmf indexes all 5 snapshots after the restart")


ref = tmpdir("ck-ref")
run("run", FIXED + ["-output_dir", ref])

# stopped by -ts_max_steps on 2 ranks, restarted on 3
out = tmpdir("ck-steps")
proc = run("run", FIXED + ["-output_dir", out, "-ts_max_steps", "77"], ranks=2, expect_ok=False)
check(proc.returncode == 3 and "checkpoint" in proc.stderr and os.path.exists(out + "/checkpoint.h5"), f"-ts_max_steps: exit status 3 after a checkpoint ({proc.returncode})")
rows = read_csv(out + "/diagnostics.csv")["t"]
check(abs(rows[-1] - 0.7) < 1e-12, f"diagnostics.csv flushed with the checkpoint (last row t = {rows[-1]})")
run("run", FIXED + ["-output_dir", out, "-restart", "auto"], ranks=3)
compare(ref, out, "fixed step, stopped at step 77 on 2 ranks, restarted on 3", 1e-12)
ck = out + "/checkpoint.h5"
fixed_ref = ref

# the same on one rank, stopped one step before an output time: bit for bit
out = tmpdir("ck-steps-1")
run("run", FIXED + ["-output_dir", out, "-ts_max_steps", "79"], expect_ok=False)
run("run", FIXED + ["-output_dir", out, "-restart", "auto"])
same = np.array_equal(read_density(ref + "/density_0004.h5")[0], read_density(out + "/density_0004.h5")[0])
check(same and open(ref + "/diagnostics.csv").read() == open(out + "/diagnostics.csv").read(),
      "fixed step, stopped at step 79 and restarted on 1 rank: final density and diagnostics.csv bit for bit")

# a fixed step lands on every output time without leaving remainders: 1000 steps of 0.01 to t = 10 (it used to
# shrink the step after each landing, to 1e-6 near t = 5); -ts_max_steps stops the old behaviour early
out = tmpdir("ck-fixed-brownian")
p = run("run", ["-model", "brownian", "-grid_n", "64", "-t_final", "10", "-output_every", "0.1", "-ts_adapt_type", "none", "-ts_dt", "0.01",
                "-ts_max_steps", "5000", "-output_dir", out], expect_ok=False)
steps = read_json(out + "/summary.json")["steps"] if p.returncode == 0 else -1
rows = read_csv(out + "/diagnostics.csv")["t"] if p.returncode == 0 else np.zeros(1)
check(p.returncode == 0 and 0 < steps <= 1.01 * 1000 and len(rows) == 101 and np.max(np.abs(rows - 0.1 * np.arange(101))) < 1e-12,
      f"-ts_adapt_type none -ts_dt 0.01 to t = 10: {steps} steps (<= 1010), 101 rows at the multiples of 0.1 (exit status {p.returncode})")

# the adaptive default, stopped by SIGUSR1 (then SIGTERM during the checkpoint)
ADAPTIVE = ["-model", "inference", "-grid_n", "128,128", "-t_final", "2", "-output_every", "0.1", "-snapshot_every", "0.5", "-ts_rtol", "1e-6", "-ts_atol", "1e-8"]
ref = tmpdir("ck-ref-adaptive")
start = time.time()
run("run", ADAPTIVE + ["-output_dir", ref])
duration = time.time() - start
restarted = 0
for sig, label in ((signal.SIGUSR1, "SIGUSR1"), (signal.SIGTERM, "SIGTERM")):
    out = tmpdir(f"ck-{label}")
    proc = subprocess.Popen([BIN, "run"] + ADAPTIVE + ["-output_dir", out, "-quiet"], stderr=subprocess.PIPE, text=True)
    time.sleep(0.4 * duration)
    proc.send_signal(sig)
    time.sleep(0.01)
    proc.send_signal(signal.SIGUSR1)  # a second signal while the checkpoint is written
    err = proc.communicate(timeout=300)[1]
    if proc.returncode == 0:
        print(f"  ({label} arrived after the run had finished; nothing to restart)")
        continue
    check(proc.returncode == 3 and "stopped at t =" in err, f"{label}: the run finishes its step, writes a checkpoint and exits 3 ({proc.returncode}: {err.strip()})")
    run("run", ADAPTIVE + ["-output_dir", out, "-restart", "auto"])
    compare(ref, out, f"adaptive steps, {label}", 1e-8)
    restarted += 1
check(restarted >= 1, f"at least one signal arrived mid-run and was restarted from ({restarted} of 2)")

# kill -9 at random moments of a run that checkpoints constantly: the last complete checkpoint stays readable
out = tmpdir("ck-kill")
rng = np.random.default_rng(7)
survived = 0
def checkpoint_mtime():
    try:
        return os.stat(out + "/checkpoint.h5").st_mtime_ns
    except OSError:
        return None


for trial in range(6):
    before = checkpoint_mtime()
    proc = subprocess.Popen([BIN, "run", "-model", "linear", "-grid_n", "160", "-t_final", "50", "-checkpoint_every", "0.01", "-output_dir", out, "-quiet"]
                            + (["-restart", "auto"] if before is not None else ["-overwrite"]), stderr=subprocess.DEVNULL)
    # kill while this run writes checkpoints (a loaded machine may take seconds to write the first)
    deadline = time.time() + 60
    while checkpoint_mtime() == before and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(rng.uniform(0, 1.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if os.path.exists(out + "/checkpoint.h5"):
        p = run("run", ["-model", "linear", "-grid_n", "160", "-t_final", "50", "-output_dir", out, "-restart", "auto", "-ts_max_steps", "1"], expect_ok=False)
        survived += p.returncode in (0, 3)
check(survived >= 5, f"kill -9 during checkpoint writes: the checkpoint restarts every time ({survived} of 6 kills)")

# refused: another grid, another model, a damaged file, a snapshot that is no checkpoint, another column set
for label, opts, needle in [
    ("another grid", ["-model", "inference", "-grid_n", "64,40"], "another grid"),
    ("another model", ["-model", "linear", "-grid_n", "64,48", "-grid_lo", "-6,-1", "-grid_hi", "6,2"], "model"),
    ("another column set", FIXED[:4] + ["-bits"], "columns"),
    ("another parameter", FIXED[:4] + ["-inference_tau_r", "0.2"], "parameters"),
    ("another sensor", FIXED[:4] + ["-sensor", "v"], "other"),
]:
    o = tmpdir("ck-refuse")
    p = run("run", opts + ["-restart", ck, "-output_dir", o], expect_ok=False)
    check(p.returncode == 1 and p.stderr.count("\n") == 1 and needle in p.stderr, f"restart from {label} refused: {p.stderr.strip()}")
damaged = tmpdir("ck-damaged") + ".h5"
with open(ck, "rb") as f:
    blob = f.read()
with open(damaged, "wb") as f:
    f.write(blob[: len(blob) // 2])
p = run("run", FIXED + ["-restart", damaged, "-output_dir", tmpdir("ck-refuse")], expect_ok=False)
check(p.returncode == 1 and p.stderr.count("\n") == 1 and "damaged" in p.stderr, f"a truncated checkpoint is refused: {p.stderr.strip()}")
p = run("run", FIXED + ["-restart", fixed_ref + "/density_0001.h5", "-output_dir", tmpdir("ck-refuse")], expect_ok=False)
check(p.returncode == 1 and "not a checkpoint" in p.stderr, f"a snapshot is not a checkpoint: {p.stderr.strip()}")
finish()
