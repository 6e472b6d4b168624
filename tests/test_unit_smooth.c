/* Unit test of the multigrid levels applied from the faces (src/solve/smooth.c)
   on 1-3 ranks (tests/test_smooth_ranks.py): on 2-D, 3-D, 5-D (two axes
   carried as the DMDA's dof), periodic (one axis, and both: a rank may own
   a periodic axis whole, whose wrapped neighbour the assembled SOR reads from
   this sweep) and -fp_order 4 grids (the Scharfetter–Gummel faces that
   precondition it, in the DMDA's wider ghosted array), with a shift, a scale
   and a pinned row, the MatShell's product, residual and diagonal equal
   those of the matrix assembled from the same faces (ItFPAssembleShifted,
   the pinned row by MatZeroRows) to round-off; one symmetric Gauss–Seidel
   sweep from zero and two Richardson sweeps from a guess equal PETSc's SOR
   (SOR_LOCAL_SYMMETRIC_SWEEP) of the assembled matrix to round-off; and 60
   sweeps converge to the solution of a GMRES solve to 1e-14; the residual
   that a symmetric pre-smoothing leaves (ItSmoothPCSetResidual: one sweep
   from zero, two from a guess) equals the assembled matrix's residual of
   its result to round-off; the
   alternating smoother's forward sweep from zero and backward sweep from a
   guess equal PETSc's SOR_LOCAL_FORWARD_SWEEP and SOR_LOCAL_BACKWARD_SWEEP. Faces with a
   threshold_reset axis are refused (ItSmoothSupported), so they keep the
   assembled path. */
#include "operator_checks.h"
#include <infotherm/solve.h>

