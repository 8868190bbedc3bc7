/* gemmini_sim.h: the interface between Gemmini C programs (through include/gemmini.h) and
 * the simulator core. On hardware each gemmini_* macro is a RoCC instruction; here it is a
 * call to gemmini_sim_rocc(). The control functions below are used by gemmini-cc programs
 * at exit and by the Python API around each kernel call. */
#ifndef GEMMINI_SIM_H
#define GEMMINI_SIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* exported even when the core is built with -fvisibility=hidden (kernels are loaded
 * as shared libraries and driven through these from Python) */
#pragma GCC visibility push(default)

/* One RoCC instruction (funct, rs1, rs2); returns rd (only the counter op has one). */
uint64_t gemmini_sim_rocc(uint32_t funct, uint64_t rs1, uint64_t rs2);
/* gemmini_fence(): the host waits until all issued work has completed. */
void gemmini_sim_fence(void);
/* read_cycles(): the host's current cycle in the timing model. */
uint64_t gemmini_sim_read_cycles(void);
/* exit() inside programs built against gemmini.h: ends the program, or, in a kernel called
 * from Python, ends the call with an error instead of killing the interpreter. */
void gemmini_sim_exit(int code);
/* Stops the program with a simulator error (used by the library's own assertions). */
void gemmini_sim_abort(const char *message);

/* --- control (Python API / gemmini-cc runtime) ------------------------------------- */
void gemmini_sim_reset(void);               /* fresh state, zeroed memories, cycle 0 */
void gemmini_sim_finish(void);              /* drain: account for all outstanding work */
void gemmini_sim_set_embedded(int on);      /* loaded in a host process: no at-exit output */
void gemmini_sim_set_strict(int on);        /* DRAM = registered regions only */
int gemmini_sim_add_region(const void *base, uint64_t bytes, int writable);
void gemmini_sim_clear_regions(void);
void gemmini_sim_set_jmp(void *jmp_buf_ptr); /* errors longjmp here when set */
const char *gemmini_sim_error(void);        /* last error message, "" if none */
const char *gemmini_sim_stats_json(void);   /* stats of the run so far, as JSON */

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
