#!/usr/bin/env python3
"""The slowest relaxation rate lambda_1 of the bistable synapse (doc/physics.md
§2, §6) by Chebyshev collocation, independently of the finite-volume solver:
the reference of tests/test_spectrum.py.

dw = A(w) dt + sqrt(2 D) dW with A = -(w^3 - w - h)/tau_w, D = sigma_w^2/tau_w
on [-a, a] with reflecting walls. The Fokker–Planck operator with zero flux at
the walls has the spectrum of the backward operator G f = A f' + D f'' with
f'(-a) = f'(a) = 0; G is collocated at N + 1 Chebyshev points, the two
Neumann rows are solved for the boundary values, and the eigenvalues of the
interior system are -lambda_k (lambda_0 = 0).

    python3 tools/chebyshev_bistable.py [--sigma 0.35 0.40 ...] [--n 96]"""
import argparse

import numpy as np


def chebyshev(n):
    """Points x_j = cos(pi j/n) and the differentiation matrix (Trefethen, Spectral Methods in MATLAB, cheb.m)."""
    x = np.cos(np.pi * np.arange(n + 1) / n)
    c = np.hstack([2, np.ones(n - 1), 2]) * (-1) ** np.arange(n + 1)
    dx = x[:, None] - x[None, :]
    d = np.outer(c, 1 / c) / (dx + np.eye(n + 1))
    return x, d - np.diag(d.sum(axis=1))


def rates(sigma, tau=1.0, h=0.0, a=2.5, n=96):
    """The relaxation rates lambda_0 = 0 <= lambda_1 <= ..., sorted."""
    x, d1 = chebyshev(n)
    w, d1 = a * x, d1 / a
    d2 = d1 @ d1
    drift, diff = -(w ** 3 - w - h) / tau, sigma ** 2 / tau
    g = drift[:, None] * d1 + diff * d2
    edge, inner = [0, n], list(range(1, n))
    # f'(walls) = 0: d1[edge, edge] f_edge = -d1[edge, inner] f_inner
    f_edge = -np.linalg.solve(d1[np.ix_(edge, edge)], d1[np.ix_(edge, inner)])
    reduced = g[np.ix_(inner, inner)] + g[np.ix_(inner, edge)] @ f_edge
    return np.sort(-np.linalg.eigvals(reduced).real)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sigma", type=float, nargs="+", default=[0.35, 0.40, 0.45, 0.50])
    parser.add_argument("--n", type=int, default=96, help="Chebyshev degree (the rates change < 1e-12 beyond 80)")
    args = parser.parse_args()
    for s in args.sigma:
        print(f"sigma_w = {s:.2f}: lambda_1 = {rates(s, n=args.n)[1]:.14f}")


if __name__ == "__main__":
    main()
