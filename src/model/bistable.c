/* Bistable synapse, the memory element of doc/physics.md §2:
     A_w = -(w^3 - w - h)/tau_w,  D_w = sigma_w^2/tau_w,
   a double well with minima near w = ±1 tilted by the stimulus h. */
#include <infotherm/private/modelimpl.h>

enum { P_TAU_W, P_SIGMA_W, P_H };

static void ItModelPoint_Bistable(ItModelConst model, PetscReal t, const PetscReal p[],
                                  const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const PetscReal tau_w = p[P_TAU_W], sigma_w = p[P_SIGMA_W];
  const PetscReal w = x[0];

  (void)t, (void)model;
  A[0] = -(w * w * w - w - p[P_H]) / tau_w;
  D[0] = sigma_w * sigma_w / tau_w;
}

static PetscErrorCode ItModelCreate_Bistable(ItModel model) {
  static const char *const names[] = {"w"};

  PetscFunctionBegin;
  PetscCall(ItModelSetVariables(model, 1, names));
  PetscCall(
      ItModelAddParam(model, "tau_w", 1.0, IT_PARAM_POSITIVE, "synaptic time constant", NULL));
  PetscCall(ItModelAddParam(model, "sigma_w", 0.5, IT_PARAM_POSITIVE,
                            "synaptic noise: D_w = sigma_w^2/tau_w", NULL));
  PetscCall(
      ItModelAddParam(model, "h", 0.0, IT_PARAM_ANY, "stimulus tilting the double well", NULL));
  PetscCall(ItModelSetDefaultBox(model, 0, 256, -2.5, 2.5));
  model->ops.point = ItModelPoint_Bistable;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Bistable = {ItModelCreate_Bistable, NULL};