static PetscErrorCode CheckCase(const char name[], const char *const options[][2],
                                PetscInt *failures) {
  ItModel     model;
  ItGrid      grid;
  ItFaces     faces;
  Mat         S, J;
  Vec         x, b, ys, yj, g;
  KSP         ks, kj, klu;
  PC          pc;
  PetscRandom rnd;
  PetscInt    pin, lo, hi, cell[IT_MAX_DIM] = {0, 0, 0, 0, 0, 0};
  PetscScalar diag = 0, ds = 0;
  PetscReal   value, e_mult, e_res, e_diag, e_at, e_sweep, e_rich, e_conv, e_fused, e_fused2, e_fwd,
      e_bwd;

  PetscFunctionBegin;
  PetscCall(ItTestModel(options, &model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFacesCreate(grid, model, &faces));
  PetscCall(ItFacesCompute(faces, 0));
  /* J = 1.3 (20 I - L), the row of the middle cell pinned */
  PetscCall(ItSmoothCreateOperator(grid, faces, &S));
  PetscCall(ItSmoothOperatorSetShift(S, 20, 1.3));
  PetscCall(ItFPCreateMatrix(grid, &J));
  PetscCall(ItFPAssembleShifted(faces, 20, 1.3, J));
  for (PetscInt a = 0; a < ItGridGetInfo(grid)->dim; a++) cell[a] = ItGridGetInfo(grid)->n[a] / 2;
  PetscCall(ItGridGlobalIndex(grid, cell, &pin));
  PetscCall(MatGetOwnershipRange(J, &lo, &hi));
  if (pin >= lo && pin < hi) PetscCall(MatGetValue(J, pin, pin, &diag));
  PetscCall(ItGridMaxAbs(grid, PetscRealPart(diag), &value));
  PetscCall(MatSetOption(J, MAT_KEEP_NONZERO_PATTERN, PETSC_TRUE));
  PetscCall(MatZeroRows(J, pin >= lo && pin < hi ? 1 : 0, &pin, 2 * value, NULL, NULL));
  PetscCall(ItSmoothOperatorSetPin(S, pin, 2 * value));
  /* products, residuals, diagonals */
  PetscCall(MatCreateVecs(J, &x, &b));
  PetscCall(VecDuplicate(x, &ys));
  PetscCall(VecDuplicate(x, &yj));
  PetscCall(VecDuplicate(x, &g));
  PetscCall(PetscRandomCreate(PETSC_COMM_WORLD, &rnd));
  PetscCall(VecSetRandom(x, rnd));
  PetscCall(VecSetRandom(b, rnd));
  PetscCall(VecSetRandom(g, rnd));
  PetscCall(MatMult(S, x, ys));
  PetscCall(MatMult(J, x, yj));
  PetscCall(ItTestMaxRel(ys, yj, &e_mult));
  PetscCall(MatResidual(S, b, x, ys));
  PetscCall(MatResidual(J, b, x, yj));
  PetscCall(ItTestMaxRel(ys, yj, &e_res));
  PetscCall(MatGetDiagonal(S, ys));
  PetscCall(MatGetDiagonal(J, yj));
  PetscCall(ItTestMaxRel(ys, yj, &e_diag));
  e_at = 0;
  for (PetscInt row = lo; row < hi; row += PetscMax(1, (hi - lo) / 7)) {
    PetscCall(ItSmoothDiagonalAt(S, row, &ds));
    PetscCall(MatGetValue(J, row, row, &diag));
    e_at = PetscMax(e_at, PetscAbsScalar(ds - diag) / PetscAbsScalar(diag));
  }
  if (pin >= lo && pin < hi) {
    PetscCall(ItSmoothDiagonalAt(S, pin, &ds));
    e_at = PetscMax(e_at, PetscAbsScalar(ds - 2 * value) / value);
  }
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &e_at, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
  /* one sweep from zero (PCApply) and two from a guess (Richardson's fast path) */
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ks));
  PetscCall(KSPSetOperators(ks, S, S));
  PetscCall(KSPSetType(ks, KSPRICHARDSON));
  PetscCall(KSPGetPC(ks, &pc));
  PetscCall(ItSmoothSetUpPC(pc, IT_SMOOTH_SYMMETRIC));
  PetscCall(KSPSetNormType(ks, KSP_NORM_NONE));
  PetscCall(KSPSetConvergenceTest(ks, KSPConvergedSkip, NULL, NULL));
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &kj));
  PetscCall(KSPSetOperators(kj, J, J));
  PetscCall(KSPSetType(kj, KSPRICHARDSON));
  PetscCall(KSPGetPC(kj, &pc));
  PetscCall(PCSetType(pc, PCSOR));
  PetscCall(KSPSetNormType(kj, KSP_NORM_NONE));
  PetscCall(KSPSetConvergenceTest(kj, KSPConvergedSkip, NULL, NULL));
  PetscCall(KSPSetUp(ks));
  PetscCall(KSPSetUp(kj));
  {
    PC ps, pj;
    PetscCall(KSPGetPC(ks, &ps));
    PetscCall(KSPGetPC(kj, &pj));
    PetscCall(PCApply(ps, b, ys));
    PetscCall(PCApply(pj, b, yj));
    PetscCall(ItTestMaxRel(ys, yj, &e_sweep));
  }
  PetscCall(KSPSetInitialGuessNonzero(ks, PETSC_TRUE));
  PetscCall(KSPSetInitialGuessNonzero(kj, PETSC_TRUE));
  PetscCall(KSPSetTolerances(ks, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 2));
  PetscCall(KSPSetTolerances(kj, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 2));
  PetscCall(VecCopy(g, ys));
  PetscCall(VecCopy(g, yj));
  PetscCall(KSPSolve(ks, b, ys));
  PetscCall(KSPSolve(kj, b, yj));
  PetscCall(ItTestMaxRel(ys, yj, &e_rich));
  /* a symmetric sweep from zero that leaves the residual (ItSmoothPCSetResidual) against the
     assembled matrix's residual of its result; the alternating sweeps (forward from zero,
     then backward from a guess) against PETSc's one-direction SOR */
  {
    KSP       ka, kf, kb;
    PC        pa, pf, pb;
    Vec       rv, ya, yf;
    PetscReal r0;
    PetscCall(VecDuplicate(x, &rv));
    PetscCall(VecDuplicate(x, &ya));
    PetscCall(VecDuplicate(x, &yf));
    PetscCall(KSPSetTolerances(ks, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 1));
    PetscCall(KSPSetInitialGuessNonzero(ks, PETSC_FALSE));
    PetscCall(KSPGetPC(ks, &pa));
    PetscCall(ItSmoothPCSetResidual(pa, rv));
    PetscCall(VecSet(rv, 0));
    PetscCall(KSPSolve(ks, b, ys));
    PetscCall(MatResidual(J, b, ys, yj));
    PetscCall(VecNorm(rv, NORM_INFINITY, &r0));
    PetscCall(ItTestMaxRel(rv, yj, &e_fused));
    e_fused = r0 == 0 ? 1 : e_fused; /* the sweep wrote the residual */
    /* a W-cycle's second visit: after the post-smoothing (from a guess, no residual) a
       pre-smoothing from a guess, here of 2 sweeps, the last leaving the residual */
    PetscCall(KSPSetInitialGuessNonzero(ks, PETSC_TRUE));
    PetscCall(KSPSolve(ks, b, ys));
    PetscCall(KSPSetTolerances(ks, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 2));
    PetscCall(VecCopy(g, ys));
    PetscCall(VecSet(rv, 0));
    PetscCall(KSPSolve(ks, b, ys));
    PetscCall(MatResidual(J, b, ys, yj));
    PetscCall(VecNorm(rv, NORM_INFINITY, &r0));
    PetscCall(ItTestMaxRel(rv, yj, &e_fused2));
    e_fused = PetscMax(e_fused, r0 == 0 ? 1 : e_fused2);
    PetscCall(ItSmoothPCSetResidual(pa, NULL));
    for (PetscInt k = 0; k < 3; k++) {
      KSP *kk = k == 0 ? &ka : k == 1 ? &kf : &kb;
      PC  *pp = k == 0 ? &pa : k == 1 ? &pf : &pb;
      PetscCall(KSPCreate(PETSC_COMM_WORLD, kk));
      PetscCall(KSPSetOperators(*kk, k ? J : S, k ? J : S));
      PetscCall(KSPSetType(*kk, KSPRICHARDSON));
      PetscCall(KSPGetPC(*kk, pp));
      if (k == 0) PetscCall(ItSmoothSetUpPC(*pp, IT_SMOOTH_ALTERNATING));
      if (k) PetscCall(PCSetType(*pp, PCSOR));
      if (k)
        PetscCall(
            PCSORSetSymmetric(*pp, k == 1 ? SOR_LOCAL_FORWARD_SWEEP : SOR_LOCAL_BACKWARD_SWEEP));
      PetscCall(KSPSetNormType(*kk, KSP_NORM_NONE));
      PetscCall(KSPSetConvergenceTest(*kk, KSPConvergedSkip, NULL, NULL));
      PetscCall(KSPSetTolerances(*kk, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 1));
      PetscCall(KSPSetUp(*kk));
    }
    PetscCall(KSPSolve(ka, b, ya)); /* from zero: forward */
    PetscCall(KSPSolve(kf, b, yf));
    PetscCall(ItTestMaxRel(ya, yf, &e_fwd));
    PetscCall(KSPSetInitialGuessNonzero(ka, PETSC_TRUE));
    PetscCall(KSPSetInitialGuessNonzero(kb, PETSC_TRUE));
    PetscCall(VecCopy(g, ya));
    PetscCall(VecCopy(g, yf));
    PetscCall(KSPSolve(ka, b, ya)); /* from a guess after a pre-smoothing: backward */
    PetscCall(KSPSolve(kb, b, yf));
    PetscCall(ItTestMaxRel(ya, yf, &e_bwd));
    PetscCall(KSPDestroy(&ka));
    PetscCall(KSPDestroy(&kf));
    PetscCall(KSPDestroy(&kb));
    PetscCall(VecDestroy(&rv));
    PetscCall(VecDestroy(&ya));
    PetscCall(VecDestroy(&yf));
  }
  /* 60 sweeps against LU */
  PetscCall(KSPSetTolerances(ks, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, 60));
  PetscCall(VecSet(ys, 0));
  PetscCall(KSPSolve(ks, b, ys));
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &klu));
  PetscCall(KSPSetOperators(klu, J, J));
  PetscCall(KSPSetType(klu, KSPGMRES));
  PetscCall(KSPGetPC(klu, &pc));
  PetscCall(PCSetType(pc, PCJACOBI));
  PetscCall(KSPSetTolerances(klu, 1e-14, 1e-50, PETSC_DEFAULT, 2000));
  PetscCall(KSPSolve(klu, b, yj));
  PetscCall(ItTestMaxRel(ys, yj, &e_conv));
  {
    const PetscBool ok =
        (PetscBool)(e_mult <= 1e-14 && e_res <= 1e-14 && e_diag <= 1e-14 && e_at <= 1e-14 &&
                    e_sweep <= 1e-13 && e_rich <= 1e-13 && e_conv <= 1e-9 && e_fused <= 1e-12 &&
                    e_fwd <= 1e-13 && e_bwd <= 1e-13);
    if (!ok) (*failures)++;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "%s %s: product %.1e, residual %.1e, diagonal %.1e (at rows %.1e); "
                          "sweep from 0 %.1e, 2 sweeps from a guess %.1e against SOR; 60 sweeps "
                          "against GMRES to 1e-14 %.1e; the sweep's residual %.1e; forward sweep "
                          "from 0 %.1e, backward from a guess %.1e against SOR\n",
                          ok ? "ok  " : "FAIL", name, (double)e_mult, (double)e_res, (double)e_diag,
                          (double)e_at, (double)e_sweep, (double)e_rich, (double)e_conv,
                          (double)e_fused, (double)e_fwd, (double)e_bwd));
  }
  PetscCall(KSPDestroy(&ks));
  PetscCall(KSPDestroy(&kj));
  PetscCall(KSPDestroy(&klu));
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&b));
  PetscCall(VecDestroy(&ys));
  PetscCall(VecDestroy(&yj));
  PetscCall(VecDestroy(&g));
  PetscCall(MatDestroy(&S));
  PetscCall(MatDestroy(&J));
  PetscCall(ItFacesDestroy(&faces));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A threshold_reset axis: the faces carry the re-injection, which the
   matrix-free levels do not apply. */
