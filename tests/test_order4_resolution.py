"""-fp_resolution (doc/numerics.md §"Fourth order", doc/physics.md §7): the
resolution number h^2 |dA/dx| / D at which a fourth-order face weighs half
its Scharfetter-Gummel fall-back. A fast neuron tracking the velocity
(A = (-v, 100 v - 10 r), D = (1, 4), box +- 6 sd) at 128^2 has R = 2.0 on
every r face while its density's spread along r given v is 3.3 cells: with
the default (1) the r faces fall back and the information flow is more than
5 % off its closed form (the Lyapunov covariance, doc/physics.md §3); with
-fp_resolution 8 it is within 1 %, the density stays non-negative to
round-off and mass exact. Non-positive values are refused naming the option."""
import numpy as np
from common import *

M = np.array([[-1.0, 0.0], [100.0, -10.0]])
D = np.array([1.0, 4.0])
S = lyapunov(M, D)
sd = np.sqrt(np.diag(S))
exact = linear_diagnostics(M, np.zeros(2), D, np.zeros(2), S, ["x2"], ["x1", "x2"])
BASE = ["-model", "linear", "-linear_M", "-1,0,100,-10", "-linear_D", "1,4", "-sensor", "x2", "-grid_n", 128,
        "-grid_lo", f"{-6 * sd[0]!r},{-6 * sd[1]!r}", "-grid_hi", f"{6 * sd[0]!r},{6 * sd[1]!r}", "-fp_order", 4]
errors = {}
for res in (None, 8):
    out = tmpdir(f"o4res-{res}")
    run("stationary", BASE + ["-output_dir", out] + (["-fp_resolution", res] if res else []))
    row = read_csv(out + "/stationary.csv")
    errors[res] = {c: float(row[c][-1]) / exact[c] - 1 for c in ("info_flow_X", "mutual_information", "entropy_production")}
    p, _ = read_density(out + "/density_stationary.h5")
    h = 12 * sd / 128
    print(f"   -fp_resolution {res or 'default'}: " + ", ".join(f"{c} {e:+.2e}" for c, e in errors[res].items()))
    if res:
        check(abs(p.sum() * h.prod() - 1) < 1e-12 and p.min() > -1e-10 * p.max(),
              f"-fp_resolution {res}: mass {p.sum() * h.prod():.15f}, smallest cell {p.min() / p.max():.1e} of the largest")
check(errors[None]["info_flow_X"] < -0.05, f"default blend: information flow {errors[None]['info_flow_X']:+.1%} (the r faces fall back)")
for c, e in errors[8].items():
    check(abs(e) < 0.01, f"-fp_resolution 8: {c} within 1 % of the closed form ({e:+.2%})")
for value in (0, -1):
    proc = run("stationary", BASE + ["-fp_resolution", value, "-output_dir", tmpdir("o4res-bad")], expect_ok=False)
    check(proc.returncode != 0 and "-fp_resolution" in proc.stderr, f"-fp_resolution {value} refused naming it")
finish()
