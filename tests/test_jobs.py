"""The job scripts without Slurm (tests/test_slurm.py runs them on a real
one): jobs/run.sbatch run by bash from a folder outside the source tree finds
infotherm on PATH (put there by INFOTHERM_SETUP), writes under the working
directory and logs the run's start and end lines; jobs/chain.sbatch, whose
run stops after a checkpoint (status 3), fails with status 1 and says so when
the requeue fails (no Slurm job to requeue here)."""
import os
import subprocess
import tempfile

from common import BIN, check, finish

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
BINDIR = os.path.dirname(os.path.abspath(BIN))
env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k != "INFOTHERM"}
env.update(LAUNCH="mpirun", INFOTHERM_SETUP=f"export PATH={BINDIR}:$PATH; echo setup ran")
small = ["-model", "brownian", "-grid_n", "64", "-t_final", "0.2", "-output_every", "0.1"]

with tempfile.TemporaryDirectory() as cwd:
    opts = os.path.join(cwd, "case.opts")
    with open(opts, "w") as f:
        f.write("-model brownian\n")
    p = subprocess.run(["bash", os.path.join(ROOT, "jobs", "run.sbatch"), opts] + small[2:] + ["-output_dir", "out"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0 and "setup ran" in p.stdout and os.path.exists(os.path.join(cwd, "out", "summary.json")),
          f"run.sbatch outside the source tree: INFOTHERM_SETUP ran, infotherm found on PATH, out/ written under the working directory (rc {p.returncode}: {p.stderr.strip()[-200:]})")
    check("infotherm run: started" in p.stderr and "infotherm run: finished at t = 0.2" in p.stderr,
          "a run whose stderr is not a terminal prints a start and an end line")

    p = subprocess.run(["bash", os.path.join(ROOT, "jobs", "chain.sbatch"), opts] + small[2:] +
                       ["-ts_max_steps", "3", "-output_dir", "chain"], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    check(p.returncode == 1 and "run ended with status 3" in p.stdout and "requeue failed" in p.stderr
          and os.path.exists(os.path.join(cwd, "chain", "checkpoint.h5")),
          f"chain.sbatch fails (status {p.returncode}) when the requeue of a checkpointed run fails, and says so: {p.stderr.strip()[-200:]}")
    check("infotherm run: stopped (checkpoint written)" in p.stderr, "the stopped run's end line says a checkpoint was written")
finish()
