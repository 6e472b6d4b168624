"""Scoring -error_estimate's error bars against closed forms (doc/physics.md §5): the
Ornstein–Uhlenbeck (linear model) options of a case, its box, the exact value of every
diagnostic on every row (python/infotherm/linear.py), and the score of a run's table
(within 2x, too small, wrong sign, trusted). Used by tools/error_bars.py and the tests."""
import math
import os
import subprocess
import tempfile

import numpy as np

from . import linear as closed
from .results import read_table

FLOOR = 1e-8  # relative to max(|exact|, 1): round-off, the box's tails and the solvers' tolerances
CUMULATIVE = {"entropy_production_cum": "entropy_production", "info_flow_X_cum": "info_flow_X"}


def linear_options(M, b, D, n, lo, hi):
    """The linear model's options; lo and hi one number for every axis, or one per axis."""
    d = len(b)
    lo, hi = ([x] * d if isinstance(x, (int, float)) else x for x in (lo, hi))
    return ["-model", "linear", "-linear_M", ",".join(str(x) for row in M for x in row),
            "-linear_b", ",".join(map(str, b)), "-linear_D", ",".join(map(str, D)),
            "-grid_n", ",".join([str(n)] * d), "-grid_lo", ",".join(map(str, lo)),
            "-grid_hi", ",".join(map(str, hi))]


def box(M, b, D, init=None, k=6.5):
    """A box of k standard deviations about the stationary density (and the initial one): the
    mass beyond it and its share of the second moments below FLOOR."""
    M, b, D = (np.asarray(a, float) for a in (M, b, D))
    mu, sd = -np.linalg.solve(M, b), np.sqrt(np.diag(closed.lyapunov(M, D)))
    lo, hi = mu - k * sd, mu + k * sd
    if init is not None:
        m0, s0 = np.asarray(init[0], float), np.sqrt(np.diag(np.asarray(init[1], float)))
        lo, hi = np.minimum(lo, m0 - k * s0), np.maximum(hi, m0 + k * s0)
    return [round(float(x), 3) for x in lo], [round(float(x), 3) for x in hi]


def exact_rows(M, b, D, sensor, names, times, init):
    """The closed form of every column at each time (inf: the stationary density)."""
    M, b, D = (np.asarray(a, float) for a in (M, b, D))
    out = []
    for t in times:
        if init is None or not math.isfinite(t):
            m, S = -np.linalg.solve(M, b), closed.lyapunov(M, D)
        else:
            m, S = closed.linear_moments(M, b, D, init[0], init[1], t)
        row = closed.linear_diagnostics(M, b, D, m, S, sensor, names, reference=False)
        if init is not None and math.isfinite(t):
            x, w = np.polynomial.legendre.leggauss(64)
            for cum, rate in list(CUMULATIVE.items()) + [(f"entropy_flow_{v}_cum", f"entropy_flow_{v}") for v in names]:
                if rate not in row:
                    continue
                total = 0.0
                for xk, wk in zip(x, w):
                    mk, Sk = closed.linear_moments(M, b, D, init[0], init[1], 0.5 * t * (xk + 1))
                    total += 0.5 * t * wk * closed.linear_diagnostics(M, b, D, mk, Sk, sensor, names, reference=False)[rate]
                row[cum] = total
        out.append(row)
    return out


def score(table, exact, t0_unchanged=True):
    """Per value (row, column with a closed form, mass excepted): the counts of doc/physics.md §5's
    bars within 2x of the true error and of wrong-sign bars, trusted and all; t = 0 rows checked
    unchanged by the extrapolation."""
    s = {"trusted": 0, "within": 0, "wrong": 0, "small": 0, "signed": 0, "all": 0, "all_within": 0, "t0_changed": 0, "cum": 0, "cum_within": 0,
         "t0": 0, "t0_trusted": 0, "worst": []}
    for r in range(len(table["t"])):
        for k, ex in exact[r].items():
            if k == "mass" or k + "_uncertainty" not in table:
                continue
            q, err, U = table[k][r], table[k + "_err"][r], table[k + "_uncertainty"][r]
            if not math.isfinite(ex):
                continue
            trusted = table[k + "_trusted"][r] == 1
            if table["t"][r] == 0 and math.isfinite(q) and (err != 0 or table[k + "_extrap"][r] != q):
                s["t0_changed"] += 1
            e = ex - q
            floor = FLOOR * max(abs(ex), 1)
            within = (U / 2 <= abs(e) <= 2 * U) or max(abs(e), U) <= floor
            wrong = err * e < 0 and abs(e) > floor and abs(err) > floor
            s["all"] += 1
            s["all_within"] += within
            s["t0"] += table["t"][r] == 0
            s["t0_trusted"] += table["t"][r] == 0 and trusted
            if trusted:
                s["trusted"] += 1
                s["within"] += within
                s["wrong"] += wrong
                s["small"] += U < abs(e) / 2 and abs(e) > floor
                if k.endswith("_cum") and table["t"][r] > 0:
                    s["cum"] += 1
                    s["cum_within"] += within
                s["signed"] += (0.5 <= err / e <= 2) if abs(e) > floor else abs(err) <= floor
                if not within or wrong:
                    s["worst"].append(f"t = {table['t'][r]:g} {k}: q {q:.8g} exact {ex:.8g} error {e:.3e} "
                                      f"err {err:.3e} uncertainty {U:.3e}")
    return s


def case_options(M, b, D, n, lo, hi, sensor, init, t_final, every):
    """The command, its table and its options for one case (init None: stationary)."""
    opts = linear_options(M, b, D, n, lo, hi) + ["-quiet", "-kl_reference", "none"]
    if len(b) > 1:
        opts += ["-sensor", ",".join(sensor)]
    if init is None:
        command, table_name = "stationary", "stationary.csv"
        opts += ["-stationary_ksp_rtol", "1e-13"]
    else:
        command, table_name = "run", "diagnostics.csv"
        opts += ["-init_mean", ",".join(map(str, init[0])),
                 "-init_cov", ",".join(str(x) for row in init[1] for x in row),
                 "-t_final", str(t_final), "-output_every", str(every)]
    return command, table_name, opts


def run_case(binary, label, M, b, D, n, lo, hi, sensor, init=None, t_final=1.0, every=0.25, extra=()):
    names = [f"x{i + 1}" for i in range(len(b))]
    out = tempfile.mkdtemp(prefix="error_bars-")
    command, table_name, opts = case_options(M, b, D, n, lo, hi, sensor, init, t_final, every)
    opts += ["-error_estimate", "-output_dir", out]
    proc = subprocess.run([binary, command] + opts + [str(o) for o in extra], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: infotherm {command} failed: {proc.stderr.strip()}")
    table = {k: np.asarray(v, float) for k, v in read_table(os.path.join(out, table_name)).items()}
    exact = exact_rows(M, b, D, sensor, names, table["t"], init)
    return score(table, exact)
