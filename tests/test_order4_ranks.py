"""-fp_order 4's Krylov iterations do not depend on the ranks (doc/numerics.md):
on the rotating 2-D case (box mean +- 9 sd, 64^2, the grid where Richardson-SOR
smoothing of the fourth-order residual took 42, 53, 57 iterations on 1-3
ranks) the stationary solve takes at most 20 iterations and at most 1.3x its
one-rank count on 2 and 3 ranks, and the stage solves of a short transient
take at most 1.3x the one-rank iterations per stage (the linear iterations
over the Jacobian evaluations of -ts_view), with the same answer to 1e-9."""
import re
from common import *

M = np.array([[-1.0, -1.5], [2.0, -2.0]])
D = np.array([1.0, 0.2])
mu = -np.linalg.solve(M, [0.3, 0.0])
sd = np.sqrt(np.diag(lyapunov(M, D)))
base = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2", "-grid_n", 64,
        "-grid_lo", ",".join(repr(float(x)) for x in mu - 9 * sd), "-grid_hi", ",".join(repr(float(x)) for x in mu + 9 * sd),
        "-fp_order", 4]
its, mi = {}, {}
for ranks in (1, 2, 3):
    out = tmpdir(f"o4r-ss{ranks}")
    run("stationary", base + ["-output_dir", out], ranks=ranks)
    summary = read_json(out + "/stationary_summary.json")
    its[ranks], mi[ranks] = summary["ksp_iterations"], summary["final"]["mutual_information"]
print(f"  stationary iterations on 1-3 ranks: {its}")
check(its[1] <= 20, f"stationary at 64^2 on 1 rank: {its[1]} iterations <= 20")
for ranks in (2, 3):
    check(its[ranks] <= 1.3 * its[1], f"stationary on {ranks} ranks: {its[ranks]} iterations <= 1.3 x {its[1]}")
    check(abs(mi[ranks] - mi[1]) <= 1e-9, f"stationary on {ranks} ranks: the same mutual information ({mi[ranks] - mi[1]:.1e})")

per_stage = {}
for ranks in (1, 3):
    out = tmpdir(f"o4r-tr{ranks}")
    text = run("run", base + ["-init_mean", "-1,1", "-init_cov", "0.1,0,0,0.1", "-t_final", 0.3, "-output_every", 0.3,
                              "-ts_view", "-output_dir", out], ranks=ranks).stdout
    linear = int(re.search(r"total number of linear solver iterations=(\d+)", text)[1])
    jacobians = int(re.search(r"total number of I Jacobian evaluations=(\d+)", text)[1])
    per_stage[ranks] = linear / jacobians
print(f"  stage iterations per solve on 1 and 3 ranks: {per_stage}")
check(per_stage[3] <= 1.3 * per_stage[1], f"stage solves on 3 ranks: {per_stage[3]:.2f} iterations per stage <= 1.3 x {per_stage[1]:.2f}")
finish()
