"""The fast tier's MPI cases (a few seconds each): the same answer on 1, 2 and
3 ranks (doc/design.md "Quality bar": to 1e-10 relative) for a transient and a
stationary solve of a small 2-D linear model, and a bad option refused with
one line on 2 ranks. The full MPI tier is test_mpi.py and test_post_ranks.py."""
from common import *

LINEAR = ["-model", "linear", "-linear_M", "-1,0.5,0,-2", "-linear_b", "0.2,0", "-linear_D", "0.5,0.3",
          "-grid_n", "32,24", "-grid_lo", "-5,-4", "-grid_hi", "5,4"]
RUN = LINEAR + ["-t_final", "0.4", "-output_every", "0.1", "-ts_rtol", "1e-8", "-ts_atol", "1e-10"]

for command, opts, name in (("run", RUN, "diagnostics.csv"),
                            ("stationary", LINEAR + ["-stationary_ksp_rtol", "1e-16"], "stationary.csv")):
    out = {}
    for ranks in (1, 2, 3):
        out[ranks] = tmpdir(f"mpi-fast-{command}-{ranks}")
        run(command, opts + ["-output_dir", out[ranks]], ranks=ranks)
    for ranks in (2, 3):
        compare_runs(out[1], out[ranks], f"{command} on {ranks} ranks against 1 rank", 1e-10, name=name)

expect_refused("a grid of fewer cells than -grid_n's minimum", "run", RUN[:-6] + ["-grid_n", "4,24"], ["-grid_n"], ranks=(2,))
finish()
