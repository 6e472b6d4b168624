"""The output contract of doc/design.md: diagnostics.csv (t first, doc/physics.md
names), summary.json, HDF5 snapshots with an XDMF index, no temporary files
left; the box-too-small warning; the progress line on a terminal; info."""
import glob
import os
import pty
import re
import subprocess
import xml.etree.ElementTree as ET
import h5py
import numpy as np
from common import *

out = tmpdir("contract")
run("run", ["-model", "inference", "-grid_n", "48,40", "-t_final", "1", "-output_every", "0.1", "-snapshot_every", "0.25", "-output_dir", out], ranks=2)
diag = read_csv(out + "/diagnostics.csv")
header = open(out + "/diagnostics.csv").readline().strip().split(",")
expected = ["t", "mass", "entropy", "entropy_v", "entropy_r", "mean_v", "mean_r", "var_v", "var_r", "mutual_information", "mi_v_r",
            "entropy_rate", "entropy_production", "entropy_production_v", "entropy_production_r", "entropy_flow_v", "entropy_flow_r",
            "heat_rate_v", "heat_rate_r", "info_flow_X", "info_flow_Y", "decoding_mse", "cost_per_bit",
            "entropy_production_cum", "entropy_flow_v_cum", "entropy_flow_r_cum", "info_flow_X_cum"]
check([c for c in header if c in expected] == expected, f"diagnostics.csv header holds doc/physics.md's names in order: {header}")
# the header is the table of columns (help -columns) for v, r: two variables, the decoder (v not in X)
check(header == diag_columns(["v", "r"], {"decoder"}), f"diagnostics.csv header = the table of columns for v, r: {diag_columns(['v', 'r'], {'decoder'})}")
check(np.allclose(diag["t"], np.arange(11) * 0.1, rtol=0, atol=1e-12), f"one row per output time, landing on multiples of -output_every: {diag['t']}")
summary = read_json(out + "/summary.json")
for key in ("command", "model", "variables", "parameters", "grid", "ranks", "wall_time", "final", "box_too_small", "boundary_mass"):
    check(key in summary, f"summary.json has '{key}'")
check(summary["ranks"] == 2 and summary["model"] == "inference" and summary["variables"] == ["v", "r"], "summary.json records model, variables and ranks")
check(abs(summary["final"]["mass"] - 1) < 1e-12 and abs(summary["final"]["entropy"] - diag["entropy"][-1]) < 1e-12, "summary.json final values = last row")
check(summary["parameters"]["tau_r"] == 0.1 and summary["grid"]["n"] == [48, 40], "summary.json records parameters and grid")
snaps = sorted(glob.glob(out + "/density_*.h5"))
check(len(snaps) == 5, f"snapshots at t = 0, 0.25, 0.5, 0.75, 1: {len(snaps)} files")
times = [read_density(s)[1]["time"] for s in snaps]
check(np.allclose(times, [0, 0.25, 0.5, 0.75, 1.0], atol=1e-12), f"snapshot times {times}")
xdmf = ET.parse(out + "/density.xmf").getroot()
items = [e.text for e in xdmf.iter("DataItem") if e.get("Format") == "HDF"]
check(len(items) == 5 and all(os.path.exists(os.path.join(out, i.split(":")[0])) for i in items), f"density.xmf indexes every snapshot: {items}")
steps = [float(e.get("Value")) for e in xdmf.iter("Time")]
check(np.allclose(steps, times), "density.xmf carries the snapshot times")
# origin and spacing in double precision with every digit (ParaView reads an XML
# DataItem without Precision="8" as 32-bit floats): lo + h/2 and h of the 48 x 40
# cells on [-6, 6] x [-1, 2] (inference.opts' box), z, y, x order
geometry = [e for e in xdmf.iter("Geometry")][0].findall("DataItem")
h = [12 / 48, 3 / 40]
want = [[0.5, -1 + h[1] / 2, -6 + h[0] / 2], [1.0, h[1], h[0]]]
got = [[float(v) for v in e.text.split()] for e in geometry]
check(all(e.get("Precision") == "8" and e.get("NumberType") == "Float" for e in geometry)
      and all(abs(a - b) <= 1e-15 * abs(b) for row_a, row_b in zip(got, want) for a, b in zip(row_a, row_b)),
      f"density.xmf: origin and spacing as 8-byte floats, to 1e-15 ({got}, want {want})")
check(not glob.glob(out + "/*.tmp"), "no temporary files left behind")
p, attrs = read_density(snaps[-1])
check(p.shape == (48, 40) and abs(p.sum() * (12 / 48) * (3 / 40) - 1) < 1e-12, "snapshot holds the whole normalised density in natural order")

# a box too small for the density: a warning on stderr and a field in summary.json
out = tmpdir("smallbox")
proc = run("run", ["-model", "linear", "-grid_n", "32", "-grid_lo", "-2.5", "-grid_hi", "2.5", "-init_cov", "0.1,0.1", "-t_final", "2", "-output_dir", out])
s = read_json(out + "/summary.json")
check("box is too small" in proc.stderr and s["box_too_small"] is True and s["boundary_mass"] > 1e-6, f"small box reported: {proc.stderr.strip()} / boundary_mass {s['boundary_mass']:.2e}")
# the warning's fraction is summary.json's boundary_mass (the largest over the run,
# which grows here as the density spreads from variance 0.1 to 1 over the walls at 2.5)
printed = re.search(r"up to ([0-9.e+-]+) of the mass", proc.stderr)
check(printed is not None and float(printed.group(1)) == float(f"{s['boundary_mass']:.3g}"),
      f"the warning prints summary.json's boundary_mass {s['boundary_mass']:.3g}: {proc.stderr.strip()}")
