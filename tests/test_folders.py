"""Output folders and file-system faults: a
folder belongs to one run. Each case asserts the exit status, exactly one
line on stderr, and that the folder's earlier contents are byte-identical
afterwards, on 1 and 2 ranks:

- folders: a run refuses a folder holding an earlier run's files (unless
  -restart or -overwrite), and a failed run leaves them alone; run,
  stationary, mc and crosscheck share a folder without replacing one
  another's files; -overwrite removes that command's files only and leaves
  no stale snapshot; a restart removes snapshots written after its
  checkpoint; a live lock refuses a second run, a stale one is taken over;
  analyze refuses snapshots of different runs and a run's folder;
- faults: a folder that is not writable, a full disk, a path that is a file,
  and paths of 225 characters or more (which crashed inside Open MPI's MPI-IO);
- signals: SIGTERM during set-up (before the time loop) still gives a
  checkpoint and status 3; mpirun signalled with USR1 reports status 3;
  another command killed by SIGTERM leaves no lock or temporary file."""
import glob
import os
import signal
import socket
import subprocess
import time
from common import *

SMALL = ["-model", "brownian", "-grid_n", "32", "-t_final", "0.2", "-output_every", "0.1", "-snapshot_every", "0.1"]
MC = ["-mc_particles", "200", "-crosscheck_z", "1e9"]




def lines(proc):
    return [l for l in proc.stderr.splitlines() if l.strip()]


def refused(label, command, options, folder, needle, ranks, status=1):
    """command fails with status, one line naming needle, and folder unchanged."""
    before = tree(folder) if os.path.isdir(folder) else None
    proc = run(command, options, ranks=ranks, expect_ok=False)
    text = lines(proc)
    after = tree(folder) if os.path.isdir(folder) else None
    check(proc.returncode == status and len(text) == 1 and needle in text[0] and text[0].startswith("infotherm: error:"),
          f"{label} ({ranks} rank(s)): status {proc.returncode}, one line naming {needle!r}: {text}")
    check(before == after, f"{label} ({ranks} rank(s)): the folder's files are byte-identical afterwards")
    return proc


