/* Linear model (general Ornstein–Uhlenbeck, doc/physics.md §2): A = M x + b with
   constant diffusion D_i; M row-major from -linear_M, its eigenvalues must have
   negative real parts. Every diagnostic has a Gaussian closed form, so this is
   the model the convergence tests are built on. */
#include <infotherm/private/modelimpl.h>
#include <petscblaslapack.h>

typedef struct {
  PetscReal M[IT_MAX_DIM * IT_MAX_DIM], b[IT_MAX_DIM], D[IT_MAX_DIM];
} ItLinear;

static void ItModelPoint_Linear(ItModelConst model, PetscReal t, const PetscReal p[],
                                const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItLinear *lin = (const ItLinear *)model->data;
  const PetscInt  d   = model->dim;

  (void)t, (void)p;
  for (PetscInt i = 0; i < d; i++) {
    A[i] = lin->b[i];
    for (PetscInt j = 0; j < d; j++) A[i] += lin->M[i * d + j] * x[j];
    D[i] = lin->D[i];
  }
}

/* The same on structure-of-arrays points, in the point function's order of
   operations; each pass runs over the points (vectorised). */
IT_MODEL_CLONES static PetscErrorCode ItModelEvaluateSoA_Linear(ItModelConst model, PetscReal t,
                                                                const PetscReal p[], PetscInt n,
                                                                PetscInt ld, const PetscReal x[],
                                                                PetscReal A[], PetscReal D[]) {
  const ItLinear *lin = (const ItLinear *)model->data;
  const PetscInt  d   = model->dim;

  PetscFunctionBegin;
  (void)t, (void)p;
  for (PetscInt i = 0; i < d; i++) {
    PetscReal *restrict Ai = &A[i * ld], *restrict Di = &D[i * ld];
    const PetscReal bi = lin->b[i], Dc = lin->D[i];
    for (PetscInt k = 0; k < n; k++) {
      Ai[k] = bi;
      Di[k] = Dc;
    }
    for (PetscInt j = 0; j < d; j++) {
      const PetscReal *restrict xj = &x[j * ld];
      const PetscReal m            = lin->M[i * d + j];
      for (PetscInt k = 0; k < n; k++) Ai[k] += m * xj[k];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The real parts of M's eigenvalues, by LAPACK. */
static PetscErrorCode ItLinearCheckStable(ItModel model) {
  ItLinear    *lin = (ItLinear *)model->data;
  PetscBLASInt n, lwork = 64, info;
  PetscReal    a[IT_MAX_DIM * IT_MAX_DIM], wr[IT_MAX_DIM], wi[IT_MAX_DIM], work[64], dummy = 0;
  PetscBLASInt one = 1;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->dim * model->dim; k++)
    PetscCheck(!PetscIsInfOrNanReal(lin->M[k]), model->comm, PETSC_ERR_USER_INPUT,
               "-linear_M must be finite; entry %" PetscInt_FMT " is %g", k + 1, (double)lin->M[k]);
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCheck(!PetscIsInfOrNanReal(lin->b[i]), model->comm, PETSC_ERR_USER_INPUT,
               "-linear_b must be finite; entry %" PetscInt_FMT " is %g", i + 1, (double)lin->b[i]);
  PetscCall(PetscBLASIntCast(model->dim, &n));
  for (PetscInt k = 0; k < model->dim * model->dim; k++) a[k] = lin->M[k];
  PetscCallBLAS("LAPACKgeev", LAPACKgeev_("N", "N", &n, a, &n, wr, wi, &dummy, &one, &dummy, &one,
                                          work, &lwork, &info));
  PetscCheck(info == 0, model->comm, PETSC_ERR_LIB, "LAPACK geev failed (info %d)", (int)info);
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCheck(wr[i] < 0, model->comm, PETSC_ERR_USER_INPUT,
               "-linear_M has an eigenvalue %g%+gi whose real part is not negative; the process "
               "has no stationary state",
               (double)wr[i], (double)wi[i]);
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCheck(lin->D[i] > 0 && !PetscIsInfOrNanReal(lin->D[i]), model->comm, PETSC_ERR_USER_INPUT,
               "-linear_D must be positive and finite on every variable; variable %" PetscInt_FMT
               " has %g",
               i + 1, (double)lin->D[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Linear(ItModel model, PetscViewer viewer) {
  ItLinear      *lin = (ItLinear *)model->data;
  const PetscInt d   = model->dim;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "  M[%" PetscInt_FMT ",:] =", i + 1));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt j = 0; j < d; j++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g", (double)lin->M[i * d + j]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "   b = %g   D = %g\n", (double)lin->b[i],
                                     (double)lin->D[i]));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static json_t *ItLinearArray(const PetscReal v[], PetscInt n) {
  json_t *a = json_array();

  for (PetscInt k = 0; k < n; k++) json_array_append_new(a, json_real((double)v[k]));
  return a;
}

/* M (row-major), b and D: the linear model's physics beyond its (absent) parameters. */
static PetscErrorCode ItModelFingerprint_Linear(ItModel model, json_t *fingerprint) {
  ItLinear      *lin = (ItLinear *)model->data;
  const PetscInt d   = model->dim;

  PetscFunctionBegin;
  json_object_set_new(fingerprint, "linear_M", ItLinearArray(lin->M, d * d));
  json_object_set_new(fingerprint, "linear_b", ItLinearArray(lin->b, d));
  json_object_set_new(fingerprint, "linear_D", ItLinearArray(lin->D, d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of what only the linear model reads (src/model/option_names.c). */
static const ItOptionName ItLinearOptionNames[] = {
    {"linear_M", 0}, {"linear_b", 0}, {"linear_D", 0}, {NULL, 0}};

/* The dimension comes from -linear_M (d*d entries), else from -vars, else 2. */
static PetscErrorCode ItModelCreate_Linear(ItModel model) {
  static const char *const names[] = {"x1", "x2", "x3", "x4", "x5", "x6"};
  static const PetscInt    cells[] = {128, 128, 48, 24, 16, 12}; /* default cells per axis */
  ItLinear                *lin;
  PetscReal M[IT_MAX_DIM * IT_MAX_DIM + 1] = {0}; /* one more: a longer list is refused */
  PetscInt  d = 2, nb = IT_MAX_DIM, nD = IT_MAX_DIM;
  PetscInt  nM = IT_MAX_DIM * IT_MAX_DIM + 1;
  PetscBool setM, setb, setD;
  char     *vars[IT_MAX_DIM];
  PetscInt  nvars = IT_MAX_DIM;
  PetscBool setvars;

  PetscFunctionBegin;
  PetscCall(PetscNew(&lin));
  model->data             = lin;
  model->ops.point        = ItModelPoint_Linear;
  model->ops.evaluate_soa = ItModelEvaluateSoA_Linear;
  model->ops.view         = ItModelView_Linear;
  model->ops.fingerprint  = ItModelFingerprint_Linear;
  PetscOptionsBegin(model->comm, NULL, "Linear model", "ItModel");
  PetscCall(PetscOptionsRealArray("-linear_M", "drift matrix M, row-major (d*d values, d <= 6)",
                                  NULL, M, &nM, &setM));
  PetscOptionsEnd();
  PetscCall(ItModelReadVariableNames(model, &nvars, vars, &setvars));
  for (PetscInt i = 0; i < nvars; i++) PetscCall(PetscFree(vars[i]));
  PetscOptionsBegin(model->comm, NULL, "Linear model: offset and diffusion", "ItModel");
  if (setM) {
    for (d = 1; d * d < nM; d++) {
    }
    PetscCheck(d * d == nM && d <= IT_MAX_DIM, model->comm, PETSC_ERR_USER_INPUT,
               "-linear_M needs 1, 4, 9, 16, 25 or 36 entries (a square matrix, row-major); got "
               "%s%" PetscInt_FMT,
               nM > IT_MAX_DIM * IT_MAX_DIM ? "more than " : "",
               PetscMin(nM, IT_MAX_DIM * IT_MAX_DIM));
    PetscCall(PetscArraycpy(lin->M, M, nM));
  } else {
    if (setvars) d = nvars;
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++)
        lin->M[i * d + j] = (i == j) ? -1.0 : (j == i - 1 ? 0.5 : 0.0);
  }
  for (PetscInt i = 0; i < d; i++) lin->D[i] = 1.0;
  PetscCall(PetscOptionsRealArray("-linear_b", "drift offset b", NULL, lin->b, &nb, &setb));
  PetscCheck(!setb || nb == d, model->comm, PETSC_ERR_USER_INPUT,
             "-linear_b needs %" PetscInt_FMT " entries; got %" PetscInt_FMT, d, nb);
  PetscCall(
      PetscOptionsRealArray("-linear_D", "diffusion constants D_i", NULL, lin->D, &nD, &setD));
  PetscCheck(!setD || nD == d, model->comm, PETSC_ERR_USER_INPUT,
             "-linear_D needs %" PetscInt_FMT " entries; got %" PetscInt_FMT, d, nD);
  PetscOptionsEnd();
  PetscCall(ItModelSetVariables(model, d, names));
  for (PetscInt i = 0; i < d; i++)
    PetscCall(ItModelSetDefaultBox(model, i, cells[d - 1], -8.0, 8.0));
  model->ops.validate = ItLinearCheckStable;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Linear = {ItModelCreate_Linear, ItLinearOptionNames};
