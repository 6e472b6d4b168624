"""The multigrid's levels applied from the face coefficients on 1, 2 and 3
ranks (tests/test_unit_smooth.c): on 2-D, 3-D, 5-D (dof axes), periodic and
-fp_order 4 grids, with a shift, a scale and a pinned row, the MatShell's product,
residual and diagonal equal the assembled matrix's to round-off; its
symmetric Gauss-Seidel equals PETSc's SOR of the assembled matrix to
round-off (one sweep from zero, two from a guess), also where one rank owns
a periodic axis whole, and converges to the solution of a tight GMRES solve on every grid;
the residual a symmetric pre-smoothing leaves beside its result (one sweep
from zero, two from a guess; ItSmoothPCSetResidual) equals the assembled
matrix's residual of that result to round-off (the neighbours on other
ranks and across a periodic seam included); the alternating smoother's
forward sweep from zero and backward sweep from a guess equal PETSc's
SOR_LOCAL_FORWARD_SWEEP and SOR_LOCAL_BACKWARD_SWEEP;
faces with a threshold_reset axis are refused."""
import os
import subprocess
from common import *

EXE = os.environ.get("INFOTHERM_UNIT_SMOOTH", os.path.join(os.path.dirname(__file__), "..", "build", "tests", "test_unit_smooth"))
for ranks in (1, 2, 3):
    p = subprocess.run(MPIEXEC + ["-n", str(ranks), EXE], capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("ok", "FAIL"))]
    check(p.returncode == 0 and len(lines) == 7 and all(l.startswith("ok") for l in lines),
          f"{ranks} rank(s): {len(lines)} checks, {sum(l.startswith('FAIL') for l in lines)} failed {p.stderr.strip()[-300:]}")
    for l in lines:
        print("   ", l)
finish()
