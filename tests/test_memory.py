"""The memory estimate per rank (doc/clusters.md "Memory per unknown"):
- `info` prints it for run and stationary, and it scales with the share of
  the unknowns a rank holds (1 and 2 ranks: the per-rank part halves);
- a grid far beyond the node's memory is refused before anything of its size
  is allocated: one line naming -memory_check, status 1, no output folder, and
  a peak resident set of a small process (a DMDA of 2.1e9 cells alone would
  take gigabytes), on 1 and 2 ranks; in the 64-bit build also 200000^2."""
import re
import resource
import sys
import subprocess
from common import *

# the node's physical memory, as the program reads it (sysconf), for the expected lines
PHYS = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def estimate(ranks, opts):
    text = run("info", opts, ranks=ranks).stdout
    line = [l for l in text.splitlines() if l.startswith("memory per rank")]
    check(len(line) == 1, f"info on {ranks} rank(s) prints one memory line: {line}")
    m = re.search(r"run ([\d.]+) (\w+) \((\d+) B per unknown\); stationary ([\d.]+) (\w+) \((\d+) B per unknown\); "
                  r"the node has ([\d.]+) (\w+) per rank \((\d+) rank\(s\) per node\)", line[0])
    unit = {"MB": 1e6, "GB": 1e9, "kB": 1e3, "TB": 1e12}
    return (float(m[1]) * unit[m[2]], int(m[3]), float(m[4]) * unit[m[5]], int(m[6]),
            float(m[7]) * unit[m[8]], int(m[9]))


opts = ["-options_file", os.path.join(os.path.dirname(__file__), "..", "input", "population_plastic.opts"),
        "-grid_n", "12"]
cells = 12 ** 5
one, two = estimate(1, opts), estimate(2, opts)
check(one[1] == two[1] and one[3] == two[3], f"bytes per unknown do not depend on the ranks (run {one[1]}, stationary {one[3]})")
for k, name in ((0, "run"), (2, "stationary")):
    per_unknown = one[k + 1]
    # the estimate is a base per rank plus the rank's share of the unknowns times the bytes per unknown
    base1, base2 = one[k] - cells * per_unknown, two[k] - cells / 2 * per_unknown
    check(abs(base1 - base2) < 0.01 * one[k] and 0 < base1 < 1e8,
          f"{name}: {one[k] / 1e6:.0f} MB on 1 rank, {two[k] / 1e6:.0f} MB per rank on 2 = base {base1 / 1e6:.0f} MB + "
          f"share x {per_unknown} B")
check(abs(one[4] - PHYS) < 0.01 * PHYS and one[5] == 1, f"1 rank: the node's {one[4] / 1e9:.1f} GB (sysconf: {PHYS / 1e9:.1f})")
check(abs(two[4] - PHYS / 2) < 0.01 * PHYS and two[5] == 2, f"2 ranks on one node: {two[4] / 1e9:.1f} GB per rank")

# refused before the grid is allocated
for ranks in (1, 2):
    out = tmpdir(f"memory-{ranks}")
    p = run("run", ["-model", "linear", "-grid_n", "46000,46000", "-output_dir", out], ranks=ranks, expect_ok=False)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    lines = [l for l in p.stderr.splitlines() if l.startswith("infotherm")]
    check(p.returncode == 1 and len(lines) == 1 and "-memory_check false" in lines[0] and " per rank (2.116e+09 unknowns" in lines[0]
          and not os.path.exists(out), f"46000^2 on {ranks} rank(s) refused: {lines}")
    check(peak < 500e6, f"... before allocating: the largest process so far peaked at {peak / 1e6:.0f} MB")
# info estimates without allocating the grid: the 5-D population at 40^5 (1.02e8 unknowns, whose
# density alone would take 819 MB) answers from a process that peaks far below that
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
p = subprocess.run([sys.executable, "-c", "import resource, subprocess, sys; "
                    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                    "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024); print(p.stdout)",
                    BIN, "info", "-options_file", os.path.join(ROOT, "input", "population_plastic.opts"), "-grid_n", "40"],
                   capture_output=True, text=True, timeout=300)
status, peak = (int(x) for x in p.stdout.split("\n")[0].split())
est = re.search(r"memory per rank \(estimate\): run ([0-9.]+) GB", p.stdout)
check(status == 0 and peak < 200e6 and est and 50 < float(est.group(1)) < 500,
      f"info at 40^5 estimates {est and est.group(1)} GB per rank for run without allocating the grid (peak {peak / 1e6:.0f} MB < 200 MB)")
# info -ranks N -ranks_per_node R: a job of another size, from one rank
p = run("info", ["-options_file", os.path.join(ROOT, "input", "population_plastic.opts"), "-grid_n", "40", "-ranks", "128",
                 "-ranks_per_node", "16"])
plan = re.search(r"on 128 rank\(s\), 16 per node: run ([0-9.]+) (GB|MB); stationary ([0-9.]+) (GB|MB); 8 node\(s\)", p.stdout)
per = re.search(r"run [0-9.]+ GB \(([0-9]+) B per unknown\)", p.stdout)
want = (50e6 + 40 ** 5 / 128 * int(per.group(1))) / 1e6 if per else 0
got = float(plan.group(1)) * (1e3 if plan.group(2) == "GB" else 1) if plan else 0
# printed with 3 digits: 1.07 GB is 1070 +- 5 MB
check(plan is not None and abs(got - want) < 0.005 * want + (5 if plan.group(2) == "GB" else 0),
      f"info -ranks 128 -ranks_per_node 16 at 40^5: run {got:.0f} MB per rank (50 MB + 40^5/128 x B per unknown = {want:.0f} MB), 8 nodes")
p = run("run", ["-model", "linear", "-grid_n", "200000,200000", "-output_dir", tmpdir("memory-big")], expect_ok=False)
check(p.returncode == 1 and ("-memory_check false" in p.stderr or "64-bit indices" in p.stderr),
      f"200000^2 refused (by the memory check with 64-bit indices, else by the index check): {p.stderr.strip()}")
finish()
