/* What a model implementation calls while it is created (its variables,
   parameters, default box and boundaries, the -vars list the linear and
   expression models size themselves by) and the lookups of its tables. The
   model files call these, and src/model/model.c calls the model files, so
   these live apart from the registry: the calls go one way. */
#include <ctype.h>
#include <infotherm/private/modelimpl.h>

PetscErrorCode ItModelSetVariables(ItModel model, PetscInt dim, const char *const names[]) {
  PetscFunctionBegin;
  PetscCheck(dim >= 1 && dim <= IT_MAX_DIM, model->comm, PETSC_ERR_USER_INPUT,
             "a model has 1 to %d variables, not %" PetscInt_FMT, IT_MAX_DIM, dim);
  model->dim = dim;
  for (PetscInt i = 0; i < dim; i++) PetscCall(PetscStrncpy(model->var[i], names[i], IT_NAME_LEN));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelAddParam(ItModel model, const char name[], PetscReal value, ItParamKind kind,
                               const char help[], PetscInt *index) {
  ItParam *param;

  PetscFunctionBegin;
  PetscCheck(model->nparam < IT_MAX_PARAMS, model->comm, PETSC_ERR_PLIB, "too many parameters");
  param = &model->param[model->nparam];
  PetscCall(PetscStrncpy(param->name, name, IT_NAME_LEN));
  param->value = value;
  param->kind  = kind;
  param->help  = help;
  if (index) *index = model->nparam;
  model->nparam++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelSetDefaultBox(ItModel model, PetscInt axis, PetscInt n, PetscReal lo,
                                    PetscReal hi) {
  PetscFunctionBegin;
  model->grid_n[axis]  = n;
  model->grid_lo[axis] = lo;
  model->grid_hi[axis] = hi;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A model's own boundary on an axis (doc/physics.md §8): for threshold_reset
   the parameters (indices) holding the threshold, the reset point and the
   refractory time. Not collective. */
PetscErrorCode ItModelSetBoundary(ItModel model, PetscInt axis, ItBoundaryKind kind,
                                  PetscInt threshold, PetscInt reset, PetscInt refractory) {
  PetscFunctionBegin;
  model->boundary[axis]         = kind;
  model->threshold_param[axis]  = threshold + 1;
  model->reset_param[axis]      = reset + 1;
  model->refractory_param[axis] = refractory + 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Letters, digits and '_', starting with a letter, at most 23 characters:
   the names of variables and parameters. Not collective. */
PetscBool ItModelIsName(const char name[]) {
  const size_t len = strlen(name);
  PetscBool    ok  = (PetscBool)(len > 0 && len < 24 && isalpha((unsigned char)name[0]));

  for (size_t k = 0; ok && k < len; k++)
    ok = (PetscBool)(isalnum((unsigned char)name[k]) || name[k] == '_');
  return ok;
}

/* -vars a,b,c: read in one place for every model (the linear and expression
   models size themselves by it). The caller frees names[]. Collective. */
PetscErrorCode ItModelReadVariableNames(ItModel model, PetscInt *n, char *names[], PetscBool *set) {
  char *read[IT_MAX_DIM + 1];

  PetscFunctionBegin;
  *n = IT_MAX_DIM + 1; /* one more, to refuse a list PETSc would cut */
  PetscOptionsBegin(model->comm, NULL, "Model variables", "ItModel");
  PetscCall(
      PetscOptionsStringArray("-vars", "variable names, comma separated", NULL, read, n, set));
  PetscOptionsEnd();
  if (!*set) *n = 0;
  PetscCheck(*n <= IT_MAX_DIM, model->comm, PETSC_ERR_USER_INPUT,
             "-vars names more than %d variables; a model has 1 to %d", IT_MAX_DIM, IT_MAX_DIM);
  for (PetscInt i = 0; i < *n; i++) names[i] = read[i];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The index of a parameter by name, -1 if the model has none of that name. */
PetscErrorCode ItModelFindParameter(ItModel model, const char name[], PetscInt *k) {
  PetscBool match;

  PetscFunctionBegin;
  *k = -1;
  for (PetscInt j = 0; j < model->nparam && *k < 0; j++) {
    PetscCall(PetscStrcmp(model->param[j].name, name, &match));
    if (match) *k = j;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
