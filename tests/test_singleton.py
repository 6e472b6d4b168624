"""A run started without a launcher (an Open MPI singleton, doc/performance.md
"Start-up"): many at once all succeed and leave nothing in $TMPDIR; Open MPI
itself reports the settings infotherm gave it (OMPI_MCA_mpi_show_mca_params:
no daemon, pml ob1, btl self, a session folder of the process's own under
$TMPDIR); a value the user set (an OMPI_MCA_ variable, a line of
~/.openmpi/mca-params.conf) is the one Open MPI uses, a boolean set to a
value not read here is left alone; with an aggregate parameter file or a
tune file (mpirun -am, --tune), under mpiexec, or with a launcher's variable
set, nothing is set, but the mtl components whose
hardware the node lacks (PSM, PSM2) are not loaded; the session folder of a
singleton killed with SIGKILL is removed by the next singleton once a minute
old, a live process's is kept."""
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from common import *

BASE = tmpdir("singleton")
TMP = os.path.join(BASE, "tmp")
os.makedirs(TMP)
HOST = socket.gethostname().replace("/", "_").replace(".", "_")
PREFIX = f"infotherm-ompi.{HOST}."
INFO = ["info", "-model", "linear", "-grid_n", "8"]
# the environment of a process no launcher started: none of a launcher's variables
LAUNCHER = ("OMPI_COMM_WORLD_", "OMPI_MCA_", "PMIX_", "PMI_", "SLURM_STEP", "FLUX_TASK_", "JSM_NAMESPACE_",
            "ALPS_APP_PE", "MPI_LOCALRANKID", "HYDI_")
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith(LAUNCHER)}
CLEAN["TMPDIR"] = TMP


