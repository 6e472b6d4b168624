/* The memory a command takes per rank, estimated before the grid is
   allocated: bytes per unknown of each part (one table, measured), times the
   unknowns a rank owns, plus what every rank holds anyway. `info` prints it;
   every command refuses to start when a rank's share clearly exceeds
   the memory its node reports per rank (-memory_check false overrides).
   The spectrum's eigensolver and the Monte Carlo's particles add what their
   options ask for (-spectrum_nev, -mc_particles). */
#include <unistd.h>
#include <infotherm/private/appimpl.h>

/* Bytes per unknown of each part of a command, measured with tools/memory.py
   (the slope of the peak resident set between two grids, one rank, linear
   model, default solver options, release build): a part per unknown and a
   part per matrix entry of a row (2d + 1 with the star stencil). Measured
   totals (B/unknown, d = 2 / 3 / 5): info 97 / 121 / 100, stationary 539 /
   694 / 1165, run 909 / 873 / 1047; the table gave 110 / 110 / 110, 610 /
   810 / 1210 and 895 / 949 / 1057. Since (2026-12-06, measured as
   differences): the DMDAs hold no coordinates (info at 2048^2 and 128^3: -36
   and -44 B per unknown, every command) and a run keeps the stage solves'
   residual vector only when GMRES did not test that residual itself (run:
   -8 B). With the multigrid's levels applied from the faces (-fp_matrix_free,
   the default since 2026-12-06; tools/memory.py, loaded machine): stationary
   296 / 367 / about 900 (at 14^5: the peak over the unknowns, the 5-D slope
   between 12^5 and 14^5 being unreliable), run 392 / 392 / about 940; the
   table is fitted to the 2-D and 5-D figures and over-estimates 3-D (498
   and 577), and under-estimates the assembled path
   (-fp_matrix_free false) by about 110 B in 2-D. The one place to update
   when a solver changes what it keeps. */
typedef struct {
  const char *part;
  const char *commands[6]; /* the commands that hold it */
  PetscReal   per_unknown, per_nonzero;
} ItMemoryCost;

/* clang-format off */
static const ItMemoryCost ItMemoryTable[] = {
    {"grid, density, diagnostics", {"info", "run", "stationary", "analyze", "mc", "crosscheck"}, 74.0, 0.0},
    {"stationary solve (multigrid, GMRES)", {"stationary"}, -280.0, 100.0},
    {"time stepping (multigrid, stages, GMRES)", {"run", "crosscheck"}, -141.0, 92.0},
    {"spectrum (shift-and-invert LU, eigensolver)", {"spectrum"}, 1100.0, 60.0},
};
/* clang-format on */
static const PetscReal ItMemoryPerRank = 50e6; /* MPI, PETSc and the program, on every rank */
static const PetscReal ItMemoryLimit   = 1.5;  /* refuse above this times the node's share */

/* What -fp_order 4 adds per unknown (measured 2026-12-06 at 512^2, one
   rank, summary.json's components against order 2): its faces hold four
   fourth-order weights beside the two coefficients (3 times order 2's); a
   run's ARK5(4)8L[2]SA has 8 stages where ARK3 has 4 (3 vectors each); the
   stationary solve's FGMRES(20) holds 9 vectors more than GMRES(30) and the
   fine level's GMRES smoothing 7. Weights kept in single precision
   (-fp_weights, from 4 variables on by default) take half: twice order 2's. */
static PetscReal ItMemoryOrder4Extra(const char command[], PetscInt dim, PetscBool single) {
  const PetscReal coarse = 1.0 / (PetscPowReal(2.0, (PetscReal)dim) - 1), vec = 8;
  const PetscReal faces = (single ? 1 : 2) * (2.0 * dim * vec * (1 + coarse));

  if (!strcmp(command, "run") || !strcmp(command, "crosscheck")) return faces + 4 * 3 * vec;
  if (!strcmp(command, "stationary")) return faces + (9 + 7) * vec;
  return faces;
}

/* Bytes per unknown that `command` takes on `grid` (its variables and its
   operator's order). */
static PetscReal ItMemoryPerUnknown(const char command[], ItGrid grid) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    dim  = info->dim;
  PetscReal         bytes =
      info->order_fp == 4 ? ItMemoryOrder4Extra(command, dim, info->single_weights) : 0;

  for (size_t k = 0; k < sizeof(ItMemoryTable) / sizeof(ItMemoryTable[0]); k++)
    for (size_t j = 0; j < 6 && ItMemoryTable[k].commands[j]; j++)
      if (!strcmp(ItMemoryTable[k].commands[j], command))
        bytes += ItMemoryTable[k].per_unknown + ItMemoryTable[k].per_nonzero * (2 * dim + 1);
  return bytes;
}

