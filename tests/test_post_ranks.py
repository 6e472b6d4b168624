"""Dedicated post-processing ranks (-post_ranks K, doc/design.md "The output
pipeline"): the solver ranks only step and hand every state to the last K
ranks, which compute the diagnostics and write every output.

- -post_ranks 1 on 2 and 3 ranks and -post_ranks 2 on 4 ranks (oversubscribed)
  give the diagnostics.csv of -post_ranks 0 on the solver group's rank count
  to 1e-12 (the diagnostics are summed over another number of ranks:
  round-off, below 1e-12 relative or 1e-12 absolute for quantities that are
  zero) and the same snapshots, bit for bit (the density is only moved);
- a SIGUSR1 mid-run with post ranks ends in a checkpoint (exit status 3) that
  restarts, with post ranks again, to the uninterrupted answer (1e-8, as
  tests/test_checkpoint.py's adaptive restart);
- bad -post_ranks (as many as the ranks, negative, not a number, or with a
  command other than run): one line naming -post_ranks, exit status 1,
  nothing written;
- a model's error or warning from the set-up both groups run (-mu and -lif_mu
  both given; -mu alone, deprecated) is printed once, not once per group, on
  2 and 3 ranks."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
from common import BIN, MPIEXEC, check, compare_runs, finish, read_csv, run, tmpdir

CASE = ["-model", "inference", "-grid_n", "48,32", "-t_final", "0.6", "-output_every", "0.1",
        "-snapshot_every", "0.3"]


def snapshots(folder):
    return sorted(f for f in os.listdir(folder) if f.startswith("density_") and f.endswith(".h5"))


compare = compare_runs  # common.py


# the reference: -post_ranks 0 on as many ranks as the solver group has (the time stepper's
# round-off depends on its decomposition; the post ranks' must not change the answer)
refs = {}
for solvers in (1, 2):
    refs[solvers] = tmpdir(f"post0-{solvers}")
    run("run", CASE + ["-output_dir", refs[solvers]], ranks=solvers)
for ranks, K in ((2, 1), (3, 1), (4, 2)):
    ref, out = refs[ranks - K], tmpdir(f"post{ranks}-{K}")
    run("run", CASE + ["-post_ranks", K, "-output_dir", out], ranks=ranks)
    compare(ref, out, f"{ranks} ranks, -post_ranks {K} vs {ranks - K} rank(s), -post_ranks 0", 1e-12)
    names = snapshots(ref)
    same = names == snapshots(out) and len(names) == 3
    for name in names if same else []:
        with h5py.File(os.path.join(ref, name)) as f, h5py.File(os.path.join(out, name)) as g:
            same = same and np.array_equal(np.array(f["density"]), np.array(g["density"]))
    check(same, f"{ranks} ranks, -post_ranks {K}: the snapshots {names} are bit for bit those of -post_ranks 0")

# --- a signal mid-run with post ranks: a checkpoint that restarts to the same answer
ADAPTIVE = ["-model", "inference", "-grid_n", "48,32", "-t_final", "2", "-output_every", "0.1",
            "-snapshot_every", "0.5", "-ts_rtol", "1e-6", "-ts_atol", "1e-8"]
ref = tmpdir("post-sig-ref")
start = time.time()
run("run", ADAPTIVE + ["-post_ranks", 1, "-output_dir", ref], ranks=3)
duration = time.time() - start
restarted = 0
for attempt, fraction in enumerate((0.4, 0.2)):
    out = tmpdir(f"post-sig{attempt}")
    proc = subprocess.Popen(MPIEXEC + ["-n", "3", BIN, "run"] + ADAPTIVE + ["-post_ranks", "1", "-output_dir", out, "-quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # every rank is past its start-up (signal handlers installed) once the post rank has
    # written the first snapshot: a signal before that kills the rank (seen under load)
    first = time.time()
    while not os.path.exists(os.path.join(out, "density_0000.h5")) and proc.poll() is None \
            and time.time() - first < 120:
        time.sleep(0.01)
    time.sleep(fraction * duration * 0.5)
    proc.send_signal(signal.SIGUSR1)  # mpiexec forwards it to every rank
    err = proc.communicate(timeout=600)[1]
    if proc.returncode == 0:
        print(f"  (the signal arrived after the run had finished; nothing to restart)")
        continue
    check(proc.returncode == 3 and "stopped at t =" in err and os.path.exists(os.path.join(out, "checkpoint.h5")),
          f"SIGUSR1 with -post_ranks 1: a checkpoint, exit status 3 ({proc.returncode}: {err.strip().splitlines()[:1]})")
    run("run", ADAPTIVE + ["-post_ranks", 1, "-output_dir", out, "-restart", "auto"], ranks=3)
    compare(ref, out, "restarted after SIGUSR1 with -post_ranks 1", 1e-8)
    restarted += 1
    break
check(restarted == 1, "a signal arrived mid-run and the run was restarted from its checkpoint")

# --- bad input ---------------------------------------------------------------
for label, ranks, command, value in (("as many as the ranks", 3, "run", "3"), ("negative", 2, "run", "-1"),
                                     ("not a number", 2, "run", "two"), ("not run", 2, "stationary", "1")):
    out = tmpdir("post-bad")
    proc = run(command, CASE + ["-post_ranks", value, "-output_dir", out], ranks=ranks, expect_ok=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    check(proc.returncode == 1 and len(lines) == 1 and "-post_ranks" in lines[0] and not os.path.exists(out),
          f"-post_ranks {value} ({label}) on {ranks} ranks: exit {proc.returncode}, one line naming -post_ranks, nothing written: {lines}")

# --- a set-up message once, not once per group --------------------------------
for ranks in (2, 3):
    for label, extra, start, ok in (("error", ["-lif_mu", 1.2], "infotherm: error: -mu and -lif_mu are both given", False),
                                    ("warning", [], "infotherm: warning: deprecated option names: -mu -> -lif_mu", True)):
        out = tmpdir("post-once")
        proc = run("run", ["-model", "lif", "-mu", 1.1, "-grid_n", 64, "-t_final", 0.05, "-post_ranks", 1, "-output_dir", out] + extra,
                   ranks=ranks, expect_ok=False)
        said = [l for l in proc.stderr.splitlines() if l.startswith(start)]
        check(len(said) == 1 and (proc.returncode == 0) == ok,
              f"-post_ranks 1 on {ranks} ranks, the model's {label}: printed {len(said)} time(s) (once), exit {proc.returncode}")
finish()
