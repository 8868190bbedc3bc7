/* sim_counters.c: Gemmini's performance counters (funct 126), read from the cycle model.
 *
 * Eight counters; each is configured with an event or an external value (names and codes in
 * include/gemmini.h). An event counter counts the cycles, from its configuration (or the last
 * counter reset) up to the cycle it is read, during which its unit was active; an external
 * counter shows a value at the cycle it is read. Reads happen at the host's current cycle, so
 * a read right after issuing work sees that work part-way done, as on the hardware. A
 * snapshot freezes every counter at the cycle it was taken until it is released.
 *
 * The timing model computes each command's busy interval when it is issued; the intervals of
 * a unit are kept (merged) only while some counter watches that unit, so unwatched counters
 * cost nothing. Events the model has no notion of (the TLB, im2col, the transposer, ...) read 0. */
#include <stdlib.h>
#include <string.h>
#include "sim_internal.h"

/* event and external codes, as in include/gemmini.h */
enum {
  EV_LOAD_ACTIVE = 9, EV_STORE_ACTIVE = 12, EV_RDMA_ACTIVE = 18, EV_WDMA_ACTIVE = 21,
  EV_EXE_ACTIVE = 24, EV_RS_FULL = 41, EV_LOOP_MATMUL_ACTIVE = 43,
  EXT_RS_LD = 1, EXT_RS_ST = 2, EXT_RS_EX = 3, EXT_RDMA_BYTES = 4, EXT_WDMA_BYTES = 5
};

typedef struct { uint64_t from, to; } span_t;
typedef struct { span_t *v; size_t n, cap; } spans_t;
typedef struct { uint64_t when, bytes; } bytes_at_t;
typedef struct { bytes_at_t *v; size_t n, cap; } bytes_log_t;

typedef struct {
  int external;
  unsigned code;
  uint64_t since;     /* counts from here */
} counter_t;

int counters_watching[ACT_NUM];
static spans_t spans[ACT_NUM];
static bytes_log_t bytes_log[2];
static int bytes_watching[2];
static counter_t ctr[8];
static int frozen;
static uint64_t frozen_at;

static int activity_of(unsigned code) {
  switch (code) {
  case EV_LOAD_ACTIVE: return ACT_LOAD;
  case EV_STORE_ACTIVE: return ACT_STORE;
  case EV_RDMA_ACTIVE: return ACT_RDMA;
  case EV_WDMA_ACTIVE: return ACT_WDMA;
  case EV_EXE_ACTIVE: return ACT_EXEC;
  case EV_RS_FULL: return ACT_RS_FULL;
  case EV_LOOP_MATMUL_ACTIVE: return ACT_LOOP;
  default: return -1;
  }
}

void counters_note_slow(int what, uint64_t from, uint64_t to) {
  spans_t *s = &spans[what];
  /* a unit's commands start in order, so a new interval either extends the last or follows */
  if (s->n && from <= s->v[s->n - 1].to) {
    if (to > s->v[s->n - 1].to) s->v[s->n - 1].to = to;
    return;
  }
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 256;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) sim_fail("out of memory for performance counter history");
  }
  s->v[s->n++] = (span_t){from, to};
}

void counters_note_bytes(int dir, uint64_t when, uint64_t bytes) {
  if (!bytes_watching[dir] || !bytes) return;
  bytes_log_t *l = &bytes_log[dir];
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 256;
    l->v = realloc(l->v, l->cap * sizeof *l->v);
    if (!l->v) sim_fail("out of memory for performance counter history");
  }
  l->v[l->n++] = (bytes_at_t){when, bytes};
}

static uint64_t active_cycles(int what, uint64_t from, uint64_t to) {
  uint64_t sum = 0;
  const spans_t *s = &spans[what];
  for (size_t i = 0; i < s->n; i++) {
    const uint64_t a = s->v[i].from > from ? s->v[i].from : from;
    const uint64_t b = s->v[i].to < to ? s->v[i].to : to;
    if (b > a) sum += b - a;
  }
  return sum;
}

/* commands of queue q issued and not yet complete at time t */
static uint64_t in_station(int q, uint64_t t) {
  static const unsigned depth[Q_NUM] = {RS_LD, RS_EX, RS_ST};
  uint64_t n = 0;
  for (unsigned i = 0; i < depth[q]; i++) n += G.tm.rs[q][i] > t;
  return n;
}

static uint64_t counter_value(const counter_t *c, uint64_t t) {
  if (!c->external) {
    const int what = activity_of(c->code);
    return what < 0 ? 0 : active_cycles(what, c->since, t);
  }
  switch (c->code) {
  case EXT_RS_LD: return in_station(Q_LD, t);
  case EXT_RS_ST: return in_station(Q_ST, t);
  case EXT_RS_EX: return in_station(Q_EX, t);
  case EXT_RDMA_BYTES: case EXT_WDMA_BYTES: {
    const bytes_log_t *l = &bytes_log[c->code == EXT_RDMA_BYTES ? DMA_READ : DMA_WRITE];
    uint64_t sum = 0;
    for (size_t i = 0; i < l->n; i++)
      if (l->v[i].when >= c->since && l->v[i].when <= t) sum += l->v[i].bytes;
    return sum;
  }
  default: return 0;
  }
}

static void rewatch(void) {
  memset(counters_watching, 0, sizeof counters_watching);
  bytes_watching[0] = bytes_watching[1] = 0;
  for (int i = 0; i < 8; i++) {
    if (!ctr[i].code) continue;
    if (!ctr[i].external) {
      const int what = activity_of(ctr[i].code);
      if (what >= 0) counters_watching[what] = 1;
    } else if (ctr[i].code == EXT_RDMA_BYTES) bytes_watching[DMA_READ] = 1;
    else if (ctr[i].code == EXT_WDMA_BYTES) bytes_watching[DMA_WRITE] = 1;
  }
}

void counters_reset(void) {
  for (int i = 0; i < ACT_NUM; i++) spans[i].n = 0;
  bytes_log[0].n = bytes_log[1].n = 0;
  memset(ctr, 0, sizeof ctr);
  frozen = 0;
  rewatch();
}

/* config_reg (rs1): bit 0 reset all, bit 1 release the snapshot, bit 2 take one, bit 3
 * configure counter (bits 6:4) with code bits 17:12 (external when bit 31); rd is the value
 * of counter bits 6:4 */
uint64_t op_counter(uint64_t rs1) {
  tm_host_issue_only();
  const uint64_t now = tm_now();
  const unsigned index = (rs1 >> 4) & 7;
  if (rs1 & 1) {
    for (int i = 0; i < 8; i++) ctr[i].since = now;
    frozen = 0;
  }
  if (rs1 & 2) frozen = 0;
  if (rs1 & 4) { frozen = 1; frozen_at = now; }
  if (rs1 & 8) {
    ctr[index].external = (rs1 >> 31) & 1;
    ctr[index].code = (rs1 >> 12) & 0x3f;
    ctr[index].since = now;
    rewatch();
  }
  return counter_value(&ctr[index], frozen ? frozen_at : now);
}
