/* sim_memory.c: the memory system of the cycle model (DRAM, the DMA engine, local banks).
 *
 * What is modelled (parameters from gemmini_params.h, each documented with its source in
 * gemmini_runtime/config.py, MemoryModel):
 *  - The DMA splits each DRAM row of an mvin/mvout into TileLink requests of at most
 *    MAX_BYTES, aligned to MAX_BYTES; a request moves one GEMMINI_DMA_BUS_BYTES beat per
 *    cycle on its channel (reads and writes have their own channel), one request starts per
 *    cycle, and at most GEMMINI_DMA_MAX_INFLIGHT requests per direction are outstanding: a
 *    request waits for the response of the one that many requests before it.
 *  - DRAM serves GEMMINI_DRAM_BYTES_PER_CYCLE, reads and writes together, and answers a
 *    request GEMMINI_DRAM_LATENCY cycles after it starts serving it. There is no L2 and no
 *    row-buffer model: every request pays the same latency.
 *  - Local memory banks have ports: a scratchpad bank (BANK_ROWS rows each) does one row
 *    read or write per cycle when single-ported (Gemmini's default), an accumulator bank
 *    (ACC_ROWS / ACC_BANKS rows) one read and one write per cycle. Every row an instruction
 *    moves takes its bank's port for one cycle, so an mvin into the bank that a compute is
 *    reading from waits for the port (a bank conflict), as in Gemmini.
 *
 * Shared resources (DRAM, bank ports) are used by commands the simulator visits in program
 * order but that run at different times on the three controllers. Each resource therefore
 * keeps a calendar of CAL_WINDOW-cycle windows with how much of the window is taken; a use
 * takes the earliest room at or after its time, so a later-visited command that runs earlier
 * is not queued behind an earlier-visited one that runs later. Within a window use is fluid
 * (no exact slot order). The calendar spans CAL_SLOTS windows; older windows are forgotten. */
#include <string.h>
#include "sim_internal.h"

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

/* Take `units` of a calendar resource with `cap` units per window, from time t on.
 * Returns the time the last unit is served. */
static uint64_t cal_take(cal_t *c, uint32_t cap, uint64_t t, uint64_t units) {
  uint64_t w = t / CAL_WINDOW, end = t + ceil_div(units * CAL_WINDOW, cap);
  while (units) {
    cal_slot_t *s = &c->slot[w % CAL_SLOTS];
    if (s->tag != w) {
      if (s->tag > w) return end;  /* older than the calendar remembers: no contention known */
      s->tag = w; s->used = 0;
    }
    const uint64_t w0 = w * CAL_WINDOW, from = max64(t, w0);
    const uint64_t time_room = (w0 + CAL_WINDOW - from) * cap / CAL_WINDOW;
    const uint64_t room = min64(cap - s->used, time_room);
    const uint64_t take = min64(units, room);
    if (take) {
      s->used += (uint32_t)take;
      const uint64_t fluid = w0 + ceil_div((uint64_t)s->used * CAL_WINDOW, cap);
      end = max64(end, max64(fluid, from + ceil_div(take * CAL_WINDOW, cap)));
      units -= take;
    }
    w++;
  }
  return end;
}

void mem_reset(void) {
  mem_t *m = G.tm.mem;
  if (m) memset(m, 0, sizeof *m);
}

/* ---- local memory ports ------------------------------------------------------------------ */
static cal_t *port_of(int acc, uint32_t row, int write) {
  mem_t *m = G.tm.mem;
  if (!acc) return &m->spad_port[(row / BANK_ROWS) % BANK_NUM];
  const uint32_t bank = (row / (ACC_ROWS / ACC_BANKS)) % ACC_BANKS;
  return GEMMINI_ACC_SINGLEPORTED || !write ? &m->acc_read[bank] : &m->acc_write[bank];
}

/* n rows row, row+stride, ... use their banks' ports from time t, one row per cycle per port;
 * returns when the last row is through. Rows of one bank queue behind each other; rows of
 * different banks proceed in parallel. */
uint64_t mem_rows(int acc, uint32_t row, uint32_t n, uint32_t stride, int write, uint64_t t) {
  if (!n) return t;
  const uint32_t bank_rows = acc ? ACC_ROWS / ACC_BANKS : BANK_ROWS;
  uint64_t end = t;
  uint32_t i = 0;
  while (i < n) {  /* runs of consecutive rows in one bank */
    const uint32_t r0 = row + stride * i, bank = r0 / bank_rows;
    uint32_t k = 1;
    while (i + k < n && (row + stride * (i + k)) / bank_rows == bank) k++;
    end = max64(end, cal_take(port_of(acc, r0, write), CAL_WINDOW, t, k));
    i += k;
  }
  return end;
}