# ------------------------------------------------------------------ folders ---
for ranks in (1, 2):
    out = tmpdir(f"folders-{ranks}")
    run("run", SMALL + ["-output_dir", out], ranks=ranks)
    earlier = tree(out)
    # a rerun, and a failed run (bad input), into the folder of an earlier run
    refused("a second run into a run's folder", "run", SMALL + ["-output_dir", out], out, "-overwrite", ranks)
    refused("a failed run into a run's folder", "run", SMALL + ["-t_final", "-1", "-output_dir", out], out, "-t_final", ranks)
    # stationary, mc and crosscheck beside the run: files of their own
    for command, extra in (("stationary", []), ("mc", MC), ("crosscheck", MC)):
        before = tree(out)
        proc = run(command, SMALL + extra + ["-output_dir", out], ranks=ranks, expect_ok=False)
        after = tree(out)
        check(proc.returncode == 0 and all(after.get(k) == v for k, v in before.items()),
              f"{command} beside the run ({ranks} rank(s)): status {proc.returncode}, the earlier files byte-identical "
              f"({sorted(set(after) - set(before))} added) {proc.stderr.strip()}")
    names = set(tree(out))
    want = {"diagnostics.csv", "summary.json", "density.xmf", "density_0000.h5", "density_0002.h5",
            "stationary.csv", "stationary_summary.json", "density_stationary.h5", "density_stationary.xmf",
            "mc.csv", "mc_summary.json", "mc_density.xmf", "mc_density_0002.h5",
            "crosscheck.json", "crosscheck.txt", "crosscheck_diagnostics.csv", "crosscheck_summary.json",
            "crosscheck_density.xmf", "crosscheck_density_0002.h5", "crosscheck_mc.csv", "crosscheck_mc_summary.json"}
    check(want <= names and not [n for n in names if n.endswith((".tmp", ".lock"))],
          f"one folder holds the files of run, stationary, mc and crosscheck, no .tmp or .lock ({sorted(want - names)} missing)")
    for command, extra, needle in (("stationary", [], "earlier stationary"), ("mc", MC, "earlier mc"), ("crosscheck", MC, "earlier crosscheck")):
        refused(f"a second {command} into the folder", command, SMALL + extra + ["-output_dir", out], out, needle, ranks)
    # -overwrite removes the run's files only: no stale snapshot, the others untouched
    with open(out + "/notes.txt", "w") as f:
        f.write("mine\n")
    before = tree(out)
    run("run", SMALL + ["-t_final", "0.1", "-overwrite", "-output_dir", out], ranks=ranks)
    after = tree(out)
    others = [k for k in before if not (k in ("diagnostics.csv", "summary.json", "density.xmf") or k.startswith("density_0"))]
    check(not os.path.exists(out + "/density_0002.h5") and os.path.exists(out + "/density_0001.h5")
          and all(after.get(k) == before[k] for k in others),
          f"-overwrite ({ranks} rank(s)): the earlier run's snapshot 2 is gone, every other command's file and notes.txt are byte-identical")

    # a live lock refuses (a live infotherm: a process whose command line names it); a lock of a
    # process gone from this host is taken over with a note
    out = tmpdir(f"lock-{ranks}")
    os.makedirs(out)
    live = subprocess.Popen(["bash", "-c", "exec -a infotherm sleep 120"])
    with open(out + "/run.lock", "w") as f:
        f.write(f"{socket.gethostname()} {live.pid} -\n")
    time.sleep(0.2)  # until the exec has renamed it
    refused("a folder locked by a live process", "run", SMALL + ["-output_dir", out], out, "run.lock", ranks)
    live.kill()
    live.wait()
    gone = subprocess.Popen(["true"])
    gone.wait()
    with open(out + "/run.lock", "w") as f:
        f.write(f"{socket.gethostname()} {gone.pid} -\n")
    proc = run("run", SMALL + ["-output_dir", out], ranks=ranks, expect_ok=False)
    check(proc.returncode == 0 and len(lines(proc)) == 1 and "took over" in proc.stderr and not os.path.exists(out + "/run.lock"),
          f"a stale lock ({ranks} rank(s)) is taken over with one note and removed at the end: {lines(proc)}")

    # analyze: snapshots of one run only, written outside the run's folder
    a, b = tmpdir(f"an-a-{ranks}"), tmpdir(f"an-b-{ranks}")
    run("run", SMALL + ["-output_dir", a])
    for label, opts, needle in (("another parameter", ["-brownian_tau_v", "2"], "model parameters"), ("another grid", ["-grid_n", "40"], "another grid"),
                                ("other options", ["-bits"], "-bits")):
        shutil.rmtree(b, ignore_errors=True)
        run("run", SMALL + opts + ["-output_dir", b])
        refused(f"analyze of snapshots of runs with {label}", "analyze", [a + "/density_0001.h5", b + "/density_0002.h5", "-output_dir", b + "/x"],
                b, needle, ranks)
    refused("analyze into the run's folder", "analyze", [a + "/density_0001.h5", "-output_dir", a], a, "snapshots", ranks)

# a restart removes snapshots written after its checkpoint and stale temporary files
out = tmpdir("restart-stale")
proc = run("run", SMALL + ["-ts_adapt_type", "none", "-ts_dt", "0.01", "-ts_max_steps", "5", "-output_dir", out], expect_ok=False)
shutil.copy(out + "/density_0000.h5", out + "/density_0007.h5")
shutil.copy(out + "/density_0000.h5", out + "/checkpoint.h5.tmp")
proc = run("run", SMALL + ["-ts_adapt_type", "none", "-ts_dt", "0.01", "-restart", "auto", "-output_dir", out], ranks=2)
left = sorted(os.listdir(out))
check(left == ["checkpoint.h5", "density.xmf", "density_0000.h5", "density_0001.h5", "density_0002.h5", "diagnostics.csv", "summary.json"],
      f"a restart leaves no stale snapshot or temporary file: {left}")

# two runs started together: the second is refused while the first writes;
# the first, stopped by USR1, removes its lock
out = tmpdir("concurrent")
# fixed steps of 1e-3 to t = 1000: busy for much longer than the checks below take (adaptive
# steps reach t = 1000 in about 5 s, which a loaded machine's two refused runs can outlast)
slow = ["-model", "linear", "-grid_n", "128", "-t_final", "1000", "-ts_adapt_type", "none", "-ts_dt", "1e-3",
        "-output_dir", out, "-quiet"]
