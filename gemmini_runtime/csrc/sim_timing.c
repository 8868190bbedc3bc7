/* sim_timing.c: the cycle model (SPEC section 6).
 *
 * Assumptions (also in gemmini_runtime/README.md):
 *  1. Three controllers run decoupled: load (mvin*, config_ld), execute (preload, compute*,
 *     config_ex) and store (mvout, config_st). Each is in order; a command starts when it
 *     has entered its queue, its controller is free and its dependences are met.
 *  2. Dependences are tracked per local-memory row: a reader waits for the row's last
 *     writer (RAW); a writer waits for the last writer and the last reader (WAW, WAR), as
 *     Gemmini's reservation station does. There are no other dependences, so loads of the
 *     next tile overlap computes of this one when the program double-buffers.
 *  3. Costs: mvin/mvout occupy their controller max(rows, bytes/16) cycles (one 16-byte DMA
 *     beat per cycle; separate read and write channels); data is usable MEM_LATENCY (64)
 *     cycles later. A WS compute streams its A rows: rows cycles; an OS compute streams K:
 *     cols-of-A cycles, plus DIM cycles to shift results out when it writes C. Results are
 *     written ARRAY_LATENCY (DIM) cycles after the last row entered. A WS preload shifts
 *     its rows into a shadow buffer while the previous compute runs (double-buffered
 *     weights); an OS preload occupies the array. config_* take one cycle on their queue.
 *  4. The host CPU issues one RoCC instruction every ISSUE_CYCLES (4) cycles and blocks
 *     while the target queue's reservation station is full (8 load, 16 execute, 4 store
 *     entries; an entry frees when its command completes). Host computation between
 *     instructions (the library's loop overhead, CPU reference code) costs nothing.
 *  5. loop_ws / loop_conv_ws are expanded by a hardware state machine that emits one command
 *     per cycle into the same queues, without host issue cost; the host waits for the loop
 *     unit before issuing further instructions.
 *  6. gemmini_fence() advances the host to the completion of everything issued; the run's
 *     cycle count is the time everything has completed; read_cycles() returns the host's
 *     current cycle.
 *  7. Peak is DIM*DIM MACs per cycle; utilization = useful MACs / (cycles * DIM * DIM),
 *     where useful MACs count only the rows/columns actually present (padding excluded). */
#include <string.h>
#include "sim_internal.h"

static const unsigned rs_depth[Q_NUM] = {RS_LD, RS_EX, RS_ST};

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }

void tm_reset(void) {
  uint64_t *sw = G.tm.spad_w, *sr = G.tm.spad_r, *aw = G.tm.acc_w, *ar = G.tm.acc_r;
  memset(&G.tm, 0, sizeof G.tm);
  G.tm.spad_w = sw; G.tm.spad_r = sr; G.tm.acc_w = aw; G.tm.acc_r = ar;
}

/* The cycle at which a command enters its queue: it needs a free reservation-station entry
 * (the one used rs_depth commands ago must have completed). */
uint64_t tm_begin(int q) {
  const uint64_t slot_free = G.tm.rs[q][G.tm.rs_head[q]];
  uint64_t t;
  if (G.tm.in_loop) {
    t = max64(G.tm.loop_cursor, slot_free);
    G.tm.loop_cursor = t + 1;
  } else {
    t = max64(max64(G.tm.host, G.tm.loop_free), slot_free);
    G.tm.host = t + ISSUE_CYCLES;
  }
  return t;
}

void tm_end(int q, uint64_t finish) {
  G.tm.rs[q][G.tm.rs_head[q]] = finish;
  G.tm.rs_head[q] = (G.tm.rs_head[q] + 1) % rs_depth[q];
  if (finish > G.tm.max_finish) G.tm.max_finish = finish;
}

uint64_t tm_rows_ready(const uint64_t *t, uint32_t row, uint32_t n, uint32_t stride) {
  uint64_t m = 0;
  for (uint32_t i = 0; i < n; i++) m = max64(m, t[row + (uint64_t)stride * i]);
  return m;
}

void tm_rows_set(uint64_t *t, uint32_t row, uint32_t n, uint32_t stride, uint64_t when) {
  for (uint32_t i = 0; i < n; i++) {
    uint64_t *p = &t[row + (uint64_t)stride * i];
    if (when > *p) *p = when;
  }
}

void tm_host_issue_only(void) {
  if (G.tm.in_loop) return;
  G.tm.host = max64(G.tm.host, G.tm.loop_free) + ISSUE_CYCLES;
}

/* loop_ws / loop_conv_ws: the FSM starts when the host has issued the loop instruction and
 * the previous loop has finished emitting. */
void tm_loop_begin(void) {
  G.tm.loop_cursor = max64(G.tm.host, G.tm.loop_free);
  G.tm.in_loop = 1;
}

void tm_loop_end(void) {
  G.tm.in_loop = 0;
  G.tm.loop_free = G.tm.loop_cursor;
}

void tm_fence(void) {
  G.tm.host = max64(max64(G.tm.host, G.tm.loop_free), G.tm.max_finish);
}

uint64_t tm_now(void) { return G.tm.host; }

uint64_t tm_total(void) {
  return max64(max64(G.tm.host, G.tm.loop_free), G.tm.max_finish);
}
