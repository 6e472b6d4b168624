/* Evaluation workspaces (ItModelWorkCreate): a model is const, and each
   consumer evaluates in a workspace of its own. With the expr model of
   input/expr.opts (muparser, whose parsers, bulk arrays and caches are the
   workspace):
   - two consumers evaluating at once, each in its own OpenMP thread with its
     own workspace, with different parameters (as the solver at one time and
     a Monte Carlo with a parameter held, -crosscheck_mc_param) and different
     bulk sizes, in both layouts, get bit for bit what each gets alone;
   - the model's own workspace (ItModelEvaluateWith) agrees too;
   - -expr_threads 3 never changes the process-wide OpenMP thread count (it
     is set around each bulk call only).
   Run from tests/ (the input file is ../input/expr.opts). Single rank. */
#include <omp.h>
#include <infotherm/model.h>

#define NMAX 3000
#define NCALL 3
#define NREPEAT 40

static PetscInt failures = 0;

static void Check(PetscBool ok, const char what[]) {
  if (!ok) failures++;
  PetscCallVoid(PetscPrintf(PETSC_COMM_WORLD, "%s %s\n", ok ? "ok  " : "FAIL", what));
}

/* One consumer's sequence of NCALL calls: bulk sizes, parameters (scaled by
   `scale`, the second call's by 1.5 more: a schedule's switch), layouts. */
typedef struct {
  PetscReal scale;
  PetscReal p[NCALL][IT_MAX_PARAMS];
  PetscReal A[NCALL][2 * NMAX], D[NCALL][2 * NMAX];
} Consumer;

static const PetscInt n_of_call[NCALL] = {500, NMAX, 200};

/* The calls of c in workspace w: call 1 structure-of-arrays, the others array-of-structures. */
static PetscErrorCode ConsumerRun(ItModelWork w, const PetscReal x[], const PetscReal xs[],
                                  Consumer *c, PetscReal A[NCALL][2 * NMAX],
                                  PetscReal D[NCALL][2 * NMAX]) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k < NCALL; k++) {
    if (k == 1)
      PetscCall(ItModelEvaluateSoAWork(w, 0.7, c->p[k], n_of_call[k], NMAX, xs, A[k], D[k]));
    else
      PetscCall(ItModelEvaluateWork(w, 0.7, c->p[k], n_of_call[k], x, A[k], D[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscBool Same(const PetscReal a[], const PetscReal b[], PetscInt n) {
  for (PetscInt k = 0; k < n; k++)
    if (a[k] != b[k]) return PETSC_FALSE;
  return PETSC_TRUE;
}

int main(int argc, char **argv) {
  ItModel     model;
  ItModelWork alone, work[2];
  Consumer   *c;
  PetscReal  *x, *xs, (*A)[NCALL][2 * NMAX], (*D)[NCALL][2 * NMAX];
  PetscRandom rnd;
  PetscBool   same[2] = {PETSC_TRUE, PETSC_TRUE}, own = PETSC_TRUE;
  int         threads_before;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscOptionsInsertFile(PETSC_COMM_WORLD, NULL, "../input/expr.opts", PETSC_TRUE));
  PetscCall(PetscOptionsSetValue(NULL, "-expr_threads", "3"));
  /* muparser's state is what the workspaces hold (compiled kernels keep none) */
  PetscCall(PetscOptionsSetValue(NULL, "-expr_compile", "false"));
  threads_before = omp_get_max_threads();
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(PetscMalloc5(2, &c, 2 * NMAX, &x, 2 * NMAX, &xs, 2, &A, 2, &D));
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  for (PetscInt k = 0; k < NMAX; k++)
    for (PetscInt i = 0; i < 2; i++) {
      PetscReal u;
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      x[k * 2 + i] = xs[i * NMAX + k] = -6 + 12 * u;
    }
  for (PetscInt j = 0; j < 2; j++) {
    c[j].scale = j ? 1.3 : 1.0;
    for (PetscInt k = 0; k < NCALL; k++) {
      PetscCall(ItModelGetParameters(model, 0.7, c[j].p[k]));
      for (PetscInt q = 0; q < ItModelGetParameterCount(model); q++)
        c[j].p[k][q] *= c[j].scale * (k == 1 ? 1.5 : 1.0);
    }
    /* alone: a fresh workspace, nobody else evaluating */
    PetscCall(ItModelWorkCreate(model, &alone));
    PetscCall(ConsumerRun(alone, x, xs, &c[j], c[j].A, c[j].D));
    PetscCall(ItModelWorkDestroy(&alone));
    PetscCall(ItModelWorkCreate(model, &work[j]));
    PetscCall(ConsumerRun(work[j], x, xs, &c[j], A[j], D[j])); /* room for NMAX points */
  }
  /* at once: each consumer in its own thread, its own workspace, NREPEAT times */
#pragma omp parallel num_threads(2)
  {
    const int j = omp_get_thread_num();
    for (PetscInt r = 0; r < NREPEAT && j < 2; r++) {
      PetscErrorCode ierr = ConsumerRun(work[j], x, xs, &c[j], A[j], D[j]);
      for (PetscInt k = 0; k < NCALL; k++)
        same[j] = (PetscBool)(same[j] && !ierr && Same(A[j][k], c[j].A[k], 2 * n_of_call[k]) &&
                              Same(D[j][k], c[j].D[k], 2 * n_of_call[k]));
    }
  }
  Check((PetscBool)(omp_get_max_threads() >= 1), "OpenMP runs");
  for (PetscInt j = 0; j < 2; j++) {
    char what[160];
    PetscCall(PetscSNPrintf(what, sizeof(what),
                            "consumer %" PetscInt_FMT " (parameters x %.1f), evaluating %d times "
                            "beside the other in its own workspace, gets what it gets alone",
                            j, (double)c[j].scale, NREPEAT));
    Check(same[j], what);
  }
  /* the model's own workspace, for the calls that bring none */
  for (PetscInt j = 0; j < 2; j++) {
    PetscCall(ItModelEvaluateWith(model, 0.7, c[j].p[0], n_of_call[0], x, A[j][0], D[j][0]));
    own = (PetscBool)(own && Same(A[j][0], c[j].A[0], 2 * n_of_call[0]) &&
                      Same(D[j][0], c[j].D[0], 2 * n_of_call[0]));
  }
  Check(own, "ItModelEvaluateWith (the model's own workspace) agrees with both");
  {
    char what[160];
    PetscCall(
        PetscSNPrintf(what, sizeof(what),
                      "-expr_threads 3 leaves the process's OpenMP thread count at %d (now %d)",
                      threads_before, omp_get_max_threads()));
    Check((PetscBool)(omp_get_max_threads() == threads_before), what);
  }
  for (PetscInt j = 0; j < 2; j++) PetscCall(ItModelWorkDestroy(&work[j]));
  PetscCall(PetscFree5(c, x, xs, A, D));
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " check(s) failed\n", failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
