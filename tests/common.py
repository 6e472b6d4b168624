"""Shared helpers for infotherm's test scripts: running the binary (under MPI
when asked), reading its outputs (through the package's readers, python/infotherm/results.py), and the closed forms of the linear model
(doc/physics.md §2: dx = (M x + b) dt + sqrt(2 D) dW), derived independently of
the solver in the project's Python package (python/infotherm/linear.py, shared
with tools/; the tests use the checkout's package, like test_python.py)."""
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from infotherm.linear import expm, linear_diagnostics, linear_moments, lyapunov  # noqa: E402,F401
from infotherm.results import read_columns, read_density, read_json  # noqa: E402,F401

BIN = os.environ.get("INFOTHERM", os.path.join(os.path.dirname(__file__), "..", "build", "infotherm"))
MPIEXEC = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--quiet"]

failures = []


def tree(folder):
    """Every file under folder: relative path -> bytes."""
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def check(cond, message):
    """Records one assertion; the script exits non-zero at the end if any failed."""
    print(("ok   " if cond else "FAIL ") + message, flush=True)
    if not cond:
        failures.append(message)


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


def run(command, options, ranks=1, expect_ok=True):
    """Runs `infotherm command options...` on `ranks` MPI ranks; returns the CompletedProcess."""
    argv = [BIN, command] + [str(o) for o in options] + ["-quiet"]
    if ranks > 1:
        argv = MPIEXEC + ["-n", str(ranks)] + argv
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    if expect_ok and proc.returncode != 0:
        print(" ".join(argv), "\n", proc.stdout, proc.stderr, flush=True)
        raise RuntimeError(f"infotherm {command} failed with status {proc.returncode}")
    return proc


def compare_runs(ref, out, label, tol, name="diagnostics.csv"):
    """Checks that two runs' tables (ref/name, out/name) have the same rows and
    columns and agree within tol relative + tol absolute, NaN where NaN;
    returns whether the rows matched."""
    a, b = read_csv(os.path.join(ref, name)), read_csv(os.path.join(out, name))
    same_rows = len(a["t"]) == len(b["t"]) and set(a) == set(b)
    worst = 0.0  # the largest |x - y| / (tol max(|x|, |y|) + tol): at most 1
    for k in a if same_rows else []:
        x, y = a[k], b[k]
        if not (np.isfinite(x) == np.isfinite(y)).all():
            worst = np.inf
        both = np.isfinite(x) & np.isfinite(y)
        d = np.abs(x[both] - y[both]) / (tol * np.maximum(np.abs(x[both]), np.abs(y[both])) + tol)
        worst = max(worst, float(np.max(d, initial=0.0)))
    check(same_rows and worst <= 1,
          f"{label}: {name} matches ({len(b['t'])} rows; within {tol:g} relative + {tol:g} absolute: {worst:.2g} of it)")
    return same_rows


def expect_refused(label, command, options, needles, ranks=(1,)):
    """The run stops with status 1, one line on stderr that holds every needle, and no output
    folder; returns the line of each rank count."""
    said = []
    for n in ranks:
        out = tmpdir("refused")
        proc = run(command, options + ["-output_dir", out], ranks=n, expect_ok=False)
        lines = [l for l in proc.stderr.splitlines() if l.strip()]
        one = len(lines) == 1 and lines[0].startswith("infotherm: error:")
        found = one and all(s in lines[0] for s in needles)
        check(proc.returncode == 1 and found and not os.path.exists(out),
              f"{label} ({n} rank(s)): status {proc.returncode}, {lines}")
        said.append(lines[0] if lines else "")
    return said


def tmpdir(name):
    path = os.path.join(tempfile.gettempdir(), f"infotherm-test-{os.getpid()}-{name}")
    shutil.rmtree(path, ignore_errors=True)
    return path


def read_csv(path):
    """A CSV output as {column: float64 array} (the package's read_columns)."""
    return read_columns(path)


