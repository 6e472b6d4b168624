"""Linear model in 1, 2 and 3 variables: the stationary density and a
transient density (from an off-centre Gaussian) against the closed-form
Gaussian (Lyapunov covariance; mean and covariance propagated by exp(M t)).
The L1 error must fall at second order under grid refinement; the observed
orders are printed."""
import numpy as np
from common import *

CASES = {
    1: dict(M=[[-1.0]], b=[0.5], D=[0.5], lo=-4.5, hi=5.5, n=[40, 80, 160], m0=[1.5], S0=[[0.2]]),
    # non-symmetric M with feedback both ways: a non-equilibrium steady state
    2: dict(M=[[-1.0, 0.3], [0.6, -0.8]], b=[0.2, -0.1], D=[0.5, 0.3], lo=-5.0, hi=5.0, n=[32, 64, 128], m0=[1.0, -0.8], S0=[[0.3, 0.05], [0.05, 0.2]]),
    3: dict(M=[[-1.0, 0.0, 0.2], [0.5, -1.0, 0.0], [0.0, 0.5, -1.0]], b=[0.0, 0.1, 0.0], D=[0.5, 0.4, 0.3], lo=-4.5, hi=4.5, n=[16, 24, 32], m0=[0.8, 0.0, -0.5], S0=np.diag([0.3, 0.25, 0.25]).tolist()),
}
T = 0.5
TIGHT = ["-ts_rtol", "1e-9", "-ts_atol", "1e-11", "-ksp_rtol", "1e-13", "-stationary_ksp_rtol", "1e-13"]


def options(d, c, n):
    return ["-model", "linear", "-linear_M", ",".join(str(x) for row in c["M"] for x in row),
            "-linear_b", ",".join(map(str, c["b"])), "-linear_D", ",".join(map(str, c["D"])),
            "-grid_n", n, "-grid_lo", c["lo"], "-grid_hi", c["hi"]]


for d, c in CASES.items():
    mu = -np.linalg.solve(np.array(c["M"]), np.array(c["b"]))
    S = lyapunov(np.array(c["M"]), np.array(c["D"]))
    m_t, S_t = linear_moments(c["M"], c["b"], c["D"], c["m0"], c["S0"], T)
    hs, err_ss, err_tr = [], [], []
    for n in c["n"]:
        out = tmpdir(f"conv{d}-{n}")
        run("stationary", options(d, c, n) + ["-output_dir", out + "/ss", "-ksp_rtol", "1e-13", "-stationary_ksp_rtol", "1e-13"])
        p, _ = read_density(out + "/ss/density_stationary.h5")
        exact, vol = gaussian_density([n] * d, [c["lo"]] * d, [c["hi"]] * d, mu, S)
        err_ss.append(l1_error(p, exact, vol))
        run("run", options(d, c, n) + ["-init_mean", ",".join(map(str, c["m0"])),
            "-init_cov", ",".join(str(x) for row in c["S0"] for x in row), "-t_final", T, "-output_every", T, "-output_dir", out + "/tr"] + TIGHT)
        p, attrs = read_density(out + "/tr/density_0001.h5")
        check(abs(attrs["time"] - T) < 1e-12, f"{d}-D n={n}: snapshot at t = {attrs['time']}")
        exact, vol = gaussian_density([n] * d, [c["lo"]] * d, [c["hi"]] * d, m_t, S_t)
        err_tr.append(l1_error(p, exact, vol))
        hs.append((c["hi"] - c["lo"]) / n)
    for label, errs in (("stationary", err_ss), ("transient", err_tr)):
        orders = observed_orders(hs, errs)
        if d == 1 and label == "stationary":
            # in 1-D the drift is a gradient and the face value A(x_f)/D integrates a
            # linear a(x) exactly (midpoint rule): the discrete equilibrium is the exact one
            print(f"1-D stationary: L1 errors = {['%.1e' % e for e in errs]} (exact scheme)")
            check(max(errs) < 1e-9, f"1-D stationary density equals the Gaussian to round-off ({max(errs):.1e})")
            continue
        print(f"{d}-D {label}: n = {c['n']}, L1 errors = {['%.3e' % e for e in errs]}, observed orders = {['%.2f' % o for o in orders]}")
        check(min(orders) >= 1.8, f"{d}-D {label} density converges at second order (orders {['%.2f' % o for o in orders]})")
        check(errs[-1] < 0.02, f"{d}-D {label} L1 error on the finest grid {errs[-1]:.2e} < 0.02")
finish()
