"""summary.json's memory ledger counts what a run made and wrote (doc/clusters.md
"Memory per unknown"), checked against the objects' sizes from the grid:
- a 4-variable transient at order 4 whose stages all take Jacobi (16^4, one
  rank) never sets the multigrid up: its levels hold less than a tenth of
  one fine vector, while with -ts_stage_jacobi_ratio 0 (the multigrid at every
  stage) they hold at least the fine level's 4 vectors, and the measured peak
  grows by at least half that difference; the faces hold exactly the fine
  set (2 coefficients and 3 guard numbers in double, 4 weights in single
  precision, -fp_weights auto in 4 variables: 56 bytes per face and axis; 72
  under -fp_weights double), not the coarse levels' faces that were never
  computed (counted under the multigrid at every stage); other_bytes >= 0 in
  both;
- a refractory time in two variables (lif_inference, 32 x 64): the
  compartment's history (3 reals per entry, and 2 fields over the 32 cells of
  v, for at least its 64 first entries) is counted with the density vectors;
- -post_ranks 1 beside one solver rank: summary.json sums both ranks (its
  program part, each rank's resident memory before the grid, at least 1.8
  times the one-rank run's, its peak at least 1.2 times), the io_buffers hold the solver's ring of 4 states and the post
  rank's receive buffer, and a checkpoint's refractory history sent to the
  post rank adds to them (on one rank, the history a checkpoint keeps). Before, the post ranks' summary.json held their
  own memory alone."""
from common import *

# --- the multigrid and the faces of a 4-D order-4 transient ---
N, D = 16, 4
FOUR = ["-model", "linear", "-linear_M", "-1,0,0,0.2,1.5,-2,0,0,0,0.8,-1.2,0,0.3,0,0.5,-1", "-linear_b", "0.1,0,0,0.2",
        "-linear_D", "1,0.3,0.2,0.4", "-grid_lo", "-8,-6,-4.5,-5.8", "-grid_hi", "8.4,6.1,4.6,6.3", "-grid_n", N,
        "-fp_order", 4, "-init", "gaussian", "-init_mean", "1,0,0,0", "-init_cov", "0.2,0,0,0,0,0.1,0,0,0,0,0.1,0,0,0,0,0.1",
        "-t_final", 0.2, "-output_every", 0.2, "-snapshot_every", 100]
vec = 8 * N ** D
nfaces = D * N ** (D - 1) * (N + 1)
fine_faces = nfaces * ((2 + 3) * 8 + 4 * 4)
m = {}
for ratio in (None, 0):
    out = tmpdir(f"ledger-4d-{ratio}")
    run("run", FOUR + ["-output_dir", out] + (["-ts_stage_jacobi_ratio", ratio] if ratio is not None else []))
    m[ratio] = read_json(f"{out}/summary.json")["memory"]
    parts = {k: v["bytes"] for k, v in m[ratio]["components"].items()}
    print(f"ratio {ratio}: peak {m[ratio]['peak_bytes'] / 1e6:.2f} MB, other {m[ratio]['other_bytes'] / 1e6:.2f} MB, "
          f"multigrid {parts['multigrid_levels'] / 1e6:.3f} MB, faces {parts['faces'] / 1e6:.3f} MB (fine set {fine_faces / 1e6:.3f})")
    check(m[ratio]["other_bytes"] >= 0, f"ratio {ratio}: other_bytes {m[ratio]['other_bytes']} >= 0")
mg = {r: m[r]["components"]["multigrid_levels"]["bytes"] for r in m}
faces = {r: m[r]["components"]["faces"]["bytes"] for r in m}
check(mg[None] < 0.1 * vec, f"every stage Jacobi: the multigrid holds {mg[None]} B, under a tenth of a vector ({vec} B)")
check(mg[0] >= 4 * vec, f"the multigrid at every stage: it holds {mg[0]} B, at least the fine level's 4 vectors ({4 * vec} B)")
grow = m[0]["peak_bytes"] - m[None]["peak_bytes"]
check(grow >= 0.5 * (mg[0] - mg[None]), f"the measured peak grows by {grow / 1e6:.2f} MB with the multigrid's "
      f"{(mg[0] - mg[None]) / 1e6:.2f} MB (at least half)")