def start(argv, extra=None, **kw):
    env = dict(CLEAN, **(extra or {}))
    return subprocess.Popen([BIN] + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def shown(extra=None, argv=INFO, mpiexec=None):
    """Open MPI's own list of the parameters it took from the environment and
    from files: {name: (value, source)}, and the exit status."""
    env = dict(CLEAN, OMPI_MCA_mpi_show_mca_params="enviro,file", **(extra or {}))
    cmd = (mpiexec or []) + [BIN] + argv
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    params = {}
    for line in proc.stderr.splitlines():
        # "[host:pid] name=value (environment)" or "(file (path:line))"
        if line.startswith("[") and "] " in line and "=" in line:
            body = line.split("] ", 1)[1]
            name, rest = body.split("=", 1)
            value, _, source = rest.partition(" (")
            params[name] = (value, source.split(" ")[0].rstrip(")"))
    return params, proc.returncode


def ours(params):
    """The parameters of a singleton's settings that came from the environment."""
    return [k for k in ("pml", "btl", "ess_singleton_isolated") if params.get(k, ("", ""))[1] == "environment"]


# 1. many at once: 12 singletons, twice (the isolated singletons of Open MPI
# share one session folder unless each has its own: the first to finish
# removed it under the others)
for round in range(2):
    procs = [start(INFO) for _ in range(12)]
    outs = [p.communicate(timeout=300) for p in procs]
    bad = [(p.returncode, err.strip()[:200]) for p, (_, err) in zip(procs, outs) if p.returncode != 0 or err.strip()]
    check(not bad, f"round {round + 1}: 12 singletons started at once all succeed, stderr empty ({bad[:2]})")
check(os.listdir(TMP) == [], f"they leave nothing in $TMPDIR ({os.listdir(TMP)[:4]})")

# 2. what Open MPI was told, in its own words
p, status = shown()
folder = p.get("orte_tmpdir_base", ("", ""))[0]
check(status == 0 and p.get("ess_singleton_isolated", ("",))[0] == "true" and p.get("pml") == ("ob1", "environment")
      and p.get("btl") == ("self", "environment"),
      f"a singleton runs without a daemon, over pml ob1 and btl self ({status}, {p})")
check(os.path.dirname(folder) == TMP and os.path.basename(folder).startswith(PREFIX) and not os.path.exists(folder),
      f"its session folder was its own under $TMPDIR, removed at exit ({folder})")

# 3. the user's values are left alone: an OMPI_MCA_ variable, a line of ~/.openmpi/mca-params.conf
p, status = shown({"OMPI_MCA_btl": "self,vader", "OMPI_MCA_pml": "^ucx"})
check(status == 0 and p.get("btl") == ("self,vader", "environment") and p.get("pml") == ("^ucx", "environment"),
      f"OMPI_MCA_btl and OMPI_MCA_pml set by the user are the values used ({p.get('btl')}, {p.get('pml')})")
home = os.path.join(BASE, "home")
os.makedirs(os.path.join(home, ".openmpi"))
with open(os.path.join(home, ".openmpi", "mca-params.conf"), "w") as f:
    f.write("# the user's own\n  btl = self,tcp\n")
p, status = shown({"HOME": home})
check(status == 0 and p.get("btl", ("", ""))[0] == "self,tcp" and p["btl"][1].startswith("file")
      and p.get("pml") == ("ob1", "environment"),
      f"btl from ~/.openmpi/mca-params.conf is the value used, pml still ob1 ({p.get('btl')}, {p.get('pml')})")
mine = os.path.join(BASE, "session")
os.makedirs(mine)
p, status = shown({"OMPI_MCA_orte_tmpdir_base": mine})
check(status == 0 and p.get("orte_tmpdir_base") == (mine, "environment") and "ess_singleton_isolated" not in p,
      f"OMPI_MCA_orte_tmpdir_base set by the user: used, and the singleton keeps its daemon ({p.get('orte_tmpdir_base')})")

p, status = shown({"OMPI_MCA_ess_singleton_isolated": "1"})
check(status == 0 and os.path.basename(p.get("orte_tmpdir_base", ("", ""))[0]).startswith(PREFIX),
      f"isolation asked for by the user: still a session folder of its own ({p.get('orte_tmpdir_base')})")
p, status = shown({"OMPI_MCA_ess_singleton_isolated": "0"})
check(status == 0 and p.get("ess_singleton_isolated") == ("false", "environment") and "orte_tmpdir_base" not in p,
      f"isolation turned off by the user: off, no folder made ({p.get('ess_singleton_isolated')})")

p, status = shown({"OMPI_MCA_ess_singleton_isolated": "2"})
check(status == 0 and p.get("ess_singleton_isolated") == ("true", "environment") and "orte_tmpdir_base" not in p,
      f"isolation set by the user to a value not read here (2): left as Open MPI reads it, no folder made "
      f"({p.get('ess_singleton_isolated')}, {p.get('orte_tmpdir_base')})")

# 3b. an aggregate parameter file (mpirun -am) or a tune file (mpirun --tune): nothing is set
amca, tune = os.path.join(BASE, "user.amca"), os.path.join(BASE, "user.tune")
with open(amca, "w") as f:
    f.write("btl = self,tcp\n")
with open(tune, "w") as f:
    f.write("-mca btl self,tcp\n")
p, status = shown({"OMPI_MCA_mca_base_param_file_prefix": amca})
check(status == 0 and not ours(p) and "orte_tmpdir_base" not in p,
      f"with an aggregate parameter file (OMPI_MCA_mca_base_param_file_prefix) nothing is set ({ours(p)})")
p, status = shown({"OMPI_MCA_mca_base_envar_file_prefix": tune})
check(status == 0 and not ours(p) and "orte_tmpdir_base" not in p and p.get("btl", ("", ""))[0] == "self,tcp",
      f"with a tune file (OMPI_MCA_mca_base_envar_file_prefix) nothing is set, its btl is used ({ours(p)}, {p.get('btl')})")

# 4. under a launcher nothing is set: mpiexec on 2 ranks; a launcher's variable (srun's)
p, status = shown(mpiexec=MPIEXEC + ["-n", "2"])
check(status == 0 and not ours(p)
      and not p.get("orte_tmpdir_base", ("",))[0].startswith(os.path.join(TMP, PREFIX)),
      f"under mpiexec -n 2 nothing is set ({ours(p)}, {p.get('orte_tmpdir_base')})")
p, status = shown({"SLURM_STEP_ID": "0"})
check(status == 0 and not ours(p),
      f"with SLURM_STEP_ID set nothing is set ({ours(p)})")

# 4b. any process: the mtl components whose hardware /dev lacks (psm2: Omni-Path's
# hfi1, psm: InfiniPath's ipath) are not loaded; a user's mtl is used as given


def mtl_components(extra=None):
    """The mtl components Open MPI found on 2 ranks under mpiexec (its verbose output)."""
    env = dict(CLEAN, OMPI_MCA_mtl_base_verbose="100", **(extra or {}))
    proc = subprocess.run(MPIEXEC + ["-n", "2", BIN] + INFO, env=env, capture_output=True, text=True, timeout=120)
    found = re.findall(r"components_register: found loaded component (\w+)", proc.stderr)
    return proc.returncode, set(found)


devices = os.listdir("/dev")
info = subprocess.run(["ompi_info", "--parsable"], capture_output=True, text=True).stdout
installed = set(re.findall(r"^mca:mtl:(\w+):version:", info, re.M))  # this Open MPI's mtl components
absent = {c for c, dev in (("psm2", "hfi1"), ("psm", "ipath"))
          if c in installed and not any(d.startswith(dev) for d in devices)}
status, found = mtl_components()
check(status == 0 and not (found & absent), f"under mpiexec, no mtl component without its device is loaded "
      f"(absent here: {sorted(absent)}; loaded: {sorted(found)})")
status, found = mtl_components({"OMPI_MCA_mtl": "^ofi"})
check(status == 0 and ({"psm2", "psm"} & installed) <= found,
      f"OMPI_MCA_mtl=^ofi set by the user: psm2 and psm loaded where installed ({sorted(found)})")

# 5. litter: a singleton killed with SIGKILL leaves its folder; the next
# singleton removes it once it is a minute old, but not the folder of a live
# process, nor another host's
proc = start(["run", "-model", "linear", "-grid_n", "96", "-t_final", "1000", "-output_dir", os.path.join(BASE, "killed")])
left = []
for _ in range(600):
    left = [d for d in os.listdir(TMP) if d.startswith(f"{PREFIX}{proc.pid}.")]
    if left or proc.poll() is not None:
        break
    time.sleep(0.05)
time.sleep(0.5)  # past MPI_Init
proc.send_signal(signal.SIGKILL)
proc.communicate()
check(len(left) == 1 and os.path.isdir(os.path.join(TMP, left[0])),
      f"a singleton killed with SIGKILL leaves its session folder ({left})")
# a fresh folder is kept (a process of another PID namespace may be starting in it)
status = subprocess.run([BIN] + INFO, env=CLEAN, capture_output=True, timeout=120).returncode
check(status == 0 and left and os.path.isdir(os.path.join(TMP, left[0])),
      "the next singleton keeps it while it is less than a minute old")
old = time.time() - 120  # as if killed two minutes ago
if left:
    os.utime(os.path.join(TMP, left[0]), (old, old))
alive = subprocess.Popen(["sleep", "60"])
kept = [os.path.join(TMP, f"{PREFIX}{alive.pid}.abcdef"), os.path.join(TMP, f"infotherm-ompi.otherhost.{proc.pid}.abcdef")]
for d in kept:
    os.makedirs(os.path.join(d, "ompi.x.0", "jf.0"))
    os.utime(d, (old, old))
status = subprocess.run([BIN] + INFO, env=CLEAN, capture_output=True, timeout=120).returncode
check(status == 0 and not os.path.exists(os.path.join(TMP, left[0] if left else "none")),
      "the next singleton removes it")
check(all(os.path.isdir(d) for d in kept), "and keeps a live process's folder and another host's")
alive.kill()
alive.wait()

shutil.rmtree(BASE, ignore_errors=True)
finish()