first = subprocess.Popen([BIN, "run"] + slow, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 60
while not os.path.exists(out + "/run.lock") and time.time() < deadline:
    time.sleep(0.05)
for ranks in (1, 2):
    before = tree(out)
    proc = run("run", slow[:-1] + ["-t_final", "1"], ranks=ranks, expect_ok=False)
    check(proc.returncode == 1 and len(lines(proc)) == 1 and "in use by another infotherm run" in proc.stderr and f"pid {first.pid}" in proc.stderr,
          f"a second run while the first writes ({ranks} rank(s)) is refused, naming host and pid: {lines(proc)}")
first.send_signal(signal.SIGUSR1)
first.wait(timeout=120)
check(first.returncode == 3 and os.path.exists(out + "/checkpoint.h5") and not os.path.exists(out + "/run.lock"),
      f"the first run stops after a checkpoint and removes its lock ({first.returncode}: {first.stderr.read().strip()})")

# ------------------------------------------------------------------- faults ---
mounts = []
try:
    for ranks in (1, 2):
        # a path that is a file
        junk = tmpdir(f"junk-{ranks}")
        os.makedirs(junk)
        with open(junk + "/file", "w") as f:
            f.write("x\n")
        refused("-output_dir is a file", "run", SMALL + ["-output_dir", junk + "/file"], junk, junk + "/file", ranks)
        refused("-output_dir below a file", "run", SMALL + ["-output_dir", junk + "/file/sub"], junk, junk + "/file/sub", ranks)

        # a folder that is not writable: a read-only file system (as root), else mode 0555
        ro = tmpdir(f"readonly-{ranks}")
        os.makedirs(ro + "/out")
        with open(ro + "/out/keep.txt", "w") as f:
            f.write("keep\n")
        if os.geteuid() == 0:
            ok = subprocess.run(["mount", "-o", "bind,ro", ro + "/out", ro + "/out"], capture_output=True).returncode == 0
            ok = ok and subprocess.run(["mount", "-o", "remount,bind,ro", ro + "/out"], capture_output=True).returncode == 0
            mounts.append(ro + "/out")
            check(ok, "a read-only bind mount for the not-writable case")
        else:
            os.chmod(ro + "/out", 0o555)
        refused("a folder that is not writable", "run", SMALL + ["-output_dir", ro + "/out"], ro + "/out", ro + "/out/run.lock", ranks)

        # a full disk: a small tmpfs (as root), filled but for about 80 kB
        if os.geteuid() == 0:
            full = tmpdir(f"full-{ranks}")
            os.makedirs(full)
            check(subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", full], capture_output=True).returncode == 0,
                  "a 512 kB tmpfs for the full-disk case")
            mounts.append(full)
            run("stationary", SMALL + ["-output_dir", full + "/out"], ranks=ranks)
            st = os.statvfs(full)
            with open(full + "/filler", "wb") as f:
                f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 80000))
            proc = refused("a full disk", "run", ["-model", "inference", "-grid_n", "48,40", "-t_final", "0.2", "-output_dir", full + "/out"],
                           full, "density_0000.h5", ranks)
            check("No space left on device" in proc.stderr and not glob.glob(full + "/out/*.tmp") and not os.path.exists(full + "/out/run.lock"),
                  f"a full disk ({ranks} rank(s)): the reason, no .tmp and no lock left")

        # paths of 225 characters and more (a buffer overflow inside Open MPI's MPI-IO before)
        long = tmpdir(f"long-{ranks}") + "/" + "d" * 120 + "/" + "e" * 110
        check(len(long) >= 225, f"a path of {len(long)} characters")
        for command, extra in (("run", []), ("stationary", []), ("mc", MC)):
            proc = run(command, SMALL + extra + ["-output_dir", long], ranks=ranks, expect_ok=False)
            check(proc.returncode == 0, f"{command} into a path of {len(long)} characters ({ranks} rank(s)): {proc.stderr.strip()[-300:]}")
        proc = run("analyze", [long + "/density_0000.h5", long + "/density_0002.h5", "-output_dir", long + "/analysis"], ranks=ranks, expect_ok=False)
        check(proc.returncode == 0 and os.path.exists(long + "/analysis/summary.json"),
              f"analyze of snapshots under a long path ({ranks} rank(s)): {proc.stderr.strip()[-300:]}")
        proc = run("run", SMALL + ["-init", "file", "-init_file", long + "/density_stationary.h5", "-output_dir", long + "/init"], ranks=ranks, expect_ok=False)
        check(proc.returncode == 0, f"-init_file under a long path ({ranks} rank(s)): {proc.stderr.strip()[-300:]}")
