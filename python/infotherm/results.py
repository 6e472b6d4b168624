"""Reading an output folder: load() gathers every command's files into one
Result; snapshots() reads density files lazily, labelled by their
variables, coordinates and times. The file formats are doc/outputs.md's."""
import csv
import glob
import json
import os
import re
import warnings

import numpy as np

try:
    import pandas as _pd
except ImportError:  # pandas is optional: tables are then numpy Tables
    _pd = None


class InfothermWarning(UserWarning):
    """An output that asks for care: a box too small, an untrusted error estimate, a failed cross-check."""


class Table(dict):
    """Columns of a CSV file as float64 numpy arrays (what load() returns when
    pandas is not installed): table["t"], table.columns, len(table)."""

    @property
    def columns(self):
        return list(self.keys())

    def __len__(self):
        return len(next(iter(self.values()))) if dict.__len__(self) else 0


def read_columns(path, partial=False):
    """A CSV file of the program as a Table of float64 numpy columns (whatever pandas
    says): a header of names, float rows at 17 digits, 'nan' and 'inf' read as floats.
    A row with another number of fields than the header raises ValueError, except,
    with partial=True, a last row with too few (a run still writing it), left out."""
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f) if r]
    if not rows:
        raise ValueError(f"{path} is empty (no header)")
    names = [n.strip() for n in rows[0]]
    body = rows[1:]
    if partial and body and len(body[-1]) < len(names):
        body = body[:-1]
    bad = next((k for k, r in enumerate(body) if len(r) != len(names)), None)
    if bad is not None:
        raise ValueError(f"{path}: row {bad + 1} has {len(body[bad])} fields, the header {len(names)}")
    values = np.array([[float(x) for x in r] for r in body], dtype=float).reshape(-1, len(names))
    return Table({n: values[:, k] for k, n in enumerate(names)})


def read_table(path):
    """A CSV file of the program as a pandas DataFrame, or a Table without pandas
    (read_columns)."""
    columns = read_columns(path)
    return _pd.DataFrame(dict(columns)) if _pd is not None else columns


def read_json(path):
    """A summary (summary.json, *_summary.json, crosscheck.json) as a dict."""
    with open(path) as f:
        return json.load(f)


def read_density(path):
    """One density file (density_*.h5, mc_density_*.h5, eigenvector_*.h5, ...) as
    (p, attrs): p a numpy array indexed by the variables in the model's order
    (p[x0, x1, ...], first variable first), attrs the dataset's attributes with
    strings as str and scalars as Python numbers."""
    import h5py
    with h5py.File(path, "r") as f:
        d = f["density"]
        attrs = {k: _scalar(v) for k, v in d.attrs.items()}
        data = np.array(d[...])
    dim = int(attrs["dim"])
    data = data.reshape([int(attrs[f"n{i}"]) for i in reversed(range(dim))])
    return data.transpose(list(reversed(range(dim)))), attrs


