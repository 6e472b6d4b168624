/* The commands of doc/design.md, as a table: the command word, its set-up
   (NULL: ItAppSetUp, model, grid, diagnostics and output folder from the
   options), the functions that run it and that list its options under -help
   (src/app/cmd_*.c), whether it takes file arguments, and the names of the
   options only it reads. A new command is a row here and its file. With -help the set-up runs and
   the command's help lists the options of what it would create instead of running it. A command
   reads its options, validates everything before it writes anything, then
   composes model, grid, operator, solver, diagnostics and output; no command
   calls back into this dispatcher. */
#include <infotherm/private/appimpl.h>

typedef struct {
  const char    *name;
  ItAppCommandFn setup; /* NULL: ItAppSetUp */
  ItAppCommandFn run;
  ItAppHelpFn    help;  /* -help: the options beyond the set-up's (and the output folder's) */
  PetscBool      files; /* takes file arguments (analyze's snapshots) */
  /* the names of the options only this command reads, beside its options
     block in its file (NULL: none; registered by ItAppRegisterCommandOptions) */
  const ItOptionName *options;
} ItAppCommand;

static const ItAppCommand ItAppCommands[] = {
    {"run", NULL, ItAppRun, ItAppRunHelp, PETSC_FALSE, ItAppRunOptionNames},
    {"stationary", NULL, ItAppStationary, ItAppStationaryHelp, PETSC_FALSE, NULL},
    {"analyze", ItAppAnalyzeSetUp, ItAppAnalyze, ItAppHelpOutput, PETSC_TRUE, NULL},
    {"mc", NULL, ItAppMC, ItAppMCHelp, PETSC_FALSE, NULL},
    {"crosscheck", NULL, ItAppCrosscheck, ItAppCrosscheckHelp, PETSC_FALSE,
     ItAppCrosscheckOptionNames},
    {"spectrum", NULL, ItAppSpectrum, ItAppSpectrumHelp, PETSC_FALSE, NULL},
    {"info", NULL, ItAppInfo, NULL, PETSC_FALSE, NULL},
};

/* The table's command named `command` (NULL: none). */
static const ItAppCommand *ItAppFindCommand(const char command[]) {
  for (size_t k = 0; k < sizeof(ItAppCommands) / sizeof(ItAppCommands[0]); k++)
    if (!strcmp(ItAppCommands[k].name, command)) return &ItAppCommands[k];
  return NULL;
}

/* Registers every command's options (an options file serves every command,
   so each command's are known to all). Not collective. */
static PetscErrorCode ItAppRegisterCommandOptions(void) {
  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof(ItAppCommands) / sizeof(ItAppCommands[0]); k++)
    if (ItAppCommands[k].options)
      PetscCall(ItOptionsRegister(ItAppCommands[k].name, PETSC_FALSE, ItAppCommands[k].options));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "run, stationary, ... or info", from the table. */
static PetscErrorCode ItAppCommandList(char list[], size_t len) {
  const size_t n = sizeof(ItAppCommands) / sizeof(ItAppCommands[0]);

  PetscFunctionBegin;
  list[0] = 0;
  for (size_t k = 0; k < n; k++) {
    if (k) PetscCall(PetscStrlcat(list, k + 1 < n ? ", " : " or ", len));
    PetscCall(PetscStrlcat(list, ItAppCommands[k].name, len));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Runs the command; interrupted: stopped early after writing a checkpoint
   (exit status 3). Collective. */
PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted) {
  const ItAppCommand *cmd = ItAppFindCommand(command);
  ItApp               app = {0};
  char                list[256];

  PetscFunctionBegin;
  PetscCall(ItAppRegisterCommandOptions()); /* before any options check reads the registry */
  PetscCall(ItAppCommandList(list, sizeof(list)));
  PetscCheck(cmd, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "the command '%s' is not available; use %s", command, list);
  PetscCheck(!nfile || cmd->files, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "'%s' takes no file arguments (got %s); options start with '-'", command, files[0]);
  app.command = command;
  if (cmd->setup)
    PetscCall(cmd->setup(&app, nfile, files));
  else
    PetscCall(ItAppSetUp(&app, stem));
  if (ItAppHelpRequested()) { /* lists the options, solves and writes nothing */
    if (cmd->help) PetscCall(cmd->help(&app));
  } else
    PetscCall(cmd->run(&app, nfile, files));
  *interrupted = app.interrupted;
  PetscCall(ItAppTearDown(&app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
