/* sim_internal.h: simulator state shared by the csrc/ files.
 *
 * Layout of the core:
 *   sim_state.c   state, memory regions (DRAM checks), errors, stats, reset
 *   sim_exec.c    the architectural instructions: config, mvin, mvout, preload, compute
 *   sim_loops.c   the loop_ws and loop_conv_ws state machines (expand into the above)
 *   sim_timing.c  the cycle model (decoupled load / execute / store queues)
 *   sim_rocc.c    instruction decode and dispatch, counters, the public entry points
 * The configuration (DIM, elem_t, memory sizes) comes from include/gemmini_params.h of the
 * config the library is built for; one build per config. */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "include/gemmini_params.h"
#include "gemmini_sim.h"

#define SPAD_ROWS ((uint32_t)BANK_NUM * BANK_ROWS)
#define GARBAGE ((uint32_t)0xFFFFFFFFu)
#define ACC_BIT (1u << 31)
#define ACCUM_BIT (1u << 30)
#define FULL_BIT (1u << 29)
#define NORM_MASK (7u << 26)
#define ACC_ROW_MASK ((1u << 26) - 1)

#ifdef ELEM_T_IS_FLOAT
typedef float mul_t;          /* operand type inside the array */
#else
typedef int16_t mul_t;        /* int8 x int8 fits int16 exactly; SIMD-friendly */
#endif

/* funct codes (SPEC section 3) */
enum {
  F_CONFIG = 0, F_MVIN2 = 1, F_MVIN = 2, F_MVOUT = 3, F_COMPUTE_PRELOADED = 4,
  F_COMPUTE_ACCUMULATED = 5, F_PRELOAD = 6, F_FLUSH = 7, F_LOOP_WS = 8,
  F_LOOP_WS_BOUNDS = 9, F_LOOP_WS_ADDRS_AB = 10, F_LOOP_WS_ADDRS_DC = 11,
  F_LOOP_WS_STRIDES_AB = 12, F_LOOP_WS_STRIDES_DC = 13, F_MVIN3 = 14,
  F_LOOP_CONV_WS = 15, F_LOOP_CONV_1 = 16, F_LOOP_CONV_6 = 21, F_COUNTER = 126,
  F_NUM = 128
};

typedef struct {
  uint64_t stride;        /* DRAM row stride in bytes */
  float scale;
  int shrunk;             /* accumulator mvin reads elem_t and widens */
  uint32_t block_stride;  /* local rows between DIM-column blocks */
  uint32_t pixel_repeats;
} ld_cfg_t;

typedef struct {
  /* loop_ws registers */
  uint64_t I, J, K, pad_I, pad_J, pad_K;
  uint64_t A, B, D, C, A_stride, B_stride, D_stride, C_stride;
  /* loop_conv_ws registers: config words 1..6, decoded in sim_loops.c */
  uint64_t conv_rs1[6], conv_rs2[6];
} loop_regs_t;

/* Cycle model constants (the assumptions are written down in sim_timing.c). */
#define ISSUE_CYCLES 4        /* host CPU cycles to issue one RoCC instruction */
#define ARRAY_LATENCY DIM     /* a row leaves the array DIM cycles after it entered */

/* The memory system (sim_memory.c); a gemmini_params.h without these gets Gemmini's defaults. */
#ifndef GEMMINI_DMA_BUS_BYTES
#define GEMMINI_DMA_BUS_BYTES 16
#define GEMMINI_DMA_MAX_INFLIGHT 16
#define GEMMINI_DRAM_BYTES_PER_CYCLE 8
#define GEMMINI_DRAM_LATENCY 80
#define GEMMINI_SP_SINGLEPORTED 1
#define GEMMINI_ACC_SINGLEPORTED 0
#endif
#define CAL_WINDOW 16         /* cycles per calendar window */
#define CAL_SLOTS 4096        /* windows a calendar remembers (65536 cycles) */
typedef struct { uint64_t tag; uint32_t used; } cal_slot_t;
typedef struct { cal_slot_t slot[CAL_SLOTS]; } cal_t;
enum { DMA_READ = 0, DMA_WRITE = 1 };
typedef struct {
  uint64_t inflight[GEMMINI_DMA_MAX_INFLIGHT]; /* response times of the last requests */
  unsigned head;
  uint64_t next_issue;        /* the next request may start here */
  uint64_t channel_free;      /* data beats: the direction's TileLink channel is busy until */
  uint64_t requests;
} dma_t;
typedef struct {
  cal_t dram;
  cal_t spad_port[BANK_NUM];
  cal_t acc_read[ACC_BANKS], acc_write[ACC_BANKS];
  dma_t dma[2];
} mem_t;
typedef struct { uint64_t first_issue, issued, first_done, last_done; } dma_span_t;