def analyze_columns(run_columns):
    """analyze's columns for a run's (doc/outputs.md): every *_cum (*_cum_bits) named
    *_cum_snapshots, then each of those's _err and then _uncertainty."""
    def cum(k):
        return k.endswith("_cum") or k.endswith("_cum_bits")
    renamed = [k + "_snapshots" if cum(k) else k for k in run_columns]
    integrals = [k + "_snapshots" for k in run_columns if cum(k)]
    return renamed + [k + "_err" for k in integrals] + [k + "_uncertainty" for k in integrals]


def column_table():
    """The diagnostics' table of columns, as `infotherm help -columns` lists it (src/diag/diag.c's
    ItDiagColumnTable): [(name, when, unit, meaning)], name with <var> or <a>_<b>, when a set of
    always, reference, joint, threshold, si, decoder, and bits for an information column."""
    out = subprocess.run([BIN, "help", "-columns"], capture_output=True, text=True, timeout=60, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    return [(r[0], set(r[1].split(",")), r[2], r[3]) for r in rows if len(r) == 4]


def diag_columns(variables, holds, bits=False):
    """diagnostics.csv's header for these variables from the table (column_table): the rows whose
    conditions all hold (holds: a set of reference, joint, threshold, si, decoder; joint is
    implied by two or more variables), each per variable or pair expanded, t first."""
    holds = set(holds) | ({"joint"} if len(variables) > 1 else set()) | {"always", "bits"}
    names = ["t"]
    for name, when, _, _ in column_table():
        if not when <= holds:
            continue
        suffix = "_bits" if bits and "bits" in when else ""
        if "<a>" in name:
            names += [name.replace("<a>", a).replace("<b>", b) + suffix
                      for i, a in enumerate(variables) for b in variables[i + 1:]]
        elif "<var>" in name:
            names += [name.replace("<var>", v) + suffix for v in variables]
        else:
            names.append(name + suffix)
    return names


def option_tables():
    """The tables of option names in src/ ({table name: [entries]}): each module's beside its
    options block, registered in src/model/option_names.c, and PETSc's (ItAppPETScOptionNames)."""
    import re
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    tables = {}
    for folder, _, files in os.walk(src):
        for f in files:
            if f.endswith(".c"):
                text = open(os.path.join(folder, f)).read()
                for name, body in re.findall(r"const ItOptionName (\w+)\[\] = \{(.*?)\};", text, re.S):
                    tables[name] = re.findall(r'\{"([^"]+)"', body)
    return tables


def unknown_options(names, tables):
    """Those of names that no entry of the tables matches (an entry ending in '_' is a prefix)."""
    entries = [e for t in tables.values() for e in t]
    return sorted(n for n in names if not any(n.startswith(e) if e.endswith("_") else n == e for e in entries))


def cell_centres(n, lo, hi):
    h = [(b - a) / m for m, a, b in zip(n, lo, hi)]
    axes = [a + (np.arange(m) + 0.5) * hh for m, a, hh in zip(n, lo, h)]
    return np.meshgrid(*axes, indexing="ij"), float(np.prod(h))


def gaussian_density(n, lo, hi, mean, cov):
    """N(mean, cov) at the cell centres."""
    x, vol = cell_centres(n, lo, hi)
    d = len(n)
    pts = np.stack([xi.ravel() for xi in x], axis=1) - np.asarray(mean)
    inv = np.linalg.inv(cov)
    quad = np.einsum("ki,ij,kj->k", pts, inv, pts)
    dens = np.exp(-0.5 * quad) / math.sqrt((2 * math.pi) ** d * np.linalg.det(cov))
    return dens.reshape(n), vol


def l1_error(p, q, vol):
    return float(np.abs(p - q).sum() * vol)


def observed_orders(hs, errors):
    return [math.log(errors[k] / errors[k + 1]) / math.log(hs[k] / hs[k + 1]) for k in range(len(errors) - 1)]
