/* infotherm COMMAND [-options_file FILE] [-option value ...]
   Splits off the command word, starts PETSc, runs the command, and turns any
   error into one line on stderr and a non-zero exit status: 1 for a user's
   mistake (bad option, bad file), 2 for anything else (with PETSc's trace),
   3 when a run stopped early (SIGUSR1, SIGTERM, -ts_max_steps) after writing
   a checkpoint: job scripts requeue on 3; 4 when a cross-check is
   inconclusive (it passed only through a solver error estimate not trusted). */
#include <ctype.h>
#include <unistd.h>
#include <infotherm/app.h>
#include <infotherm/diag.h> /* help -columns */

#define IT_EXIT_INTERRUPTED 3

static char      ItErrorText[1024];
static PetscBool ItErrorIsUser;

static PetscBool ItErrorCodeIsUser(PetscErrorCode n) {
  switch (n) {
  case PETSC_ERR_USER_INPUT:
  case PETSC_ERR_USER: /* PETSc's unknown option value */
  case PETSC_ERR_FILE_OPEN:
  case PETSC_ERR_FILE_READ:
  case PETSC_ERR_FILE_WRITE:
  case PETSC_ERR_FILE_UNEXPECTED:
  case PETSC_ERR_ARG_SIZ:
  case PETSC_ERR_ARG_WRONG:
  case PETSC_ERR_ARG_OUTOFRANGE:
  case PETSC_ERR_ARG_INCOMP:
  case PETSC_ERR_ARG_UNKNOWN_TYPE:
  case PETSC_ERR_NOT_CONVERGED:
    return PETSC_TRUE;
  default:
    return PETSC_FALSE;
  }
}

/* Keeps the first message; a user's mistake needs no trace back. */
static PetscErrorCode ItErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file,
                                     PetscErrorCode n, PetscErrorType p, const char *mess,
                                     void *ctx) {
  if (p == PETSC_ERROR_INITIAL && !ItErrorText[0]) {
    const char *text = mess;
    if (!text || !text[0]) PetscErrorMessage(n, &text, NULL);
    snprintf(ItErrorText, sizeof(ItErrorText), "%s", text ? text : "unknown error");
    ItErrorIsUser = ItErrorCodeIsUser(n);
  }
  if (ItErrorIsUser) return n;
  return PetscTraceBackErrorHandler(comm, line, fun, file, n, p, mess, ctx);
}

/* Whether PETSc takes the argument for an option name (as PetscOptionsValidKey
   does): '-' (or "--") and a letter, unless it reads as a number (-inf). */
static int ItLooksLikeOption(const char *arg) {
  char *end;

  if (arg[0] != '-') return 0;
  if (arg[1] == '-') arg++;
  if (!isalpha((unsigned char)arg[1])) return 0;
  (void)strtod(arg, &end);
  return end == arg || *end == '_' || isalnum((unsigned char)*end);
}

/* A formula that starts with '-' and a letter ("-v + 0.3") after
   -expr_drift_<var> or -expr_diffusion_<var>: PETSc would take it for an
   option and leave the formula empty, so it is passed on as "(-v + 0.3)".
   The argument after these options is always their formula, unless it is
   another -expr_ option or -options_file. Returns a new string, or NULL. */
static char *ItWrapFormula(const char *option, const char *value) {
  char  *wrapped;
  size_t len;

  if (strncmp(option, "-expr_drift_", 12) && strncmp(option, "-expr_diffusion_", 16)) return NULL;
  if (!ItLooksLikeOption(value) || !strncmp(value, "-expr_", 6) || !strcmp(value, "-options_file"))
    return NULL;
  len     = strlen(value) + 3;
  wrapped = (char *)malloc(len);
  if (wrapped) snprintf(wrapped, len, "(%s)", value);
  return wrapped;
}

/* -version (or --version, or the command "version") anywhere: prints the
   version, the commit and PETSc's version, and says so (1). */
static int ItPrintVersion(int argc, char **argv) {
  char petsc[128];

  for (int k = 1; k < argc; k++)
    if (!strcmp(argv[k], "-version") || !strcmp(argv[k], "--version") ||
        (k == 1 && !strcmp(argv[k], "version"))) {
      if (PetscGetVersion(petsc, sizeof(petsc))) petsc[0] = 0;
      for (size_t n = strlen(petsc); n > 0 && petsc[n - 1] == ' '; n--) petsc[n - 1] = 0;
      printf("infotherm %s (commit %s), %s\n", ItVersion(), ItVersionCommit(), petsc);
      return 1;
    }
  return 0;
}

/* The command when none is given: the usage. */
static const char ItDefaultCommand[] = "help";