/* Stall cycles by cause, per controller. A controller's stalls are the cycles a command waited
 * beyond the time it could otherwise have started or finished; causes on different
 * controllers overlap in time, so they do not add up to the run's cycles. */
enum {
  STALL_HOST_RS_FULL,         /* the host waited for a reservation-station entry */
  STALL_LD_LOCAL_HAZARD,      /* mvin waited for earlier readers/writers of its rows */
  STALL_LD_DMA_INFLIGHT,      /* a read request waited for a free in-flight slot */
  STALL_LD_DRAM_BANDWIDTH,    /* a read request waited for DRAM bandwidth */
  STALL_LD_BANK_CONFLICT,     /* mvin data waited for its bank's port */
  STALL_EX_OPERANDS,          /* compute/preload waited for its operands to be loaded */
  STALL_EX_OUTPUT_HAZARD,     /* compute waited for earlier readers/writers of its output rows */
  STALL_EX_BANK_CONFLICT,     /* compute/preload waited for a bank's port */
  STALL_ST_RESULTS,           /* mvout waited for the results it stores */
  STALL_ST_DMA_INFLIGHT,
  STALL_ST_DRAM_BANDWIDTH,
  STALL_ST_BANK_CONFLICT,
  STALL_NUM
};
#define RS_LD 8               /* reservation-station entries per queue */
#define RS_EX 16
#define RS_ST 4

/* Cycle model state (sim_timing.c). Times are in accelerator cycles. */
enum { Q_LD = 0, Q_EX = 1, Q_ST = 2, Q_NUM = 3 };
#define RS_MAX 16
typedef struct {
  uint64_t host;              /* host CPU: earliest cycle it can issue the next instruction */
  uint64_t loop_cursor[Q_NUM];/* loop unit: next cycle its load / execute / store FSM can emit */
  uint64_t loop_free;         /* every loop has emitted everything up to here */
  uint64_t loop_last_free;    /* the latest loop has emitted everything up to here */
  uint64_t loop_prev_free;    /* the loop before it has */
  uint64_t loop_start;        /* the running loop FSM started here */
  int in_loop;
  uint64_t unit_free[Q_NUM];  /* each controller is in-order: busy until */
  uint64_t busy[Q_NUM];       /* cycles each controller was occupied */
  uint64_t rs[Q_NUM][RS_MAX]; /* completion times of the last RS_DEPTH commands per queue */
  unsigned rs_head[Q_NUM];
  uint64_t max_finish;        /* latest completion of anything issued */
  uint64_t ex_last_start;     /* start of the previous execute command */
  uint64_t shadow_free;       /* WS: weight shadow buffer may be refilled from here */
  uint64_t weights_ready;     /* WS: the preloaded weights are in the shadow buffer */
  uint64_t *spad_w, *spad_r;  /* per row: data written (ready) / last read done */
  uint64_t *acc_w, *acc_r;
  mem_t *mem;                 /* the memory system (in the internal mapping) */
} timing_t;

typedef struct {
  elem_t *spad;               /* SPAD_ROWS x DIM */
  acc_t *acc;                 /* ACC_ROWS x DIM */
  /* config_ex */
  int dataflow;               /* 0 OS, 1 WS */
  int sys_act;
  uint32_t sys_shift;
  uint32_t a_stride, c_stride;
  int a_transpose, b_transpose;
  /* config_ld (three states: mvin, mvin2, mvin3) */
  ld_cfg_t ld[3];
  /* config_st */
  uint64_t st_stride;
  int st_act;
  float st_scale;
  int pool_stride, pool_size, pool_upad, pool_lpad;
  int pool_out_dim, pool_porows, pool_pocols, pool_orows, pool_ocols;
  /* preload latch */
  uint32_t pre_addr, pre_rows, pre_cols, out_addr, out_rows, out_cols;
  /* the array: WS weights W[k][j], or OS accumulators */
  mul_t w[DIM][DIM];
  uint32_t w_k, w_j;          /* extent of the non-zero weights (for MAC counting) */
  acc_t os_acc[DIM][DIM];
  loop_regs_t loop;
  uint32_t conv_d_row, conv_c_row;  /* loop_conv_ws alternates accumulator halves */
  int ab_half, c_half, c_started;   /* loop_ws alternates scratchpad/accumulator halves */
  timing_t tm;
  /* statistics */
  uint64_t n_issued, macs, bytes_in, bytes_out;
  uint64_t stall[STALL_NUM];  /* cycles, by cause */
  uint64_t issued[F_NUM];     /* host-issued, per funct */
  uint64_t executed[F_NUM];   /* executed, including commands generated by the loops */
  uint32_t spad_hwm, acc_hwm; /* rows used: highest row touched + 1 */
  /* error context */
  uint64_t insn_index;
  uint32_t cur_funct; uint64_t cur_rs1, cur_rs2;
  int in_generated; uint32_t gen_funct; uint64_t gen_rs1, gen_rs2;
} sim_t;