/* What grows with an option rather than with the grid, measured the same
   way (2 variables, one rank, loaded machine): the spectrum's eigensolver
   basis, 23 B per unknown per requested rate (128^2, -spectrum_nev 4 and
   20: 72.9 and 78.8 MB; the table's 1400 B per unknown from 64^2, 128^2,
   256^2: 57.2, 72.9, 140.1 MB), and the Monte Carlo's particles, 25 B per
   particle per variable (1e6 and 3e6 particles: 98.6 and 196.3 MB). LU's
   fill-in grows faster than the unknowns on 3 or more variables: there the
   spectrum's figure is a lower bound. */
#define IT_MEMORY_PER_RATE 24.0
#define IT_MEMORY_PER_PARTICLE_VARIABLE 25.0

static PetscReal ItMemoryOptionBytes(ItGrid grid, const char command[], PetscReal share,
                                     PetscReal size) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          nev = 4, particles = 100000;

  if (!strcmp(command, "spectrum")) {
    PetscOptionsGetInt(NULL, NULL, "-spectrum_nev", &nev, NULL);
    return share * IT_MEMORY_PER_RATE * (PetscReal)PetscMax(nev, 1);
  }
  if (!strcmp(command, "mc") || !strcmp(command, "crosscheck")) {
    PetscOptionsGetInt(NULL, NULL, "-mc_particles", &particles, NULL);
    return PetscCeilReal((PetscReal)PetscMax(particles, 0) / size) *
           IT_MEMORY_PER_PARTICLE_VARIABLE * (PetscReal)info->dim;
  }
  return 0;
}

/* The estimated peak of one rank: its share of the unknowns (the largest,
   when they do not divide evenly) times the bytes per unknown, plus the base
   and what the options add (ItMemoryOptionBytes). Not collective. */
static PetscReal ItMemoryEstimateOn(ItGrid grid, const char command[], PetscReal size) {
  const ItGridInfo *info  = ItGridGetInfo(grid);
  PetscReal         cells = 1, share;

  for (PetscInt i = 0; i < info->dim; i++) cells *= (PetscReal)info->n[i];
  share = PetscCeilReal(cells / size);
  return ItMemoryPerRank + share * ItMemoryPerUnknown(command, grid) +
         ItMemoryOptionBytes(grid, command, share, size);
}

