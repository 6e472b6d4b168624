/* Plastic two-neuron population (doc/physics.md §2) in (v, r1, r2, w1, w2): the
   population model extended by its synapses. Neuron k reads the velocity v
   through its own tuning curve u_k (-population_plastic_tuning1, _tuning2) and its own plastic
   weight w_k, each pair the Hebbian / BCM neuron–synapse pair (ItSynapse),
     A_rk = (-rk + wk u_k(v))/tau_r,                           D_rk = sigma_r^2/tau_r,
     A_wk = (eps u_k(v) rk (rk - thetaM) - (wk - w0))/tau_w,   D_wk = sigma_w^2/tau_w,
   with v the Ornstein–Uhlenbeck velocity. The neuron and synapse parameters
   (and -population_plastic_w_noise) are shared by both pairs, which differ by their tunings; by
   default the population's ON and OFF sigmoids. With wk = 1 held, this is the
   population model. */
#include <infotherm/private/modelimpl.h>

typedef struct {
  ItSynapse synapse; /* the shared parameters of both pairs */
  ItTuning  u[2];
} ItPopulationPlastic;

enum { IT_PP_V, IT_PP_R1, IT_PP_R2, IT_PP_W1, IT_PP_W2, IT_PP_DIM };

static void ItModelPoint_PopulationPlastic(ItModelConst model, PetscReal t, const PetscReal p[],
                                           const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItPopulationPlastic *pop = (const ItPopulationPlastic *)model->data;

  (void)t;
  ItVelocityPoint(p, x[IT_PP_V], &A[IT_PP_V], &D[IT_PP_V]);
  for (PetscInt k = 0; k < 2; k++) {
    PetscReal Ak[2], Dk[2];
    ItSynapsePoint(p, &pop->synapse, ItTuningEval(p, &pop->u[k], x[IT_PP_V]), x[IT_PP_R1 + k],
                   x[IT_PP_W1 + k], Ak, Dk);
    A[IT_PP_R1 + k] = Ak[0];
    D[IT_PP_R1 + k] = Dk[0];
    A[IT_PP_W1 + k] = Ak[1];
    D[IT_PP_W1 + k] = Dk[1];
  }
}

/* The same on structure-of-arrays points (x[i*ld + k], the Monte Carlo's
   layout), in the point function's order of operations: each input u_k is
   computed into the row of A_rk, which the pair then overwrites. */
IT_MODEL_CLONES static PetscErrorCode
ItModelEvaluateSoA_PopulationPlastic(ItModelConst model, PetscReal t, const PetscReal p[],
                                     PetscInt n, PetscInt ld, const PetscReal x[], PetscReal A[],
                                     PetscReal D[]) {
  const ItPopulationPlastic *pop   = (const ItPopulationPlastic *)model->data;
  const PetscReal            tau_v = p[IT_P_TAU_V], sigma_v = p[IT_P_SIGMA_V], v0 = p[IT_P_V0];
  const PetscReal            Dv = sigma_v * sigma_v / tau_v;

  PetscFunctionBegin;
  (void)t;
  for (PetscInt k = 0; k < 2; k++) {
    const PetscInt r = (IT_PP_R1 + k) * ld, w = (IT_PP_W1 + k) * ld;
    ItTuningEvalArray(p, &pop->u[k], n, x, &A[r]);
    ItSynapseEvalArray(p, &pop->synapse, n, &x[r], &x[w], &A[r], &A[w], &D[r], &D[w]);
  }
  for (PetscInt k = 0; k < n; k++) A[k] = -(x[k] - v0) / tau_v;
  for (PetscInt k = 0; k < n; k++) D[k] = Dv;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelSetFromOptions_PopulationPlastic(ItModel model) {
  ItPopulationPlastic *pop = (ItPopulationPlastic *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "1", &pop->u[0]));
  PetscCall(ItTuningSetFromOptions(model, "2", &pop->u[1]));
  PetscCall(ItSynapseSetFromOptions(model, &pop->synapse));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_PopulationPlastic(ItModel model, PetscViewer viewer) {
  ItPopulationPlastic *pop = (ItPopulationPlastic *)model->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(
      viewer, "  inputs u1(v): %s, u2(v): %s tuning; synaptic noise %s\n", ItTuningName(&pop->u[0]),
      ItTuningName(&pop->u[1]), ItSynapseNoiseName(&pop->synapse)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_PopulationPlastic(ItModel model, json_t *fingerprint) {
  ItPopulationPlastic *pop = (ItPopulationPlastic *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&pop->u[0], "tuning1", fingerprint));
  PetscCall(ItTuningFingerprint(&pop->u[1], "tuning2", fingerprint));
  json_object_set_new(fingerprint, "w_noise", json_string(ItSynapseNoiseName(&pop->synapse)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The options this model reads besides its parameters: its tuning curves and its synaptic noise
   (the bare -tuning1, -tuning2, -w_noise of earlier releases move to them, deprecated). */
static const ItOptionName ItPopulationPlasticOptionNames[] = {
    {"population_plastic_tuning1", IT_OPTION_BARE_DEPRECATED},
    {"population_plastic_tuning2", IT_OPTION_BARE_DEPRECATED},
    {"population_plastic_w_noise", IT_OPTION_BARE_DEPRECATED},
    {NULL, 0}};

static PetscErrorCode ItModelCreate_PopulationPlastic(ItModel model) {
  static const char *const names[] = {"v", "r1", "r2", "w1", "w2"};
  ItPopulationPlastic     *pop;

  PetscFunctionBegin;
  PetscCall(PetscNew(&pop));
  model->data = pop;
  PetscCall(ItModelSetVariables(model, IT_PP_DIM, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(ItSynapseRegister(model, 0.2, 0.1, &pop->synapse));
  PetscCall(ItTuningRegister(model, "1", IT_TUNING_SIGMOID, -0.5, 3.0, &pop->u[0]));
  PetscCall(ItTuningRegister(model, "2", IT_TUNING_SIGMOID, 0.5, -3.0, &pop->u[1]));
  /* 16^5 = 1.05·10^6 cells: a 5-D grid grows fast (doc/clusters.md: memory per unknown) */
  PetscCall(ItModelSetDefaultBox(model, IT_PP_V, 16, -6.0, 6.0));
  for (PetscInt k = 0; k < 2; k++) {
    PetscCall(ItModelSetDefaultBox(model, IT_PP_R1 + k, 16, -1.2, 2.2));
    PetscCall(ItModelSetDefaultBox(model, IT_PP_W1 + k, 16, -0.3, 1.4));
  }
  model->ops.point          = ItModelPoint_PopulationPlastic;
  model->ops.evaluate_soa   = ItModelEvaluateSoA_PopulationPlastic;
  model->ops.setfromoptions = ItModelSetFromOptions_PopulationPlastic;
  model->ops.view           = ItModelView_PopulationPlastic;
  model->ops.fingerprint    = ItModelFingerprint_PopulationPlastic;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_PopulationPlastic = {ItModelCreate_PopulationPlastic,
                                                   ItPopulationPlasticOptionNames};
