/* Conformance of every registered model (the registry, not a list: a new
   model is tested by registering it and shipping input/<name>.opts, whose
   options it is read with). For each model and several random draws of its
   parameters (each base value scaled by a factor in [0.5, 1.5]):
   - the solver's kernel (ItModelEvaluateWith: the point kernel, array of
     structures) and the Monte Carlo's (ItModelEvaluateSoA: structure of
     arrays, hand-written for several models) agree at random points of the
     box, to 1e-14 relative to each component's largest value;
   - the operator's columns sum to zero (L^T 1 = 0 to 1e-14 of |L|) and its
     off-diagonal entries are non-negative (an M-matrix).
   Run from tests/ (the input files are ../input/). Single rank. */
#include <infotherm/fp.h>
#include <infotherm/private/modelimpl.h>
#include "operator_checks.h"

#define NPOINT 1000
#define NDRAW 3

static PetscInt failures = 0;

static void Check(PetscBool ok, const char name[], PetscInt draw, const char what[], double value,
                  const char bound[]) {
  if (!ok) failures++;
  PetscCallVoid(PetscPrintf(PETSC_COMM_WORLD, "%s %-18s draw %" PetscInt_FMT ": %s = %.1e (%s)\n",
                            ok ? "ok  " : "FAIL", name, draw, what, value, bound));
}

/* The model's options: input/<name>.opts, then its parameters drawn at random
   around their base values, then a small grid. */