static PetscReal ItMemoryEstimate(ItGrid grid, const char command[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscMPIInt       size;

  MPI_Comm_size(info->comm, &size);
  return ItMemoryEstimateOn(grid, command, (PetscReal)size);
}

/* The memory a rank may use: the physical memory of its node over the ranks
   on that node, the smallest over the nodes; and the ranks per node (largest).
   Collective. */
static PetscErrorCode ItMemoryNode(MPI_Comm comm, PetscReal *per_rank, PetscMPIInt *ranks) {
  MPI_Comm    node;
  PetscMPIInt local;
  PetscReal   bytes = (PetscReal)sysconf(_SC_PHYS_PAGES) * (PetscReal)sysconf(_SC_PAGESIZE);

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  PetscCallMPI(MPI_Comm_size(node, &local));
  PetscCallMPI(MPI_Comm_free(&node));
  bytes /= local;
  PetscCall(MPIU_Allreduce(&bytes, per_rank, 1, MPIU_REAL, MPIU_MIN, comm));
  PetscCall(MPIU_Allreduce(&local, ranks, 1, MPI_INT, MPI_MAX, comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static const char *ItMemoryUnit(PetscReal bytes, PetscReal *value) {
  static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  PetscInt                 k       = 0;

  /* 999.6 MB prints as "1e+03 MB" with %.3g: a value that rounds to 1000 takes the next unit */
  for (*value = bytes; *value >= 999.5 && k < 5; k++) *value /= 1000;
  return units[k];
}

/* The option names of the memory check's and estimate's options (src/model/option_names.c). */
const ItOptionName ItAppMemoryOptionNames[] = {{"memory_check", IT_OPTION_SWITCH},
                                               {"ranks", 0},
                                               {"ranks_per_node", IT_OPTION_INTEGER},
                                               {NULL, 0}};

/* -memory_check (default true): before the grid is allocated, refuses a
   command when a rank's estimated share (of that command: the solving ones
   hold their solvers, the others the grid, density and diagnostics) exceeds
   1.5 times the memory its node reports per rank. Collective. */
PetscErrorCode ItAppCheckMemory(ItApp *app) {
  PetscBool   check = PETSC_TRUE;
  PetscReal   need, have, need_v, have_v;
  PetscMPIInt size, ranks;
  const char *command = app->command;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Memory", "ItApp");
  PetscCall(PetscOptionsBool("-memory_check",
                             "refuse to start when a rank's estimated memory exceeds 1.5 times "
                             "its node's physical memory per rank",
                             NULL, check, &check, NULL));
  PetscOptionsEnd();
  if (!check) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(ItMemoryNode(PETSC_COMM_WORLD, &have, &ranks));
  need = ItMemoryEstimate(app->grid, command);
  {
    const PetscReal extra = ItMemoryOptionBytes(
        app->grid, command, PetscCeilReal(ItGridCellCount(app->grid) / size), size);
    const char *need_u = ItMemoryUnit(need, &need_v), *have_u = ItMemoryUnit(have, &have_v);
    PetscCheck(need <= ItMemoryLimit * have, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "%s needs about %.3g %s per rank (%.4g unknowns on %d rank(s), %.0f B per "
               "unknown%s) but a node has %.3g %s per rank (%d rank(s) per node): use more nodes, "
               "a coarser -grid_n%s, or -memory_check false",
               command, (double)need_v, need_u, (double)ItGridCellCount(app->grid), size,
               (double)ItMemoryPerUnknown(command, app->grid),
               extra > 0 ? ", and what -mc_particles or -spectrum_nev add" : "", (double)have_v,
               have_u, ranks, extra > 0 ? ", fewer -mc_particles or -spectrum_nev" : "");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* info -ranks N [-ranks_per_node R]: the estimate per rank of a job of N
   ranks, R per node on nodes like this one (its physical memory, node_bytes),
   without running on N ranks. Collective. */
static PetscErrorCode ItAppViewMemoryPlan(ItApp *app, PetscInt plan, PetscInt per_node,
                                          PetscReal node_bytes) {
  static const char *const commands[] = {"run", "stationary"};
  PetscReal                value, have = node_bytes / per_node;
  const char              *unit;

  PetscFunctionBegin;
  PetscCheck(plan > 0 && per_node > 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-ranks and -ranks_per_node must be positive; got %" PetscInt_FMT
             " and %" PetscInt_FMT,
             plan, per_node);
  PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "memory per rank (estimate) on %" PetscInt_FMT " rank(s), %" PetscInt_FMT " per node:", plan,
      per_node));
  for (size_t k = 0; k < 2; k++) {
    const PetscReal need = ItMemoryEstimateOn(app->grid, commands[k], (PetscReal)plan);
    unit                 = ItMemoryUnit(need, &value);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, " %s %.3g %s%s;", commands[k], (double)value, unit,
                          need > ItMemoryLimit * have ? " (too much)" : ""));
  }
  unit = ItMemoryUnit(have, &value);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        " %" PetscInt_FMT " node(s) like this one, %.3g %s per rank\n",
                        (plan + per_node - 1) / per_node, (double)value, unit));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The parts of a command's memory per unknown on a grid of `dim`
   variables, at the default settings: the model of what the modules note in
   the memory ledger (summary.json's "components", ItMemoryPart), each part
   from the sizes of its objects. The assembled (2d+1)-point operator: 12 B
   per entry and 16 per row; the faces: two coefficients per face and axis,
   one for the operator and the coarse levels' (the fine count over
   2^d - 1); the diagnostics use the solver's in a run of a model that does
   not depend on time (ItDiagShareFaces; one set more otherwise) and free
   theirs while `stationary` solves (ItDiagRelease); the multigrid: on the fine level
   the prolongation's ghosted coarse array (applied matrix-free) and 6
   vectors (SOR's 3, Richardson's 2, the residual), on the coarse levels
   (together 1/(2^d - 1) of the fine grid) their operator, prolongation and
   9 vectors; run: ARKIMEX3's 4 stages (Y, YdotI, YdotRHS each and 3 work
   vectors, the nonlinear solver's 2 and the residual) and GMRES(5)'s 9
   vectors; stationary: GMRES(30)'s 15 vectors at 11 iterations and the 3 of
   the pinned solve. What no part holds (the DMDA's scatters, the heap's
   slack) is in neither: measured, 7-15 % of the peak
   (tests/test_memory_components.py). Not collective. */
static void ItMemoryComponentEstimate(const char command[], PetscInt dim, PetscInt order,
                                      PetscBool single, PetscBool assembled,
                                      PetscReal bytes[IT_MEMORY_PARTS]) {
  const PetscBool run    = (PetscBool)!strcmp(command, "run");
  const PetscReal coarse = 1.0 / (PetscPowReal(2.0, (PetscReal)dim) - 1), vec = 8;
  const PetscReal matrix = 12.0 * (2 * dim + 1) + 16, prolong = vec * coarse;

  for (PetscInt k = 0; k < IT_MEMORY_PARTS; k++) bytes[k] = 0;
  bytes[IT_MEMORY_DENSITY]     = (run ? 2 : 1) * vec;
  bytes[IT_MEMORY_FACES]       = 2.0 * dim * vec * (1 + coarse);
  bytes[IT_MEMORY_DIAGNOSTICS] = 2 * vec;
  /* assembled: the fine matrix, and on every level PCSOR's 3 vectors; from the faces
     (-fp_matrix_free, src/solve/smooth.c): no matrix above the coarsest level, and the sweep's
     ghosted array */
  bytes[IT_MEMORY_MATRIX]    = assembled ? matrix : 0;
  bytes[IT_MEMORY_MULTIGRID] = assembled ? prolong + 6 * vec + coarse * (matrix + prolong + 9 * vec)
                                         : prolong + 4 * vec + coarse * (prolong + 6 * vec);
  bytes[IT_MEMORY_STAGES]    = run ? (3 * 4 + 3 + 3) * vec : 0;
  bytes[IT_MEMORY_KRYLOV]    = run ? 9 * vec : (15 + 3) * vec;
  if (order == 4) {                           /* ItMemoryOrder4Extra, part by part */
    bytes[IT_MEMORY_FACES] *= single ? 2 : 3; /* -fp_weights single: half the weights' bytes */
    if (run)
      bytes[IT_MEMORY_STAGES] += 4 * 3 * vec;
    else {
      bytes[IT_MEMORY_KRYLOV] += 9 * vec;
      bytes[IT_MEMORY_MULTIGRID] += 7 * vec;
    }
  }
}

/* info's second memory line: the parts per unknown of run and stationary
   (ItMemoryComponentEstimate). Collective. */
static PetscErrorCode ItAppViewMemoryComponents(ItApp *app) {
  static const char *const commands[] = {"run", "stationary"};

  PetscBool matrix_free = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-fp_matrix_free", &matrix_free, NULL));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "memory per unknown by component (estimate, bytes):"));
  for (size_t k = 0; k < 2; k++) {
    PetscReal bytes[IT_MEMORY_PARTS], sum = 0;
    ItMemoryComponentEstimate(
        commands[k], ItGridGetInfo(app->grid)->dim, ItGridGetInfo(app->grid)->order_fp,
        ItGridGetInfo(app->grid)->single_weights,
        (PetscBool)(!matrix_free || ItGridGetInfo(app->grid)->threshold), bytes);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %s:", k ? ";" : "", commands[k]));
    for (PetscInt j = 1; j < IT_MEMORY_PARTS; j++) { /* the program is per rank, not per unknown */
      if (bytes[j] <= 0) continue;
      sum += bytes[j];
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, " %s %.0f", ItMemoryPartName((ItMemoryPart)j),
                            (double)bytes[j]));
    }
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, " (sum %.0f)", (double)sum));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* info: the estimate per rank of each solving command, against the node's
   memory per rank. Collective. */
