"""Snapshots that describe themselves (doc/outputs.md "HDF5 layout").

Every variable has a dataset of its cell-centre coordinates, named after it
and attached as an HDF5 dimension scale to its axis of /density and
/marginal (what xarray's h5netcdf engine turns into named, labelled
dimensions); both datasets say their variables in a "variables" attribute;
beyond three variables /marginal holds the marginal of the -snapshot_marginal
variables (default the first three), equal to /density summed over the
others; density.xmf's attribute names say which variable lies along X, Y, Z;
the eigenvectors of spectrum form one XDMF grid with distinct attributes
eigenvector_1..K (not a temporal collection at time 0); CSV numbers
round-trip float64 exactly (17 significant digits). 2-D and 5-D on 1 and 2
ranks; bad -snapshot_marginal values are refused before anything is written."""
import os
import xml.etree.ElementTree as ET

import h5py
import numpy as np

from common import check, finish, read_csv, read_json, run, tmpdir

ranks_list = (1, 2)


def coords(n, lo, hi):
    h = (hi - lo) / n
    return lo + (np.arange(n) + 0.5) * h


def scales(path):
    """{dataset: [(dimension label, scale name, scale values), ...] slowest axis first}."""
    out = {}
    with h5py.File(path, "r") as f:
        for name in ("density", "marginal"):
            if name in f:
                d = f[name]
                out[name] = [(dim.label, list(dim.keys())[0] if len(dim) else None,
                              np.array(dim[0]) if len(dim) else None) for dim in d.dims]
                out[name + ".variables"] = d.attrs["variables"].decode() if isinstance(d.attrs["variables"], bytes) else d.attrs["variables"]
    return out


# --- 2-D: inference model (v, r) ---
for ranks in ranks_list:
    out = tmpdir(f"describe2-{ranks}")
    run("run", ["-model", "inference", "-grid_n", "32,24", "-grid_lo", "-6,-1", "-grid_hi", "6,2", "-t_final", "0.3",
                "-output_every", "0.1", "-snapshot_every", "0.1", "-output_dir", out], ranks=ranks)
    s = scales(out + "/density_0001.h5")
    names = [x[1] for x in s["density"]]
    ok = names == ["r", "v"] and np.array_equal(s["density"][0][2], coords(24, -1, 2)) and \
        np.allclose(s["density"][1][2], coords(32, -6, 6), rtol=0, atol=1e-15)
    check(ok and s["density.variables"] == "r,v",
          f"2-D on {ranks} rank(s): /density's axes have the scales {names} (slowest first) with the cell centres; variables = {s['density.variables']}")
    # what a user types: xarray's h5netcdf engine (installed by tools/setup.sh) gives named, labelled dimensions
    try:
        import xarray
        ds = xarray.open_dataset(out + "/density_0001.h5", engine="h5netcdf")
        ok = dict(ds["density"].sizes) == {"r": 24, "v": 32} and \
            np.allclose(ds["v"].values, coords(32, -6, 6), rtol=0, atol=1e-15) and \
            np.allclose(ds["r"].values, coords(24, -1, 2), rtol=0, atol=1e-15)
        check(ok, f"2-D on {ranks} rank(s): xarray (h5netcdf) opens /density with dims {dict(ds['density'].sizes)} and cell-centre coordinates")
        ds.close()
    except ImportError as e:
        check(False, f"xarray with the h5netcdf engine is not installed ({e}); tools/setup.sh installs python3-xarray and python3-h5netcdf")
    # CSV numbers round-trip: the last row equals summary.json's final values exactly, and t matches the snapshots
    d, summary = read_csv(out + "/diagnostics.csv"), read_json(out + "/summary.json")
    same = [k for k, v in summary["final"].items() if k in d and v is not None and d[k][-1] == v]
    common = [k for k, v in summary["final"].items() if k in d and v is not None]
    with h5py.File(out + "/density_0003.h5", "r") as f:  # t = 0.1 + 0.1 + 0.1, not 0.3
        t1 = float(f["density"].attrs["time"])
    check(len(common) > 10 and same == common and t1 in list(d["t"]),
          f"2-D on {ranks} rank(s): diagnostics.csv holds summary.json's {len(common)} final values and the snapshot time {t1!r} exactly")
    xmf = ET.parse(out + "/density.xmf").getroot()
    check([a.get("Name") for a in xmf.iter("Attribute")][0] == "density (X=v, Y=r)",
          "density.xmf's attribute names the variables along X and Y")

# --- 5-D: linear model with named variables, -snapshot_marginal ---
M = ",".join("-1" if i == j else ("0.2" if j == i + 1 else "0") for i in range(5) for j in range(5))
n, lo, hi = [8, 10, 12, 8, 8], [-4, -5, -4, -4, -3], [4, 5, 4, 4, 3]
base = ["-model", "linear", "-linear_M", M, "-vars", "a,b,c,d,e", "-grid_n", ",".join(map(str, n)),
        "-grid_lo", ",".join(map(str, lo)), "-grid_hi", ",".join(map(str, hi)), "-t_final", "0.05", "-output_every", "0.05", "-ts_adapt_type", "none", "-ts_dt", "0.025", "-init_cov", "0.3,0.3,0.3,0.3,0.3"]
