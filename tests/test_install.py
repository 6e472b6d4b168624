"""meson install into a temporary folder (DESTDIR), then everything from
outside the source tree: the installed binary (-version), the Python package
(import, run, load), a job script (jobs/run.sbatch, infotherm on PATH) and a
study (tools/study_memory.py --quick, its input/ found beside it, results
under the working directory)."""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

from common import BIN, check, finish

BUILD = os.path.dirname(os.path.abspath(BIN))
dest = tempfile.mkdtemp(prefix="infotherm-install-")
try:
    p = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild", "--quiet"],
                       capture_output=True, text=True, timeout=300)
    binary = (glob.glob(os.path.join(dest, "**", "bin", "infotherm"), recursive=True) or [None])[0]
    share = (glob.glob(os.path.join(dest, "**", "share", "infotherm"), recursive=True) or [None])[0]
    package = (glob.glob(os.path.join(dest, "**", "infotherm", "__init__.py"), recursive=True) or [None])[0]
    check(p.returncode == 0 and binary and share and package, f"meson install: binary {binary}, share {share}, package {package} ({p.stderr.strip()[-200:]})")
    if not (binary and share and package):
        finish()
    for sub in ("input/inference.opts", "jobs/chain.sbatch", "jobs/run.sbatch", "tools/plot.py", "tools/study_memory.py"):
        check(os.path.exists(os.path.join(share, sub)), f"installed: share/infotherm/{sub}")
    check(os.access(os.path.join(share, "jobs", "run.sbatch"), os.X_OK), "the job scripts are installed executable")
    manpage = glob.glob(os.path.join(dest, "**", "man1", "infotherm.1"), recursive=True)
    check(len(manpage) == 1, f"the man page is installed: {manpage}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k not in ("INFOTHERM", "PYTHONPATH")}
    env["PATH"] = os.path.dirname(binary) + ":" + env["PATH"]
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(package))
    with tempfile.TemporaryDirectory() as cwd:
        p = subprocess.run(["infotherm", "-version"], cwd=cwd, env=env, capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.startswith("infotherm "), f"the installed binary runs: {p.stdout.strip()}")
        code = ("import infotherm, os; r = infotherm.run('stationary', model='brownian', grid_n=64, output_dir='st'); "
                "print(infotherm.binary(), os.path.abspath(infotherm.__file__), r.final()['var_v'])")
        p = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        out = p.stdout.split()
        check(p.returncode == 0 and len(out) == 3 and out[0] == shutil.which("infotherm", path=env["PATH"]) and
              out[1].startswith(dest) and abs(float(out[2]) - 1) < 1e-3,
              f"the installed package imports, finds the installed binary on PATH and runs it: {p.stdout.strip()} {p.stderr.strip()[-300:]}")
        p = subprocess.run(["bash", os.path.join(share, "jobs", "run.sbatch"), os.path.join(share, "input", "brownian.opts"),
                            "-t_final", "0.2", "-output_dir", "job"], cwd=cwd, env=dict(env, LAUNCH="mpirun"),
                           capture_output=True, text=True, timeout=300)
        check(p.returncode == 0 and os.path.exists(os.path.join(cwd, "job", "summary.json")),
              f"the installed jobs/run.sbatch runs from outside the source tree (rc {p.returncode}: {p.stderr.strip()[-200:]})")
        p = subprocess.run([sys.executable, os.path.join(share, "tools", "study_memory.py"), "--quick"], cwd=cwd, env=env,
                           capture_output=True, text=True, timeout=600)
        check(p.returncode == 0 and os.path.exists(os.path.join(cwd, "results", "study_memory", "study_memory.json")),
              f"the installed study runs from outside the source tree into ./results (rc {p.returncode}: {p.stderr.strip()[-300:]})")
finally:
    shutil.rmtree(dest, ignore_errors=True)
finish()
