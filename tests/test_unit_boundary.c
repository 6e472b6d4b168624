/* Unit test of the boundary kinds (doc/physics.md §8) on any number of ranks
   (tests/test_boundary_ranks.py runs it on 1, 2 and 3): for a threshold_reset
   axis (the lif model, 1-D, and an expression model with a threshold on its
   second axis, 2-D) and periodic axes (1-D and 2-D expression models), the
   assembled L's columns sum to zero (L^T 1 = 0 to 1e-14 of |L|: mass is
   conserved), its off-diagonals are non-negative (an M-matrix), and the
   matrix-free product (the time stepper's) equals the assembled one (to
   1e-14 of |L| |p|). Ranks may own the reset cell and the threshold cell
   apart. */
#include <infotherm/fp.h>
#include "operator_checks.h"

static PetscInt failures = 0;

static PetscErrorCode CheckCase(const char name[], const char *const options[]) {
  ItModel     model;
  ItGrid      grid;
  ItFP        fp;
  Mat         L;
  Vec         p, Lp, Lp_free;
  PetscReal   worst = 0, scale, gminoff = 0, pnorm, diff;
  PetscRandom rnd;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  for (PetscInt k = 0; options[k]; k += 2)
    PetscCall(PetscOptionsSetValue(NULL, options[k], options[k + 1]));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, 0.0));
  PetscCall(ItFPGetMatrix(fp, &L));
  PetscCall(ItTestOperatorProperties(L, &worst, &gminoff));
  PetscCall(MatNorm(L, NORM_INFINITY, &scale));
  PetscCall(MatCreateVecs(L, &p, NULL));
  PetscCall(VecDuplicate(p, &Lp));
  PetscCall(VecDuplicate(p, &Lp_free));
  PetscCall(PetscRandomCreate(PETSC_COMM_WORLD, &rnd));
  PetscCall(PetscRandomSetSeed(rnd, 24));
  PetscCall(PetscRandomSeed(rnd));
  PetscCall(VecSetRandom(p, rnd));
  PetscCall(MatMult(L, p, Lp));
  PetscCall(ItFPApply(fp, p, Lp_free));
  PetscCall(VecAXPY(Lp_free, -1, Lp));
  PetscCall(VecNorm(Lp_free, NORM_INFINITY, &diff));
  PetscCall(VecNorm(p, NORM_INFINITY, &pnorm));
  failures += (worst > 1e-14) + (gminoff < 0) + (diff > 1e-14 * scale * pnorm);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%s %-22s max |column sum| / |L| = %.1e (<= 1e-14)\n"
                        "%s %-22s min off-diagonal of L = %.1e (>= 0)\n"
                        "%s %-22s |L p - matrix-free L p| / (|L| |p|) = %.1e (<= 1e-14)\n",
                        worst <= 1e-14 ? "ok  " : "FAIL", name, (double)worst,
                        gminoff >= 0 ? "ok  " : "FAIL", name, (double)gminoff,
                        diff <= 1e-14 * scale * pnorm ? "ok  " : "FAIL", name,
                        (double)(diff / (scale * pnorm))));
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(VecDestroy(&p));
  PetscCall(VecDestroy(&Lp));
  PetscCall(VecDestroy(&Lp_free));
  PetscCall(ItFPDestroy(&fp));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  const char *const lif[]     = {"-model", "lif", "-grid_n", "48", "-lif_mu", "1.1", NULL};
  const char *const lif_ref[] = {"-model", "lif", "-grid_n", "40", "-lif_V_r", "0.37", NULL};
  const char *const thr2[]    = {"-model",
                                 "expr",
                                 "-vars",
                                 "x,V",
                                 "-expr_drift_x",
                                 "-x",
                                 "-expr_diffusion_x",
                                 "1",
                                 "-expr_drift_V",
                                 "(0.8 + 0.3*x - V)",
                                 "-expr_diffusion_V",
                                 "0.05 + 0.01*x^2",
                                 "-grid_n",
                                 "12,20",
                                 "-grid_lo",
                                 "-4,-1",
                                 "-grid_hi",
                                 "4,1",
                                 "-grid_boundary",
                                 "V:threshold_reset",
                                 "-reset_V",
                                 "0.1",
                                 NULL};
  const char *const ring[]    = {"-model",
                                 "expr",
                                 "-vars",
                                 "th",
                                 "-expr_drift_th",
                                 "1 - 1.5*sin(th)",
                                 "-expr_diffusion_th",
                                 "0.4 + 0.1*cos(th)",
                                 "-grid_boundary",
                                 "th:periodic",
                                 "-grid_lo",
                                 "0",
                                 "-grid_hi",
                                 "6.283185307179586",
                                 "-grid_n",
                                 "30",
                                 NULL};
  const char *const torus[]   = {"-model",
                                 "expr",
                                 "-vars",
                                 "a,b",
                                 "-expr_drift_a",
                                 "1 + sin(b)",
                                 "-expr_diffusion_a",
                                 "0.3",
                                 "-expr_drift_b",
                                 "cos(a) - 0.5",
                                 "-expr_diffusion_b",
                                 "0.2",
                                 "-grid_boundary",
                                 "a:periodic,b:periodic",
                                 "-grid_lo",
                                 "0",
                                 "-grid_hi",
                                 "6.283185307179586",
                                 "-grid_n",
                                 "18,14",
                                 NULL};
  const char *const mixed[]   = {"-model",
                                 "expr",
                                 "-vars",
                                 "th,x",
                                 "-expr_drift_th",
                                 "1 + 0.5*x",
                                 "-expr_diffusion_th",
                                 "0.3",
                                 "-expr_drift_x",
                                 "-x + sin(th)",
                                 "-expr_diffusion_x",
                                 "0.5",
                                 "-grid_boundary",
                                 "th:periodic",
                                 "-grid_lo",
                                 "0,-4",
                                 "-grid_hi",
                                 "6.283185307179586,4",
                                 "-grid_n",
                                 "16,12",
                                 NULL};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(ItModelRegisterAll());
  PetscCall(CheckCase("lif threshold_reset", lif));
  PetscCall(CheckCase("lif, reset off-centre", lif_ref));
  PetscCall(CheckCase("2-D threshold on V", thr2));
  PetscCall(CheckCase("periodic ring", ring));
  PetscCall(CheckCase("periodic torus", torus));
  PetscCall(CheckCase("periodic x wall", mixed));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " failures\n", failures));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
