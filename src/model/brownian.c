/* Brownian velocity (Ornstein–Uhlenbeck, doc/physics.md §2):
   A_v = -(v - v0)/tau_v,  D_v = sigma_v^2/tau_v  (sigma_v^2 = kT/m). */
#include <infotherm/private/modelimpl.h>

static void ItModelPoint_Brownian(ItModelConst model, PetscReal t, const PetscReal p[],
                                  const PetscReal x[], PetscReal A[], PetscReal D[]) {
  (void)t, (void)model;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
}

/* Registers the particle's velocity parameters, at indices IT_P_TAU_V.. of every model with v. */
PetscErrorCode ItModelAddVelocityParams(ItModel model) {
  PetscFunctionBegin;
  PetscCheck(model->nparam == IT_P_TAU_V, model->comm, PETSC_ERR_PLIB,
             "velocity parameters come first");
  PetscCall(
      ItModelAddParam(model, "tau_v", 1.0, IT_PARAM_POSITIVE, "velocity relaxation time", NULL));
  PetscCall(ItModelAddParam(model, "sigma_v", 1.0, IT_PARAM_POSITIVE,
                            "velocity noise: stationary std, sigma_v^2 = kT/m", NULL));
  PetscCall(ItModelAddParam(model, "v0", 0.0, IT_PARAM_ANY, "drift velocity from an external force",
                            NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelCreate_Brownian(ItModel model) {
  static const char *const names[] = {"v"};

  PetscFunctionBegin;
  PetscCall(ItModelSetVariables(model, 1, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(ItModelSetDefaultBox(model, 0, 256, -7.0, 7.0));
  model->ops.point = ItModelPoint_Brownian;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Brownian = {ItModelCreate_Brownian, NULL};