int main(int argc, char **argv) {
  const char    *command                  = ItDefaultCommand;
  char           stem[PETSC_MAX_PATH_LEN] = "";
  char         **args, **files, **wrapped;
  int            nargs = 0, nfile = 0, nwrapped = 0;
  PetscErrorCode ierr;
  PetscMPIInt    rank;
  PetscBool      interrupted = PETSC_FALSE;

  /* the command word and the -options_file stem, before PETSc sees the options */
  args          = (char **)malloc(sizeof(char *) * (size_t)(argc + 1));
  files         = (char **)malloc(sizeof(char *) * (size_t)(argc + 1));
  wrapped       = (char **)malloc(sizeof(char *) * (size_t)(argc + 1));
  args[nargs++] = argv[0];
  for (int k = 1; k < argc; k++) {
    if (k == 1 && argv[k][0] != '-') {
      command = argv[k];
      continue;
    }
    if (nargs == 1 && argv[k][0] != '-') { /* files right after the command (analyze) */
      files[nfile++] = argv[k];
      continue;
    }
    if (!strcmp(argv[k], "-options_file") && k + 1 < argc) {
      const char *base = strrchr(argv[k + 1], '/'), *dot;
      size_t      len;
      base = base ? base + 1 : argv[k + 1];
      dot  = strrchr(base, '.');
      len  = dot ? (size_t)(dot - base) : strlen(base);
      snprintf(stem, sizeof(stem), "%.*s", (int)len, base);
      /* reported on rank 0 once PETSc has started, and the file is not handed to it */
      if (access(argv[k + 1], R_OK) != 0)
        snprintf(ItErrorText, sizeof(ItErrorText), "cannot read the options file %s", argv[k + 1]);
      else
        ItIOScanOptionsFile(argv[k + 1], ItErrorText, sizeof(ItErrorText));
      if (ItErrorText[0]) {
        ItErrorIsUser = PETSC_TRUE;
        k++;
        continue;
      }
    }
    args[nargs++] = argv[k];
    if (k + 1 < argc && (wrapped[nwrapped] = ItWrapFormula(argv[k], argv[k + 1]))) {
      args[nargs++] = wrapped[nwrapped++];
      k++;
    }
  }
  args[nargs] = NULL;
  if (ItPrintVersion(argc, argv)) {
    free(args);
    free(files);
    free(wrapped);
    return 0;
  }
  if (!strcmp(command, "help") || !strcmp(command, "-h") || !strcmp(command, "--help")) {
    /* help -list: the commands, one a line; help -columns: the diagnostics' columns */
    PetscBool list = PETSC_FALSE, columns = PETSC_FALSE;
    for (int k = 1; k < argc; k++) {
      list    = (PetscBool)(list || !strcmp(argv[k], "-list"));
      columns = (PetscBool)(columns || !strcmp(argv[k], "-columns"));
      if (argv[k] != command && command != ItDefaultCommand && strcmp(argv[k], "-list") &&
          strcmp(argv[k], "-columns") && strcmp(argv[k], "-help") && strcmp(argv[k], "-h") &&
          strcmp(argv[k], "--help")) { /* `infotherm help -bogus`; no command word: the usage */
        fprintf(stderr, "infotherm: error: help takes -list or -columns, not '%s'\n", argv[k]);
        free(args);
        free(files);
        free(wrapped);
        return 1;
      }
    }
    if (list) ItAppListCommands(stdout);
    if (columns) ItDiagListColumns(stdout);
    if (!list && !columns) fputs(ItAppUsage(), stdout);
    free(args);
    free(files);
    free(wrapped);
    return 0;
  }

  /* Open MPI's shared-file-pointer component "sm" keeps a file in the job's
     session folder for every MPI-IO open; singletons started at the same time
     share that folder, and one's clean-up made the other print a stray
     "unable to open file for mmap" line. No file here uses a shared pointer. */
  setenv("OMPI_MCA_sharedfp", "^sm", 0);
  /* no PSM libraries where their hardware is missing; a run without mpiexec
     or srun: Open MPI without its daemon and transports (src/app/launch.c) */
  (void)ItLaunchPrepare();

  /* before anything slow, and again over PETSc's own handlers: a signal
     during the set-up must not kill a run unsaved */
  if (ItIOSignalsInstall(ItAppCommandCheckpoints(command))) return 2;
  if (ItPostSplit(argc, argv, command, ItErrorText, sizeof(ItErrorText))) return 2;
  if (ItErrorText[0]) ItErrorIsUser = PETSC_TRUE;
  ierr = PetscInitialize(&nargs, &args, NULL, ItAppUsage());
  if (ierr) return 2;
  if (ItMemoryUseHugePages()) return 2; /* the grid's arrays fault in 2 MB at a time */
  if (ItIOSignalsInstall(ItAppCommandCheckpoints(command))) return 2;
  PetscPushErrorHandler(ItErrorHandler, NULL);
  ItPostInstallPrint();                        /* -post_ranks: one line, not one per group */
  ierr = ItErrorText[0] ? PETSC_ERR_USER_INPUT /* found before PETSc started */
                        : ItAppMain(command, stem, nfile, files, &interrupted);
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (ierr) ItIOAbandon(); /* the lock, a temporary file, an empty folder it made */
  if (ierr && rank == 0 && !ItPostQuiet()) fprintf(stderr, "infotherm: error: %s\n", ItErrorText);
  if (ierr && !ItErrorIsUser) {
    /* an error on some ranks only would leave the others waiting */
    if (rank != 0) fprintf(stderr, "infotherm: error on rank %d: %s\n", rank, ItErrorText);
    MPI_Abort(PETSC_COMM_WORLD, 2);
  }
  PetscPopErrorHandler();
  PetscFinalize();
  ItPostFinalize(ierr ? 1 : 0); /* -post_ranks: MPI, started before PETSc */
  for (int k = 0; k < nwrapped; k++) free(wrapped[k]);
  free(args);
  free(files);
  free(wrapped);
  return ierr
             ? 1
             : (interrupted ? IT_EXIT_INTERRUPTED : (ItAppInconclusive ? IT_EXIT_INCONCLUSIVE : 0));
}