static PetscErrorCode CheckRefused(PetscInt *failures) {
  ItModel   model;
  ItGrid    grid;
  ItFaces   faces;
  PetscBool ok;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsSetValue(NULL, "-model", "lif"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", "64"));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFacesCreate(grid, model, &faces));
  PetscCall(ItFacesCompute(faces, 0));
  ok = (PetscBool)!ItSmoothSupported(faces);
  if (!ok) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s lif (threshold_reset): %s\n", ok ? "ok  " : "FAIL",
                        ok ? "refused, keeps the assembled path" : "accepted"));
  PetscCall(ItFacesDestroy(&faces));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt                 failures   = 0;
  static const char *const two[][2]   = {{"-model", "linear"},
                                         {"-grid_n", "16,12"},
                                         {"-grid_lo", "-4,-3"},
                                         {"-grid_hi", "4,3"},
                                         {NULL, NULL}};
  static const char *const three[][2] = {
      {"-model", "linear"},   {"-linear_M", "-1,0.5,0,0,-1,0,0.3,0,-1"},
      {"-linear_b", "0,0,0"}, {"-linear_D", "1,0.5,1"},
      {"-grid_n", "12,8,10"}, {"-grid_lo", "-2,-2,-2"},
      {"-grid_hi", "2,2,2"},  {NULL, NULL}};
  static const char *const five[][2]     = {{"-model", "population_plastic"},
                                            {"-grid_n", "8,8,10,8,8"},
                                            {"-grid_lo", "-6,-1.2,-1.2,-0.3,-0.3"},
                                            {"-grid_hi", "6,2.2,2.2,1.4,1.4"},
                                            {NULL, NULL}};
  static const char *const periodic[][2] = {{"-model", "linear"},
                                            {"-grid_n", "12,16"},
                                            {"-grid_lo", "-3,0"},
                                            {"-grid_hi", "3,6.283185307179586"},
                                            {"-grid_boundary", "x2:periodic"},
                                            {NULL, NULL}};
  static const char *const torus[][2]    = {{"-model", "linear"},
                                            {"-grid_n", "16,12"},
                                            {"-grid_lo", "0,0"},
                                            {"-grid_hi", "6.283185307179586,6.283185307179586"},
                                            {"-grid_boundary", "x1:periodic,x2:periodic"},
                                            {NULL, NULL}};
  static const char *const fourth[][2]   = {{"-model", "linear"},  {"-grid_n", "16,20"},
                                            {"-grid_lo", "-4,-4"}, {"-grid_hi", "4,4"},
                                            {"-fp_order", "4"},    {NULL, NULL}};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckCase("2-D 16 x 12", two, &failures));
  PetscCall(CheckCase("3-D 12 x 8 x 10", three, &failures));
  PetscCall(CheckCase("5-D 8 x 8 x 10 x 8 x 8 (dof axes)", five, &failures));
  PetscCall(CheckCase("2-D periodic x2", periodic, &failures));
  PetscCall(CheckCase("2-D periodic x1 and x2", torus, &failures));
  PetscCall(CheckCase("2-D -fp_order 4 (its Scharfetter-Gummel faces, stencil width 2)", fourth,
                      &failures));
  PetscCall(CheckRefused(&failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