static PetscErrorCode ReadModel(const char name[], PetscRandom rnd, PetscBool draw,
                                ItModel *model) {
  char      file[PETSC_MAX_PATH_LEN], n[64] = "";
  PetscBool exists;
  ItModel   base;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscSNPrintf(file, sizeof(file), "../input/%s.opts", name));
  PetscCall(PetscTestFile(file, 'r', &exists));
  PetscCheck(exists, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN,
             "the registered model %s has no input file %s", name, file);
  PetscCall(PetscOptionsInsertFile(PETSC_COMM_WORLD, NULL, file, PETSC_TRUE));
  PetscCall(PetscOptionsSetValue(NULL, "-model", name));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &base));
  PetscCall(ItModelSetFromOptions(base));
  for (PetscInt k = 0; draw && k < ItModelGetParameterCount(base); k++) {
    const char *pname;
    PetscReal   value, u;
    char        option[2 * IT_NAME_LEN + 2], text[64];
    PetscCall(ItModelGetParameterInfo(base, k, &pname, &value, NULL));
    PetscCall(PetscRandomGetValueReal(rnd, &u));
    /* a zero base value: a draw about it, of the sign the parameter allows */
    value = value != 0                                    ? value * (0.5 + u)
            : base->param[k].kind == IT_PARAM_NONNEGATIVE ? 0.5 * u
                                                          : u - 0.5;
    PetscCall(ItModelGetParameterOption(base, k, option, sizeof(option)));
    PetscCall(PetscSNPrintf(text, sizeof(text), "%.17g", (double)value));
    PetscCall(PetscOptionsSetValue(NULL, option, text));
  }
  for (PetscInt i = 0; i < ItModelGetDimension(base); i++)
    PetscCall(PetscStrlcat(n, ItModelGetDimension(base) > 3 ? (i ? ",8" : "8") : (i ? ",12" : "12"),
                           sizeof(n)));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", n));
  PetscCall(ItModelDestroy(&base));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, model));
  PetscCall(ItModelSetFromOptions(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The two kernels at NPOINT random points of the grid's box, at t = 0.3. */
static PetscErrorCode CheckKernels(const char name[], PetscInt draw, ItModel model, ItGrid grid,
                                   PetscRandom rnd) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = ItModelGetDimension(model);
  PetscReal        *x, *xs, *A, *D, *As, *Ds, p[IT_MAX_PARAMS], worst = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc6(NPOINT * d, &x, NPOINT * d, &xs, NPOINT * d, &A, NPOINT * d, &D,
                         NPOINT * d, &As, NPOINT * d, &Ds));
  for (PetscInt k = 0; k < NPOINT; k++)
    for (PetscInt i = 0; i < d; i++) {
      PetscReal u;
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      x[k * d + i] = xs[i * NPOINT + k] = info->lo[i] + u * (info->hi[i] - info->lo[i]);
    }
  PetscCall(ItModelGetParameters(model, 0.3, p));
  PetscCall(ItModelEvaluateWith(model, 0.3, p, NPOINT, x, A, D));
  PetscCall(ItModelEvaluateSoA(model, 0.3, p, NPOINT, NPOINT, xs, As, Ds));
  for (PetscInt i = 0; i < d; i++) {
    PetscReal scaleA = 0, scaleD = 0;
    for (PetscInt k = 0; k < NPOINT; k++) {
      scaleA = PetscMax(scaleA, PetscAbsReal(A[k * d + i]));
      scaleD = PetscMax(scaleD, PetscAbsReal(D[k * d + i]));
    }
    for (PetscInt k = 0; k < NPOINT; k++) {
      const PetscReal eA =
          PetscAbsReal(A[k * d + i] - As[i * NPOINT + k]) / PetscMax(scaleA, 1e-300);
      const PetscReal eD =
          PetscAbsReal(D[k * d + i] - Ds[i * NPOINT + k]) / PetscMax(scaleD, 1e-300);
      if (PetscIsInfOrNanReal(eA) || PetscIsInfOrNanReal(eD)) worst = PETSC_INFINITY;
      worst = PetscMax(worst, PetscMax(eA, eD));
    }
  }
  Check((PetscBool)(worst <= 1e-14), name, draw,
        "point vs array kernel, max |difference| / max |value|", (double)worst, "<= 1e-14");
  PetscCall(PetscFree6(x, xs, A, D, As, Ds));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* L at t = 0: column sums and off-diagonal signs (tests/operator_checks.h). */
static PetscErrorCode CheckOperator(const char name[], PetscInt draw, ItModel model, ItGrid grid) {
  ItFP      fp;
  Mat       L;
  PetscReal colsum, minoff;

  PetscFunctionBegin;
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, 0.0));
  PetscCall(ItFPGetMatrix(fp, &L));
  PetscCall(ItTestOperatorProperties(L, &colsum, &minoff));
  Check((PetscBool)(colsum <= 1e-14), name, draw, "max |column sum| / |L|", (double)colsum,
        "<= 1e-14");
  Check((PetscBool)(minoff >= 0), name, draw, "min off-diagonal of L", (double)minoff, ">= 0");
  PetscCall(ItFPDestroy(&fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscRandom rnd;
  PetscInt    ntype;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  PetscCall(PetscRandomSetSeed(rnd, 20261206));
  PetscCall(PetscRandomSeed(rnd));
  PetscCall(ItModelRegisterAll());
  ntype = ItModelGetTypeCount();
  PetscCheck(ntype >= 8, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
             "only %" PetscInt_FMT " models registered", ntype);
  for (PetscInt m = 0; m < ntype; m++) {
    const char *name = ItModelGetTypeNameAt(m);
    for (PetscInt draw = 0; draw <= NDRAW; draw++) { /* draw 0: the input file's values */
      ItModel model;
      ItGrid  grid;
      PetscCall(ReadModel(name, rnd, (PetscBool)(draw > 0), &model));
      PetscCall(ItGridCreate(model, &grid));
      PetscCall(CheckKernels(name, draw, model, grid, rnd));
      PetscCall(CheckOperator(name, draw, model, grid));
      PetscCall(ItGridDestroy(&grid));
      PetscCall(ItModelDestroy(&model));
    }
  }
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%" PetscInt_FMT " models, %" PetscInt_FMT " failures\n",
                        ntype, failures));
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
