"""-help never computes, -version says which program wrote an output.

`infotherm help -list` lists the commands one a line (name, flags, -help
line; the command table of src/app/commands.def), which the checks below
iterate, so a new command is covered by adding it; `infotherm -help` lists
every one of them; `infotherm COMMAND -help` lists the
options of the objects the command creates and exits 0 without solving or
writing anything (no output folder, nothing in the working directory), on 1
and 2 ranks. `infotherm -version` prints meson's project version and the git
commit, and every summary JSON file and every HDF5 file of a run carries
both (summary keys "version"/"commit", root attributes
"infotherm_version"/"infotherm_commit"). doc/options.md's reference tables
match what -help lists (tools/options_doc.py --check)."""
import glob
import os
import re
import subprocess
import sys
import tempfile

import h5py

from common import BIN, MPIEXEC, check, finish, read_json

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
version = re.search(r"version\s*:\s*'([^']+)'", open(os.path.join(ROOT, "meson.build")).read()).group(1)


def infotherm(args, cwd, ranks=1):
    argv = [BIN] + args
    if ranks > 1:
        argv = MPIEXEC + ["-n", str(ranks)] + argv
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)


# infotherm help -list: the commands, one a line; infotherm -help lists each with the same line
with tempfile.TemporaryDirectory() as cwd:
    p = infotherm(["help", "-list"], cwd)
    listed = [line.split("\t") for line in p.stdout.splitlines()]
    COMMANDS = [f[0] for f in listed if len(f) == 3]
    check(p.returncode == 0 and len(COMMANDS) == len(listed) and len(set(COMMANDS)) == len(COMMANDS)
          and {"run", "stationary", "analyze", "info", "mc", "crosscheck", "spectrum"} <= set(COMMANDS),
          f"infotherm help -list exits 0 and lists each command once, name, flags, line: {COMMANDS}")
    flags = {f[0]: f[1].split(",") for f in listed if len(f) == 3}
    check(flags.get("analyze") == ["files"] and "error_estimate" in flags.get("run", []) and flags.get("mc") == ["-"],
          f"help -list's flags: analyze takes files, run reads -error_estimate, mc neither: {flags}")
    p = infotherm(["-help"], cwd)
    check(p.returncode == 0 and all(re.search(rf"^  {re.escape(f[0])}\s+{re.escape(f[2])}$", p.stdout, re.M)
                                    for f in listed if len(f) == 3),
          f"infotherm -help exits 0 and lists the commands {COMMANDS} with help -list's lines")
    check(os.listdir(cwd) == [], "infotherm -help and help -list write nothing")
    # -error_estimate is refused exactly by the commands without the flag, naming those with it
    estimating = [c for c in COMMANDS if "error_estimate" in flags[c]]
    for c in COMMANDS:
        if "error_estimate" in flags[c] or "files" in flags[c]:
            continue
        p = infotherm([c, "-error_estimate", "-grid_n", "8,8", "-output_dir", os.path.join(cwd, "x")], cwd)
        check(p.returncode == 1 and "-error_estimate applies to " + ", ".join(estimating[:-1]) + " and " + estimating[-1] in p.stderr
              and os.listdir(cwd) == [], f"{c} -error_estimate refused, naming the commands with one: {p.stderr.strip()}")

# COMMAND -help: options listed, nothing solved or written, exit 0
expected = {"run": ["-t_final", "-restart", "-ts_type", "-pc_type", "-overwrite", "-init_mean"],
            "stationary": ["-stationary_ksp_type", "-error_estimate", "-overwrite"],
            "analyze": ["-sensor", "-output_dir"], "info": ["-grid_n", "-model"],
            "mc": ["-mc_particles", "-mc_dt", "-t_final"],
            "crosscheck": ["-crosscheck_z", "-mc_particles", "-ts_type"],
            "spectrum": ["-spectrum_nev", "-spectrum_eps_target", "-error_estimate"]}
for ranks in (1, 2):
    for command in COMMANDS:
        with tempfile.TemporaryDirectory() as cwd:
            out = os.path.join(cwd, "out")
            p = infotherm([command, "-options_file", os.path.join(ROOT, "input", "inference.opts"), "-help",
                           "-output_dir", out], cwd, ranks)
            want = expected.get(command, ["-grid_n", "-model"])  # a new command: the set-up's at least
            listed = [o for o in want if re.search(rf"^\s+{re.escape(o)}\b", p.stdout, re.M)]
            check(p.returncode == 0 and listed == want,
                  f"{command} -help on {ranks} rank(s): exit {p.returncode}, lists {listed} of {want}")
            check(os.listdir(cwd) == [], f"{command} -help on {ranks} rank(s) writes nothing ({os.listdir(cwd)})")
# the default folder (results/<stem>) is not made either, and a second -help works as well
with tempfile.TemporaryDirectory() as cwd:
    for k in range(2):
        p = infotherm(["run", "-options_file", os.path.join(ROOT, "input", "inference.opts"), "-help"], cwd)
        check(p.returncode == 0 and os.listdir(cwd) == [], f"run -help with the default folder, time {k + 1}: exit 0, nothing written")

# -version
with tempfile.TemporaryDirectory() as cwd:
    p = infotherm(["-version"], cwd)
    m = re.match(r"infotherm (\S+) \(commit (\S+)\)", p.stdout)
    check(p.returncode == 0 and m and m.group(1) == version and m.group(2) != "",
          f"infotherm -version prints the meson version {version} and a commit: {p.stdout.strip()}")
    commit = m.group(2) if m else None
    p2 = infotherm(["run", "-version"], cwd)
    check(p2.returncode == 0 and p2.stdout == p.stdout and os.listdir(cwd) == [],
          "infotherm run -version prints the same and runs nothing")

    # every JSON summary and HDF5 file of a cross-check (solver and Monte Carlo) carries them
    out = os.path.join(cwd, "cc")
    p = infotherm(["crosscheck", "-model", "brownian", "-grid_n", "32", "-grid_lo", "-6", "-grid_hi", "6",
                   "-t_final", "0.1", "-mc_particles", "2000", "-checkpoint_every", "0.05", "-output_dir", out,
                   "-quiet"], cwd)
    check(p.returncode == 0, f"a small crosscheck runs ({p.stderr.strip()[:200]})")
    jsons = sorted(glob.glob(os.path.join(out, "*.json")))
    h5s = sorted(glob.glob(os.path.join(out, "*.h5")))
    ok = [os.path.basename(j) for j in jsons if read_json(j).get("version") == version and read_json(j).get("commit") == commit]
    check(len(jsons) >= 3 and len(ok) == len(jsons), f"every JSON file carries version and commit: {ok}")
    stamped = []
    for h in h5s:
        with h5py.File(h, "r") as f:
            a = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
        if a.get("infotherm_version") == version and a.get("infotherm_commit") == commit:
            stamped.append(os.path.basename(h))
    check(len(h5s) >= 2 and len(stamped) == len(h5s), f"every HDF5 file has the root attributes: {stamped}")
# doc/options.md's reference tables are those the program's -help gives (tools/options_doc.py)
env = dict(os.environ, INFOTHERM=os.path.abspath(BIN))
p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "options_doc.py"), "--check"], capture_output=True, text=True,
                   env=env, timeout=600)
check(p.returncode == 0, f"doc/options.md and the man page doc/infotherm.1 are generated from -help and up to date: {p.stdout.strip()} {p.stderr.strip()[-300:]}")
finish()
