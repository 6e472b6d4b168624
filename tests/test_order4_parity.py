"""-fp_order 4 with odd variables (-parity, doc/physics.md §3b, §7): the
entropy production (total and per variable) and the entropy flows use the
irreversible current J^irr = A^irr p - ∂(D p), A^irr(x) = [A(x) + ε A(εx)]/2,
at fourth order. Closed forms for the linear model with x1 odd: A^irr = K x
+ c with K = (M + E M E)/2, c = (b + E b)/2, E = diag(ε); for a Gaussian of
mean μ and covariance S, with u = x - μ, J^irr_a / p = r_a·u + m_a where
r_a = K_a + D_a (S^-1)_a and m_a = (K μ + c)_a, so
  Π_a = (r_a S r_a + m_a^2) / D_a,   Γ_a = (r_a S K_a + m_a^2) / D_a
(D constant, F^irr_a = A^irr_a / D_a). Stationary and transient (from an
off-centre Gaussian to t = 0.5, the moments by python/infotherm/linear.py),
2-D on 32^2 and 64^2 (box ± 8 sd): observed order >= 3.5 for each; the
second-order operator's error on 64^2 for comparison. The 1-D dragged
particle of tests/test_diag_identities.py (Π = v0^2/(τ σ^2)) at 64 and 128
cells: order >= 3.5, or both at the solves' floor. The same sums on 1, 2 and 3 ranks (1e-10). On
under-resolved grids (12^2, 16^2 of the box [-5, 5] x [-3, 3], where the operator
blends its faces with the Scharfetter-Gummel fallback, theta < 1), an even
axis whose drift is its own irreversible part (M_21 = 0) gives with -parity
the Pi_x2 and Gamma_x2 of the operator's own by-parts sums (the run without
-parity) to round-off: the blended faces fall back as the operator does."""
import numpy as np
from common import *

M = np.array([[-1.0, -1.5], [2.0, -2.0]])
b, D = np.array([0.3, 0.2]), np.array([1.0, 0.2])
E = np.diag([-1.0, 1.0])  # x1 odd
K, cvec = (M + E @ M @ E) / 2, (b + E @ b) / 2
mu = -np.linalg.solve(M, b)
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
lo, hi = mu - 8 * sd, mu + 8 * sd
m0, S0, T = [-1.0, 1.0], [[0.25, 0.0], [0.0, 0.1]], 0.5
TIGHT = ["-ts_arkimex_type", "5", "-ts_rtol", "1e-10", "-ts_atol", "1e-12", "-ksp_rtol", "1e-13", "-stationary_ksp_rtol", "1e-13"]


def exact(m, C):
    Si = np.linalg.inv(C)
    out = {}
    for a, name in enumerate(("x1", "x2")):
        r = K[a] + D[a] * Si[a]
        ma = (K @ m + cvec)[a]
        out[f"entropy_production_{name}"] = (r @ C @ r + ma ** 2) / D[a]
        out[f"entropy_flow_{name}"] = (r @ C @ K[a] + ma ** 2) / D[a]
    out["entropy_production"] = out["entropy_production_x1"] + out["entropy_production_x2"]
    return out


m_t, S_t = linear_moments(M, b, D, m0, S0, T)
EXACT = {"stationary": exact(mu, S), "transient": exact(np.array(m_t), np.array(S_t))}
base = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0.2", "-linear_D", "1,0.2", "-parity", "x1:odd",
        "-grid_lo", f"{lo[0]!r},{lo[1]!r}", "-grid_hi", f"{hi[0]!r},{hi[1]!r}"]
tr = ["-init_mean", "-1,1", "-init_cov", "0.25,0,0,0.1", "-t_final", T, "-output_every", T]
errors = {k: {} for k in EXACT}
for order, grids in ((4, (32, 64)), (2, (64,))):
    for n in grids:
        out = tmpdir(f"o4par-{order}-{n}")
        run("stationary", base + ["-grid_n", n, "-fp_order", order, "-output_dir", out + "/ss"] + TIGHT)
        run("run", base + tr + ["-grid_n", n, "-fp_order", order, "-output_dir", out + "/tr"] + TIGHT)
        rows = {"stationary": read_csv(out + "/ss/stationary.csv"), "transient": read_csv(out + "/tr/diagnostics.csv")}
        for kind in EXACT:
            for col, ref in EXACT[kind].items():
                errors[kind][(order, n, col)] = abs(float(rows[kind][col][-1]) - ref)
