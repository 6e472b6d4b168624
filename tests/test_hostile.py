"""Hostile and careless input, second round: every case asserts the exit
status, exactly one line on stderr naming the option or file to change, that
an earlier folder's files are byte-identical afterwards and that no lock is
left; a case that used to hang runs under a short timeout that must not be
reached. Classes (counted at the end): hangs and signals, wrong numbers,
crashes, folders/locks/messages. Tiny grids. A case runs on 2 ranks (a few on
3) only where its behaviour can depend on the ranks: files read in parallel,
checks reduced over the grid, locks, restarts and signals; the refusals of
options alone run on 1. Cases that use no shared folder run two at a time
(a thread pool of subprocesses); the timed signal cases run alone."""
import glob
import itertools
import os
import signal
import socket
import subprocess
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from common import *

TINY = ["-model", "linear", "-grid_n", "16", "-t_final", "0.2", "-output_every", "0.1"]
HANG_TIMEOUT = 20  # seconds; the refusals take well under a second
counts = {"hangs/signals": 0, "wrong numbers": 0, "crashes": 0, "folders/locks/messages": 0}
runs = [0]  # invocations of infotherm that a case judged (a case on 1 and 2 ranks: 2)
POOL = ThreadPoolExecutor(max_workers=2)
pending = []
serial = itertools.count()
lock = threading.Lock()


def launch(command, options, ranks=1):
    argv = [BIN, command] + [str(o) for o in options] + ["-quiet"]
    if ranks > 1:
        argv = MPIEXEC + ["-n", str(ranks)] + argv
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish_within(proc, seconds):
    """(returncode, stderr), or (None, '') after killing the process group when seconds pass."""
    try:
        _, err = proc.communicate(timeout=seconds)
        return proc.returncode, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None, ""


def refused_once(cls, label, command, options, needle, r, folder, status, own_lock, stopped=False):
    out = folder or tmpdir(f"hostile-{next(serial)}")
    before = tree(out) if os.path.isdir(out) else None
    opts = list(options) + ([] if "-output_dir" in options else ["-output_dir", out])
    rc, err = finish_within(launch(command, opts, r), HANG_TIMEOUT)
    text = [l for l in err.splitlines() if l.strip()]
    after = tree(out) if os.path.isdir(out) else None
    check(rc == status and len(text) == 1 and text[0].startswith("infotherm: error:") and needle in text[0],
          f"[{cls}] {label} ({r} rank(s)): status {rc}, one line naming {needle!r}: {text}")
    if stopped:  # stopped while it ran: the last good state is checkpointed
        check(after is not None and "checkpoint.h5" in after and "is checkpointed" in text[0],
              f"[{cls}] {label} ({r} rank(s)): a checkpoint of the last good state")
    else:
        check(before == after, f"[{cls}] {label} ({r} rank(s)): the folder is as it was")
    if own_lock:
        check(not os.path.exists(out + "/run.lock"), f"[{cls}] {label} ({r} rank(s)): no lock left")


def refused(cls, label, command, options, needle, ranks=(1,), folder=None, status=1, own_lock=True, stopped=False):
    """command stops with status and one line naming needle; folder (if given) is
    byte-identical afterwards, or not created (stopped: the run stopped after it
    started, and its folder holds a checkpoint); no lock is left. One case, run on
    each of ranks: in the pool unless it uses a given folder (then here, in order)."""
    counts[cls] += 1
    for r in ranks:
        runs[0] += 1
        args = (cls, label, command, options, needle, r, folder, status, own_lock, stopped)
        if folder:
            refused_once(*args)
        else:
            pending.append(POOL.submit(refused_once, *args))


def drain():
    """Waits for the pool's cases (before timed cases, and at the end)."""
    while pending:
        pending.pop().result()


def wait_for(path, proc, seconds=60):
    deadline = time.time() + seconds
    while not glob.glob(path) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    return bool(glob.glob(path))


