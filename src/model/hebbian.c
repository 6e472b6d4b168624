/* Hebbian / BCM synapse (PHYSICS.md §2) in (v, r, w): a presynaptic input
   u(v) (a tuning curve of the velocity) drives the neuron r through the weight w,
     A_r = (-r + w u(v))/tau_r,                          D_r = sigma_r^2/tau_r,
     A_w = (eps u(v) r (r - thetaM) - (w - w0))/tau_w,   D_w = sigma_w^2/tau_w
   (Hebbian: thetaM = 0). With -w_noise multiplicative, D_w = sigma_w^2 w/tau_w
   and the box must keep w > 0. */
#include <infotherm/private/modelimpl.h>

typedef struct {
  PetscInt  tau_r, sigma_r, tau_w, sigma_w, eps, thetaM, w0;
  PetscBool multiplicative;
  ItTuning  u;
} ItHebbian;

static void ItModelPoint_Hebbian(ItModelConst model, PetscReal t, const PetscReal p[],
                                 const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItHebbian *heb   = (const ItHebbian *)model->data;
  const PetscReal  tau_r = p[heb->tau_r], sigma_r = p[heb->sigma_r];
  const PetscReal  tau_w = p[heb->tau_w], sigma_w = p[heb->sigma_w];
  const PetscReal  u = ItTuningEval(p, &heb->u, x[0]);
  const PetscReal  r = x[1], w = x[2];

  (void)t;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
  A[1] = (-r + w * u) / tau_r;
  D[1] = sigma_r * sigma_r / tau_r;
  A[2] = (p[heb->eps] * u * r * (r - p[heb->thetaM]) - (w - p[heb->w0])) / tau_w;
  D[2] = sigma_w * sigma_w / tau_w * (heb->multiplicative ? w : 1.0);
}

static PetscErrorCode ItModelSetFromOptions_Hebbian(ItModel model) {
  ItHebbian               *heb     = (ItHebbian *)model->data;
  static const char *const noise[] = {"additive", "multiplicative", "ItWNoise", "IT_W_NOISE_",
                                      NULL};
  PetscEnum                kind    = (PetscEnum)heb->multiplicative;

  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "", &heb->u));
  PetscOptionsBegin(model->comm, NULL, "Hebbian synapse", "ItModel");
  PetscCall(PetscOptionsEnum("-w_noise",
                             "synaptic noise: additive or multiplicative (D_w proportional to w)",
                             NULL, noise, kind, &kind, NULL));
  PetscOptionsEnd();
  heb->multiplicative = (PetscBool)kind;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Hebbian(ItModel model, PetscViewer viewer) {
  ItHebbian *heb = (ItHebbian *)model->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  input u(v): %s tuning; synaptic noise %s\n",
                                   ItTuningName(&heb->u),
                                   heb->multiplicative ? "multiplicative" : "additive"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_Hebbian(ItModel model, json_t *fingerprint) {
  ItHebbian *heb = (ItHebbian *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&heb->u, "tuning", fingerprint));
  json_object_set_new(fingerprint, "w_noise",
                      json_string(heb->multiplicative ? "multiplicative" : "additive"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelCreate_Hebbian(ItModel model) {
  static const char *const names[] = {"v", "r", "w"};
  ItHebbian               *heb;

  PetscFunctionBegin;
  PetscCall(PetscNew(&heb));
  model->data = heb;
  PetscCall(ItModelSetVariables(model, 3, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(
      ItModelAddParam(model, "tau_r", 0.1, IT_PARAM_POSITIVE, "neuron time constant", &heb->tau_r));
  PetscCall(ItModelAddParam(model, "sigma_r", 0.1, IT_PARAM_POSITIVE,
                            "neuron noise: variance of the rate fluctuations is sigma_r^2",
                            &heb->sigma_r));
  PetscCall(ItModelAddParam(model, "tau_w", 10.0, IT_PARAM_POSITIVE, "synaptic time constant",
                            &heb->tau_w));
  PetscCall(ItModelAddParam(model, "sigma_w", 0.1, IT_PARAM_POSITIVE,
                            "synaptic noise: variance of the weight fluctuations is sigma_w^2",
                            &heb->sigma_w));
  PetscCall(ItModelAddParam(model, "eps", 0.2, IT_PARAM_ANY, "learning rate of the Hebbian term",
                            &heb->eps));
  PetscCall(ItModelAddParam(model, "thetaM", 0.0, IT_PARAM_ANY,
                            "BCM sliding threshold (0: Hebbian)", &heb->thetaM));
  PetscCall(ItModelAddParam(model, "w0", 0.5, IT_PARAM_ANY, "resting weight", &heb->w0));
  PetscCall(ItTuningRegister(model, "", IT_TUNING_SIGMOID, 0.0, 2.0, &heb->u));
  PetscCall(ItModelSetDefaultBox(model, 0, 40, -6.0, 6.0));
  PetscCall(ItModelSetDefaultBox(model, 1, 40, -0.8, 1.8));
  PetscCall(ItModelSetDefaultBox(model, 2, 40, -0.2, 1.6));
  model->ops.point          = ItModelPoint_Hebbian;
  model->ops.setfromoptions = ItModelSetFromOptions_Hebbian;
  model->ops.view           = ItModelView_Hebbian;
  model->ops.fingerprint    = ItModelFingerprint_Hebbian;
  PetscFunctionReturn(PETSC_SUCCESS);
}
