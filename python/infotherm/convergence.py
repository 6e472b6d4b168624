"""Convergence of every diagnostic of the linear model against its closed
form (doc/physics.md §3; the closed forms: linear.py): the cases (2-D and
3-D, stationary and transient, non-equilibrium steady states with feedback
both ways), one case solved on a sequence of grids, and per quantity the
closed form, the values, the relative error on the finest grid, the observed
orders and the error of the Richardson extrapolation of the two finest grids.
tools/convergence.py prints it; tests/test_diag_linear.py and
tests/test_nd.py assert on it."""
import math

import numpy as np

from .linear import linear_diagnostics, linear_moments, lyapunov
from .results import read_json
from .runner import call, scratch

CASES = {
    "2-D stationary": dict(M=[[-1.0, 0.3], [0.6, -0.8]], b=[0.2, -0.1], D=[0.5, 0.3], box=5.0, n=[64, 128, 256], quick=[32, 64, 128], t=None),
    "2-D transient": dict(M=[[-1.0, 0.3], [0.6, -0.8]], b=[0.2, -0.1], D=[0.5, 0.3], box=5.0, n=[64, 128, 256], quick=[32, 64, 128], t=0.5,
                          m0=[1.0, -0.8], S0=[[0.4, 0.1], [0.1, 0.3]]),
    "3-D stationary": dict(M=[[-1.0, 0.0, 0.4], [0.5, -1.0, 0.0], [0.0, 0.6, -0.8]], b=[0.1, 0.0, -0.1], D=[0.5, 0.4, 0.3], box=4.5, n=[24, 32, 48], quick=[16, 24, 32], t=None),
    "3-D transient": dict(M=[[-1.0, 0.0, 0.4], [0.5, -1.0, 0.0], [0.0, 0.6, -0.8]], b=[0.1, 0.0, -0.1], D=[0.5, 0.4, 0.3], box=4.5, n=[24, 32, 48], quick=[16, 24, 32], t=0.4,
                          m0=[0.6, 0.0, -0.4], S0=np.diag([0.45, 0.4, 0.35]).tolist()),
}
TIGHT = ["-ts_rtol", "1e-9", "-ts_atol", "1e-11", "-ksp_rtol", "1e-13", "-stationary_ksp_rtol", "1e-13"]
# the four columns checked for their order
HEADLINE = ["mutual_information", "entropy_production", "info_flow_X", "kl_to_stationary"]


def solve(case, n, ranks, mpiexec=None):
    """The final values of one case on an n^d grid, and the variables' names."""
    d = len(case["D"])
    names = [f"x{i + 1}" for i in range(d)]
    out = scratch(f"convergence-{d}-{n}-{case['t']}")
    opts = ["-model", "linear", "-linear_M", ",".join(str(x) for r in case["M"] for x in r), "-linear_b", ",".join(map(str, case["b"])),
            "-linear_D", ",".join(map(str, case["D"])), "-grid_n", n, "-grid_lo", -case["box"], "-grid_hi", case["box"],
            "-kl_reference", "stationary", "-output_dir", out, "-quiet"] + TIGHT
    if case["t"] is None:
        call("stationary", opts, ranks=ranks, mpiexec=mpiexec)
    else:
        call("run", opts + ["-init_mean", ",".join(map(str, case["m0"])), "-init_cov", ",".join(str(x) for r in case["S0"] for x in r),
                           "-t_final", case["t"], "-output_every", case["t"]], ranks=ranks, mpiexec=mpiexec)
    return read_json(out + ("/summary.json" if case["t"] is not None else "/stationary_summary.json"))["final"], names


def study(label, case, grids, ranks, mpiexec=None):
    """Returns {quantity: dict(exact, values, errors, orders, richardson)} for one case."""
    finals = []
    for n in grids:
        final, names = solve(case, n, ranks, mpiexec)
        finals.append(final)
    if case["t"] is None:
        mu = -np.linalg.solve(np.array(case["M"]), np.array(case["b"]))
        m, S = mu, lyapunov(np.array(case["M"]), np.array(case["D"]))
    else:
        m, S = linear_moments(case["M"], case["b"], case["D"], case["m0"], case["S0"], case["t"])
    exact = linear_diagnostics(case["M"], case["b"], case["D"], m, S, names[1:], names)
    h = [2 * case["box"] / n for n in grids]
    scale = exact["entropy_production"]  # for quantities that vanish (kl at stationarity)
    table = {}
    for k, ex in exact.items():
        vals = [f[k] for f in finals]
        errs = [abs(v - ex) for v in vals]
        orders = [math.log(errs[i] / errs[i + 1]) / math.log(h[i] / h[i + 1]) if errs[i + 1] > 0 and errs[i] > 0 else float("nan") for i in range(len(grids) - 1)]
        r = (h[-2] ** 2 * vals[-1] - h[-1] ** 2 * vals[-2]) / (h[-2] ** 2 - h[-1] ** 2)
        denom = abs(ex) if abs(ex) > 1e-8 * scale else scale
        table[k] = dict(exact=ex, values=vals, rel_error=errs[-1] / denom, orders=orders, richardson_rel_error=abs(r - ex) / denom,
                        vanishes=bool(abs(ex) <= 1e-8 * scale))
    return table