extern sim_t G;

/* sim_state.c */
void sim_ensure_init(void);
void sim_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void dram_check(uint64_t addr, uint64_t rows, uint64_t row_bytes, uint64_t stride, int write);
const char *funct_name(uint32_t funct);
static inline void note_spad(uint32_t row_end) { if (row_end > G.spad_hwm) G.spad_hwm = row_end; }
static inline void note_acc(uint32_t row_end) { if (row_end > G.acc_hwm) G.acc_hwm = row_end; }

/* sim_exec.c: each takes the instruction's rs1/rs2 exactly as issued */
void op_config(uint64_t rs1, uint64_t rs2);
void op_mvin(uint64_t rs1, uint64_t rs2, int state);
void op_mvout(uint64_t rs1, uint64_t rs2);
void op_preload(uint64_t rs1, uint64_t rs2);
void op_compute(uint64_t rs1, uint64_t rs2, int preloaded);

/* sim_loops.c */
void op_loop_ws(uint64_t rs1, uint64_t rs2);
void op_loop_conv_ws(uint64_t rs1, uint64_t rs2);

/* sim_timing.c */
void tm_reset(void);
uint64_t tm_begin(int q);                       /* cycle the command enters its queue */
void tm_end(int q, uint64_t finish);            /* the command completes at finish */
uint64_t tm_rows_ready(const uint64_t *w, uint32_t row, uint32_t n, uint32_t stride);
void tm_rows_set(uint64_t *t, uint32_t row, uint32_t n, uint32_t stride, uint64_t when);
void tm_host_issue_only(void);                  /* instruction with no queue work */
void tm_host_issue_loop(void);                  /* a loop unit instruction */
void tm_fence(void);
uint64_t tm_now(void);
uint64_t tm_total(void);
void tm_loop_begin(void);
void tm_loop_end(void);

/* sim_memory.c */
void mem_reset(void);
uint64_t mem_rows(int acc, uint32_t row, uint32_t n, uint32_t stride, int write, uint64_t t);
dma_span_t mem_dma(int dir, uint64_t dram, uint32_t rows, uint64_t row_bytes, uint64_t stride,
                   uint64_t t);

/* sim_counters.c: activity intervals feed the performance counters */
enum {
  ACT_RDMA, ACT_WDMA, ACT_LOAD, ACT_STORE, ACT_EXEC, ACT_LOOP, ACT_RS_FULL, ACT_NUM
};
extern int counters_watching[ACT_NUM];
void counters_note_slow(int what, uint64_t from, uint64_t to);
static inline void counters_note(int what, uint64_t from, uint64_t to) {
  if (counters_watching[what] && to > from) counters_note_slow(what, from, to);
}
void counters_note_bytes(int dir, uint64_t when, uint64_t bytes);
uint64_t op_counter(uint64_t rs1);
void counters_reset(void);

/* Generated commands (from loops) carry their own operands into error messages. */
static inline void gen_begin(uint32_t funct, uint64_t rs1, uint64_t rs2) {
  G.in_generated = 1; G.gen_funct = funct; G.gen_rs1 = rs1; G.gen_rs2 = rs2;
  G.executed[funct]++;
}
static inline void gen_end(void) { G.in_generated = 0; }

static inline uint64_t pack_addr(uint64_t rows, uint64_t cols, uint32_t addr) {
  return (rows << 48) | (cols << 32) | addr;
}

#endif
