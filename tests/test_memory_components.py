"""summary.json's memory components (doc/outputs.md "memory"): the parts the
modules note from their objects' sizes (the density vectors, the faces, the
diagnostics, the assembled matrix from MatGetInfo, the multigrid levels,
the stage and Krylov vectors, the snapshot buffers) and the program's
resident memory before the grid, summed over the ranks, account for the
measured peak resident memory (getrusage, summed) within 20 %: a 2-D
stationary solve on one rank (the default, the levels applied from the
faces, and -fp_matrix_free false) and a 3-D run of fixed steps on two
(assembled). The matrix's share is 0 when the fine level is applied from the
faces, and otherwise equals AIJ storage of the star stencil counted on the grid
(each cell and its neighbours inside the walls, 12 bytes per entry; 16
bytes of row data per row, 32 on several ranks, whose matrices keep a
diagonal and an off-diagonal block). Under -fp_order 4 (wider faces,
FGMRES and the fine level's GMRES smoothing) `info`'s estimate
follows the measured peak of a stationary solve within 20 %, and
exceeds order 2's estimate by at least half the measured difference."""
from common import *

N = {2: 384, 3: 48}
CASES = [("2-D stationary, 384^2, 1 rank", "stationary", ["-model", "linear", "-grid_n", "384"], 1, 2),
         ("2-D stationary, 384^2, 1 rank, assembled", "stationary",
          ["-model", "linear", "-grid_n", "384", "-fp_matrix_free", "false"], 1, 2),
         ("3-D run, 48^3, 2 ranks, assembled", "run", ["-model", "linear", "-linear_M", "-1,0,0,0.5,-1,0,0,0.5,-1", "-grid_n", "48",
                                                      "-t_final", "0.02", "-ts_adapt_type", "none", "-ts_dt", "0.01",
                                                      "-output_every", "0.02", "-fp_matrix_free", "false"], 2, 3)]
out = tmpdir("memory-components")
for name, command, opts, ranks, d in CASES:
    folder = f"{out}/{command}{d}{'-assembled' if 'false' in opts else ''}"
    run(command, opts + ["-grid_lo", "-8", "-grid_hi", "8", "-output_dir", folder], ranks=ranks)
    m = read_json(f"{folder}/{'stationary_summary' if command == 'stationary' else 'summary'}.json")["memory"]
    parts = {k: v["bytes"] for k, v in m["components"].items()}
    total = sum(parts.values())
    print(f"{name}: peak {m['peak_bytes'] / 1e6:.1f} MB; " + ", ".join(f"{k} {v['per_unknown']:.0f}" for k, v in m["components"].items())
          + " B/unknown")
    check(abs(m["peak_bytes"] - total) <= 0.2 * m["peak_bytes"] and m["other_bytes"] == m["peak_bytes"] - total,
          f"{name}: the components sum to {total / 1e6:.1f} MB of the measured peak {m['peak_bytes'] / 1e6:.1f} MB "
          f"({100 * total / m['peak_bytes']:.0f} %, within 20 %)")
    assembled = "false" in opts  # -fp_matrix_free false: the fine level's AIJ matrix
    needed = ["program", "density_vectors", "faces", "diagnostics", "multigrid_levels", "krylov_vectors"]
    needed += ["stage_vectors"] if command == "run" else []
    needed += ["matrix"] if assembled else []
    check(all(parts[k] > 0 for k in needed), f"{name}: every part the command holds is reported ({needed})")
    per, n = m["components"]["matrix"]["per_unknown"], N[d]
    entries = n ** d + 2 * d * n ** (d - 1) * (n - 1)  # diagonal, and both neighbours of each interior face
    want = 12 * entries / n ** d + (32 if ranks > 1 else 16) if assembled else 0  # a shell holds none
    check(abs(per - want) < 0.01, f"{name}: the matrix holds {per:.3f} B per unknown, AIJ storage of the stencil {want:.3f}")

# -fp_order 4: info's estimate (the "stationary ... (N B per unknown)" of its memory line) against the measured peak
import re  # noqa: E402
peak, est = {}, {}
for order in (2, 4):
    opts = ["-model", "linear", "-grid_n", "384", "-grid_lo", "-8", "-grid_hi", "8", "-fp_order", order]
    folder = f"{out}/stationary-order{order}"
    run("stationary", opts + ["-output_dir", folder])
    peak[order] = read_json(f"{folder}/stationary_summary.json")["memory"]["peak_bytes"] / 1e6
    line = run("info", opts).stdout
    value, unit = re.search(r"stationary ([0-9.]+) ([kMGT]?B) \([0-9.]+ B per unknown\)", line).groups()
    est[order] = float(value) * {"kB": 1e-3, "MB": 1, "GB": 1e3}[unit]
    print(f"  order {order}: measured peak {peak[order]:.1f} MB, info estimates {est[order]:.1f} MB")
check(abs(est[4] - peak[4]) <= 0.2 * peak[4],
      f"-fp_order 4: info's estimate {est[4]:.1f} MB within 20 % of the measured peak {peak[4]:.1f} MB")
check(est[4] - est[2] >= 0.5 * (peak[4] - peak[2]),
      f"-fp_order 4: info's estimate grows by {est[4] - est[2]:.1f} MB over order 2's (measured {peak[4] - peak[2]:.1f})")
finish()
