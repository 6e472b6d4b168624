/* The commands of doc/design.md, as a table: the command word, the function
   that runs it (src/app/cmd_*.c) and whether it takes file arguments. A new
   command is a row here and its file. Each command sets up what it needs
   (ItAppSetUp), reads its options, validates everything before it writes
   anything, then composes model, grid, operator, solver, diagnostics and
   output; no command calls back into this dispatcher. */
#include <infotherm/private/appimpl.h>

typedef struct {
  const char    *name;
  ItAppCommandFn run;
  PetscBool      files; /* takes file arguments (analyze's snapshots) */
} ItAppCommand;

static const ItAppCommand ItAppCommands[] = {
    {"run", ItAppRun, PETSC_FALSE},
    {"stationary", ItAppStationary, PETSC_FALSE},
    {"analyze", ItAppAnalyze, PETSC_TRUE},
    {"mc", ItAppMC, PETSC_FALSE},
    {"crosscheck", ItAppCrosscheck, PETSC_FALSE},
    {"spectrum", ItAppSpectrum, PETSC_FALSE},
    {"info", ItAppInfo, PETSC_FALSE},
};

/* The table's command named `command` (NULL: none). */
static const ItAppCommand *ItAppFindCommand(const char command[]) {
  for (size_t k = 0; k < sizeof(ItAppCommands) / sizeof(ItAppCommands[0]); k++)
    if (!strcmp(ItAppCommands[k].name, command)) return &ItAppCommands[k];
  return NULL;
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
  PetscCall(ItAppCommandList(list, sizeof(list)));
  PetscCheck(cmd, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "the command '%s' is not available; use %s", command, list);
  PetscCheck(!nfile || cmd->files, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "'%s' takes no file arguments (got %s); options start with '-'", command, files[0]);
  app.command = command;
  app.stem    = stem;
  PetscCall(cmd->run(&app, nfile, files));
  *interrupted = app.interrupted;
  PetscCall(ItAppTearDown(&app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
