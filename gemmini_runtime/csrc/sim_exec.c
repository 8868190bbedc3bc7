/* sim_exec.c: the architectural instructions (SPEC sections 2-4).
 * Each function checks its operands first (a bad program stops with an error naming the
 * instruction), then updates the architectural state, then the cycle model. */
#include <string.h>
#include "sim_arith.h"

#define ROWS(x) ((uint32_t)(((x) >> 48) & 0xFFFF))
#define COLS(x) ((uint32_t)(((x) >> 32) & 0xFFFF))
#define ADDR(x) ((uint32_t)(x))

static inline uint64_t max64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static float float_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* rows row, row+stride, ... (n of them) must lie inside a memory of `limit` rows */
static void check_rows(uint64_t row, uint64_t n, uint64_t stride, uint32_t limit,
                       const char *what, const char *mem) {
  if (!n) return;
  const uint64_t last = row + stride * (n - 1);
  if (last >= limit)
    sim_fail("%s touches %s row %llu, beyond its %u rows", what, mem,
             (unsigned long long)last, limit);
}

static uint32_t spad_row(uint32_t addr, const char *what) {
  if (addr & 0xE0000000u)
    sim_fail("%s address 0x%08x has accumulator/accumulate/full bits set but must be a "
             "scratchpad address", what, addr);
  return addr;
}

static uint32_t acc_row(uint32_t addr, const char *what) {
  if (addr & NORM_MASK)
    sim_fail("%s address 0x%08x carries a normalization command (bits 28..26), which this "
             "runtime does not support", what, addr);
  return addr & ACC_ROW_MASK;
}

static void check_dims(uint32_t rows, uint32_t cols, const char *what) {
  if (rows > DIM || cols > DIM)
    sim_fail("%s is %u rows x %u cols; the array takes at most DIM=%d of each", what, rows,
             cols, DIM);
}

/* ---- config ---------------------------------------------------------------------------- */
static void timing_config(int q) {
  const uint64_t t0 = tm_begin(q);
  const uint64_t start = max64(t0, G.tm.unit_free[q]);
  G.tm.unit_free[q] = start + 1;
  tm_end(q, start + 1);
}

void op_config(uint64_t rs1, uint64_t rs2) {
  switch (rs1 & 3) {
  case 0: { /* config_ex */
    const int act = (rs1 >> 3) & 3, set_only_strides = (rs1 >> 7) & 1;
    const int df = (rs1 >> 2) & 1, at = (rs1 >> 8) & 1, bt = (rs1 >> 9) & 1;
    const uint32_t shift = (uint32_t)rs2;
    if (!set_only_strides) {
      if (act > 1) sim_fail("activation %d is not supported (0 = none, 1 = ReLU)", act);
      if (shift >= 32) sim_fail("sys_shift %u must be below 32", shift);
      if ((df == 0 && !at && bt) || (df == 1 && at && bt))
        sim_fail("illegal transpose combination for %s: A_transpose=%d, B_transpose=%d "
                 "(OS allows (0,0), (1,0), (1,1); WS allows (0,0), (0,1), (1,0))",
                 df ? "WS" : "OS", at, bt);
      G.dataflow = df; G.sys_act = act; G.sys_shift = shift;
      G.a_transpose = at; G.b_transpose = bt;
    }
    G.a_stride = (rs1 >> 16) & 0xFFFF;
    G.c_stride = (rs2 >> 48) & 0xFFFF;
    timing_config(Q_EX);
    break;
  }
  case 1: { /* config_ld */
    const unsigned id = (rs1 >> 3) & 3;
    if (id > 2) sim_fail("load state id %u does not exist (0, 1, 2)", id);
    ld_cfg_t *c = &G.ld[id];
    c->stride = rs2;
    c->scale = float_bits((uint32_t)(rs1 >> 32));
    c->shrunk = (rs1 >> 2) & 1;
    c->block_stride = (rs1 >> 16) & 0xFFFF;
    c->pixel_repeats = (rs1 >> 8) & 0xFF;
    if (!c->pixel_repeats) c->pixel_repeats = 1;
    timing_config(Q_LD);
    break;
  }
  case 2: { /* config_st */
    const int act = (rs1 >> 2) & 3;
    if (act > 1) sim_fail("mvout activation %d is not supported (0 = none, 1 = ReLU)", act);
    G.st_stride = (uint32_t)rs2;
    G.st_act = act;
    G.st_scale = float_bits((uint32_t)(rs2 >> 32));
    G.pool_stride = (rs1 >> 4) & 3;
    G.pool_size = (rs1 >> 6) & 3;
    G.pool_upad = (rs1 >> 8) & 3;
    G.pool_lpad = (rs1 >> 10) & 3;
    G.pool_out_dim = (rs1 >> 24) & 0xFF;
    G.pool_porows = (rs1 >> 32) & 0xFF;
    G.pool_pocols = (rs1 >> 40) & 0xFF;
    G.pool_orows = (rs1 >> 48) & 0xFF;
    G.pool_ocols = (rs1 >> 56) & 0xFF;
    timing_config(Q_ST);
    break;
  }
  default: /* config_norm: accepted, only its use (normalizing mvouts) is refused */
    timing_config(Q_EX);
  }
}

