/* Two-neuron population (doc/physics.md §2): neurons r1, r2 read the velocity v
   through different tuning curves (-population_tuning1, -population_tuning2),
     A_rk = (-rk + fk(v))/tau_r,  D_rk = sigma_r^2/tau_r,
   with v the Ornstein–Uhlenbeck velocity. By default two opposed sigmoids. */
#include <infotherm/private/modelimpl.h>

typedef struct {
  PetscInt tau_r, sigma_r;
  ItTuning f[2];
} ItPopulation;

static void ItModelPoint_Population(ItModelConst model, PetscReal t, const PetscReal p[],
                                    const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const ItPopulation *pop   = (const ItPopulation *)model->data;
  const PetscReal     tau_r = p[pop->tau_r], sigma_r = p[pop->sigma_r];

  (void)t;
  ItVelocityPoint(p, x[0], &A[0], &D[0]);
  for (PetscInt k = 0; k < 2; k++) {
    A[1 + k] = (-x[1 + k] + ItTuningEval(p, &pop->f[k], x[0])) / tau_r;
    D[1 + k] = sigma_r * sigma_r / tau_r;
  }
}

static PetscErrorCode ItModelSetFromOptions_Population(ItModel model) {
  ItPopulation *pop = (ItPopulation *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningSetFromOptions(model, "1", &pop->f[0]));
  PetscCall(ItTuningSetFromOptions(model, "2", &pop->f[1]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Population(ItModel model, PetscViewer viewer) {
  ItPopulation *pop = (ItPopulation *)model->data;

  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "  tuning1 %s, tuning2 %s\n", ItTuningName(&pop->f[0]),
                                   ItTuningName(&pop->f[1])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelFingerprint_Population(ItModel model, json_t *fingerprint) {
  ItPopulation *pop = (ItPopulation *)model->data;

  PetscFunctionBegin;
  PetscCall(ItTuningFingerprint(&pop->f[0], "tuning1", fingerprint));
  PetscCall(ItTuningFingerprint(&pop->f[1], "tuning2", fingerprint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The options this model reads besides its parameters: its tuning curves
   (the bare -tuning1, -tuning2 of earlier releases move to them, deprecated). */
static const ItOptionName ItPopulationOptionNames[] = {
    {"population_tuning1", IT_OPTION_BARE_DEPRECATED},
    {"population_tuning2", IT_OPTION_BARE_DEPRECATED},
    {NULL, 0}};

static PetscErrorCode ItModelCreate_Population(ItModel model) {
  static const char *const names[] = {"v", "r1", "r2"};
  ItPopulation            *pop;

  PetscFunctionBegin;
  PetscCall(PetscNew(&pop));
  model->data = pop;
  PetscCall(ItModelSetVariables(model, 3, names));
  PetscCall(ItModelAddVelocityParams(model));
  PetscCall(
      ItModelAddParam(model, "tau_r", 0.1, IT_PARAM_POSITIVE, "neuron time constant", &pop->tau_r));
  PetscCall(ItModelAddParam(model, "sigma_r", 0.2, IT_PARAM_POSITIVE,
                            "neuron noise: variance of the rate fluctuations is sigma_r^2",
                            &pop->sigma_r));
  PetscCall(ItTuningRegister(model, "1", IT_TUNING_SIGMOID, -0.5, 3.0, &pop->f[0]));
  PetscCall(ItTuningRegister(model, "2", IT_TUNING_SIGMOID, 0.5, -3.0, &pop->f[1]));
  PetscCall(ItModelSetDefaultBox(model, 0, 48, -6.0, 6.0));
  PetscCall(ItModelSetDefaultBox(model, 1, 48, -1.0, 2.0));
  PetscCall(ItModelSetDefaultBox(model, 2, 48, -1.0, 2.0));
  model->ops.point          = ItModelPoint_Population;
  model->ops.setfromoptions = ItModelSetFromOptions_Population;
  model->ops.view           = ItModelView_Population;
  model->ops.fingerprint    = ItModelFingerprint_Population;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Population = {ItModelCreate_Population, ItPopulationOptionNames};
