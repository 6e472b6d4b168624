/* PETSc's allocations of 2 MB and more on transparent huge pages. The grid's
   arrays (the density, the time stepper's and the Krylov method's vectors,
   the face coefficients and weights: 4-17 MB each at 32^4 on 2 ranks) are
   first touched in the set-up of a solve and of its stepper, and on a
   virtual machine a page fault costs 10-20 us a 4 kB page: 92 182 faults a
   rank in the 4-variable transient at 32^4 (doc/performance.md "Outside the
   Krylov solves of the 4-variable transient"). Such an allocation is
   aligned to 2 MB and advised MADV_HUGEPAGE, so that its pages fault in 512
   at a time where the kernel's transparent huge pages are enabled or on
   "madvise" (6 325 faults a rank); nothing changes where they are off. The
   zeroing of fresh memory remains. The memory is PETSc's as before
   (PetscFree frees it: PETSc's aligned allocation is posix_memalign's,
   whose blocks free() takes), and its values are those it would have had
   (PetscCalloc's zeros written here). Installed after PetscInitialize only
   over PETSc's default allocator (not under -malloc_debug and friends,
   which replace it). */
#define _DEFAULT_SOURCE /* madvise, MADV_HUGEPAGE */
#include <infotherm/grid.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define IT_HUGE_PAGE ((size_t)2 << 20)

#if defined(MADV_HUGEPAGE) && defined(PETSC_HAVE_POSIX_MEMALIGN) &&                                \
    !defined(PETSC_HAVE_MEMKIND) && PETSC_VERSION_GE(3, 18, 0)
#define IT_HUGE_PAGES 1
#endif

#if defined(IT_HUGE_PAGES)
PETSC_EXTERN PetscErrorCode PetscMallocAlign(size_t, PetscBool, int, const char[], const char[],
                                             void **);

static PetscErrorCode ItMemoryHugeMalloc(size_t mem, PetscBool clear, int line, const char func[],
                                         const char file[], void **result) {
  if (mem < IT_HUGE_PAGE) return PetscMallocAlign(mem, clear, line, func, file, result);
  if (posix_memalign(result, IT_HUGE_PAGE, mem)) {
    *result = NULL;
    return PetscError(PETSC_COMM_SELF, line, func, file, PETSC_ERR_MEM, PETSC_ERROR_INITIAL,
                      "Memory requested %.0f", (PetscLogDouble)mem);
  }
  /* advice only: where the kernel refuses it the pages are 4 kB, as before */
  (void)madvise(*result, (mem + 4095) & ~(size_t)4095, MADV_HUGEPAGE);
  if (clear) memset(*result, 0, mem);
  return PETSC_SUCCESS;
}
#endif

/* Puts PETSc's allocations of 2 MB and more on huge pages (above), when
   PETSc uses its default allocator and the system has huge pages. Call once,
   after PetscInitialize. Not collective. */
PetscErrorCode ItMemoryUseHugePages(void) {
  PetscFunctionBegin;
#if defined(IT_HUGE_PAGES)
  if (PetscTrMalloc == PetscMallocAlign) PetscTrMalloc = ItMemoryHugeMalloc;
#endif
  PetscFunctionReturn(PETSC_SUCCESS);
}
