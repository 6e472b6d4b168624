"""-fp_order 4's stage preconditioner (src/solve/stagepc.c): Jacobi where the
stage's shift dominates the diffusive face rates, the multigrid elsewhere.
On the 4-variable linear transient of doc/peer-comparison.md at 12^4 (cells
wide against the diffusion, so every stage takes Jacobi) the stage solves
take exactly the same iterations on 1, 2 and 3 ranks (a pointwise
preconditioner), and every column agrees with the multigrid at every stage
(-ts_stage_jacobi_ratio 0) within -ts_rtol (1e-4 at this resolution; both
solve every stage to 1e-2 -ts_rtol: measured 4e-5 relative at most, on the
small mutual informations between pairs, 1e-5 elsewhere). The rotating 2-D
case at 128^2, whose first step of 0.05 has diffusive rates 2.2 times the
shift, keeps the multigrid there. A negative ratio is refused."""
import re
from common import *

M4 = np.array([[-1.0, 0, 0, 0.2], [1.5, -2, 0, 0], [0, 0.8, -1.2, 0], [0.3, 0, 0.5, -1]])
b4, D4 = np.array([0.1, 0, 0, 0.2]), np.array([1.0, 0.3, 0.2, 0.4])
mu4 = -np.linalg.solve(M4, b4)
sd4 = np.sqrt(np.diag(lyapunov(M4, D4)))
four = ["-model", "linear", "-linear_M", ",".join(repr(float(x)) for x in M4.ravel()),
        "-linear_b", ",".join(repr(float(x)) for x in b4), "-linear_D", ",".join(repr(float(x)) for x in D4),
        "-grid_lo", ",".join(repr(float(x)) for x in mu4 - 8 * sd4),
        "-grid_hi", ",".join(repr(float(x)) for x in mu4 + 8 * sd4), "-grid_n", 12,
        "-init", "gaussian", "-init_mean", "1,0,0,0", "-init_cov", "0.5,0,0,0,0,0.3,0,0,0,0,0.3,0,0,0,0,0.3",
        "-t_final", 0.5, "-output_every", 0.25, "-fp_order", 4, "-ts_view"]
VIEW = r"at most ([\d.e+-]+) times the shift: Jacobi \((\d+) solves, (\d+) iterations\); the others \((\d+) solves, (\d+) iterations\)"


def stage_view(text):
    """(Jacobi solves, Jacobi iterations, multigrid solves) from -ts_view's preconditioner."""
    m = re.search(VIEW, text)
    return (int(m[2]), int(m[3]), int(m[4])) if m else None


views = {}
for ranks in (1, 2, 3):
    out = tmpdir(f"o4pc-{ranks}")
    views[ranks] = stage_view(run("run", four + ["-output_dir", out], ranks=ranks).stdout)
    if ranks == 1:
        ref = out
print(f"  (Jacobi solves, iterations, multigrid solves) on 1-3 ranks: {views}")
check(views[1] is not None and views[1][0] > 0 and views[1][2] == 0,
      f"12^4: every stage takes Jacobi on one rank ({views[1]})")
for ranks in (2, 3):
    check(views[ranks] == views[1], f"12^4 on {ranks} ranks: the same stage solves and iterations ({views[ranks]})")
out = tmpdir("o4pc-mg")
mg = stage_view(run("run", four + ["-ts_stage_jacobi_ratio", 0, "-output_dir", out]).stdout)
check(mg is None, "-ts_stage_jacobi_ratio 0: the multigrid itself (no shell in the view)")
compare_runs(ref, out, "Jacobi against the multigrid at every stage", 1e-4)

rot = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2",
       "-grid_lo", "-7.023529,-5.179057", "-grid_hi", "7.263529,5.419057", "-grid_n", 128,
       "-init", "gaussian", "-init_mean", "-1,1", "-init_cov", "0.05,0,0,0.1", "-t_final", 0.05,
       "-output_every", 0.05, "-ts_dt", 0.05, "-fp_order", 4, "-ts_view"]
view = stage_view(run("run", rot + ["-output_dir", tmpdir("o4pc-rot")], ranks=2).stdout)
print(f"  rotating 2-D at 128^2 to t = 0.05, first step 0.05: {view}")
check(view is not None and view[2] > 0, f"128^2: the first steps' stages keep the multigrid ({view})")

expect_refused("-ts_stage_jacobi_ratio -1", "run", rot + ["-ts_stage_jacobi_ratio", -1], ["-ts_stage_jacobi_ratio"])
finish()