for ranks in ranks_list:
    for choice, axes in ((None, [0, 1, 2]), ("b,d,e", [1, 3, 4])):
        out = tmpdir(f"describe5-{ranks}-{choice}")
        run("run", base + (["-snapshot_marginal", choice] if choice else []) + ["-output_dir", out], ranks=ranks)
        path = out + "/density_0001.h5"
        s = scales(path)
        names = [x[1] for x in s["density"]]
        centres = all(np.allclose(x[2], coords(n[4 - k], lo[4 - k], hi[4 - k]), rtol=0, atol=1e-15) for k, x in enumerate(s["density"]))
        check(names == ["e", "d", "c", "b", "a"] and centres and s["density.variables"] == "e,d,c,b,a",
              f"5-D on {ranks} rank(s): /density's five axes have scales e,d,c,b,a with the cell centres")
        if choice is None:  # xarray (h5netcdf engine): five named dims labelled by the cell centres
            import xarray
            with xarray.open_dataset(path, engine="h5netcdf") as ds:
                ok = dict(ds["density"].sizes) == {v: n[k] for k, v in enumerate("abcde")} and \
                    all(np.allclose(ds[v].values, coords(n[k], lo[k], hi[k]), rtol=0, atol=1e-15) for k, v in enumerate("abcde"))
            check(ok, f"5-D on {ranks} rank(s): xarray (h5netcdf) opens /density with dims a..e and their cell centres")
        want = [["a", "b", "c", "d", "e"][k] for k in reversed(axes)]
        mcentres = all(np.allclose(x[2], coords(n[a], lo[a], hi[a]), rtol=0, atol=1e-15)
                       for x, a in zip(s["marginal"], reversed(axes)))
        with h5py.File(path, "r") as f:
            p = np.array(f["density"][...])  # axes e, d, c, b, a
            marginal = np.array(f["marginal"][...])
        other = [4 - a for a in range(5) if a not in axes]  # HDF5 axes of the variables summed over
        h = [(hi[a] - lo[a]) / n[a] for a in range(5)]
        expect = p.sum(axis=tuple(other)) * np.prod([h[a] for a in range(5) if a not in axes])
        check([x[1] for x in s["marginal"]] == want and mcentres and s["marginal.variables"] == ",".join(want)
              and marginal.shape == expect.shape and np.abs(marginal - expect).max() < 1e-13 * expect.max(),
              f"5-D on {ranks} rank(s), -snapshot_marginal {choice or '(default)'}: /marginal over {want} equals /density summed over the others, with its scales")
        xmf = ET.parse(out + "/density.xmf").getroot()
        label = [a.get("Name") for a in xmf.iter("Attribute")][0]
        check(label == "marginal (" + ", ".join(f"{'XYZ'[j]}={'abcde'[a]}" for j, a in enumerate(axes)) + ")",
              f"5-D density.xmf names the marginal's axes: {label}")

# bad -snapshot_marginal values: one line naming the option, nothing written
for value, why in (("b,q", "not a variable"), ("a,b,c,d", "four variables"), ("b,b", "twice")):
    out = tmpdir("describe-bad")
    p = run("run", base + ["-snapshot_marginal", value, "-output_dir", out], expect_ok=False)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    check(p.returncode == 1 and len(lines) == 1 and "-snapshot_marginal" in lines[0] and not os.path.exists(out),
          f"-snapshot_marginal {value} ({why}) is refused with one line, nothing written: {lines}")

# --- spectrum: one XDMF grid with distinct eigenvector attributes ---
out = tmpdir("describe-spectrum")
run("spectrum", ["-model", "brownian", "-grid_n", "64", "-grid_lo", "-7", "-grid_hi", "7", "-spectrum_nev", "3", "-output_dir", out])
xmf = ET.parse(out + "/eigenvectors.xmf").getroot()
grids = list(xmf.iter("Grid"))
attrs = [a.get("Name") for a in xmf.iter("Attribute")]
files = [e.text for e in xmf.iter("DataItem") if e.get("Format") == "HDF"]
check(len(grids) == 1 and grids[0].get("GridType") == "Uniform" and not list(xmf.iter("Time")),
      f"eigenvectors.xmf is one uniform grid without a time ({len(grids)} grid(s))")
check(len(attrs) == 3 and len(set(attrs)) == 3 and all(a.startswith(f"eigenvector_{k + 1} ") for k, a in enumerate(attrs))
      and len(set(files)) == 3 and all(os.path.exists(os.path.join(out, f.split(":")[0])) for f in files),
      f"eigenvectors.xmf has distinct attributes {attrs} over distinct files")
finish()