# ------------------------------------------------------- hangs and signals ---
H = "hangs/signals"
# a fixed step far below the interval would take for ever: refused before starting
refused(H, "-ts_dt 1e-300 fixed", "run", ["-model", "linear", "-grid_n", "16", "-t_final", "1", "-ts_dt", "1e-300", "-ts_adapt_type", "none"], "-ts_dt")
refused(H, "-ts_dt 1e-9 fixed", "run", ["-model", "linear", "-grid_n", "16", "-t_final", "1", "-ts_dt", "1e-9", "-ts_adapt_type", "none"], "-ts_dt")
refused(H, "-ts_adapt_dt_max 1e-9", "run", ["-model", "linear", "-grid_n", "16", "-t_final", "1", "-ts_adapt_dt_max", "1e-9"], "-ts_adapt_dt_max")
# -ts_max_steps that makes no progress: a requeue script would loop for ever
refused(H, "-ts_max_steps 0", "run", TINY + ["-ts_max_steps", "0"], "-ts_max_steps")
refused(H, "-ts_max_steps -1", "run", TINY + ["-ts_max_steps", "-1"], "-ts_max_steps")
out = tmpdir("maxsteps")
proc = run("run", TINY + ["-ts_adapt_type", "none", "-ts_dt", "0.01", "-ts_max_steps", "5", "-output_dir", out], expect_ok=False)
check(proc.returncode == 3, f"-ts_max_steps 5 stops with status 3 ({proc.returncode})")
# a restart under the same -ts_max_steps takes that many more steps (it stopped at once before)
proc = run("run", TINY + ["-ts_adapt_type", "none", "-ts_dt", "0.01", "-ts_max_steps", "5", "-restart", "auto", "-output_dir", out], expect_ok=False)
check(proc.returncode == 3 and "stopped at t = 0.1 " in proc.stderr, f"[{H}] a restart with -ts_max_steps 5 takes 5 more steps: {proc.returncode}, {proc.stderr.strip()}")
counts[H] += 1
runs[0] += 1

# a signal is honoured after the current step, not at the next output time (timed: alone)
drain()
# one output interval of 10^6 fixed steps, SIGTERM once the time loop runs
for ranks in (1, 2):
    out = tmpdir(f"sigterm-{ranks}")
    proc = launch("run", ["-model", "linear", "-grid_n", "16", "-t_final", "100", "-output_every", "100", "-ts_adapt_type", "none", "-ts_dt", "1e-4", "-output_dir", out], ranks)
    started = wait_for(out + "/density_0000.h5", proc)
    time.sleep(0.5)
    if ranks == 1:
        proc.send_signal(signal.SIGTERM)
    else:  # mpiexec forwards SIGTERM... and kills the ranks after its grace time: signal the ranks themselves
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            try:
                if f"{out}".encode() in open(f"/proc/{pid}/cmdline", "rb").read() and open(f"/proc/{pid}/comm").read().strip() == "infotherm":
                    os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
    rc, err = finish_within(proc, 30)
    check(started and rc == 3 and os.path.exists(out + "/checkpoint.h5") and not os.path.exists(out + "/run.lock"),
          f"[{H}] SIGTERM in a 10^6-step interval stops after the step with a checkpoint ({ranks} rank(s)): status {rc}, {err.strip()}")
    counts[H] += ranks == 1
    runs[0] += 1

# USR1 to the post-processing rank alone stops the run with a checkpoint
out = tmpdir("post-usr1")
proc = launch("run", ["-model", "linear", "-grid_n", "16", "-t_final", "100", "-output_every", "100", "-ts_adapt_type", "none", "-ts_dt", "1e-4", "-post_ranks", "1", "-output_dir", out], 2)
started = wait_for(out + "/density_0000.h5", proc)
post = None
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
    try:
        if out.encode() in open(f"/proc/{pid}/cmdline", "rb").read() and b"OMPI_COMM_WORLD_RANK=1\0" in open(f"/proc/{pid}/environ", "rb").read():
            post = pid
    except OSError:
        pass
if post:
    os.kill(post, signal.SIGUSR1)
rc, err = finish_within(proc, 30)
check(started and post and rc == 3 and os.path.exists(out + "/checkpoint.h5"),
      f"[{H}] USR1 to the post rank alone stops the run after a checkpoint: post pid {post}, status {rc}, {err.strip()}")
counts[H] += 1
runs[0] += 1

