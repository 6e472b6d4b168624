"""Shared helpers for infotherm's test scripts: running the binary (under MPI
when asked), reading its outputs, and the closed forms of the linear model
(doc/physics.md §2: dx = (M x + b) dt + sqrt(2 D) dW), derived here independently
of the solver."""
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

BIN = os.environ.get("INFOTHERM", os.path.join(os.path.dirname(__file__), "..", "build", "infotherm"))
MPIEXEC = ["mpiexec", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "--quiet"]

failures = []


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
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_density(path):
    """The density as an array indexed [x1, x2, x3] (first variable first), and its attributes."""
    with h5py.File(path, "r") as f:
        d = f["density"]
        attrs = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in d.attrs.items()}
        data = np.array(d[...])
    dim = int(attrs["dim"])
    data = data.reshape([int(attrs[f"n{i}"]) for i in reversed(range(dim))])
    return data.transpose(list(reversed(range(dim)))), attrs


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


def lyapunov(M, D):
    """Stationary covariance S of dx = M x dt + sqrt(2D) dW: M S + S M^T + 2 diag(D) = 0."""
    d = M.shape[0]
    I = np.eye(d)
    A = np.kron(I, M) + np.kron(M, I)
    S = np.linalg.solve(A, -2 * np.diag(D).reshape(-1))
    return S.reshape(d, d)


def expm(A):
    """Matrix exponential by scaling and squaring of a Taylor series (d <= 3)."""
    k = max(0, int(np.ceil(np.log2(max(np.abs(A).sum(axis=1).max(), 1e-16)))) + 4)
    B = A / 2**k
    E, term = np.eye(len(A)), np.eye(len(A))
    for j in range(1, 20):
        term = term @ B / j
        E = E + term
    for _ in range(k):
        E = E @ E
    return E


def linear_moments(M, b, D, m0, S0, t):
    """Mean and covariance at time t of the linear model started from N(m0, S0)."""
    M, b, D = np.asarray(M, float), np.asarray(b, float), np.asarray(D, float)
    mu = -np.linalg.solve(M, b)
    Sinf = lyapunov(M, D)
    E = expm(M * t)
    return mu + E @ (np.asarray(m0) - mu), Sinf + E @ (np.asarray(S0) - Sinf) @ E.T


def l1_error(p, q, vol):
    return float(np.abs(p - q).sum() * vol)


def observed_orders(hs, errors):
    return [math.log(errors[k] / errors[k + 1]) / math.log(hs[k] / hs[k + 1]) for k in range(len(errors) - 1)]


def linear_diagnostics(M, b, D, m, S, sensor, names, reference=True):
    """Every doc/physics.md §3 quantity of the Gaussian density N(m, S) under the
    linear model dx = (M x + b) dt + sqrt(2 D) dW, derived in closed form.
    With y = x - m: A = M y + mdot, mdot = M m + b; grad ln p = -S^-1 y, so the
    current is J = (K y + mdot) p with K = M + D S^-1, and
      Pi_i = [(K S K^T)_ii + mdot_i^2]/D_i,   Gamma_i = [(K S M^T)_ii + mdot_i^2]/D_i,
      Idot_X = sum_{i in X} (K S G^T)_ii,  G = -S^-1 + E_X S_XX^-1 E_X^T,
      dS/dt = tr(S^-1 Sdot)/2,  Sdot = M S + S M^T + 2 D."""
    M, b, D, m, S = (np.asarray(a, float) for a in (M, b, D, m, S))
    d = len(m)
    Dm = np.diag(D)
    Si = np.linalg.inv(S)
    mdot = M @ m + b
    K = M + Dm @ Si
    Sdot = M @ S + S @ M.T + 2 * Dm
    X = [i for i in range(d) if names[i] in sensor]
    Y = [i for i in range(d) if i not in X]

    def ent(idx):
        sub = S[np.ix_(idx, idx)]
        return 0.5 * math.log((2 * math.pi * math.e) ** len(idx) * np.linalg.det(sub))

    def flow(idx):
        G = -Si.copy()
        G[np.ix_(idx, idx)] += np.linalg.inv(S[np.ix_(idx, idx)])
        KSG = K @ S @ G.T
        return sum(KSG[i, i] for i in idx)

    out = {"mass": 1.0, "entropy": ent(list(range(d)))}
    for i, n in enumerate(names):
        out[f"entropy_{n}"] = ent([i])
        out[f"mean_{n}"] = m[i]
        out[f"var_{n}"] = S[i, i]
    KSK, KSM = K @ S @ K.T, K @ S @ M.T
    for i, n in enumerate(names):
        out[f"entropy_production_{n}"] = (KSK[i, i] + mdot[i] ** 2) / D[i]
        out[f"entropy_flow_{n}"] = (KSM[i, i] + mdot[i] ** 2) / D[i]
        out[f"heat_rate_{n}"] = out[f"entropy_flow_{n}"]
    out["entropy_production"] = sum(out[f"entropy_production_{n}"] for n in names)
    out["entropy_rate"] = 0.5 * np.trace(Si @ Sdot)
    if d > 1:
        out["mutual_information"] = ent(X) + ent(Y) - ent(list(range(d)))
        for a in range(d):
            for c in range(a + 1, d):
                out[f"mi_{names[a]}_{names[c]}"] = ent([a]) + ent([c]) - ent([a, c])
        out["info_flow_X"] = flow(X)
        out["info_flow_Y"] = flow(Y)
        if 0 not in X:
            SvX = S[np.ix_([0], X)]
            out["decoding_mse"] = S[0, 0] - float(SvX @ np.linalg.inv(S[np.ix_(X, X)]) @ SvX.T)
        out["cost_per_bit"] = sum(out[f"entropy_flow_{names[i]}"] for i in X) / (out["info_flow_X"] / math.log(2))
    if reference:
        mu = -np.linalg.solve(M, b)
        Sinf = lyapunov(M, D)
        Sinfi = np.linalg.inv(Sinf)
        dm = mu - m
        out["kl_to_stationary"] = 0.5 * (np.trace(Sinfi @ S) + dm @ Sinfi @ dm - d + math.log(np.linalg.det(Sinf) / np.linalg.det(S)))
        out["kl_rate"] = 0.5 * (np.trace(Sinfi @ Sdot) - 2 * dm @ Sinfi @ mdot - np.trace(Si @ Sdot))
    return out