finally:
    for m in reversed(mounts):
        subprocess.run(["umount", m], capture_output=True)

# ------------------------------------------------------------------ signals ---
# SIGTERM during the set-up (a stationary initial density on 384^2, over a
# second): the run still writes a checkpoint of its initial state and exits with 3
out = tmpdir("early-term")
early = ["-model", "inference", "-grid_n", "384", "-init", "stationary", "-t_final", "0.2", "-output_dir", out, "-quiet"]
proc = subprocess.Popen([BIN, "run"] + early, stderr=subprocess.PIPE, text=True)


def catches_sigterm(pid):
    """Whether the process has installed its SIGTERM handler (SigCgt in /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
        return bool(mask >> (signal.SIGTERM - 1) & 1)
    except (OSError, StopIteration):
        return False


# no program can catch a signal before its main() runs: wait for the handler
# (under load, loading the shared libraries alone can take longer than 0.3 s)
deadline = time.time() + 30
while not catches_sigterm(proc.pid) and time.time() < deadline:
    time.sleep(0.01)
time.sleep(0.3)
proc.send_signal(signal.SIGTERM)
_, err = proc.communicate(timeout=120)
check(proc.returncode == 3 and os.path.exists(out + "/checkpoint.h5") and not glob.glob(out + "/*.tmp") and not os.path.exists(out + "/run.lock"),
      f"SIGTERM 0.3 s into the set-up: a checkpoint, status 3, no .tmp or lock ({proc.returncode}: {err.strip()})")
p = run("run", early[:-1] + ["-restart", "auto", "-ts_max_steps", "1"], expect_ok=False)
check(p.returncode == 3 and "stopped at t = " in p.stderr, f"... and -restart auto continues from it: {p.stderr.strip()}")

# mpirun signalled with USR1 (what jobs/chain.sbatch sends): it forwards the
# signal, the ranks checkpoint, and mpirun reports status 3
out = tmpdir("mpirun-usr1")
argv = MPIEXEC + ["-n", "2", BIN, "run", "-model", "linear", "-grid_n", "160", "-t_final", "50", "-output_dir", out, "-quiet"]
proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
deadline = time.time() + 60
while not os.path.exists(out + "/density_0000.h5") and time.time() < deadline:
    time.sleep(0.05)
proc.send_signal(signal.SIGUSR1)
_, err = proc.communicate(timeout=120)
check(proc.returncode == 3 and os.path.exists(out + "/checkpoint.h5"), f"mpirun -n 2 signalled with USR1 reports status 3 after a checkpoint ({proc.returncode}: {err.strip()[-200:]})")

# a command without checkpoints (mc) dies of SIGTERM, but removes its lock and temporary file
out = tmpdir("mc-term")
proc = subprocess.Popen([BIN, "mc", "-model", "linear", "-grid_n", "64", "-mc_particles", "200000", "-t_final", "20", "-snapshot_every", "0.1",
                         "-output_dir", out, "-quiet"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
deadline = time.time() + 60
while not os.path.exists(out + "/mc.lock") and time.time() < deadline:
    time.sleep(0.05)
time.sleep(0.3)
proc.send_signal(signal.SIGTERM)
proc.communicate(timeout=60)
check(proc.returncode == -signal.SIGTERM and not glob.glob(out + "/*.tmp") and not os.path.exists(out + "/mc.lock"),
      f"mc killed by SIGTERM while it writes: no lock or .tmp left ({proc.returncode}, {sorted(os.listdir(out)) if os.path.isdir(out) else 'no folder'})")
finish()
