/* Evaluation workspaces: what a model writes while it evaluates (the expr
   model's parsers, arrays and caches), owned by one consumer so that the
   model itself stays const (doc/design.md). The evaluation in a workspace
   falls back to the model's own when the implementation keeps no state. */
#include <infotherm/private/modelimpl.h>

struct _p_ItModelWork {
  ItModel model;
  void   *data; /* the implementation's (NULL if it needs none) */
};

/* A workspace for one consumer of the model (ItModelEvaluateWork). Not collective. */
PetscErrorCode ItModelWorkCreate(ItModel model, ItModelWork *work) {
  PetscFunctionBegin;
  PetscCall(PetscNew(work));
  (*work)->model = model;
  if (model->ops.work_create) PetscCall(model->ops.work_create(model, &(*work)->data));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelWorkDestroy(ItModelWork *work) {
  PetscFunctionBegin;
  if (!*work) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*work)->model->ops.work_destroy)
    PetscCall((*work)->model->ops.work_destroy((*work)->model, (*work)->data));
  PetscCall(PetscFree(*work));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelWorkGetData(ItModelWork work, void **data) {
  PetscFunctionBegin;
  *data = work->data;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItModelEvaluateWith in the consumer's workspace. Not collective. */
PetscErrorCode ItModelEvaluateWork(ItModelWork work, PetscReal t, const PetscReal p[], PetscInt n,
                                   const PetscReal x[], PetscReal A[], PetscReal D[]) {
  ItModel model = work->model;

  PetscFunctionBegin;
  if (model->ops.evaluate_work)
    PetscCall(model->ops.evaluate_work(model, work->data, t, p, n, x, A, D));
  else
    PetscCall(model->ops.evaluate(model, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItModelEvaluateSoA in the consumer's workspace. Not collective. */
PetscErrorCode ItModelEvaluateSoAWork(ItModelWork work, PetscReal t, const PetscReal p[],
                                      PetscInt n, PetscInt ld, const PetscReal x[], PetscReal A[],
                                      PetscReal D[]) {
  ItModel model = work->model;

  PetscFunctionBegin;
  if (model->ops.evaluate_soa_work)
    PetscCall(model->ops.evaluate_soa_work(model, work->data, t, p, n, ld, x, A, D));
  else
    PetscCall(model->ops.evaluate_soa(model, t, p, n, ld, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}