# ------------------------------------------------- wrong numbers with exit 0 ---
W = "wrong numbers"
# an option without a value took its default over an earlier value
refused(W, "-brownian_sigma_v 2 -brownian_sigma_v", "info", ["-model", "brownian", "-brownian_sigma_v", "2", "-brownian_sigma_v"], "-brownian_sigma_v")
refused(W, "-t_final 0.2 -t_final", "run", TINY + ["-t_final"], "-t_final")
refused(W, "-grid_n without a value", "info", ["-model", "linear", "-grid_n"], "-grid_n")
refused(W, "-linear_D without a value", "info", ["-model", "linear", "-linear_D"], "-linear_D")
refused(W, "-mc_particles without a value", "mc", TINY + ["-mc_particles"], "-mc_particles")
refused(W, "-brownian_sigma_v from an empty shell variable", "info", ["-model", "brownian", "-brownian_sigma_v", ""], "-brownian_sigma_v")
optfile = tmpdir("nameonly") + ".opts"
with open(optfile, "w") as f:
    f.write("-model linear\n-grid_n 16\n-t_final\n")
refused(W, "an options-file line with a name only", "run", ["-options_file", optfile], "-t_final", ranks=(1, 2))
# PETSc's grid options would resize the grid behind infotherm's back
refused(W, "-da_grid_x 50", "run", TINY + ["-da_grid_x", "50"], "-da_grid_x")
refused(W, "-da_refine 1", "run", TINY + ["-da_refine", "1"], "-da_refine")
# rows past t_final
refused(W, "-ts_exact_final_time stepover", "run", TINY + ["-ts_exact_final_time", "stepover"], "-ts_exact_final_time")
# misspelt solver options
refused(W, "-ts_rtoll", "run", TINY + ["-ts_rtoll", "1e-6"], "-ts_rtoll")
refused(W, "-ksp_rtl", "run", TINY + ["-ksp_rtl", "1e-6"], "-ksp_rtl")
refused(W, "-stationary_ksp_rtl", "stationary", TINY + ["-stationary_ksp_rtl", "1e-6"], "-stationary_ksp_rtl")
refused(W, "-stationary_mg_sweep", "stationary", TINY + ["-stationary_mg_sweep", "alternating"], "-stationary_mg_sweep")
# the face sweeps' options on assembled levels would be ignored
for opt, value in (("-stationary_mg_sweeps", "alternating"), ("-stationary_mg_next_post_sweeps", "3")):
    refused(W, f"{opt} with -fp_matrix_free false", "stationary",
            ["-model", "linear", "-grid_n", "64", "-fp_matrix_free", "false", opt, value], "-fp_matrix_free")
out = tmpdir("options-left-no")
proc = run("run", TINY + ["-ts_rtoll", "1e-6", "-options_left", "no", "-output_dir", out], expect_ok=False)
check(proc.returncode == 0, f"-options_left no still lets a run go on ({proc.returncode}: {proc.stderr.strip()})")
# stage solves that do not solve
refused(W, "-ksp_type preonly -pc_type jacobi", "run", TINY + ["-ksp_type", "preonly", "-pc_type", "jacobi"], "-ksp_type preonly")
# stage solves that stop short of their tolerance were accepted (one Jacobi sweep per stage: the
# final row 4-12 % off on 32^2, exit 0): a step is retried shorter, and a solver that still falls
# short stops the run after a checkpoint; the residual check is reduced over the ranks
SHORT = "the stage solves do not reach their tolerance"
refused(W, "one Jacobi sweep per stage (-ksp_norm_type none)", "run", TINY + ["-ksp_type", "richardson", "-ksp_pc_side", "left", "-pc_type", "jacobi", "-ksp_max_it", "1", "-ksp_norm_type", "none"], SHORT, ranks=(1, 2, 3), stopped=True)
refused(W, "-ksp_convergence_test skip -ksp_max_it 1", "run", TINY + ["-ksp_convergence_test", "skip", "-ksp_max_it", "1", "-pc_type", "jacobi"], SHORT, stopped=True)
refused(W, "-ksp_max_it 1 under a fixed step", "run", TINY + ["-ksp_max_it", "1", "-ts_adapt_type", "none", "-ts_dt", "0.05"], SHORT, stopped=True)
# ... also under -post_ranks, whose post rank holds the lock (it was aborted with it: run.lock stayed)
refused(W, "-ksp_max_it 1 under a fixed step, -post_ranks 1", "run", TINY + ["-ksp_max_it", "1", "-ts_adapt_type", "none", "-ts_dt", "0.05", "-post_ranks", "1"],
        SHORT, ranks=(3,), stopped=True)