proc = run("run", ["-model", "linear", "-grid_n", "32", "-init_cov", "1,1", "-t_final", "2", "-output_dir", out + "/ok"])
s = read_json(out + "/ok/summary.json")
check(proc.stderr == "" and s["box_too_small"] is False, "a box that holds the density gives no warning")

# a progress line on a terminal, silenced by -quiet
master, slave = pty.openpty()
proc = subprocess.run([BIN, "run", "-model", "linear", "-grid_n", "64", "-t_final", "4", "-output_dir", tmpdir("progress")], stderr=slave, stdout=subprocess.DEVNULL, timeout=120)
os.close(slave)
text = b""
try:
    while True:
        chunk = os.read(master, 65536)
        if not chunk:
            break
        text += chunk
except OSError:
    pass
text = text.decode(errors="replace")
check(proc.returncode == 0 and "%" in text and "ETA" in text and "dt =" in text, f"progress line on a terminal: {text[-120:]!r}")

# info: model, parameters, grid and decomposition
proc = run("info", ["-model", "population"], ranks=3)
check(all(s in proc.stdout for s in ("model population", "tau_r", "grid axis 2", "rank 2 owns")), "info prints model, parameters, grid and every rank's cells")

# -init stationary and -init file round trip
out = tmpdir("init")
run("stationary", ["-model", "bistable", "-bistable_h", "0.3", "-output_dir", out + "/ss"])
run("run", ["-model", "bistable", "-bistable_h", "0.3", "-init", "stationary", "-t_final", "0.5", "-output_dir", out + "/a"])
run("run", ["-model", "bistable", "-bistable_h", "0.3", "-init", "file", "-init_file", out + "/ss/density_stationary.h5", "-t_final", "0.5", "-output_dir", out + "/b"])
a, b = read_csv(out + "/a/diagnostics.csv"), read_csv(out + "/b/diagnostics.csv")
check(np.allclose(a["entropy"], b["entropy"], rtol=1e-10) and np.ptp(a["entropy"]) < 1e-8, "-init stationary = -init file of the stationary snapshot, and it stays stationary")
# analyze on 3 ranks reproduces, from the snapshots, what run wrote on 1
out = tmpdir("analyze")
run("stationary", ["-model", "inference", "-grid_n", "48,40", "-output_dir", out + "/ss"])
# a reference read from a file is the same on any number of ranks (a Krylov-solved one
# agrees only to the solver tolerance, which the far tails of ln p_ss amplify in the KL)
run("run", ["-model", "inference", "-grid_n", "48,40", "-t_final", "1", "-output_every", "0.25", "-snapshot_every", "0.25",
            "-kl_reference", out + "/ss/density_stationary.h5", "-sensor", "r", "-output_dir", out])
proc = run("analyze", sorted(glob.glob(out + "/density_*.h5")), ranks=3)
a, r = read_csv(out + "/analysis/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
cols = [k for k in r if not k.endswith("_cum")]
check(list(a) == analyze_columns(list(r)) and "kl_to_stationary" in a, "analyze rebuilds the run's columns from the options stored in the snapshot")
worst = max(float(np.max(np.abs(a[k] - r[k]) / (np.abs(r[k]) + 1e-2))) for k in cols)
check(not any(k.endswith("_cum") for k in a) and "entropy_production_cum_snapshots" in a,
      "analyze names its cumulative columns *_cum_snapshots, never the run's *_cum")
check(worst < 1e-10, f"analyze on 3 ranks = run on 1 at every snapshot, every column but *_cum (max diff {worst:.1e}, relative to |value| + 0.01)")
proc = run("analyze", [out + "/nothere.h5"], expect_ok=False)
check(proc.returncode == 1 and "nothere.h5" in proc.stderr and proc.stderr.count("\n") == 1, f"analyze of a missing file: {proc.stderr.strip()}")

# options are stored as name/value pairs (/options, one attribute each), so a
# formula with spaces survives: analyze on 2 ranks = run on 1 at each snapshot
out = tmpdir("analyze-expr")
drift = "(-x + 0.5 * t)"
run("run", ["-model", "expr", "-vars", "x", "-expr_drift_x", drift, "-expr_diffusion_x", "0.5", "-grid_n", "64",
            "-t_final", "0.5", "-snapshot_every", "0.25", "-output_dir", out])
with h5py.File(out + "/density_0001.h5", "r") as f:
    stored = {k: v.decode() for k, v in f["options"].attrs.items()}
check(stored.get("expr_drift_x") == drift and stored.get("grid_n") == "64" and stored.get("quiet") == "",
      f"the snapshot keeps each option as a name/value pair: {stored}")
proc = run("analyze", [out + "/density_0001.h5", out + "/density_0002.h5"], ranks=2)
a, r = read_csv(out + "/analysis/diagnostics.csv"), read_csv(out + "/diagnostics.csv")
rows = [int(np.argmin(np.abs(r["t"] - t))) for t in a["t"]]
worst = max(float(np.max(np.abs(a[k] - r[k][rows]) / (np.abs(r[k][rows]) + 1e-2))) for k in r if not k.endswith("_cum"))
check(list(a) == analyze_columns(list(r)) and np.allclose(a["t"], [0.25, 0.5], atol=1e-12) and worst < 1e-10,
      f"analyze of an expr run whose formula has spaces = the run's rows (max diff {worst:.1e})")
# a snapshot without /options (an older infotherm's) is refused in one line
with h5py.File(out + "/density_0001.h5", "r") as f, h5py.File(out + "/old.h5", "w") as g:
    f.copy("density", g)
proc = run("analyze", [out + "/old.h5"], expect_ok=False)
check(proc.returncode == 1 and "/options" in proc.stderr and proc.stderr.count("\n") == 1,
      f"analyze of a snapshot without /options: {proc.stderr.strip()}")
finish()
