"""The multigrid on periodic axes (src/solve/mg.c: the interpolation wraps
across the seam, the coarse DMDAs are periodic): two independent phase
variables dθ = (w - a sin θ) dt + sqrt(2D) dW, dφ = (u - b sin φ) dt + ...
on the torus, whose stationary density is the product of the 1-D closed
forms q(θ) ∝ e^{-U(θ)/D} ∫_θ^{θ+2π} e^{U(s)/D} ds, on 1-3 ranks with the
multigrid: second-order L1 error, the ranks' densities the same, and Krylov
iterations that do not grow with the grid or the ranks; a coupled pair of
phases (no closed form) whose iterations on 2 and 3 ranks stay those of one
(without the wrap: 13, 25, 34 at 64^2 on 1, 2, 3 ranks)."""
import math
import numpy as np
from common import *

GL_X, GL_W = np.polynomial.legendre.leggauss(200)
TWO_PI = 2 * math.pi


def phase_density(x, w, a, D):
    """q(θ) ∝ e^{-U(θ)/D} ∫_θ^{θ+2π} e^{U(s)/D} ds, U = -w θ - a cos θ, normalised on the cells."""
    q = []
    for t in x:
        s = 0.5 * TWO_PI * GL_X + t + math.pi
        U = lambda y: -w * y - a * np.cos(y)
        q.append(0.5 * TWO_PI * float(np.sum(GL_W * np.exp((U(s) - U(t)) / D))))
    return np.array(q)


def iterations(out):
    return int(read_json(f"{out}/stationary_summary.json")["ksp_iterations"])


torus = ["-model", "expr", "-vars", "th,ph", "-expr_param", "w=1,a=1.5,D=0.5,u=0.4,b=1.0", "-expr_drift_th", "w - a*sin(th)",
         "-expr_drift_ph", "u - b*sin(ph)", "-expr_diffusion_th", "D", "-expr_diffusion_ph", "D",
         "-grid_boundary", "th:periodic,ph:periodic", "-grid_lo", 0, "-grid_hi", repr(TWO_PI)]
errs, hs, its = [], [], {}
for n in (64, 128, 256):
    h = TWO_PI / n
    x = (np.arange(n) + 0.5) * h
    qt, qp = phase_density(x, 1.0, 1.5, 0.5), phase_density(x, 0.4, 1.0, 0.5)
    exact = np.outer(qt, qp)
    exact /= exact.sum() * h * h
    ref = None
    for ranks in ((1, 2, 3) if n < 256 else (1,)):
        out = tmpdir(f"torus-{n}-{ranks}")
        run("stationary", torus + ["-grid_n", n, "-output_dir", out], ranks=ranks)
        its[(n, ranks)] = iterations(out)
        p, _ = read_density(f"{out}/density_stationary.h5")  # p[theta, phi]
        if ranks == 1:
            ref = p
            err = float(np.sum(np.abs(p - exact)) * h * h)
        else:
            d = float(np.max(np.abs(p - ref)) / np.max(ref))
            check(d <= 1e-10, f"torus {n}^2 on {ranks} ranks: density within {d:.1e} of 1 rank's")
    errs.append(err)
    hs.append(h)
o = observed_orders(hs, errs)
check(all(1.8 <= v <= 2.3 for v in o),
      f"torus: L1 error against the product of the closed forms {errs[0]:.2e} {errs[1]:.2e} {errs[2]:.2e}, orders {o[0]:.2f} {o[1]:.2f}")
table = ", ".join(f"{n}^2/{r}: {v}" for (n, r), v in its.items())
check(max(its.values()) <= 12 and its[(256, 1)] <= its[(64, 1)] and all(its[(128, r)] <= its[(64, r)] for r in (1, 2, 3)),
      f"torus: Krylov iterations (cells/ranks) {table}: at most 12, none growing with the grid")

coupled = ["-model", "expr", "-vars", "th,ph", "-expr_param", "w=1,a=1.5,D=0.5,k=0.5",
           "-expr_drift_th", "w - a*sin(th) + k*sin(ph - th)", "-expr_drift_ph", "0.7 - a*sin(ph) + k*sin(th - ph)",
           "-expr_diffusion_th", "D", "-expr_diffusion_ph", "D", "-grid_boundary", "th:periodic,ph:periodic",
           "-grid_lo", 0, "-grid_hi", repr(TWO_PI), "-grid_n", 64]
counts = []
for r in (1, 2, 3):
    out = tmpdir(f"coupled-{r}")
    run("stationary", coupled + ["-output_dir", out], ranks=r)
    counts.append(iterations(out))
check(max(counts) <= counts[0] + 2, f"coupled phases 64^2: Krylov iterations on 1, 2, 3 ranks {counts} (within 2 of one rank's)")
finish()