# ... while one that reaches it on shorter steps gives the answer of stages solved to the tolerance
# (it stopped with PETSc's DIVERGED_NONLINEAR_SOLVE before)
tight, short = tmpdir("stage-tight"), tmpdir("stage-short")
run("run", TINY + ["-ts_rtol", "1e-7", "-ts_atol", "1e-9", "-output_dir", tight])
proc = run("run", TINY + ["-ksp_max_it", "1", "-output_dir", short], expect_ok=False)
if proc.returncode == 0:
    a, b = read_json(tight + "/summary.json"), read_json(short + "/summary.json")
    worst = max(abs(b["final"][k] - v) / (1e-4 * max(abs(v), 1e-2)) for k, v in a["final"].items())
    check(worst <= 1 and b["steps"] > a["steps"],
          f"[{W}] -ksp_max_it 1: the steps shrink until the stages solve ({b['steps']} steps against {a['steps']}), "
          f"the final row within 1e-4 of a tightly stepped run ({worst:.2g} of it)")
else:
    check(False, f"[{W}] -ksp_max_it 1 runs on shorter steps: status {proc.returncode}, {proc.stderr.strip()}")
counts[W] += 1
runs[0] += 1

# densities that are not normalised: scaled, integer, subnormal
import h5py
base = tmpdir("density-base")
run("stationary", ["-model", "linear", "-grid_n", "16", "-output_dir", base])
source = base + "/density_stationary.h5"


def altered(name, change):
    path = tmpdir(name) + ".h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        d = f["density"]
        data, attrs = np.array(d[...]), dict(d.attrs)
        data = change(data)
        del f["density"]
        n = f.create_dataset("density", data=data)
        for k, v in attrs.items():
            n.attrs[k] = v
    return path


