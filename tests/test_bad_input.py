"""Bad input gets one clear line on stderr naming what to change, a non-zero
exit status, and nothing written: the output directory is not created. A case
runs also on 2 ranks where its check can depend on the ranks (files read in
parallel, checks over the distributed grid: RANKS2); the cases run two at a
time (a thread pool of subprocesses)."""
import os
from concurrent.futures import ThreadPoolExecutor
from common import *

CASES = [
    ("negative time constant", ["run", "-model", "inference", "-inference_tau_r", "-1"], "-inference_tau_r"),
    ("zero noise", ["run", "-model", "brownian", "-brownian_sigma_v", "0"], "-brownian_sigma_v"),
    ("unstable linear M", ["run", "-model", "linear", "-linear_M", "-1,0,0,0.2"], "-linear_M"),
    ("marginal linear M", ["stationary", "-model", "linear", "-linear_M", "0,1,-1,0"], "-linear_M"),
    ("non-positive D", ["run", "-model", "linear", "-linear_D", "1,0"], "-linear_D"),
    ("too few cells", ["run", "-model", "linear", "-grid_n", "4,32"], "-grid_n"),
    ("lo >= hi", ["run", "-model", "bistable", "-grid_lo", "2", "-grid_hi", "-2"], "-grid_lo"),
    ("wrong number of grid values", ["run", "-model", "linear", "-grid_n", "16,16,16"], "-grid_n"),
    ("unknown model", ["run", "-model", "nosuchmodel"], "-model"),
    ("unknown tuning", ["run", "-model", "inference", "-inference_tuning", "cubic"], "-inference_tuning"),
    ("unknown init", ["run", "-model", "linear", "-init", "uniform"], "-init"),
    ("box cuts the initial density", ["run", "-model", "linear", "-init_mean", "7.5,0"], "-grid_lo"),
    ("unreadable init file", ["run", "-model", "linear", "-init", "file", "-init_file", "/nonexistent/p.h5"], "/nonexistent/p.h5"),
    ("file that is not a snapshot", ["run", "-model", "linear", "-init", "file", "-init_file", "FILE_NOT_H5"], "FILE_NOT_H5"),
    ("negative final time", ["run", "-model", "linear", "-t_final", "-1"], "-t_final"),
    ("multiplicative noise reaching w = 0", ["run", "-model", "hebbian", "-hebbian_w_noise", "multiplicative", "-grid_n", "16"], "D_w"),
    ("unknown command", ["integrate", "-model", "linear"], "integrate"),
    ("non-positive output interval", ["run", "-model", "linear", "-output_every", "0"], "-output_every"),
    ("sensor naming every variable", ["run", "-model", "inference", "-sensor", "v,r"], "-sensor"),
    ("sensor naming no variable of the model", ["run", "-model", "inference", "-sensor", "w"], "-sensor"),
    ("malformed parity", ["run", "-model", "brownian", "-parity", "v=odd"], "-parity"),
    ("parity neither odd nor even", ["run", "-model", "brownian", "-parity", "v:strange"], "-parity"),
    ("covariance not positive definite", ["run", "-model", "linear", "-init_cov", "1,2,2,1"], "-init_cov"),
    ("missing KL reference file", ["run", "-model", "linear", "-kl_reference", "/nonexistent/ss.h5"], "/nonexistent/ss.h5"),
    ("wrong number of variable names", ["run", "-model", "inference", "-vars", "a,b,c"], "-vars"),
    ("duplicate variable names", ["run", "-model", "inference", "-vars", "a,a"], "-vars"),
    ("reserved variable name", ["run", "-model", "inference", "-vars", "time,r"], "-vars"),
    ("temperature without a time unit", ["run", "-model", "inference", "-temperature", "310"], "-time_unit"),
    ("Monte Carlo with an odd variable", ["mc", "-model", "brownian", "-parity", "v:odd"], "-parity"),
    ("infinite box", ["run", "-model", "brownian", "-grid_hi", "inf"], "-grid_lo/-grid_hi"),
]

# checks that read files in parallel or reduce over the distributed grid
RANKS2 = {"too few cells", "box cuts the initial density", "unreadable init file", "file that is not a snapshot",
          "multiplicative noise reaching w = 0", "missing KL reference file"}

junk = tmpdir("junk") + ".txt"
with open(junk, "w") as f:
    f.write("not hdf5\n")


def case(k, label, argv, needle, ranks):
    out = tmpdir(f"bad-{k}-{ranks}")
    argv = [junk if a == "FILE_NOT_H5" else a for a in argv]
    needle = junk if needle == "FILE_NOT_H5" else needle
    proc = run(argv[0], argv[1:] + ["-output_dir", out], ranks=ranks, expect_ok=False)
    lines = [l for l in proc.stderr.splitlines() if l.strip()]
    check(proc.returncode != 0, f"{label} ({ranks} rank(s)): exit status {proc.returncode}")
    check(len(lines) == 1 and lines[0].startswith("infotherm: error:") and needle in lines[0],
          f"{label} ({ranks} rank(s)): one line naming {needle}: {lines}")
    check(not os.path.exists(out), f"{label} ({ranks} rank(s)): nothing written")


with ThreadPoolExecutor(max_workers=2) as pool:
    jobs = [pool.submit(case, k, label, argv, needle, ranks) for k, (label, argv, needle) in enumerate(CASES)
            for ranks in ((1, 2) if label in RANKS2 else (1,))]
    for job in jobs:
        job.result()

# an options file that cannot be read
proc = run("run", ["-options_file", "/nonexistent/x.opts"], expect_ok=False)
check(proc.returncode != 0 and proc.stderr.count("\n") == 1 and "/nonexistent/x.opts" in proc.stderr, f"unreadable options file: {proc.stderr.strip()}")

# a snapshot of another grid is refused
out = tmpdir("grid-a")
run("stationary", ["-model", "linear", "-grid_n", "32", "-output_dir", out])
proc = run("run", ["-model", "linear", "-grid_n", "40", "-init", "file", "-init_file", out + "/density_stationary.h5", "-output_dir", out + "/b"], expect_ok=False)
check(proc.returncode != 0 and "another grid" in proc.stderr and not os.path.exists(out + "/b"), f"snapshot of another grid refused: {proc.stderr.strip()}")

# an existing output survives a failed run into the same directory
before = open(out + "/stationary_summary.json").read()
proc = run("stationary", ["-model", "linear", "-grid_n", "32", "-tau_v", "1", "-linear_D", "-1,1", "-output_dir", out], expect_ok=False)
check(proc.returncode != 0 and open(out + "/stationary_summary.json").read() == before, "a failed run leaves the earlier outputs intact")
finish()