for kind in EXACT:
    for col, ref in EXACT[kind].items():
        e32, e64, e2 = errors[kind][(4, 32, col)], errors[kind][(4, 64, col)], errors[kind][(2, 64, col)]
        p = math.log(e32 / e64, 2) if e64 > 0 else float("inf")
        check(p >= 3.5, f"{kind} {col}: exact {ref:.8g}, order 4 errors {e32:.2e} (32^2) {e64:.2e} (64^2), observed order {p:.2f} >= 3.5 (order 2 at 64^2: {e2:.2e})")

# the same sums on 1, 2 and 3 ranks (the face currents at the ranks' borders)
outs = {}
for ranks in (1, 2, 3):
    out = tmpdir(f"o4par-ranks{ranks}")
    run("stationary", base + ["-grid_n", 30, "-fp_order", 4, "-output_dir", out] + TIGHT, ranks=ranks)
    outs[ranks] = read_csv(out + "/stationary.csv")
for ranks in (2, 3):
    worst = max(abs(float(outs[ranks][c][-1]) - float(outs[1][c][-1])) / max(1.0, abs(float(outs[1][c][-1])))
                for c in EXACT["stationary"])
    check(worst < 1e-10, f"{ranks} ranks: entropy production and flows within {worst:.1e} of 1 rank (< 1e-10)")

# an even axis whose drift is its own irreversible part: L^irr_x2 = L_x2 on every face
even = ["-model", "linear", "-linear_M", "-1,-1.5,0,-2", "-linear_b", "0.3,0.2", "-linear_D", "1,0.2",
        "-grid_lo", "-5,-3", "-grid_hi", "5,3", "-fp_order", 4]
for n in (12, 16):
    rows = {}
    for tag, extra in (("parity", ["-parity", "x1:odd"]), ("plain", [])):
        out = tmpdir(f"o4par-even-{tag}-{n}")
        run("stationary", even + extra + ["-grid_n", n, "-output_dir", out])
        rows[tag] = read_csv(out + "/stationary.csv")
    for col in ("entropy_production_x2", "entropy_flow_x2"):
        x, y = float(rows["parity"][col][-1]), float(rows["plain"][col][-1])
        check(abs(x - y) <= 1e-10 * abs(y) + 1e-12,
              f"{n}^2, x2's drift its own irreversible part: {col} with -parity {x:.12g}, the operator's {y:.12g}")

# 1-D: the dragged particle, v odd
expected = 1.2 ** 2 / (0.5 * 0.8 ** 2)
errs = []
for n in (64, 128):
    out = tmpdir(f"o4par-drag-{n}")
    run("stationary", ["-model", "brownian", "-brownian_v0", "1.2", "-brownian_tau_v", "0.5", "-brownian_sigma_v", "0.8", "-grid_n", n, "-grid_lo", "-4", "-grid_hi", "6.4",
                       "-parity", "v:odd", "-fp_order", 4, "-output_dir", out] + TIGHT)
    errs.append(abs(read_csv(out + "/stationary.csv")["entropy_production"][-1] - expected))
p = math.log(errs[0] / errs[1], 2) if errs[1] > 0 else float("inf")
# with the blended faces falling back as the operator does, both grids sit at the solves' floor
# (1.3e-10 at -stationary_ksp_rtol 1e-13; 8.9e-8 and 2.2e-10 with the face-form fallback), where no
# order shows
check(p >= 3.5 or max(errs) < 1e-9, f"dragged particle, v odd: Π = {expected:.6g}, errors {errs[0]:.2e} {errs[1]:.2e}, observed order {p:.2f} >= 3.5 or both < 1e-9")
finish()