twice = altered("twice", lambda a: 2 * a)
integer = altered("integer", lambda a: np.round(a * 1000).astype(np.int64))
tiny = altered("subnormal", lambda a: a * 1e-310)
refused(W, "analyze a snapshot x 2", "analyze", [twice], twice, ranks=(1, 2))
refused(W, "analyze an integer dataset", "analyze", [integer], integer, ranks=(1, 2))
refused(W, "-kl_reference subnormal", "run", TINY + ["-kl_reference", tiny], tiny, ranks=(1, 2))
refused(W, "-init_file subnormal", "run", TINY + ["-init", "file", "-init_file", tiny], tiny, ranks=(1, 2, 3))
refused(W, "-init_file x 2", "run", TINY + ["-init", "file", "-init_file", twice], twice, ranks=(1, 2))
# a checkpoint x 2
out = tmpdir("ckpt2")
run("run", TINY + ["-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
with h5py.File(out + "/checkpoint.h5", "r+") as f:
    f["density"][...] = 2 * f["density"][...]
refused(W, "restart from a checkpoint x 2", "run", TINY + ["-restart", "auto", "-output_dir", out], "checkpoint.h5", folder=out, ranks=(1, 2, 3))

# a restart must not change what the columns mean
out = tmpdir("restart-meaning")
run("run", TINY + ["-temperature", "300", "-time_unit", "1e-3", "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
refused(W, "restart with another -temperature", "run", TINY + ["-temperature", "3", "-time_unit", "1e-3", "-restart", "auto", "-output_dir", out], "-temperature", folder=out, ranks=(1, 2))
refused(W, "restart with -t_final before the checkpoint", "run", TINY + ["-temperature", "300", "-time_unit", "1e-3", "-t_final", "1e-9", "-output_every", "1e-9", "-restart", "auto", "-output_dir", out], "-t_final", folder=out, ranks=(1, 2))
out = tmpdir("restart-kl")
run("run", TINY + ["-kl_reference", source, "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
other = tmpdir("other-ref")
run("stationary", ["-model", "linear", "-grid_n", "16", "-linear_D", "2,2", "-output_dir", other])
refused(W, "restart with another -kl_reference", "run", TINY + ["-kl_reference", other + "/density_stationary.h5", "-restart", "auto", "-output_dir", out], "-kl_reference", folder=out, ranks=(1, 2))

# a snapshot's time that is not a time; list options with an empty entry; integers that wrap
def set_time(value):
    def change(f):
        f["density"].attrs["time"] = value
    return change


def altered_attrs(name, change):
    path = tmpdir(name) + ".h5"
    shutil.copy(source, path)
    with h5py.File(path, "r+") as f:
        change(f)
    return path


nan_time = altered_attrs("nan-time", set_time(float("nan")))
neg_time = altered_attrs("neg-time", set_time(-5.0))
refused(W, "analyze a snapshot at time NaN", "analyze", [nan_time], nan_time, ranks=(1, 2))
refused(W, "analyze a snapshot at time -5", "analyze", [neg_time], neg_time)
refused(W, "-grid_n 16,", "run", TINY + ["-grid_n", "16,"], "-grid_n")
refused(W, "-grid_n ,16", "run", TINY + ["-grid_n", ",16"], "-grid_n")
refused(W, "-grid_distribute x1,,x2", "run", TINY + ["-grid_distribute", "x1,,x2"], "-grid_distribute")
refused(W, "-spectrum_nev 4294967297", "spectrum", TINY + ["-spectrum_nev", "4294967297"], "-spectrum_nev")

# the rest of the snapshot and option checks
edited = altered_attrs("edited-options", lambda f: f["options"].attrs.create("linear_D", np.bytes_("2,2")))
refused(W, "analyze with an edited /options", "analyze", [edited], edited, ranks=(1, 2))
box = ["-grid_n", "16", "-grid_lo", "-5,-5", "-grid_hi", "5,5"]
lin = tmpdir("linear-ref")
run("stationary", ["-model", "linear"] + box + ["-output_dir", lin])
refused(W, "-kl_reference of another model", "run", ["-model", "inference", "-t_final", "0.2"] + box + ["-kl_reference", lin + "/density_stationary.h5"], "-kl_reference", ranks=(1, 2))
refused(W, "-time_unit 1e-320", "run", TINY + ["-temperature", "300", "-time_unit", "1e-320"], "-time_unit")
refused(W, "extra -init_mean values", "run", TINY + ["-init_mean", "0,0,5"], "-init_mean")

# ----------------------------------------------------------------- crashes ---
C = "crashes"
ofdir = tmpdir("optfiles")
os.makedirs(ofdir)


def optfile(name, data):
    path = os.path.join(ofdir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


selfinc = optfile("self.opts", b"-model linear\n-options_file " + os.path.join(ofdir, "self.opts").encode() + b"\n")
a = optfile("a.opts", b"-model linear\n-options_file " + os.path.join(ofdir, "b.opts").encode() + b"\n")
optfile("b.opts", b"-grid_n 16\n-options_file " + a.encode() + b"\n")
os.symlink(selfinc, os.path.join(ofdir, "link.opts"))
vialink = optfile("vialink.opts", b"-options_file " + os.path.join(ofdir, "link.opts").encode() + b"\n")
refused(C, "an options file that includes itself", "run", ["-options_file", selfinc], selfinc, ranks=(1, 2, 3))
refused(C, "options files that include each other", "run", ["-options_file", a], a, ranks=(1, 2))
refused(C, "an options file that includes itself through a symlink", "run", ["-options_file", vialink], vialink)
refused(C, "-options_file /dev/zero", "run", ["-options_file", "/dev/zero"], "/dev/zero", ranks=(1, 2))
refused(C, "a directory as the options file", "run", ["-options_file", ofdir], ofdir)
big = optfile("big.opts", b"-model linear\n" + b"# padding\n" * 200000)
refused(C, "an options file of 2 MB", "run", ["-options_file", big], big)
nul = optfile("nul.opts", b"-model linear\n-grid_n 16\x00garbage\n-t_final 2\n")
refused(C, "a NUL byte in an options file", "run", ["-options_file", nul], nul, ranks=(1, 2))
binary = optfile("binary.opts", bytes(range(1, 256)) * 4)
refused(C, "binary content as the options file", "run", ["-options_file", binary], binary)
two = optfile("two.opts", b"-model linear\n-grid_n 16 -t_final 1\n")
refused(C, "two options on a line", "run", ["-options_file", two], two)
bom = optfile("bom.opts", b"\xef\xbb\xbf-model linear\n")
refused(C, "a byte-order mark", "run", ["-options_file", bom], bom)
nextline = optfile("nextline.opts", b"-model linear\n-t_final\n1\n")
refused(C, "a value on the next line", "run", ["-options_file", nextline], nextline)


# malformed HDF5 densities: one line naming the file, status 1
def reshaped(f, shape_of):
    d = f["density"]
    data, attrs = np.array(d[...]), dict(d.attrs)
    del f["density"]
    n = f.create_dataset("density", data=shape_of(data))
    for k, v in attrs.items():
        n.attrs[k] = v


def string_dim(f):
    f["density"].attrs["dim"] = "two"


def no_n1(f):
    del f["density"].attrs["n1"]


for label, change in [("a dataset of the wrong shape", lambda f: reshaped(f, lambda a: a.reshape(-1)[: a.size // 2])),
                      ("a 1-D dataset", lambda f: reshaped(f, lambda a: a.reshape(-1))),
                      ("a string dim", string_dim),
                      ("no attribute n1", no_n1)]:
    bad = altered_attrs("malformed", change)
    refused(C, f"analyze {label}", "analyze", [bad], bad, ranks=(1, 2))
    refused(C, f"-init_file {label}", "run", TINY + ["-init", "file", "-init_file", bad], bad)
vlen = altered_attrs("vlen", lambda f: f["options"].attrs.create("grid_n", "16", dtype=h5py.string_dtype()))
refused(C, "analyze a variable-length string in /options", "analyze", [vlen], vlen, ranks=(1, 2))
refused(C, "-spectrum_eps_target nan", "spectrum", TINY + ["-spectrum_eps_target", "nan"], "-spectrum_eps_target")
refused(C, "-spectrum_eps_type power", "spectrum", TINY + ["-spectrum_eps_type", "power"], "-spectrum_eps_type")

# a -ksp_type that takes no right preconditioner stopped with a trace (exit 2: "KSP cg does not support
# preconditioner side RIGHT"): it gets its default side, and its stage solves are checked on the true residual
plain, cg = tmpdir("ksp-default"), tmpdir("ksp-cg")
run("run", TINY + ["-output_dir", plain])
for label, command, opts, out in [("-ksp_type cg", "run", ["-ksp_type", "cg"], cg),
                                  ("-stationary_ksp_type richardson", "stationary", ["-stationary_ksp_type", "richardson", "-grid_n", "64"], tmpdir("st-richardson"))]:
    proc = run(command, TINY + opts + ["-output_dir", out], expect_ok=False)
    same = True
    if proc.returncode == 0 and command == "run":
        a, b = read_json(plain + "/summary.json")["final"], read_json(cg + "/summary.json")["final"]
        same = all(abs(b[k] - v) <= 1e-6 * max(abs(v), 1e-2) for k, v in a.items())
    check(proc.returncode == 0 and proc.stderr.strip() == "" and same,
          f"[{C}] {label} runs (its default preconditioner side), as the default solver does: {proc.returncode}, {proc.stderr.strip()[:200]}")
    counts[C] += 1
    runs[0] += 1

# ... and a stationary solve that reports success short of its tolerance is named (it said "the density has no mass")
refused(C, "-stationary_ksp_type richardson with BoomerAMG on 16^2", "stationary", TINY + ["-stationary_ksp_type", "richardson"],
        "richardson+hypre ended short of its tolerance")

# -fp_order 4's stationary solve smooths its fine level with GMRES: a non-flexible outer method would
# report a residual that is not the true one
refused(W, "-fp_order 4 with -stationary_ksp_type gmres", "stationary",
        ["-model", "linear", "-grid_n", "128", "-fp_order", "4", "-stationary_ksp_type", "gmres"],
        "needs a flexible outer method")

# a right preconditioner asked of a method that cannot take one is named (it ended in PETSc's trace)
refused(C, "-ksp_type richardson -ksp_pc_side right", "run", TINY + ["-ksp_type", "richardson", "-ksp_pc_side", "right"],
        "-ksp_pc_side right: only -ksp_type gmres")
refused(C, "-stationary_ksp_type bicg -stationary_ksp_pc_side right", "stationary",
        TINY + ["-stationary_ksp_type", "bicg", "-stationary_ksp_pc_side", "right"], "-stationary_ksp_pc_side right")

# memory: the spectrum and the Monte Carlo's particles are in the estimate (not run against the
# unfixed binary: it allocated until the machine ran out)
refused(C, "mc -mc_particles 2000000000", "mc", TINY + ["-mc_particles", "2000000000"], "-mc_particles")
refused(C, "spectrum on 20000^2", "spectrum", ["-model", "linear", "-grid_n", "20000"], "-grid_n")
text = run("info", ["-model", "linear", "-grid_n", "64", "-spectrum_nev", "40", "-mc_particles", "1000000"]).stdout
line = [l for l in text.splitlines() if l.startswith("memory per rank")]
check(len(line) == 1 and "spectrum " in line[0] and "mc " in line[0], f"[{C}] info's memory line has the spectrum and mc: {line}")
counts[C] += 1
runs[0] += 1

# ------------------------------------------------- folders, locks, messages ---
F = "folders/locks/messages"
# -overwrite never deletes a file the command reads
out = tmpdir("overwrite-input")
run("run", TINY + ["-output_dir", out])
refused(F, "-overwrite with -init_file in the folder", "run", TINY + ["-init", "file", "-init_file", out + "/density_0001.h5", "-overwrite"], "density_0001.h5", folder=out, ranks=(1, 2))
refused(F, "-overwrite with -kl_reference in the folder", "run", TINY + ["-kl_reference", out + "/density_0001.h5", "-overwrite"], "density_0001.h5", folder=out, ranks=(1, 2))
# locks that are no locks, and a live pid that is not infotherm's
for label, make in [("a directory", lambda p: os.makedirs(p)), ("an empty file", lambda p: open(p, "w").close()),
                    ("garbage", lambda p: open(p, "w").write("garbage\n"))]:
    out = tmpdir("badlock")
    os.makedirs(out)
    make(out + "/run.lock")
    refused(F, f"run.lock that is {label}", "run", TINY + ["-output_dir", out], "run.lock is not a lock", folder=out, own_lock=False, ranks=(1, 2))
drain()  # timed: alone
out = tmpdir("reused-pid")
os.makedirs(out)
sleeper = subprocess.Popen(["sleep", "120"])
with open(out + "/run.lock", "w") as f:
    f.write(f"{socket.gethostname()} {sleeper.pid} -\n")
rc, err = finish_within(launch("run", TINY + ["-output_dir", out]), HANG_TIMEOUT)
sleeper.kill()
sleeper.wait()
check(rc == 0 and "took over" in err and not os.path.exists(out + "/run.lock"),
      f"[{F}] a lock whose pid now runs another program is taken over: status {rc}, {err.strip()}")
counts[F] += 1
runs[0] += 1
# "-restart auto continues that run" only where a checkpoint is
out = tmpdir("no-checkpoint")
run("run", TINY + ["-output_dir", out])
proc = run("run", TINY + ["-output_dir", out], expect_ok=False)
check(proc.returncode == 1 and "-restart auto" not in proc.stderr and "-overwrite" in proc.stderr,
      f"[{F}] a finished run without a checkpoint is not offered -restart auto: {proc.stderr.strip()}")
counts[F] += 1
runs[0] += 1

# an initial Gaussian below two cells per standard deviation: a warning naming -init_cov
for ranks in (1, 2):
    out = tmpdir(f"narrow-{ranks}")
    proc = run("run", TINY + ["-init_cov", "0.01,1", "-output_dir", out], ranks=ranks, expect_ok=False)
    text = [l for l in proc.stderr.splitlines() if l.strip()]
    check(proc.returncode == 0 and len(text) == 1 and "warning" in text[0] and "-init_cov" in text[0] and "variable 1" in text[0],
          f"[{W}] a Gaussian of 0.1 cells per sd is warned about, naming -init_cov and the variable ({ranks} rank(s)): {text}")
    counts[W] += ranks == 1
    runs[0] += 1

# the box warning names the axis and the wall (it said "the box is too small" alone): a box cut
# short above x2 (run), and below x1 (stationary, whose walls' sums are reduced over the ranks)
for ranks, command, lo, hi, wall in [(1, "run", "-5,-5", "5,2", "upper wall of x2 (widen -grid_hi)"),
                                     (2, "stationary", "-2.5,-5", "5,5", "lower wall of x1 (widen -grid_lo)")]:
    out = tmpdir(f"walls-{ranks}")
    proc = run(command, TINY + ["-grid_lo", lo, "-grid_hi", hi, "-output_dir", out], ranks=ranks, expect_ok=False)
    text = [l for l in proc.stderr.splitlines() if l.strip()]
    summary = read_json(out + ("/summary.json" if command == "run" else "/stationary_summary.json")) if proc.returncode == 0 else {}
    walls = summary.get("wall_mass", {})
    largest = max(((m, f"{'upper' if k else 'lower'} wall of {v}") for v, pair in walls.items() for k, m in enumerate(pair)), default=(0, ""))
    check(proc.returncode == 0 and len(text) == 1 and "warning" in text[0] and wall in text[0] and wall.startswith(largest[1])
          and largest[0] > 1e-6 and summary.get("box_too_small"),
          f"[{F}] the box warning names the axis and the wall, the largest of summary's wall_mass ({ranks} rank(s)): {text}, {walls}")
    counts[F] += 1
    runs[0] += 1

# misleading messages: each names its cause
huge = altered("huge", lambda a: np.full_like(a, 1e307))
refused(F, "a density whose mass overflows", "analyze", [huge], "overflows", ranks=(1, 2))
refused(F, "-init_mean nan", "run", TINY + ["-init_mean", "nan,0"], "-init_mean must be finite")
refused(F, "-grid_n abc", "run", TINY + ["-grid_n", "abc"], "-grid_n abc")
refused(F, "-grid_lo -1e308 -grid_hi 1e308", "run", TINY + ["-grid_lo", "-1e308", "-grid_hi", "1e308"], "-grid_lo/-grid_hi")
refused(F, "-t_final 5e-324", "run", TINY + ["-t_final", "5e-324"], "-t_final 5e-324")
# integers PETSc's parser refused without naming the option ("Input string 1.5 has no integer value")
refused(F, "mc -mc_particles 1.5", "mc", TINY + ["-mc_particles", "1.5"], "-mc_particles 1.5")
refused(F, "spectrum -spectrum_nev x", "spectrum", TINY + ["-spectrum_nev", "x"], "-spectrum_nev x")
refused(F, "-fp_order 4.0", "run", TINY + ["-fp_order", "4.0"], "-fp_order 4.0")
# muparser's "Unexpected token "k" found at position 2" for a name it does not know
refused(F, "an unknown name in a formula", "run", ["-model", "expr", "-vars", "x", "-expr_drift_x", "-x*k", "-expr_diffusion_x", "1", "-grid_n", "16", "-t_final", "0.2"],
        "unknown name k: not a variable (x, t), an -expr_param", ranks=(1, 2))
# -temperature nan read as absent: "heat rates ... need both -temperature and -time_unit"
refused(F, "-temperature nan", "run", TINY + ["-temperature", "nan", "-time_unit", "1"], "-temperature and -time_unit must be positive and finite")

# -error_estimate: coarse grids too small to mean anything, commands without an estimate
refused(F, "-error_estimate on 12 cells (3-cell coarse grid)", "stationary", ["-model", "linear", "-grid_n", "12", "-error_estimate"], "-grid_n")
# spectrum's coarse grids follow the same rule as doc/spectrum.md says (a multiple of 4, at least 16; 36 runs)
refused(F, "spectrum -error_estimate on 18 cells", "spectrum", ["-model", "linear", "-grid_n", "18", "-error_estimate"], "use a multiple of 4 of at least 16")
refused(F, "mc -error_estimate", "mc", TINY + ["-error_estimate"], "-error_estimate")
refused(F, "analyze -error_estimate", "analyze", [source, "-error_estimate"], "-error_estimate")
out = tmpdir("toggle-estimate")
run("run", TINY + ["-error_estimate", "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
refused(F, "a restart that drops -error_estimate", "run", TINY + ["-restart", "auto", "-output_dir", out], "written with -error_estimate and this run has none", folder=out, ranks=(1, 2))
out = tmpdir("toggle-estimate-on")
run("run", TINY + ["-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
refused(F, "a restart that adds -error_estimate", "run", TINY + ["-error_estimate", "-restart", "auto", "-output_dir", out],
        "written without -error_estimate and this run asks for it", folder=out)
# the method changes what <q>_err means with the same columns: a restart that switches it was accepted
out = tmpdir("switch-estimate")
run("run", TINY + ["-error_estimate", "order", "-ts_max_steps", "3", "-output_dir", out], expect_ok=False)
refused(F, "a restart that switches -error_estimate order to richardson", "run", TINY + ["-error_estimate", "-restart", "auto", "-output_dir", out],
        "-error_estimate method", folder=out)

drain()
POOL.shutdown()
print("cases by class:", ", ".join(f"{k} {v}" for k, v in counts.items()),
      f"({sum(counts.values())} cases, {runs[0]} judged runs)", flush=True)
finish()
