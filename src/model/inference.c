/* Neural inference (doc/physics.md §2): a neuron r reads the particle's velocity v,
     A_v = -(v - v0)/tau_v,        D_v = sigma_v^2/tau_v,
     A_r = (-r + f(v))/tau_r,      D_r = sigma_r^2/tau_r,
   with f a linear, sigmoid or bell tuning curve (-inference_tuning). */
#include <infotherm/private/modelimpl.h>

typedef struct {
  PetscInt tau_r, sigma_r;
  ItTuning f;
} ItInference;

static void ItModelPoint_Inference(ItModelConst model, PetscReal t, const PetscReal p[],
                                   const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItInference *inf   = (const ItInference *)model->data;
  const PetscReal    tau_r = p[inf->tau_r], sigma_r = p[inf->sigma_r];

  (void)t;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
  A[1] = (-x[1] + ItTuningEval(p, &inf->f, x[0])) / tau_r;
  D[1] = sigma_r * sigma_r / tau_r;
}

/* The same on structure-of-arrays points, in the point function's order of
   operations; one loop per row, which the compiler vectorises. */
IT_MODEL_CLONES static PetscErrorCode ItModelEvaluateSoA_Inference(ItModelConst model, PetscReal t,
                                                                   const PetscReal p[], PetscInt n,
                                                                   PetscInt ld, const PetscReal x[],
                                                                   PetscReal A[], PetscReal D[]) {
  const ItInference *inf   = (const ItInference *)model->data;
  const PetscReal    tau_r = p[inf->tau_r], sigma_r = p[inf->sigma_r], tau_v = p[IT_P_TAU_V],
                  sigma_v = p[IT_P_SIGMA_V], v0 = p[IT_P_V0];
  const PetscReal Dv = sigma_v * sigma_v / tau_v, Dr = sigma_r * sigma_r / tau_r;

  PetscFunctionBegin;
  (void)t;
  ItTuningEvalArray(p, &inf->f, n, x, &A[ld]);
  for (PetscInt k = 0; k < n; k++) A[k] = -(x[k] - v0) / tau_v;
  for (PetscInt k = 0; k < n; k++) A[ld + k] = (-x[ld + k] + A[ld + k]) / tau_r;
  for (PetscInt k = 0; k < n; k++) D[k] = Dv;
  for (PetscInt k = 0; k < n; k++) D[ld + k] = Dr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelSetFromOptions_Inference(ItModel model) {
  ItInference *inf = (ItInference *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "", &inf->f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Inference(ItModel model, PetscViewer viewer) {
  ItInference *inf = (ItInference *)model->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  tuning %s\n", ItTuningName(&inf->f)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_Inference(ItModel model, json_t *fingerprint) {
  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&((ItInference *)model->data)->f, "tuning", fingerprint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The options this model reads besides its parameters: its tuning curve
   (the bare -tuning of earlier releases moves to it, deprecated). */
static const ItOptionName ItInferenceOptionNames[] = {
    {"inference_tuning", IT_OPTION_BARE_DEPRECATED}, {NULL, 0}};

static PetscErrorCode ItModelCreate_Inference(ItModel model) {
  static const char *const names[] = {"v", "r"};
  ItInference             *inf;

  PetscFunctionBegin;
  PetscCall(PetscNew(&inf));
  model->data = inf;
  PetscCall(ItModelSetVariables(model, 2, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(
      ItModelAddParam(model, "tau_r", 0.1, IT_PARAM_POSITIVE, "neuron time constant", &inf->tau_r));
  PetscCall(ItModelAddParam(model, "sigma_r", 0.2, IT_PARAM_POSITIVE,
                            "neuron noise: sigma_r^2 = variance of the rate fluctuations",
                            &inf->sigma_r));
  PetscCall(ItTuningRegister(model, "", IT_TUNING_SIGMOID, 0.0, 2.0, &inf->f));
  PetscCall(ItModelSetDefaultBox(model, 0, 128, -6.0, 6.0));
  PetscCall(ItModelSetDefaultBox(model, 1, 128, -1.0, 2.0));
  model->ops.point          = ItModelPoint_Inference;
  model->ops.evaluate_soa   = ItModelEvaluateSoA_Inference;
  model->ops.setfromoptions = ItModelSetFromOptions_Inference;
  model->ops.view           = ItModelView_Inference;
  model->ops.fingerprint    = ItModelFingerprint_Inference;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Inference = {ItModelCreate_Inference, ItInferenceOptionNames};
