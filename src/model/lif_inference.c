/* A leaky integrate-and-fire sensor of the particle's velocity
   (doc/physics.md §8.1): the Brownian velocity v drives the membrane
   potential V through its input curve u(v) (-lif_inference_tuning, as the inference
   model's f),
     A_v = -(v - v0)/tau_v,                  D_v = sigma_v^2/tau_v,
     A_V = (mu0 + g u(v) - V)/tau_m,         D_V = sigma^2/(2 tau_m),
   V absorbed at V_th (the box's upper end) and re-injected at V_r: the
   spikes carry the information about v. */
#include <infotherm/private/modelimpl.h>

typedef struct {
  PetscInt tau_m, mu0, g, sigma, V_th, V_r, tau_ref;
  ItTuning u;
} ItLIFInference;

static void ItModelPoint_LIFInference(ItModelConst model, PetscReal t, const PetscReal p[],
                                      const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItLIFInference *s     = (const ItLIFInference *)model->data;
  const PetscReal       tau_m = p[s->tau_m], sigma = p[s->sigma];

  (void)t;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
  A[1] = (p[s->mu0] + p[s->g] * ItTuningEval(p, &s->u, x[0]) - x[1]) / tau_m;
  D[1] = 0.5 * sigma * sigma / tau_m;
}

/* The reset below the threshold; the default box of V from the threshold
   down to 6 sigma below the lowest of mu0, mu0 + g and V_r. */
static PetscErrorCode ItModelValidate_LIFInference(ItModel model) {
  const ItLIFInference *s = (const ItLIFInference *)model->data;
  PetscReal             v[IT_MAX_PARAMS];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nparam; k++) v[k] = model->param[k].value;
  PetscCheck(v[s->V_r] < v[s->V_th], model->comm, PETSC_ERR_USER_INPUT,
             "-V_r %g must lie below -V_th %g (the reset below the threshold)", (double)v[s->V_r],
             (double)v[s->V_th]);
  PetscCall(ItModelSetDefaultBox(
      model, 1, model->grid_n[1],
      PetscMin(PetscMin(v[s->mu0], v[s->mu0] + v[s->g]), v[s->V_r]) - 6 * v[s->sigma], v[s->V_th]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelSetFromOptions_LIFInference(ItModel model) {
  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "", &((ItLIFInference *)model->data)->u));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_LIFInference(ItModel model, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  input curve %s\n",
                                   ItTuningName(&((ItLIFInference *)model->data)->u)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_LIFInference(ItModel model, json_t *fingerprint) {
  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&((ItLIFInference *)model->data)->u, "tuning", fingerprint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The options this model reads besides its parameters: its tuning curve
   (the bare -tuning of earlier releases moves to it, deprecated). */
static const ItOptionName ItLIFInferenceOptionNames[] = {
    {"lif_inference_tuning", IT_OPTION_BARE_DEPRECATED}, {NULL, 0}};

static PetscErrorCode ItModelCreate_LIFInference(ItModel model) {
  static const char *const names[] = {"v", "V"};
  ItLIFInference          *s;

  PetscFunctionBegin;
  PetscCall(PetscNew(&s));
  model->data = s;
  PetscCall(ItModelSetVariables(model, 2, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(
      ItModelAddParam(model, "tau_m", 0.2, IT_PARAM_POSITIVE, "membrane time constant", &s->tau_m));
  PetscCall(
      ItModelAddParam(model, "mu0", 0.6, IT_PARAM_ANY, "input without the velocity", &s->mu0));
  PetscCall(
      ItModelAddParam(model, "g", 0.6, IT_PARAM_ANY, "gain of the velocity's input u(v)", &s->g));
  PetscCall(ItModelAddParam(model, "sigma", 0.3, IT_PARAM_POSITIVE,
                            "input noise: D_V = sigma^2/(2 tau_m)", &s->sigma));
  PetscCall(ItModelAddParam(model, "V_th", 1.0, IT_PARAM_ANY,
                            "threshold: the box's upper end along V", &s->V_th));
  PetscCall(ItModelAddParam(model, "V_r", 0.0, IT_PARAM_ANY, "reset potential", &s->V_r));
  PetscCall(ItModelAddParam(model, "tau_ref", 0.0, IT_PARAM_NONNEGATIVE,
                            "refractory time (0: re-injection at once)", &s->tau_ref));
  PetscCall(ItTuningRegister(model, "", IT_TUNING_SIGMOID, 0.0, 2.0, &s->u));
  PetscCall(ItModelSetDefaultBox(model, 0, 64, -6.0, 6.0));
  PetscCall(ItModelSetDefaultBox(model, 1, 128, -1.2, 1.0));
  PetscCall(ItModelSetBoundary(model, 1, IT_BOUNDARY_THRESHOLD_RESET, s->V_th, s->V_r, s->tau_ref));
  model->ops.point          = ItModelPoint_LIFInference;
  model->ops.validate       = ItModelValidate_LIFInference;
  model->ops.setfromoptions = ItModelSetFromOptions_LIFInference;
  model->ops.view           = ItModelView_LIFInference;
  model->ops.fingerprint    = ItModelFingerprint_LIFInference;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_LIFInference = {ItModelCreate_LIFInference,
                                              ItLIFInferenceOptionNames};
