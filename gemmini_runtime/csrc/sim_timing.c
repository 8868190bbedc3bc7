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
 *  3. Costs: an mvin/mvout goes through the memory system of sim_memory.c (DMA requests of
 *     at most MAX_BYTES, a limited number in flight, DRAM bandwidth and latency, bank ports):
 *     its controller is busy until its last request has issued, and its data is usable when
 *     the last response has arrived and been written into its banks. A WS compute streams its A rows: rows cycles; an OS compute streams K:
 *     cols-of-A cycles, plus DIM cycles to shift results out when it writes C. Results are
 *     written ARRAY_LATENCY (DIM) cycles after the last row entered. A WS preload shifts
 *     its rows into a shadow buffer while the previous compute runs (double-buffered
 *     weights); an OS preload occupies the array. config_* take one cycle on their queue.
 *  4. The host CPU issues one RoCC instruction every ISSUE_CYCLES (4) cycles and blocks
 *     while the target queue's reservation station is full (8 load, 16 execute, 4 store
 *     entries; an entry frees when its command completes). Host computation between
 *     instructions (the library's loop overhead, CPU reference code) costs nothing.
 *  5. loop_ws / loop_conv_ws are expanded by the loop unit's load, execute and store state
 *     machines, each emitting one command per cycle into its queue, without host issue cost.
 *     The unit holds two loops: the host issues the next loop once the one before the running
 *     loop has emitted everything, and any other instruction once all loops have.
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
  mem_t *mem = G.tm.mem;
  memset(&G.tm, 0, sizeof G.tm);
  G.tm.spad_w = sw; G.tm.spad_r = sr; G.tm.acc_w = aw; G.tm.acc_r = ar;
  G.tm.mem = mem;
  mem_reset();
  counters_reset();
}

/* The cycle at which a command enters its queue: it needs a free reservation-station entry
 * (the one used rs_depth commands ago must have completed). */
uint64_t tm_begin(int q) {
  const uint64_t slot_free = G.tm.rs[q][G.tm.rs_head[q]];
  uint64_t t;
  if (G.tm.in_loop) {
    t = max64(G.tm.loop_cursor[q], slot_free);
    G.tm.loop_cursor[q] = t + 1;
  } else {
    const uint64_t ready = max64(G.tm.host, G.tm.loop_free);
    t = max64(ready, slot_free);
    if (t > ready) {  /* the host blocks on a full reservation station */
      G.stall[STALL_HOST_RS_FULL] += t - ready;
      counters_note(ACT_RS_FULL, ready, t);
    }
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

/* loop_ws / loop_conv_ws. Like Gemmini's LoopMatmul / LoopConv, the loop unit has a load, an
 * execute and a store FSM that emit into their queues independently (each one command per
 * cycle), and holds two loops at once: the host can issue the next loop once the loop before
 * the running one has emitted everything. */
void tm_host_issue_loop(void) {
  G.tm.host = max64(G.tm.host, G.tm.loop_prev_free) + ISSUE_CYCLES;
}

void tm_loop_begin(void) {
  for (int q = 0; q < Q_NUM; q++) G.tm.loop_cursor[q] = max64(G.tm.loop_cursor[q], G.tm.host);
  G.tm.loop_start = G.tm.host;
  G.tm.in_loop = 1;
}

void tm_loop_end(void) {
  G.tm.in_loop = 0;
  uint64_t end = 0;
  for (int q = 0; q < Q_NUM; q++) end = max64(end, G.tm.loop_cursor[q]);
  counters_note(ACT_LOOP, G.tm.loop_start, end);
  G.tm.loop_prev_free = G.tm.loop_last_free;
  G.tm.loop_last_free = end;
  G.tm.loop_free = max64(G.tm.loop_free, end);
}

void tm_fence(void) {
  G.tm.host = max64(max64(G.tm.host, G.tm.loop_free), G.tm.max_finish);
}

uint64_t tm_now(void) { return G.tm.host; }

uint64_t tm_total(void) {
  return max64(max64(G.tm.host, G.tm.loop_free), G.tm.max_finish);
}
