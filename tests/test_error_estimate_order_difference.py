"""-error_estimate order (doc/physics.md §5): under -fp_order 2 the same grid solved also
with -fp_order 4 (a transient at time tolerances 100x tighter), q_err = q_4 - q_2 and
q_uncertainty = |q_err|, no coarse grids. Against the linear model's closed forms
(common.py, tools/error_bars.py) in 1 and 2 variables, stationary and transient, and the
rotating 2-D case: at least 95 % of the bars lie within 2x of the true error of the
second-order answer, none more than 2x too small, none of the wrong sign. summary.json says
the method; the same numbers on 1 and 2 ranks; refused under -fp_order 4, by crosscheck and
for an unknown value, naming the option."""
from common import *

from infotherm import errorbars as error_bars  # noqa: E402  (python/infotherm/errorbars.py)

CASES = [
    # label, M, b, D, n, lo, hi, sensor, init (None: stationary), t_final
    ("1-D transient", [[-1.0]], [0.3], [0.5], 64, -5, 5, ["x1"], ([-0.8], [[0.2]]), 0.5),
    ("2-D stationary", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 48, -6, 6, ["x2"], None, 0),
    ("2-D transient", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 48, -5, 5, ["x2"],
     ([1.0, -0.8], [[0.3, 0.05], [0.05, 0.2]]), 0.5),
    ("2-D rotating", [[-1.0, -1.5], [2.0, -2.0]], [0.3, 0.0], [1.0, 0.2], 96, -7, 7, ["x2"], None, 0),
]
for label, M, b, D, n, lo, hi, sensor, init, T in CASES:
    s = error_bars.run_case(BIN, label, M, b, D, n, lo, hi, sensor, init, T, T / 2 if T else 0,
                            extra=["-error_estimate", "order"])
    print(f"  {label}: {s['all_within']} of {s['all']} bars within 2x, {s['small']} too small, {s['wrong']} wrong sign")
    for line in s["worst"][:4]:
        print("    " + line)
    check(s["trusted"] == s["all"], f"{label}: every bar marked trusted ({s['trusted']} of {s['all']})")
    check(s["small"] == 0, f"{label}: no <q>_uncertainty below half the true error ({s['small']})")
    check(s["wrong"] == 0, f"{label}: no <q>_err of the wrong sign ({s['wrong']})")
    check(s["all_within"] >= 0.95 * s["all"], f"{label}: {s['all_within']} of {s['all']} bars within 2x (>= 95 %)")

# summary.json, and the same numbers on 1 and 2 ranks
opts = error_bars.linear_options(*CASES[2][1:4], 32, -5, 5) + [
    "-init_mean", "1.0,-0.8", "-init_cov", "0.3,0.05,0.05,0.2", "-t_final", 0.2, "-output_every", 0.1,
    "-error_estimate", "order", "-kl_reference", "none"]
outs = []
for ranks in (1, 2):
    out = tmpdir(f"eod-{ranks}")
    run("run", opts + ["-output_dir", out], ranks=ranks)
    outs.append(out)
e = read_json(outs[0] + "/summary.json")["error_estimate"]
check(e["method"] == "order_difference" and e["coarse_grids"] == [[32, 32]] and "fourth_order_seconds" in e["cost"],
      f"summary.json: method order_difference, the same grid, its cost ({e['method']}, {e['coarse_grids']})")
t1, t2 = read_csv(outs[0] + "/diagnostics.csv"), read_csv(outs[1] + "/diagnostics.csv")
diff = max(abs(a - b) for k in t1 if k.endswith("_err") for a, b in zip(t1[k], t2[k]) if np.isfinite(a))
check(diff < 1e-7, f"<q>_err on 1 and 2 ranks agree ({diff:.1e})")

expect_refused("order under -fp_order 4", "stationary",
               error_bars.linear_options([[-1.0]], [0.0], [0.5], 32, -5, 5) + ["-fp_order", 4, "-error_estimate", "order"],
               ["-error_estimate order", "-fp_order 4"])
expect_refused("an unknown method", "stationary",
               error_bars.linear_options([[-1.0]], [0.0], [0.5], 32, -5, 5) + ["-error_estimate", "cubic"],
               ["-error_estimate cubic"])
expect_refused("order by crosscheck", "crosscheck",
               error_bars.linear_options([[-1.0]], [0.0], [0.5], 32, -5, 5) +
               ["-init_mean", "0.5", "-init_cov", "0.5", "-t_final", 0.1, "-mc_particles", 1000, "-error_estimate", "order"],
               ["-error_estimate order", "crosscheck"])
finish()
