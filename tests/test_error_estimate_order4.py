"""-error_estimate under -fp_order 4 (doc/physics.md §5): Richardson at the operator's
order, q_err = (q_h - q_2h)/15, trusted where the observed order from the three grids lies
in [3.5, 4.6]. Against the linear model's closed forms (common.py, tools/error_bars.py) in
1 and 2 variables, stationary and transient: every trusted <q>_uncertainty is at least half
the true error, no trusted <q>_err has the wrong sign, at least 90 % of the trusted bars lie
within 2x of the true error, and summary.json states the expected order 4 and its window."""
from common import *

from infotherm import errorbars as error_bars  # noqa: E402  (python/infotherm/errorbars.py)

CASES = [
    # label, M, b, D, n, lo, hi, sensor, init (None: stationary), t_final
    ("1-D stationary", [[-0.7]], [0.3], [0.4], 256, -6, 7, ["x1"], None, 0),
    ("1-D transient", [[-1.0]], [0.3], [0.5], 256, -5, 5, ["x1"], ([-0.8], [[0.2]]), 0.5),
    ("2-D stationary", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 128, -6, 6, ["x2"], None, 0),
    ("2-D transient", [[-1.0, 0.3], [0.6, -0.8]], [0.2, -0.1], [0.5, 0.3], 128, -5, 5, ["x2"],
     ([1.0, -0.8], [[0.3, 0.05], [0.05, 0.2]]), 0.5),
]
for label, M, b, D, n, lo, hi, sensor, init, T in CASES:
    s = error_bars.run_case(BIN, label, M, b, D, n, lo, hi, sensor, init, T, T / 2 if T else 0,
                            extra=["-fp_order", 4])
    print(f"  {label}: {s['trusted']}/{s['all']} trusted, {s['within']} within 2x, {s['small']} too small, "
          f"{s['wrong']} wrong sign; all bars within 2x: {s['all_within']}")
    for line in s["worst"][:4]:
        print("    " + line)
    check(s["trusted"] > 0, f"{label}: some bars trusted ({s['trusted']} of {s['all']})")
    check(s["small"] == 0, f"{label}: no trusted <q>_uncertainty below half the true error ({s['small']})")
    check(s["wrong"] == 0, f"{label}: no trusted <q>_err of the wrong sign ({s['wrong']})")
    check(s["within"] >= 0.9 * s["trusted"], f"{label}: {s['within']} of {s['trusted']} trusted bars within 2x (>= 90 %)")
    check(s["t0_changed"] == 0, f"{label}: t = 0 values unchanged by the extrapolation")

out = tmpdir("eo4-summary")
run("stationary", error_bars.linear_options([[-0.7]], [0.3], [0.4], 64, -6, 7) +
    ["-fp_order", 4, "-error_estimate", "-output_dir", out, "-kl_reference", "none"])
e = read_json(out + "/stationary_summary.json")["error_estimate"]
check(e["expected_order"] == 4 and e["order_range"] == [3.5, 4.6],
      f"summary.json: expected_order 4, order_range [3.5, 4.6] ({e['expected_order']}, {e['order_range']})")
finish()