PetscErrorCode ItAppViewMemory(ItApp *app) {
  static const char *const commands[] = {"run", "stationary"};
  PetscReal                have, value;
  PetscMPIInt              ranks;
  const char              *unit;
  PetscInt                 plan = 0, per_node = 0;
  PetscBool                planned;

  PetscFunctionBegin;
  PetscCall(ItMemoryNode(PETSC_COMM_WORLD, &have, &ranks));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Memory estimate", "ItApp");
  PetscCall(PetscOptionsInt(
      "-ranks", "info: the estimate for a job of this many ranks (not the ranks running info)",
      NULL, plan, &plan, &planned));
  PetscCall(PetscOptionsInt("-ranks_per_node",
                            "info: with -ranks, the ranks per node of that job (default: as here)",
                            NULL, per_node, &per_node, NULL));
  PetscOptionsEnd();
  if (planned)
    PetscCall(ItAppViewMemoryPlan(app, plan, per_node > 0 ? per_node : ranks, have * ranks));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "memory per rank (estimate):"));
  for (size_t k = 0; k < 2; k++) {
    const PetscReal need = ItMemoryEstimate(app->grid, commands[k]);
    unit                 = ItMemoryUnit(need, &value);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, " %s %.3g %s (%.0f B per unknown);", commands[k],
                          (double)value, unit, (double)ItMemoryPerUnknown(commands[k], app->grid)));
  }
  unit = ItMemoryUnit(have, &value);
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, " the node has %.3g %s per rank (%d rank(s) per node)",
                        (double)value, unit, ranks));
  for (size_t k = 0; k < 2; k++) { /* what the options add: spectrum and mc */
    const char     *other[2] = {"spectrum", "mc"};
    const PetscReal need     = ItMemoryEstimate(app->grid, other[k]);
    unit                     = ItMemoryUnit(need, &value);
    PetscCall(PetscPrintf(PETSC_COMM_WORLD, "; %s %.3g %s (%s)", other[k], (double)value, unit,
                          k ? "with -mc_particles" : "with -spectrum_nev"));
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "\n"));
  PetscCall(ItAppViewMemoryComponents(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