check(faces[None] == fine_faces,
      f"every stage Jacobi: the faces hold {faces[None]} B, the fine set's {fine_faces} B (single weights; no coarse level computed)")
out = tmpdir("ledger-4d-double")
run("run", FOUR + ["-output_dir", out, "-fp_weights", "double"])
double = read_json(f"{out}/summary.json")["memory"]["components"]["faces"]["bytes"]
check(double == nfaces * (2 + 4 + 3) * 8, f"-fp_weights double: the faces hold {double} B, {nfaces * 72} B expected")
check(faces[0] > faces[None], f"the multigrid at every stage: the coarse levels' faces are counted ({faces[0]} > {faces[None]} B)")

# --- a refractory time in two variables: the compartment's history ---
out = tmpdir("ledger-refractory-2d")
run("run", ["-options_file", "../input/lif_inference.opts", "-lif_inference_tau_ref", 0.1, "-grid_n", "32,64",
            "-t_final", 0.1, "-output_every", 0.1, "-snapshot_every", 100, "-output_dir", out])
density = read_json(f"{out}/summary.json")["memory"]["components"]["density_vectors"]["bytes"]
want = 2 * 8 * 32 * 64 + 8 * 64 * (3 + 2 * 32)  # the density and the last good copy; the history at 64 entries
check(density >= want, f"lif_inference 32 x 64, tau_ref 0.1: density_vectors {density} B >= the two vectors and the history {want} B")

# --- post ranks: both groups in summary.json, the ring, the receive buffer and the history copies ---
LIF = ["-model", "lif", "-lif_tau_ref", 0.1, "-grid_n", 128, "-t_final", 1, "-output_every", 0.1, "-snapshot_every", 100,
       "-init", "gaussian", "-init_mean", 0.3, "-init_cov", 0.01]
mem = {}
for label, opts, ranks in (("1 rank", [], 1), ("1 rank, checkpoints", ["-checkpoint_every", 0.25], 1), ("post", ["-post_ranks", 1], 2),
                           ("post, checkpoints", ["-post_ranks", 1, "-checkpoint_every", 0.25], 2)):
    out = tmpdir(f"ledger-post-{len(mem)}")
    run("run", LIF + opts + ["-output_dir", out], ranks=ranks)
    mem[label] = read_json(f"{out}/summary.json")["memory"]
io = {k: v["components"]["io_buffers"]["bytes"] for k, v in mem.items()}
program = {k: v["components"]["program"]["bytes"] for k, v in mem.items()}
check(program["post"] >= 1.8 * program["1 rank"] and mem["post"]["peak_bytes"] >= 1.2 * mem["1 rank"]["peak_bytes"],
      f"-post_ranks 1: summary.json sums both ranks: program {program['post'] / 1e6:.1f} MB (1 rank: "
      f"{program['1 rank'] / 1e6:.1f}), peak {mem['post']['peak_bytes'] / 1e6:.1f} MB (1 rank: {mem['1 rank']['peak_bytes'] / 1e6:.1f})")
check(io["post"] >= 5 * 8 * 128, f"-post_ranks 1: io_buffers {io['post']} B hold the ring of 4 states and the receive buffer ({5 * 8 * 128} B)")
check(io["1 rank, checkpoints"] > io["1 rank"],
      f"1 rank with checkpoints: the history the checkpoint keeps is in io_buffers ({io['1 rank, checkpoints']} > {io['1 rank']} B)")
check(io["post, checkpoints"] > io["post"],
      f"-post_ranks 1 with checkpoints: the history copies add to io_buffers ({io['post, checkpoints']} > {io['post']} B)")
finish()
