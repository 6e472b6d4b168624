"""The Python package python/infotherm (doc/python.md), from the source tree.

load() on run, stationary, mc, crosscheck and spectrum folders gives every
table with the values the files hold (read here independently with the csv
and json modules), the Monte Carlo's interval midpoints, and warnings
(InfothermWarning) for a box too small and for untrusted error estimates;
snapshots() reads the densities lazily in the model's variable order with
their times and coordinates, and marginals; run() runs the binary and raises
the program's one-line message as InfothermError; errorband() draws q ± |err|
and q ± stderr."""
import csv
import json
import os
import sys
import tempfile
import warnings

import h5py
import numpy as np

from common import BIN, check, finish, tmpdir

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
os.environ["INFOTHERM"] = os.path.abspath(BIN)
import infotherm  # noqa: E402


def csv_columns(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return {n: np.array([float(r[k]) for r in rows[1:]]) for k, n in enumerate(rows[0])}


def same_table(table, path):
    ref = csv_columns(path)
    return list(table.columns)[:len(ref)] == list(ref) and all(
        np.array_equal(np.asarray(table[k], dtype=float), v, equal_nan=True) for k, v in ref.items())


INFERENCE = dict(model="inference", grid_n=[32, 24], grid_lo=[-6, -1], grid_hi=[6, 2])

# --- run, with error columns and snapshots ---
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    r = infotherm.run("run", t_final=0.3, output_every=0.1, snapshot_every=0.1, error_estimate=True, **INFERENCE)
check(same_table(r.diagnostics, os.path.join(r.folder, "diagnostics.csv")) and "mutual_information_err" in r.diagnostics.columns,
      f"run: load().diagnostics is diagnostics.csv, float64 for float64, with the _err columns ({len(r.diagnostics)} rows)")
with open(os.path.join(r.folder, "summary.json")) as f:
    check(r.summary == json.load(f) and r.variables == ["v", "r"] and r.final() == r.summary["final"],
          "run: load().summary is summary.json; variables v, r")
s = infotherm.snapshots(r.folder)
with h5py.File(s.files[2], "r") as f:
    raw, t2 = np.array(f["density"][...]), float(f["density"].attrs["time"])
check(len(s) == 4 and s.variables == ["v", "r"] and s[2].shape == (32, 24) and np.array_equal(s[2], raw.T) and s.times[2] == t2,
      f"snapshots(): {len(s)} files, variables {s.variables}, s[k] indexed [v, r] (the file's /density transposed), times {s.times}")
cv = s.coords["v"]
check(np.allclose(cv, -6 + (np.arange(32) + 0.5) * 12 / 32, rtol=0, atol=1e-15) and
      np.allclose(s.marginal(2, ["r"]), raw.sum(axis=1) * 12 / 32, rtol=1e-14, atol=0) and
      np.allclose(s.marginal(2, ["r", "v"]), raw, rtol=0, atol=0),
      "snapshots(): coordinates are the cell centres; marginal(k, ['r']) sums over v times its cell; ['r', 'v'] is p[r, v]")

# --- to_xarray() is lazy without dask: counting the reads of /density ---
lazy = infotherm.snapshots(infotherm.run("run", t_final=1.9, output_every=0.1, snapshot_every=0.1, **INFERENCE).folder)
reads = []
_getitem = h5py.Dataset.__getitem__


def counting_getitem(self, key, *rest):
    if self.name == "/density":
        reads.append(self.file.filename)
    return _getitem(self, key, *rest)


h5py.Dataset.__getitem__ = counting_getitem
try:
    da = lazy.to_xarray()
    opened = len(reads)
    sub = da.isel(time=slice(4, 7), v=slice(2, 30, 3))
    sliced = len(reads)
    values = sub.values
    after_sub = len(reads) - sliced
    one = float(da.isel(time=13).sel(v=da.v[5], r=da.r[7]))
    after_one = len(reads) - sliced - after_sub
finally:
    h5py.Dataset.__getitem__ = _getitem
full = np.stack([lazy[k] for k in range(len(lazy))])
check(len(lazy) == 20 and da.dims == ("time", "v", "r") and da.shape == (20, 32, 24) and opened == 0 and sliced == 0,
      f"to_xarray() of {len(lazy)} snapshots reads no density ({opened} reads), nor does a selection ({sliced - opened})")
check(after_sub == 3 and np.array_equal(values, full[4:7, 2:30:3]) and after_one == 1 and one == full[13, 5, 7],
      f"its values read only the files a selection covers ({after_sub} for 3 times, {after_one} for one value), "
      "and equal s[k]")
check(np.array_equal(da.values, full) and np.allclose(da.sum("r").values, full.sum(axis=2), rtol=1e-14, atol=0),
      "to_xarray().values is every snapshot stacked; reductions see the same values")

# --- the one-file readers, which tools/ and tests/common.py read with ---
p2, attrs2 = infotherm.read_density(s.files[2])
check(np.array_equal(p2, raw.T) and attrs2["time"] == t2 and isinstance(attrs2["variables"], str),
      f"read_density(): the file's /density transposed to [v, r], its attributes as Python values ({attrs2['variables']!r})")
with tempfile.TemporaryDirectory() as d:
    text = open(os.path.join(r.folder, "diagnostics.csv")).read()
    with open(os.path.join(d, "diagnostics.csv"), "w") as f:  # a run still writing its last row
        f.write(text + text.splitlines()[-1].split(",", 1)[0] + ",0.5")
    partial = infotherm.read_columns(os.path.join(d, "diagnostics.csv"), partial=True)
    check(same_table(partial, os.path.join(r.folder, "diagnostics.csv")) and all(
          isinstance(v, np.ndarray) and v.dtype == np.float64 for v in partial.values()),
          f"read_columns(partial=True): float64 arrays; a last row with too few fields is left out ({len(partial)} rows)")
    try:
        infotherm.read_columns(os.path.join(d, "diagnostics.csv"))
        check(False, "read_columns() refuses a short row")
    except ValueError as e:
        check("fields" in str(e), f"read_columns() refuses a short row (the tests read strictly): {e}")
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
private = []
for name in sorted(os.listdir(os.path.join(root, "tools"))) + ["../tests/common.py"]:
    if name.endswith(".py"):
        code = open(os.path.join(root, "tools", name)).read()
        private += [f"{name}: {w}" for w in ("csv.reader", "csv.DictReader", "h5py.File", "np.loadtxt", "np.genfromtxt")
                    if w in code]
check(not private, f"tools/*.py and tests/common.py read the outputs only through the package ({private or 'no other reader'})")

# errorband: q ± |err|
import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
fig, ax = plt.subplots()
line, band = infotherm.errorband(ax, r, "mutual_information")
path = band.get_paths()[0].vertices
q = np.asarray(r.diagnostics["mutual_information"])
e = (np.asarray(r.diagnostics["mutual_information_uncertainty"]) if "mutual_information_uncertainty" in r.diagnostics.columns
     else np.abs(np.asarray(r.diagnostics["mutual_information_err"])))
check(np.allclose(line.get_ydata(), q) and np.isclose(path[:, 1].max(), (q + e).max()) and np.isclose(path[:, 1].min(), (q - e).min()),
      "errorband: the line is q and the band spans q ± q_uncertainty (q ± |q_err| without it)")

# --- stationary ---
st = infotherm.run("stationary", **INFERENCE)
check(st.stationary is not None and same_table(st.stationary, os.path.join(st.folder, "stationary.csv")) and
      np.isinf(np.asarray(st.stationary["t"])[0]) and st.final()["mutual_information"] == np.asarray(st.stationary["mutual_information"])[0],
      "stationary: load().stationary is stationary.csv (t = inf), its values those of stationary_summary.json")
ss = infotherm.snapshots(st.folder, "stationary")
check(len(ss) == 1 and ss[0].shape == (32, 24) and abs(ss[0].sum() * 12 / 32 * 3 / 24 - 1) < 1e-12,
      "snapshots(kind='stationary'): the stationary density, mass 1")

# --- mc: standard errors, interval midpoints ---
mc = infotherm.run("mc", model="brownian", grid_n=64, grid_lo=-6, grid_hi=6, t_final=0.2, output_every=0.05,
                   mc_particles=4000)
t = np.asarray(mc.mc["t"])
check(same_table(mc.mc, os.path.join(mc.folder, "mc.csv")) and "var_v_stderr" in mc.mc.columns and
      np.allclose(np.asarray(mc.mc["t_mid"])[1:], (t[1:] + t[:-1]) / 2) and mc.mc_summary["command"] == "mc",
      "mc: load().mc is mc.csv with the _stderr columns and t_mid, the midpoints of the intervals the flows average")
fig, ax = plt.subplots()
line, band = infotherm.errorband(ax, mc, "entropy_flow_v", k=2)
check(np.allclose(line.get_xdata(), np.asarray(mc.mc["t_mid"])), "errorband of a Monte Carlo interval mean is drawn at the midpoints")

# --- crosscheck ---
cc = infotherm.run("crosscheck", model="brownian", grid_n=64, grid_lo=-6, grid_hi=6, t_final=0.1, mc_particles=4000)
with open(os.path.join(cc.folder, "crosscheck.json")) as f:
    check(cc.crosscheck == json.load(f) and cc.crosscheck["passed"] is True and cc.crosscheck_diagnostics is not None
          and cc.crosscheck_mc is not None and "t_mid" in cc.crosscheck_mc.columns,
          "crosscheck: load() holds crosscheck.json and both sides' tables")

# --- spectrum ---
sp = infotherm.run("spectrum", model="brownian", grid_n=128, grid_lo=-7, grid_hi=7, spectrum_nev=2)
lam = np.asarray(sp.spectrum["lambda"])
ev = infotherm.snapshots(sp.folder, "eigenvector")
check(same_table(sp.spectrum, os.path.join(sp.folder, "spectrum.csv")) and len(lam) == 2 and abs(lam[0] - 1) < 5e-3
      and len(ev) == 2 and ev[0].shape == (128,),
      f"spectrum: load().spectrum is spectrum.csv (lambda {lam}, the exact 1, 2 of the Ornstein-Uhlenbeck process), two eigenvectors")

# --- warnings: a box too small, untrusted error estimates ---
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    infotherm.run("stationary", model="brownian", grid_n=32, grid_lo=-2, grid_hi=2)
check(any(issubclass(w.category, infotherm.InfothermWarning) and "box is too small" in str(w.message) for w in caught),
      "load() warns when summary.json says the box is too small")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    u = infotherm.run("run", model="linear", linear_M=[-1, 0.3, 0.6, -0.8], linear_b=[0.2, -0.1], linear_D=[0.5, 0.3],
                      grid_n=32, grid_lo=-8, grid_hi=8, init_mean=[1.0, -0.8], init_cov=[0.3, 0.05, 0.05, 0.2],
                      t_final=0.5, output_every=0.5, error_estimate=True)
flagged = u.summary["error_estimate"]["untrusted"]
check(flagged and any(issubclass(w.category, infotherm.InfothermWarning) and "not trusted" in str(w.message)
                      and flagged[0] in str(w.message) for w in caught),
      f"load() warns about untrusted error estimates ({len(flagged)} flagged)")

# --- run() raises the one-line message ---
try:
    infotherm.run("run", model="brownian", grid_n=4)
    check(False, "a bad -grid_n raises InfothermError")
except infotherm.InfothermError as e:
    check(e.status == 1 and "-grid_n" in str(e) and "\n" not in str(e), f"a bad -grid_n raises InfothermError: {e}")
with tempfile.TemporaryDirectory() as d:
    try:
        infotherm.load(d)
        check(False, "load() of an empty folder raises")
    except FileNotFoundError as e:
        check("no infotherm outputs" in str(e), f"load() of an empty folder raises FileNotFoundError: {e}")
finish()
