"""Closed forms of the linear model (doc/physics.md §2: dx = (M x + b) dt +
sqrt(2 D) dW, an Ornstein–Uhlenbeck process), derived independently of the
solver: the stationary (Lyapunov) covariance, the Gaussian moments at time t
from N(m0, S0), and every doc/physics.md §3 diagnostic of a Gaussian density.
The reference the test suite and tools/ check runs against, and a way for a
user to check one."""
import math

import numpy as np


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