def _scalar(value):
    value = _text(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(()).item()
    elif isinstance(value, np.generic):
        value = value.item()
    return _text(value)


def _with_column(table, name, values):
    if _pd is not None and isinstance(table, _pd.DataFrame):
        table = table.copy()
        table[name] = values
        return table
    table = Table(table)
    table[name] = np.asarray(values, dtype=float)
    return table


def _interval_midpoints(t):
    """The midpoints of the intervals (t[k-1], t[k]) that the Monte Carlo's interval means cover; t[0] at k = 0."""
    t = np.asarray(t, dtype=float)
    return np.concatenate([t[:1], 0.5 * (t[1:] + t[:-1])]) if len(t) else t


class Result:
    """Everything one output folder holds. Attributes are None where the folder
    has no such file:

    diagnostics  run's (or analyze's) diagnostics.csv         summary        summary.json
    stationary   stationary.csv (one row, t = inf)           stationary_summary
    mc           mc.csv, with t_mid (interval midpoints)      mc_summary
    crosscheck   crosscheck.json (dict)                       crosscheck_diagnostics, crosscheck_mc, ...
    spectrum     spectrum.csv                                 spectrum_summary
    folder, variables (of the model), files (the names found)."""

    FILES = {"diagnostics": "diagnostics.csv", "summary": "summary.json",
             "stationary": "stationary.csv", "stationary_summary": "stationary_summary.json",
             "mc": "mc.csv", "mc_summary": "mc_summary.json",
             "crosscheck": "crosscheck.json", "crosscheck_diagnostics": "crosscheck_diagnostics.csv",
             "crosscheck_summary": "crosscheck_summary.json", "crosscheck_mc": "crosscheck_mc.csv",
             "crosscheck_mc_summary": "crosscheck_mc_summary.json",
             "spectrum": "spectrum.csv", "spectrum_summary": "spectrum_summary.json"}

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        self.files = []
        for attr, name in self.FILES.items():
            path = os.path.join(folder, name)
            value = None
            if os.path.exists(path):
                self.files.append(name)
                value = read_table(path) if name.endswith(".csv") else read_json(path)
            setattr(self, attr, value)
        for attr in ("mc", "crosscheck_mc"):
            table = getattr(self, attr)
            if table is not None and "t" in table.columns:
                setattr(self, attr, _with_column(table, "t_mid", _interval_midpoints(table["t"])))
        first = next((s for s in self.summaries() if s), None)
        self.variables = list(first.get("variables", [])) if first else []

    def summaries(self):
        return [self.summary, self.stationary_summary, self.mc_summary, self.crosscheck_summary,
                self.crosscheck_mc_summary, self.spectrum_summary]

    def table(self):
        """The main table of the folder: run's diagnostics, else stationary's, mc's, spectrum's."""
        for t in (self.diagnostics, self.stationary, self.crosscheck_diagnostics, self.mc, self.spectrum):
            if t is not None:
                return t
        return None

    def final(self):
        """The final values of the first summary found (run, stationary, mc, ...)."""
        for s in self.summaries():
            if s and "final" in s:
                return s["final"]
        return {}

    def snapshots(self, kind="density"):
        return snapshots(self.folder, kind)

    def __repr__(self):
        return f"infotherm.Result({self.folder!r}: {', '.join(self.files) or 'no outputs'})"


def _warn(result):
    """Warnings for what the summaries flag: a box too small, untrusted error estimates, a failed cross-check."""
    for name, s in zip(("summary.json", "stationary_summary.json", "mc_summary.json", "crosscheck_summary.json",
                        "crosscheck_mc_summary.json", "spectrum_summary.json"), result.summaries()):
        if not s:
            continue
        if s.get("box_too_small"):
            warnings.warn(f"{result.folder}/{name}: up to {s.get('boundary_mass')} of the mass lies in the outermost "
                          "cells; the box is too small (widen -grid_lo/-grid_hi)", InfothermWarning, stacklevel=3)
        untrusted = (s.get("error_estimate") or {}).get("untrusted") or []
        if untrusted:
            warnings.warn(f"{result.folder}/{name}: the error estimates of {', '.join(map(str, untrusted))} are not "
                          "trusted (observed order off 2): refine the grid (a larger -grid_n)", InfothermWarning,
                          stacklevel=3)
    if result.crosscheck and result.crosscheck.get("verdict") == "inconclusive":
        warnings.warn(f"{result.folder}/crosscheck.json: the cross-check is inconclusive (values pass only through "
                      "untrusted solver error estimates)", InfothermWarning, stacklevel=3)
    if result.crosscheck and result.crosscheck.get("passed") is False:
        warnings.warn(f"{result.folder}/crosscheck.json: the cross-check failed (worst: {result.crosscheck.get('worst')})",
                      InfothermWarning, stacklevel=3)


def load(folder):
    """Every output of an infotherm output folder (any command's) as a Result;
    warns (InfothermWarning) where a summary flags a box too small, untrusted
    error estimates or a failed cross-check."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder} is not a folder")
    result = Result(folder)
    if not result.files and not glob.glob(os.path.join(folder, "*.h5")):
        raise FileNotFoundError(f"{folder} holds no infotherm outputs")
    _warn(result)
    return result


def _text(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return value


class Snapshots:
    """The density files of one kind in a folder, in time order, read lazily.

    len(s), s.times, s.files, s.variables (in the model's order), s.coords
    ({variable: cell centres}), s.cell (the cell widths); s[k] the k-th density
    as a numpy array indexed by the variables in the model's order
    (p[v, r]); s.marginal(k, ["v", "w1"]) its marginal over those variables
    (in that order); s.to_xarray() an xarray.DataArray with a time axis
    (needs xarray)."""

    KINDS = {"density": "density_[0-9]*.h5", "stationary": "density_stationary.h5", "mc": "mc_density_[0-9]*.h5",
             "crosscheck": "crosscheck_density_[0-9]*.h5", "eigenvector": "eigenvector_[0-9]*.h5"}

    def __init__(self, folder, kind="density"):
        import h5py
        self._h5py = h5py
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {sorted(self.KINDS)}, not {kind!r}")
        key = (lambda p: int(re.findall(r"(\d+)\.h5$", p)[0])) if kind != "stationary" else None
        self.files = sorted(glob.glob(os.path.join(folder, self.KINDS[kind])), key=key)
        if not self.files:
            raise FileNotFoundError(f"{folder} holds no {kind} snapshots ({self.KINDS[kind]})")
        self.kind = kind
        with h5py.File(self.files[0], "r") as f:
            d = f["density"]
            dim = int(d.attrs["dim"])
            names = [None] * dim
            for key_, value in d.attrs.items():  # an attribute per variable holds its index
                if key_ not in ("dim", "time", "model", "fingerprint", "variables") and not re.match(r"^(n|lo|hi)\d+$", key_) \
                        and np.ndim(value) == 0 and np.issubdtype(np.asarray(value).dtype, np.integer) and 0 <= int(value) < dim:
                    names[int(value)] = key_
            if "variables" in d.attrs:  # slowest first
                names = list(reversed(_text(d.attrs["variables"]).split(",")))
            self.variables = names
            self.n = [int(d.attrs[f"n{i}"]) for i in range(dim)]
            lo = [float(d.attrs[f"lo{i}"]) for i in range(dim)]
            hi = [float(d.attrs[f"hi{i}"]) for i in range(dim)]
        self.cell = [(h - l) / n for l, h, n in zip(lo, hi, self.n)]
        self.coords = {v: l + (np.arange(n) + 0.5) * c for v, l, n, c in zip(self.variables, lo, self.n, self.cell)}
        self._times = None

    @property
    def times(self):
        if self._times is None:
            self._times = []
            for path in self.files:
                with self._h5py.File(path, "r") as f:
                    self._times.append(float(f["density"].attrs["time"]))
        return self._times

    def __len__(self):
        return len(self.files)

    def __getitem__(self, k):
        return read_density(self.files[k])[0]

    def marginal(self, k, variables):
        """The marginal density of snapshot k over the named variables, indexed in the order given."""
        keep = [self.variables.index(v) for v in variables]
        p = self[k]
        other = tuple(a for a in range(p.ndim) if a not in keep)
        m = p.sum(axis=other) * np.prod([self.cell[a] for a in other]) if other else p
        order = sorted(keep)
        return np.transpose(m, [order.index(a) for a in keep])

    def to_xarray(self):
        """An xarray.DataArray (time, first variable, ...) of every snapshot, with coordinates,
        read lazily without dask: nothing of /density is read until values are asked for
        (.values, arithmetic, plotting), and then only the files and the hyperslab that a
        selection (.isel, .sel, [k]) covers. The times come from the files' attributes."""
        import xarray as xr
        from xarray.core import indexing
        data = indexing.LazilyIndexedArray(_StackedDensity(self))
        variable = xr.Variable(["time"] + self.variables, data)
        coords = {"time": self.times, **self.coords}
        # through a Dataset: DataArray(variable) would read the data (as_compatible_data)
        return xr.Dataset({self.kind: variable}, coords=coords)[self.kind]

    def __repr__(self):
        return f"infotherm.Snapshots({len(self)} {self.kind} file(s), variables {self.variables}, cells {self.n})"


def snapshots(folder, kind="density"):
    """The snapshots of one kind in folder (density, stationary, mc, crosscheck, eigenvector), read lazily."""
    return Snapshots(folder, kind)


def _stacked_density_class():
    from xarray.backends import BackendArray
    from xarray.core import indexing

    class StackedDensity(BackendArray):
        """The snapshots of a Snapshots as one lazily indexed (time, x0, x1, ...) array: a
        selection opens only the files of the times it covers and reads only its hyperslab."""

        def __init__(self, snaps):
            self.snaps = snaps
            self.shape = (len(snaps.files), *snaps.n)
            self.dtype = np.dtype("float64")

        def __getitem__(self, key):
            return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.BASIC, self._read)

        def _read(self, key):
            key = tuple(key) + (slice(None),) * (len(self.shape) - len(key))
            n_t = self.shape[0]
            times = list(range(*key[0].indices(n_t))) if isinstance(key[0], slice) else [int(key[0]) % n_t]
            # per variable: the contiguous block the key covers (h5py reads it) and the numpy index within
            blocks, inner = [], []
            for k, n in zip(key[1:], self.shape[1:]):
                picked = list(range(*k.indices(n))) if isinstance(k, slice) else [int(k) % n]
                lo, hi = (min(picked), max(picked) + 1) if picked else (0, 0)
                blocks.append(slice(lo, hi))
                inner.append([i - lo for i in picked] if isinstance(k, slice) else picked[0] - lo)
            h5py = self.snaps._h5py
            out = []
            for t in times:
                with h5py.File(self.snaps.files[t], "r") as f:
                    d = f["density"]
                    if d.ndim == len(blocks):  # stored slowest first: the blocks reversed, then transposed
                        p = np.asarray(d[tuple(reversed(blocks))]).transpose()
                    else:  # an older, flat layout: read whole
                        p = read_density(self.snaps.files[t])[0][tuple(blocks)]
                out.append(p[np.ix_(*[i if isinstance(i, list) else [i] for i in inner])] if p.size else
                           np.zeros([len(i) if isinstance(i, list) else 1 for i in inner]))
            stacked = np.stack(out) if out else np.zeros((0, *[len(i) if isinstance(i, list) else 1 for i in inner]))
            drop = tuple(a + 1 for a, i in enumerate(inner) if not isinstance(i, list))
            stacked = stacked.squeeze(axis=drop) if drop else stacked
            return stacked if isinstance(key[0], slice) else stacked[0]

    return StackedDensity


def _StackedDensity(snaps):
    return _stacked_density_class()(snaps)
