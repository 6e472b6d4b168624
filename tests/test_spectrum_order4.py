"""spectrum -fp_order 4 (doc/physics.md §6, §7): the fourth-order operator applied matrix-free,
shift-and-invert by GMRES preconditioned with the Scharfetter-Gummel factor. On the rotating
linear case (M = [[-1,-1.5],[2,-2]]), whose relaxation rates are the closed form
-(n1 mu + n2 conj(mu)) over n1, n2 >= 0 with mu the eigenvalues of M (-1.5 +- i sqrt(2.75)):
the five slowest rates (a pair, 3, a pair) at 64^2 within 1e-4 relative, converging at an
observed order of at least 4 from 32^2 to 64^2, and more than 100x closer than -fp_order 2 at
64^2; the same rates on 2 ranks; -error_estimate order refused by spectrum."""
import cmath
from common import *

MU = complex(-1.5, math.sqrt(2.75))
exact = sorted({complex(-(a * MU + b * MU.conjugate()).real, -(a * MU + b * MU.conjugate()).imag)
                for a in range(4) for b in range(4) if a + b > 0}, key=lambda z: (round(z.real, 9), -z.imag))[:5]
BASE = ["-model", "linear", "-linear_M", "-1,-1.5,2,-2", "-linear_b", "0.3,0", "-linear_D", "1,0.2",
        "-grid_lo", "-6,-4", "-grid_hi", "6,4", "-spectrum_nev", 4]


def rates(n, order, ranks=1):
    out = tmpdir(f"spec4-{n}-{order}-{ranks}")
    run("spectrum", BASE + ["-grid_n", n, "-fp_order", order, "-output_dir", out], ranks=ranks)
    f = read_json(out + "/spectrum_summary.json")["final"]
    return [complex(f[f"lambda_{k}"], f.get(f"lambda_{k}_imag", 0.0)) for k in range(1, 6)]


def errors(got):
    # each exact rate against the nearest computed one (a pair's order within it is the solver's)
    return [min(abs(g - z) for g in got) / abs(z) for z in exact]


print(f"  exact: {exact}")
e32, e64, e2 = errors(rates(32, 4)), errors(rates(64, 4)), errors(rates(64, 2))
orders = [math.log2(a / b) for a, b in zip(e32, e64)]
print(f"  order 4: 32^2 {['%.1e' % e for e in e32]}, 64^2 {['%.1e' % e for e in e64]}, observed orders {['%.1f' % p for p in orders]}")
print(f"  order 2 at 64^2: {['%.1e' % e for e in e2]}")
check(max(e64) < 1e-4, f"-fp_order 4 at 64^2: the five slowest rates within {max(e64):.1e} relative (< 1e-4)")
check(min(orders) >= 4, f"observed order from 32^2 to 64^2 at least 4 ({min(orders):.2f})")
check(all(b > 100 * a for a, b in zip(e64, e2)), f"more than 100x closer than -fp_order 2 at 64^2 (ratios {min(b / a for a, b in zip(e64, e2)):.0f}+)")
r1, r2 = rates(32, 4), rates(32, 4, ranks=2)
diff = max(abs(a - b) for a, b in zip(sorted(r1, key=lambda z: (z.real, z.imag)), sorted(r2, key=lambda z: (z.real, z.imag))))
check(diff < 1e-8, f"the same rates on 1 and 2 ranks ({diff:.1e})")
expect_refused("spectrum -error_estimate order", "spectrum", BASE + ["-grid_n", 32, "-error_estimate", "order"],
               ["-error_estimate order", "spectrum"])
finish()
