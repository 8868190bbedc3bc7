// rerocc.h for gemmini_runtime: the ReRoCC calls Gemmini's newer tests make (they acquire an
// accelerator before using it). The runtime simulates one Gemmini, accelerator 0, always
// free: acquiring it succeeds, the opcode is fixed, a fence is gemmini_fence().
#ifndef GEMMINI_RUNTIME_REROCC_H
#define GEMMINI_RUNTIME_REROCC_H

#include <stdbool.h>

static inline bool rr_acquire_single(int cfgid, int accid) { (void)cfgid; return accid == 0; }
static inline void rr_set_opc(int opc, int cfgid) { (void)opc; (void)cfgid; }
static inline void rr_fence(int cfgid) { (void)cfgid; gemmini_fence(); }
static inline void rr_release(int cfgid) { (void)cfgid; }

#endif