/* ---- mvin ------------------------------------------------------------------------------ */
static inline acc_t read_acc_word(const unsigned char *p) {
  acc_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

void op_mvin(uint64_t dram, uint64_t rs2, int state) {
  const uint32_t addr = ADDR(rs2), rows = ROWS(rs2), cols = COLS(rs2);
  const ld_cfg_t *c = &G.ld[state];
  const char *what = state == 0 ? "mvin" : state == 1 ? "mvin2" : "mvin3";
  if (addr == GARBAGE) sim_fail("%s to GARBAGE_ADDR", what);
  const int to_acc = (addr & ACC_BIT) != 0, accumulate = (addr & ACCUM_BIT) != 0;
  const int wide = to_acc && !c->shrunk;  /* reads acc_t words from DRAM */
  const size_t esize = wide ? sizeof(acc_t) : sizeof(elem_t);
  const uint32_t max_cols = (wide ? MAX_BLOCK_LEN_ACC : MAX_BLOCK_LEN) * DIM;
  if (rows > DIM) sim_fail("%s of %u rows; at most DIM=%d rows per instruction", what, rows, DIM);
  if (cols > max_cols)
    sim_fail("%s of %u columns; at most %u (%s blocks of DIM=%d)", what, cols, max_cols,
             wide ? "MAX_BLOCK_LEN_ACC" : "MAX_BLOCK_LEN", DIM);
  const uint32_t pr = c->pixel_repeats;
  if (pr > 1 && cols * pr > DIM)
    sim_fail("%s with %u pixel repeats of %u columns overflows a row of DIM=%d", what, pr,
             cols, DIM);
  const uint32_t base = to_acc ? acc_row(addr, what) : spad_row(addr, what);
  const uint32_t limit = to_acc ? ACC_ROWS : SPAD_ROWS;
  const uint32_t nblocks = (cols + DIM - 1) / DIM;
  for (uint32_t b = 0; b < nblocks; b++)
    check_rows(base + (uint64_t)b * c->block_stride, rows, 1, limit, what,
               to_acc ? "accumulator" : "scratchpad");
  if (dram) dram_check(dram, rows, cols * esize, c->stride, 0);
  if (!rows || !cols) return;

  for (uint32_t r = 0; r < rows; r++) {
    const unsigned char *src = (const unsigned char *)(uintptr_t)(dram + r * c->stride);
    for (uint32_t b = 0; b < nblocks; b++) {
      const uint32_t row = base + r + b * c->block_stride;
      const uint32_t bc = min32(DIM, cols - b * DIM);
      const unsigned char *s = src + (size_t)b * DIM * esize;
      if (to_acc) {
        acc_t *dst = G.acc + (size_t)row * DIM;
        for (uint32_t j = 0; j < bc; j++) {
          acc_t v = 0;
          if (dram && wide) {
            v = read_acc_word(s + j * esize);
#ifdef HAS_MVIN_ACC_SCALE
            v = v * c->scale;
#endif
          } else if (dram) {
            v = scale_to_elem(((const elem_t *)s)[j], c->scale);
          }
          dst[j] = accumulate ? dst[j] + v : v;
        }
        note_acc(row + 1);
      } else if (pr == 1) {
        elem_t *dst = G.spad + (size_t)row * DIM;
        if (!dram) memset(dst, 0, bc * sizeof(elem_t));
        else if (c->scale == 1.0f) memcpy(dst, s, bc * sizeof(elem_t));  /* exact identity */
        else for (uint32_t j = 0; j < bc; j++) dst[j] = scale_to_elem(((const elem_t *)s)[j], c->scale);
        note_spad(row + 1);
      } else {  /* pixel repeats: the row is also written shifted into the rows above */
        for (uint32_t j = 0; j < bc; j++) {
          const elem_t v = dram ? scale_to_elem(((const elem_t *)s)[j], c->scale) : 0;
          for (uint32_t p = 0; p < pr && p <= row; p++)
            G.spad[(size_t)(row - p) * DIM + j + p * cols] = v;
        }
        note_spad(row + 1);
      }
    }
  }
  const uint64_t bytes = dram ? (uint64_t)rows * cols * esize : 0;
  G.bytes_in += bytes;

  /* timing: an mvin issues (as Gemmini's reservation station does) once earlier readers (WAR)
   * and writers (WAW, and RAW when accumulating) of its rows are done; its DMA reads DRAM,
   * and each row arriving takes its bank's write port */
  uint64_t *tw = to_acc ? G.tm.acc_w : G.tm.spad_w, *tr = to_acc ? G.tm.acc_r : G.tm.spad_r;
  const uint64_t queued = max64(tm_begin(Q_LD), G.tm.unit_free[Q_LD]);
  uint64_t start = queued;
  for (uint32_t b = 0; b < nblocks; b++) {
    const uint32_t row = base + b * c->block_stride;
    start = max64(start, max64(tm_rows_ready(tw, row, rows, 1), tm_rows_ready(tr, row, rows, 1)));
  }
  G.stall[STALL_LD_LOCAL_HAZARD] += start - queued;
  dma_span_t span = {start, start + rows, start + 1, start + rows};
  if (dram) span = mem_dma(DMA_READ, dram, rows, (uint64_t)cols * esize, c->stride, start);
  /* rows arrive one after another up to the last response */
  const uint64_t write_from = span.last_done >= start + rows ? max64(span.first_done, span.last_done - rows) : span.first_done;
  const uint64_t ideal = span.last_done + 1;
  uint64_t finish = ideal;
  for (uint32_t b = 0; b < nblocks; b++)
    finish = max64(finish, mem_rows(to_acc, base + b * c->block_stride, rows, 1, 1, write_from) + 1);
  G.stall[STALL_LD_BANK_CONFLICT] += finish - ideal;
  G.tm.unit_free[Q_LD] = span.issued;
  G.tm.busy[Q_LD] += span.issued - start;
  counters_note(ACT_LOAD, start, finish);
  if (dram) { counters_note(ACT_RDMA, span.first_issue, span.last_done); counters_note_bytes(DMA_READ, span.last_done, bytes); }
  for (uint32_t b = 0; b < nblocks; b++) tm_rows_set(tw, base + b * c->block_stride, rows, 1, finish);
  tm_end(Q_LD, finish);
}

/* ---- mvout ----------------------------------------------------------------------------- */
static inline elem_t acc_to_elem(acc_t v) { return activate(scale_to_elem(v, G.st_scale), G.st_act); }

static void mvout_pooled(uint64_t dram, uint32_t addr, uint32_t cols, int from_acc, uint32_t base) {
  const int ps = G.pool_stride, pz = G.pool_size, porows = G.pool_porows, pocols = G.pool_pocols;
  const int orows = G.pool_orows, ocols = G.pool_ocols;
  if (cols > DIM) sim_fail("pooled mvout of %u channels; at most DIM=%d", cols, DIM);
  check_rows(base, (uint64_t)orows * ocols, 1, from_acc ? ACC_ROWS : SPAD_ROWS, "pooled mvout",
             from_acc ? "accumulator" : "scratchpad");
  for (int pr = 0; pr < porows; pr++)
    dram_check(dram + (uint64_t)pr * G.pool_out_dim * G.st_stride, pocols, cols * sizeof(elem_t),
               G.st_stride, 1);
  (void)addr;
  for (int porow = 0; porow < porows; porow++)
    for (int pocol = 0; pocol < pocols; pocol++) {
      elem_t *out = (elem_t *)(uintptr_t)(dram + ((uint64_t)porow * G.pool_out_dim + pocol) * G.st_stride);
      for (uint32_t ch = 0; ch < cols; ch++) {
        elem_t best = elem_t_min;
        for (int wr = 0; wr < pz; wr++)
          for (int wc = 0; wc < pz; wc++) {
            const int orow = porow * ps + wr - G.pool_upad, ocol = pocol * ps + wc - G.pool_lpad;
            elem_t e;
            if (orow < 0 || ocol < 0 || orow >= orows || ocol >= ocols) e = 0;
            else if (from_acc) e = acc_to_elem(G.acc[(size_t)(base + orow * ocols + ocol) * DIM + ch]);
            else e = G.spad[(size_t)(base + orow * ocols + ocol) * DIM + ch];
            if (e > best) best = e;
          }
        out[ch] = best;
      }
    }
  G.bytes_out += (uint64_t)porows * pocols * cols * sizeof(elem_t);
}

void op_mvout(uint64_t dram, uint64_t rs2) {
  const uint32_t addr = ADDR(rs2), rows = ROWS(rs2), cols = COLS(rs2);
  if (addr == GARBAGE) sim_fail("mvout from GARBAGE_ADDR");
  const int from_acc = (addr & ACC_BIT) != 0, full = from_acc && (addr & FULL_BIT);
  const uint32_t base = from_acc ? acc_row(addr, "mvout") : spad_row(addr, "mvout");
  const uint32_t limit = from_acc ? ACC_ROWS : SPAD_ROWS;
  const char *mem = from_acc ? "accumulator" : "scratchpad";
  uint32_t nrows = rows, nblocks = (cols + DIM - 1) / DIM;
  uint64_t bytes, row_bytes = 0;
  if (G.pool_stride) {
    mvout_pooled(dram, addr, cols, from_acc, base);
    nrows = (uint32_t)(G.pool_orows * G.pool_ocols);
    nblocks = 1;
    bytes = (uint64_t)G.pool_porows * G.pool_pocols * cols * sizeof(elem_t);
  } else {
    const size_t esize = full ? sizeof(acc_t) : sizeof(elem_t);
    const uint32_t max_cols = (full ? MAX_BLOCK_LEN_ACC : MAX_BLOCK_LEN) * DIM;
    if (rows > DIM) sim_fail("mvout of %u rows; at most DIM=%d rows per instruction", rows, DIM);
    if (cols > max_cols)
      sim_fail("mvout of %u columns; at most %u (%s blocks of DIM=%d)", cols, max_cols,
               full ? "MAX_BLOCK_LEN_ACC" : "MAX_BLOCK_LEN", DIM);
    for (uint32_t b = 0; b < nblocks; b++) check_rows(base + b * DIM, rows, 1, limit, "mvout", mem);
    dram_check(dram, rows, cols * esize, G.st_stride, 1);
    for (uint32_t r = 0; r < rows; r++) {
      unsigned char *dst = (unsigned char *)(uintptr_t)(dram + r * G.st_stride);
      for (uint32_t b = 0; b < nblocks; b++) {
        const uint32_t row = base + b * DIM + r, bc = min32(DIM, cols - b * DIM);
        unsigned char *d = dst + (size_t)b * DIM * esize;
        if (!from_acc) {
          memcpy(d, G.spad + (size_t)row * DIM, bc * sizeof(elem_t));
        } else if (full) {
          memcpy(d, G.acc + (size_t)row * DIM, bc * sizeof(acc_t));
        } else {
          const acc_t *src = G.acc + (size_t)row * DIM;
          elem_t *o = (elem_t *)d;
          for (uint32_t j = 0; j < bc; j++) o[j] = acc_to_elem(src[j]);
        }
      }
    }
    row_bytes = (uint64_t)cols * esize;
    bytes = rows * row_bytes;
    G.bytes_out += bytes;
  }
  if (from_acc) note_acc(base + nrows); else note_spad(base + nrows);

  /* timing: the rows are read out of their banks once written (RAW), then written to DRAM */
  uint64_t *tw = from_acc ? G.tm.acc_w : G.tm.spad_w, *tr = from_acc ? G.tm.acc_r : G.tm.spad_r;
  const uint64_t queued = max64(tm_begin(Q_ST), G.tm.unit_free[Q_ST]);
  uint64_t start = queued;
  for (uint32_t b = 0; b < nblocks; b++)
    start = max64(start, tm_rows_ready(tw, base + b * DIM, nrows, 1));
  G.stall[STALL_ST_RESULTS] += start - queued;
  uint64_t read_done = start + nrows;
  for (uint32_t b = 0; b < nblocks; b++)
    read_done = max64(read_done, mem_rows(from_acc, base + b * DIM, nrows, 1, 0, start));
  const uint64_t bank_wait = read_done - (start + nrows);
  G.stall[STALL_ST_BANK_CONFLICT] += bank_wait;
  /* the DMA starts on the first row read (it follows the bank reads, one row per cycle) */
  dma_span_t span;
  if (G.pool_stride) {
    uint64_t t = start + 1 + bank_wait;
    span.first_issue = t; span.first_done = UINT64_MAX; span.last_done = 0;
    for (int pr = 0; pr < G.pool_porows; pr++) {
      const dma_span_t s = mem_dma(DMA_WRITE, dram + (uint64_t)pr * G.pool_out_dim * G.st_stride,
                                   (uint32_t)G.pool_pocols, cols * sizeof(elem_t), G.st_stride, t);
      t = s.issued;
      span.first_done = s.first_done < span.first_done ? s.first_done : span.first_done;
      span.last_done = max64(span.last_done, s.last_done);
    }
    span.issued = t;
    if (!G.pool_porows) span.first_done = span.last_done = t;
  } else {
    span = mem_dma(DMA_WRITE, dram, rows, row_bytes, G.st_stride, start + 1 + bank_wait);
  }
  const uint64_t issued = max64(span.issued, read_done);
  G.tm.unit_free[Q_ST] = issued;
  G.tm.busy[Q_ST] += issued - start;
  counters_note(ACT_STORE, start, span.last_done);
  counters_note(ACT_WDMA, span.first_issue, span.last_done);
  counters_note_bytes(DMA_WRITE, span.last_done, bytes);
  for (uint32_t b = 0; b < nblocks; b++) tm_rows_set(tr, base + b * DIM, nrows, 1, read_done);
  tm_end(Q_ST, max64(span.last_done, read_done));
}

/* ---- preload --------------------------------------------------------------------------- */
void op_preload(uint64_t rs1, uint64_t rs2) {
  const uint32_t pre = ADDR(rs1), out = ADDR(rs2);
  if (pre != GARBAGE) {
    check_dims(ROWS(rs1), COLS(rs1), "preload operand (B in WS, D in OS)");
    if (pre & ACC_BIT) sim_fail("preload from the accumulator (0x%08x) is not supported", pre);
    spad_row(pre, "preload");
  }
  if (out != GARBAGE) {
    check_dims(ROWS(rs2), COLS(rs2), "preload output C");
    if (out & ACC_BIT) acc_row(out, "preload output C"); else spad_row(out, "preload output C");
  }
  G.pre_addr = pre; G.pre_rows = ROWS(rs1); G.pre_cols = COLS(rs1);
  G.out_addr = out; G.out_rows = ROWS(rs2); G.out_cols = COLS(rs2);

  /* timing: in WS the weights shift into a shadow buffer while the previous compute runs */
  const uint64_t t0 = max64(tm_begin(Q_EX), G.tm.ex_last_start);
  uint64_t finish = t0 + 1;
  if (pre != GARBAGE) {
    const int bt = G.dataflow == 1 && G.b_transpose;
    const uint32_t nrows = bt ? G.pre_cols : G.pre_rows;
    if (nrows && pre + (uint64_t)nrows <= SPAD_ROWS) {
      uint64_t start = t0;
      if (G.dataflow == 1) start = max64(start, G.tm.shadow_free);
      else start = max64(start, G.tm.unit_free[Q_EX]);  /* OS: D enters the busy array */
      const uint64_t data = tm_rows_ready(G.tm.spad_w, pre, nrows, 1);
      if (data > start) { G.stall[STALL_EX_OPERANDS] += data - start; start = data; }
      finish = mem_rows(0, pre, nrows, 1, 0, start);  /* its rows take their bank's port */
      G.stall[STALL_EX_BANK_CONFLICT] += finish - (start + nrows);
      tm_rows_set(G.tm.spad_r, pre, nrows, 1, finish);
      if (G.dataflow == 0) G.tm.unit_free[Q_EX] = finish;
    }
  }
  G.tm.weights_ready = finish;
  tm_end(Q_EX, finish);
}

/* ---- compute --------------------------------------------------------------------------- */
/* A (rows x cols, zero-padded to DIM x DIM) as the array sees it, honouring A_transpose */
static void gather_a(mul_t a[DIM][DIM], uint32_t addr, uint32_t rows, uint32_t cols) {
  memset(a, 0, sizeof(mul_t) * DIM * DIM);
  if (addr == GARBAGE) return;
  for (uint32_t i = 0; i < rows; i++)
    for (uint32_t k = 0; k < cols; k++) {
      const size_t r = addr + (size_t)G.a_stride * (G.a_transpose ? k : i);
      const size_t col = G.a_transpose ? i : k;
      a[i][k] = G.spad[r * DIM + col];
    }
}

/* B (OS) or W (WS preload): element [i][j] for i < rows, j < cols, optionally transposed */
static void gather_b(mul_t b[DIM][DIM], uint32_t addr, uint32_t rows, uint32_t cols, int transpose) {
  memset(b, 0, sizeof(mul_t) * DIM * DIM);
  if (addr == GARBAGE) return;
  for (uint32_t i = 0; i < rows; i++)
    for (uint32_t j = 0; j < cols; j++)
      b[i][j] = transpose ? G.spad[(size_t)(addr + j) * DIM + i] : G.spad[(size_t)(addr + i) * DIM + j];
}

/* out[j] += sum_k a[k] * w[k][j]; the hot loop (DIM is a compile-time constant) */
static inline void row_times_matrix(acc_t *restrict out, const mul_t *restrict a,
                                    const mul_t (*restrict w)[DIM], uint32_t kmax) {
  for (uint32_t k = 0; k < kmax; k++) {
    const mul_t ak = a[k];
#ifndef ELEM_T_IS_FLOAT
    if (!ak) continue;
#endif
    for (int j = 0; j < DIM; j++) out[j] += (acc_t)(ak * w[k][j]);
  }
}

static void write_output(acc_t res[DIM][DIM], int os) {
  const uint32_t out = G.out_addr;
  if (out & ACC_BIT) {
    const uint32_t base = acc_row(out, "compute output C");
    const int accumulate = (out & ACCUM_BIT) != 0;
    check_rows(base, G.out_rows, G.c_stride, ACC_ROWS, "compute output C", "accumulator");
    for (uint32_t i = 0; i < G.out_rows; i++) {
      acc_t *dst = G.acc + (size_t)(base + G.c_stride * i) * DIM;
      if (accumulate) for (uint32_t j = 0; j < G.out_cols; j++) dst[j] += res[i][j];
      else for (uint32_t j = 0; j < G.out_cols; j++) dst[j] = res[i][j];
    }
    if (G.out_rows) note_acc(base + G.c_stride * (G.out_rows - 1) + 1);
  } else {
    const uint32_t base = spad_row(out, "compute output C");
    check_rows(base, G.out_rows, G.c_stride, SPAD_ROWS, "compute output C", "scratchpad");
    for (uint32_t i = 0; i < G.out_rows; i++) {
      elem_t *dst = G.spad + (size_t)(base + G.c_stride * i) * DIM;
      for (uint32_t j = 0; j < G.out_cols; j++)
        dst[j] = activate(sat_elem(os ? rounding_shift(res[i][j], G.sys_shift) : res[i][j]), G.sys_act);
    }
    if (G.out_rows) note_spad(base + G.c_stride * (G.out_rows - 1) + 1);
  }
}

void op_compute(uint64_t rs1, uint64_t rs2, int preloaded) {
  const uint32_t a_addr = ADDR(rs1), a_rows = ROWS(rs1), a_cols = COLS(rs1);
  const uint32_t bd_addr = ADDR(rs2), bd_rows = ROWS(rs2), bd_cols = COLS(rs2);
  const int ws = G.dataflow == 1;
  check_dims(a_rows, a_cols, "compute operand A");
  check_dims(bd_rows, bd_cols, ws ? "compute operand D" : "compute operand B");
  const int at = G.a_transpose, bt = G.b_transpose;
  if (a_addr != GARBAGE) {
    spad_row(a_addr, "compute operand A");
    check_rows(a_addr, at ? a_cols : a_rows, G.a_stride, SPAD_ROWS, "compute operand A", "scratchpad");
  }
  const int bd_t = !ws && bt;
  if (bd_addr != GARBAGE) {
    spad_row(bd_addr, ws ? "compute operand D" : "compute operand B");
    check_rows(bd_addr, bd_t ? bd_cols : bd_rows, 1, SPAD_ROWS, ws ? "compute operand D" : "compute operand B", "scratchpad");
  }
  if (preloaded && G.pre_addr != GARBAGE) {
    const int pt = ws && bt;
    check_rows(G.pre_addr, pt ? G.pre_cols : G.pre_rows, 1, SPAD_ROWS, "preloaded operand", "scratchpad");
  }

  mul_t a[DIM][DIM];
  gather_a(a, a_addr, a_rows, a_cols);
  const uint32_t a_live_rows = a_addr == GARBAGE ? 0 : a_rows;
  acc_t res[DIM][DIM];
  if (ws) {
    if (preloaded) {
      gather_b(G.w, G.pre_addr, G.pre_rows, G.pre_cols, bt);
      G.w_k = G.pre_addr == GARBAGE ? 0 : G.pre_rows;
      G.w_j = G.pre_addr == GARBAGE ? 0 : G.pre_cols;
    }
#ifdef ELEM_T_IS_FLOAT
    const uint32_t kmax = DIM;  /* same summation order as the functional model */
#else
    const uint32_t kmax = min32(a_cols, G.w_k);
#endif
    G.macs += (uint64_t)a_live_rows * min32(a_cols, G.w_k) * G.w_j;
    if (G.out_addr != GARBAGE) {
      for (uint32_t i = 0; i < G.out_rows; i++) {
        for (int j = 0; j < DIM; j++)
          res[i][j] = (bd_addr != GARBAGE && i < bd_rows && (uint32_t)j < bd_cols)
                          ? (acc_t)G.spad[(size_t)(bd_addr + i) * DIM + j] : 0;
        if (i < a_live_rows) row_times_matrix(res[i], a[i], (const mul_t (*)[DIM])G.w, kmax);
      }
      write_output(res, 0);
    }
  } else {
    if (preloaded) {
      mul_t d[DIM][DIM];
      gather_b(d, G.pre_addr, G.pre_rows, G.pre_cols, 0);
      for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) G.os_acc[i][j] = d[i][j];
    }
    mul_t b[DIM][DIM];  /* b[k][j]; with B_transpose it is read from row j, column k */
    gather_b(b, bd_addr, bd_rows, bd_cols, bd_t);
    const uint32_t b_k = bd_addr == GARBAGE ? 0 : bd_rows;
    const uint32_t b_j = bd_addr == GARBAGE ? 0 : bd_cols;
#ifdef ELEM_T_IS_FLOAT
    const uint32_t kmax = DIM;
#else
    const uint32_t kmax = min32(a_cols, b_k);
#endif
    G.macs += (uint64_t)a_live_rows * min32(a_cols, b_k) * b_j;
    for (uint32_t i = 0; i < a_live_rows; i++)
      row_times_matrix(G.os_acc[i], a[i], (const mul_t (*)[DIM])b, kmax);
    if (G.out_addr != GARBAGE) {
      memcpy(res, G.os_acc, sizeof res);
      write_output(res, 1);
    }
  }

  /* timing */
  const uint64_t queued = max64(tm_begin(Q_EX), G.tm.unit_free[Q_EX]);
  const uint32_t a_n = at ? a_cols : a_rows, bd_n = bd_t ? bd_cols : bd_rows;
  uint64_t data = 0;
  if (a_addr != GARBAGE) data = max64(data, tm_rows_ready(G.tm.spad_w, a_addr, a_n, G.a_stride));
  if (bd_addr != GARBAGE) data = max64(data, tm_rows_ready(G.tm.spad_w, bd_addr, bd_n, 1));
  if (ws && preloaded) data = max64(data, G.tm.weights_ready);
  uint64_t start = max64(queued, data);
  G.stall[STALL_EX_OPERANDS] += start - queued;
  const int out_valid = G.out_addr != GARBAGE;
  const int out_acc = out_valid && (G.out_addr & ACC_BIT);
  const uint32_t out_base = out_acc ? (G.out_addr & ACC_ROW_MASK) : G.out_addr;
  uint64_t *ow = out_acc ? G.tm.acc_w : G.tm.spad_w, *orr = out_acc ? G.tm.acc_r : G.tm.spad_r;
  if (out_valid) {
    const uint64_t hazard = max64(tm_rows_ready(ow, out_base, G.out_rows, G.c_stride),
                                  tm_rows_ready(orr, out_base, G.out_rows, G.c_stride));
    if (hazard > start) { G.stall[STALL_EX_OUTPUT_HAZARD] += hazard - start; start = hazard; }
  }
  uint64_t cost = ws ? (a_rows ? a_rows : 1) : (a_cols ? a_cols : 1);
  if (!ws && out_valid) cost += DIM;  /* OS: results shift out of the array */
  /* operand rows stream out of their banks from the start; a bank shared with other traffic
   * (an mvin, the next preload, an mvout) holds the array back */
  uint64_t fed = start + cost;
  if (a_addr != GARBAGE) fed = max64(fed, mem_rows(0, a_addr, a_n, G.a_stride, 0, start));
  if (bd_addr != GARBAGE) fed = max64(fed, mem_rows(0, bd_addr, bd_n, 1, 0, start));
  const uint64_t bank_wait = fed - (start + cost);
  G.stall[STALL_EX_BANK_CONFLICT] += bank_wait;
  cost += bank_wait;
  G.tm.ex_last_start = start;
  if (ws && preloaded) G.tm.shadow_free = start;
  G.tm.unit_free[Q_EX] = start + cost;
  G.tm.busy[Q_EX] += cost;
  counters_note(ACT_EXEC, start, start + cost);
  if (a_addr != GARBAGE)
    tm_rows_set(G.tm.spad_r, a_addr, a_n, G.a_stride, start + cost);
  uint64_t finish = start + cost + ARRAY_LATENCY;
  if (out_valid) {  /* results enter their banks one row per cycle (accumulating reads too) */
    const uint64_t from = finish - G.out_rows;
    uint64_t written = mem_rows(out_acc, out_base, G.out_rows, G.c_stride, 1, from);
    if (out_acc && (G.out_addr & ACCUM_BIT))
      written = max64(written, mem_rows(1, out_base, G.out_rows, G.c_stride, 0, from));
    if (written > finish) { G.stall[STALL_EX_BANK_CONFLICT] += written - finish; finish = written; }
    tm_rows_set(ow, out_base, G.out_rows, G.c_stride, finish);
  }
  tm_end(Q_EX, finish);
}
