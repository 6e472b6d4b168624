/* Hebbian / BCM synapse (doc/physics.md §2) in (v, r, w): a presynaptic input
   u(v) (a tuning curve of the velocity) drives the neuron r through the weight w,
     A_r = (-r + w u(v))/tau_r,                          D_r = sigma_r^2/tau_r,
     A_w = (eps u(v) r (r - thetaM) - (w - w0))/tau_w,   D_w = sigma_w^2/tau_w
   (Hebbian: thetaM = 0). With -hebbian_w_noise multiplicative, D_w = sigma_w^2 w/tau_w
   and the box must keep w > 0. The neuron–synapse pair (ItSynapse) is shared
   with the plastic population, which holds two of them. */
#include <infotherm/private/modelimpl.h>

typedef struct {
  ItSynapse synapse;
  ItTuning  u;
} ItHebbian;

/* The pair's parameters, in this order: tau_r, sigma_r, tau_w, sigma_w, eps,
   thetaM, w0 (the noises' defaults given by the model). */
PetscErrorCode ItSynapseRegister(ItModel model, PetscReal sigma_r, PetscReal sigma_w,
                                 ItSynapse *synapse) {
  PetscFunctionBegin;
  PetscCall(ItModelAddParam(model, "tau_r", 0.1, IT_PARAM_POSITIVE, "neuron time constant",
                            &synapse->tau_r));
  PetscCall(ItModelAddParam(model, "sigma_r", sigma_r, IT_PARAM_POSITIVE,
                            "neuron noise: variance of the rate fluctuations is sigma_r^2",
                            &synapse->sigma_r));
  PetscCall(ItModelAddParam(model, "tau_w", 10.0, IT_PARAM_POSITIVE, "synaptic time constant",
                            &synapse->tau_w));
  PetscCall(ItModelAddParam(model, "sigma_w", sigma_w, IT_PARAM_POSITIVE,
                            "synaptic noise: variance of the weight fluctuations is sigma_w^2",
                            &synapse->sigma_w));
  PetscCall(ItModelAddParam(model, "eps", 0.2, IT_PARAM_ANY, "learning rate of the Hebbian term",
                            &synapse->eps));
  PetscCall(ItModelAddParam(model, "thetaM", 0.0, IT_PARAM_ANY,
                            "BCM sliding threshold (0: Hebbian)", &synapse->thetaM));
  PetscCall(ItModelAddParam(model, "w0", 0.5, IT_PARAM_ANY, "resting weight", &synapse->w0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -<model>_w_noise additive|multiplicative (-hebbian_w_noise); the model's
   table of option names declares it. Collective. */
PetscErrorCode ItSynapseSetFromOptions(ItModel model, ItSynapse *synapse) {
  static const char *const noise[] = {"additive", "multiplicative", "ItWNoise", "IT_W_NOISE_",
                                      NULL};
  PetscEnum                kind    = (PetscEnum)synapse->multiplicative;
  char                     option[IT_NAME_LEN + 16];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(option, sizeof(option), "-%s_w_noise", model->type));
  PetscOptionsBegin(model->comm, NULL, "Hebbian synapse", "ItModel");
  PetscCall(PetscOptionsEnum(option,
                             "synaptic noise: additive or multiplicative (D_w proportional to w)",
                             NULL, noise, kind, &kind, NULL));
  PetscOptionsEnd();
  synapse->multiplicative = (PetscBool)kind;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const char *ItSynapseNoiseName(const ItSynapse *synapse) {
  return synapse->multiplicative ? "multiplicative" : "additive";
}

/* The pair at n structure-of-arrays points, in ItSynapsePoint's order of
   operations: Au_r[] holds the input u on entry and A_r on return. */
IT_MODEL_CLONES void ItSynapseEvalArray(const PetscReal p[], const ItSynapse *synapse, PetscInt n,
                                        const PetscReal r[], const PetscReal w[], PetscReal Au_r[],
                                        PetscReal A_w[], PetscReal D_r[], PetscReal D_w[]) {
  const PetscReal tau_r = p[synapse->tau_r], sigma_r = p[synapse->sigma_r];
  const PetscReal tau_w = p[synapse->tau_w], sigma_w = p[synapse->sigma_w];
  const PetscReal eps = p[synapse->eps], thetaM = p[synapse->thetaM], w0 = p[synapse->w0];
  const PetscReal Dr = sigma_r * sigma_r / tau_r, Dw = sigma_w * sigma_w / tau_w;

  for (PetscInt k = 0; k < n; k++)
    A_w[k] = (eps * Au_r[k] * r[k] * (r[k] - thetaM) - (w[k] - w0)) / tau_w;
  for (PetscInt k = 0; k < n; k++) Au_r[k] = (-r[k] + w[k] * Au_r[k]) / tau_r;
  for (PetscInt k = 0; k < n; k++) D_r[k] = Dr;
  if (synapse->multiplicative)
    for (PetscInt k = 0; k < n; k++) D_w[k] = Dw * w[k];
  else
    for (PetscInt k = 0; k < n; k++) D_w[k] = Dw;
}

static void ItModelPoint_Hebbian(ItModelConst model, PetscReal t, const PetscReal p[],
                                 const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItHebbian *heb = (const ItHebbian *)model->data;

  (void)t;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
  ItSynapsePoint(p, &heb->synapse, ItTuningEval(p, &heb->u, x[0]), x[1], x[2], &A[1], &D[1]);
}

/* The same on structure-of-arrays points: x[i*ld + k]. */
IT_MODEL_CLONES static PetscErrorCode ItModelEvaluateSoA_Hebbian(ItModelConst model, PetscReal t,
                                                                 const PetscReal p[], PetscInt n,
                                                                 PetscInt ld, const PetscReal x[],
                                                                 PetscReal A[], PetscReal D[]) {
  const ItHebbian *heb   = (const ItHebbian *)model->data;
  const PetscReal  tau_v = p[IT_P_TAU_V], sigma_v = p[IT_P_SIGMA_V], v0 = p[IT_P_V0];
  const PetscReal  Dv = sigma_v * sigma_v / tau_v;

  PetscFunctionBegin;
  (void)t;
  ItTuningEvalArray(p, &heb->u, n, x, &A[ld]);
  ItSynapseEvalArray(p, &heb->synapse, n, &x[ld], &x[2 * ld], &A[ld], &A[2 * ld], &D[ld],
                     &D[2 * ld]);
  for (PetscInt k = 0; k < n; k++) A[k] = -(x[k] - v0) / tau_v;
  for (PetscInt k = 0; k < n; k++) D[k] = Dv;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelSetFromOptions_Hebbian(ItModel model) {
  ItHebbian *heb = (ItHebbian *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "", &heb->u));
  PetscCall(ItSynapseSetFromOptions(model, &heb->synapse));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Hebbian(ItModel model, PetscViewer viewer) {
  ItHebbian *heb = (ItHebbian *)model->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  input u(v): %s tuning; synaptic noise %s\n",
                                   ItTuningName(&heb->u), ItSynapseNoiseName(&heb->synapse)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_Hebbian(ItModel model, json_t *fingerprint) {
  ItHebbian *heb = (ItHebbian *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&heb->u, "tuning", fingerprint));
  json_object_set_new(fingerprint, "w_noise", json_string(ItSynapseNoiseName(&heb->synapse)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The options this model reads besides its parameters: its tuning curve and its synaptic noise
   (the bare -tuning, -w_noise of earlier releases move to them, deprecated). */
static const ItOptionName ItHebbianOptionNames[] = {{"hebbian_tuning", IT_OPTION_BARE_DEPRECATED},
                                                    {"hebbian_w_noise", IT_OPTION_BARE_DEPRECATED},
                                                    {NULL, 0}};

static PetscErrorCode ItModelCreate_Hebbian(ItModel model) {
  static const char *const names[] = {"v", "r", "w"};
  ItHebbian               *heb;

  PetscFunctionBegin;
  PetscCall(PetscNew(&heb));
  model->data = heb;
  PetscCall(ItModelSetVariables(model, 3, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(ItSynapseRegister(model, 0.1, 0.1, &heb->synapse));
  PetscCall(ItTuningRegister(model, "", IT_TUNING_SIGMOID, 0.0, 2.0, &heb->u));
  PetscCall(ItModelSetDefaultBox(model, 0, 40, -6.0, 6.0));
  PetscCall(ItModelSetDefaultBox(model, 1, 40, -0.8, 1.8));
  PetscCall(ItModelSetDefaultBox(model, 2, 40, -0.2, 1.6));
  model->ops.point          = ItModelPoint_Hebbian;
  model->ops.evaluate_soa   = ItModelEvaluateSoA_Hebbian;
  model->ops.setfromoptions = ItModelSetFromOptions_Hebbian;
  model->ops.view           = ItModelView_Hebbian;
  model->ops.fingerprint    = ItModelFingerprint_Hebbian;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Hebbian = {ItModelCreate_Hebbian, ItHebbianOptionNames};