/* ---- DMA ----------------------------------------------------------------------------------- */
/* One request of `bytes` bytes at DRAM address a, ready to issue at time t on direction dir.
 * Updates the direction's in-flight window and channel; returns the response time (read: the
 * last beat has arrived; write: the acknowledgement has). */
static uint64_t dma_request(int dir, uint64_t a, uint32_t bytes, uint64_t t, uint64_t *stall_inflight,
                            uint64_t *stall_dram) {
  mem_t *m = G.tm.mem;
  dma_t *d = &m->dma[dir];
  const uint64_t beats = (a + bytes - 1) / GEMMINI_DMA_BUS_BYTES - a / GEMMINI_DMA_BUS_BYTES + 1;
  /* one request starts per cycle, and only with a free in-flight slot */
  uint64_t issue = max64(t, d->next_issue);
  const uint64_t slot = d->inflight[d->head];
  if (slot > issue) { *stall_inflight += slot - issue; issue = slot; }
  /* a write sends its data beats first; a read's data comes back after DRAM serves it */
  uint64_t at_dram = issue;
  if (dir == DMA_WRITE) { at_dram = max64(issue, d->channel_free) + beats; d->channel_free = at_dram; }
  const uint64_t served = cal_take(&m->dram, GEMMINI_DRAM_BYTES_PER_CYCLE * CAL_WINDOW, at_dram,
                                   beats * GEMMINI_DMA_BUS_BYTES);
  const uint64_t ideal = at_dram + ceil_div(beats * GEMMINI_DMA_BUS_BYTES, GEMMINI_DRAM_BYTES_PER_CYCLE);
  if (served > ideal) *stall_dram += served - ideal;
  uint64_t done = max64(served, ideal) + GEMMINI_DRAM_LATENCY;
  if (dir == DMA_READ) { done = max64(done, d->channel_free) + beats; d->channel_free = done; }
  d->inflight[d->head] = done;
  d->head = (d->head + 1) % GEMMINI_DMA_MAX_INFLIGHT;
  d->next_issue = issue + 1;
  d->requests++;
  return done;
}

/* A DMA transfer of `rows` DRAM rows of row_bytes each (row r at dram + r*stride), its first
 * request no earlier than t. Returns when its requests issued and when they completed (reads:
 * the last beat has arrived; writes: the last acknowledgement has). */
dma_span_t mem_dma(int dir, uint64_t dram, uint32_t rows, uint64_t row_bytes, uint64_t stride,
                   uint64_t t) {
  dma_t *d = &G.tm.mem->dma[dir];
  uint64_t waited_inflight = 0, waited_dram = 0, bytes = 0;
  dma_span_t span = {0, 0, 0, 0};
  d->next_issue = max64(d->next_issue, t);
  span.first_issue = d->next_issue;
  span.first_done = UINT64_MAX;
  for (uint32_t r = 0; r < rows; r++) {
    uint64_t a = dram + r * stride, left = row_bytes;
    while (left) {
      const uint32_t chunk = (uint32_t)min64(left, MAX_BYTES - a % MAX_BYTES);
      const uint64_t done = dma_request(dir, a, chunk, d->next_issue, &waited_inflight, &waited_dram);
      bytes += chunk;
      span.last_done = max64(span.last_done, done);
      span.first_done = min64(span.first_done, done);
      a += chunk; left -= chunk;
    }
  }
  if (span.first_done == UINT64_MAX) span.first_done = span.last_done = span.first_issue;
  span.issued = d->next_issue;
  /* Requests wait at once, so their waits overlap; the transfer's stall is how much longer it
   * took than at full bus rate with one latency, shared between the two causes as they
   * were met. */
  const uint64_t ideal = span.first_issue + ceil_div(bytes, GEMMINI_DMA_BUS_BYTES) + GEMMINI_DRAM_LATENCY;
  const uint64_t waited = waited_inflight + waited_dram;
  if (span.last_done > ideal && waited) {
    const uint64_t excess = span.last_done - ideal;
    const uint64_t to_dram = excess * waited_dram / waited;
    G.stall[dir == DMA_READ ? STALL_LD_DRAM_BANDWIDTH : STALL_ST_DRAM_BANDWIDTH] += to_dram;
    G.stall[dir == DMA_READ ? STALL_LD_DMA_INFLIGHT : STALL_ST_DMA_INFLIGHT] += excess - to_dram;
  }
  return span;
}
