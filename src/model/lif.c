/* Leaky integrate-and-fire neuron in Brunel & Hakim's convention
   (doc/physics.md §8.1): tau_m dV = (mu - V) dt + sigma sqrt(tau_m) dW, i.e.
     A_V = (mu - V)/tau_m,  D_V = sigma^2/(2 tau_m),
   absorbed at the threshold V_th (the box's upper end) and re-injected at
   V_r after tau_ref: the model declares its axis threshold_reset with those
   parameters, which the grid and the operator read (src/grid/boundary.c,
   src/fp/boundary.c). */
#include <infotherm/private/modelimpl.h>

enum { P_TAU_M, P_MU, P_SIGMA, P_V_TH, P_V_R, P_TAU_REF };

static void ItModelPoint_LIF(ItModelConst model, PetscReal t, const PetscReal p[],
                             const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const PetscReal tau_m = p[P_TAU_M], sigma = p[P_SIGMA];

  (void)t, (void)model;
  A[0] = (p[P_MU] - x[0]) / tau_m;
  D[0] = 0.5 * sigma * sigma / tau_m;
}

/* The reset below the threshold; the default box from the threshold down to
   6 sigma below the lower of mu and V_r (the density's Gaussian tail there is
   below e^-36 of its peak). */
static PetscErrorCode ItModelValidate_LIF(ItModel model) {
  PetscReal v[IT_MAX_PARAMS];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nparam; k++) v[k] = model->param[k].value;
  PetscCheck(v[P_V_R] < v[P_V_TH], model->comm, PETSC_ERR_USER_INPUT,
             "-V_r %g must lie below -V_th %g (the reset below the threshold)", (double)v[P_V_R],
             (double)v[P_V_TH]);
  PetscCall(ItModelSetDefaultBox(model, 0, model->grid_n[0],
                                 PetscMin(v[P_MU], v[P_V_R]) - 6 * v[P_SIGMA], v[P_V_TH]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelCreate_LIF(ItModel model) {
  static const char *const names[] = {"V"};

  PetscFunctionBegin;
  PetscCall(ItModelSetVariables(model, 1, names));
  PetscCall(
      ItModelAddParam(model, "tau_m", 1.0, IT_PARAM_POSITIVE, "membrane time constant", NULL));
  PetscCall(
      ItModelAddParam(model, "mu", 0.8, IT_PARAM_ANY, "mean input (the drift's target)", NULL));
  PetscCall(ItModelAddParam(model, "sigma", 0.3, IT_PARAM_POSITIVE,
                            "input noise: D_V = sigma^2/(2 tau_m)", NULL));
  PetscCall(ItModelAddParam(model, "V_th", 1.0, IT_PARAM_ANY,
                            "threshold: the box's upper end (-grid_hi)", NULL));
  PetscCall(ItModelAddParam(model, "V_r", 0.0, IT_PARAM_ANY, "reset potential", NULL));
  PetscCall(ItModelAddParam(model, "tau_ref", 0.0, IT_PARAM_NONNEGATIVE,
                            "refractory time (0: re-injection at once)", NULL));
  PetscCall(ItModelSetDefaultBox(model, 0, 256, -1.0, 1.0));
  PetscCall(ItModelSetBoundary(model, 0, IT_BOUNDARY_THRESHOLD_RESET, P_V_TH, P_V_R, P_TAU_REF));
  model->ops.point    = ItModelPoint_LIF;
  model->ops.validate = ItModelValidate_LIF;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_LIF = {ItModelCreate_LIF, NULL};
