/* sim_loops.c: the loop_ws and loop_conv_ws state machines.
 * They expand into the same mvin/preload/compute/mvout commands a program could issue
 * itself (so functional results and the cycle model are shared); the difference is that
 * the commands come from the loop unit, one per cycle, with no host issue cost. */
#include <string.h>
#include "sim_internal.h"

static float identity_scale(void) { return 1.0f; }

static uint64_t float_bits64(float f) {
  uint32_t b;
  memcpy(&b, &f, sizeof b);
  return b;
}

/* generated commands: errors name both the loop instruction and the generated command */
static void g_mvin(uint64_t dram, uint64_t packed, int state) {
  gen_begin(state == 0 ? F_MVIN : state == 1 ? F_MVIN2 : F_MVIN3, dram, packed);
  op_mvin(dram, packed, state);
  gen_end();
}
static void g_mvout(uint64_t dram, uint64_t packed) {
  gen_begin(F_MVOUT, dram, packed); op_mvout(dram, packed); gen_end();
}
static void g_preload(uint64_t rs1, uint64_t rs2) {
  gen_begin(F_PRELOAD, rs1, rs2); op_preload(rs1, rs2); gen_end();
}
static void g_compute(uint64_t rs1, uint64_t rs2, int preloaded) {
  gen_begin(preloaded ? F_COMPUTE_PRELOADED : F_COMPUTE_ACCUMULATED, rs1, rs2);
  op_compute(rs1, rs2, preloaded);
  gen_end();
}
static void g_config(uint64_t rs1, uint64_t rs2) {
  gen_begin(F_CONFIG, rs1, rs2); op_config(rs1, rs2); gen_end();
}
/* config_ld word: (stride, scale, shrunk=0, block stride, pixel repeats, state id) */
static void g_config_ld(uint64_t stride, uint32_t block_stride, uint32_t pixels, int id) {
  g_config((float_bits64(identity_scale()) << 32) | ((uint64_t)block_stride << 16) |
           ((uint64_t)pixels << 8) | ((uint64_t)id << 3) | 1, stride);
}

/* ---- loop_ws --------------------------------------------------------------------------
 * Scratchpad and accumulator are used in halves so that one loop's loads overlap the
 * previous loop's computes: hence (I*K + K*J)*DIM <= SPAD_ROWS/2 and I*J*DIM <= ACC_ROWS/2.
 * Operand reuse (a_spad_id / b_spad_id = 1 or 2) pins the operand to half id-1, and a null
 * A or B pointer skips its loads: the data is already there from an earlier loop. The
 * accumulator half stays the same while a loop continues the previous one's sums
 * (ex_accumulate with no D), so partial sums over K tiles meet in the same rows. */
void op_loop_ws(uint64_t rs1, uint64_t rs2) {
  const loop_regs_t *L = &G.loop;
  const int ex_accumulate = rs1 & 1, full_C = (rs1 >> 1) & 1, low_D = (rs1 >> 2) & 1;
  const int act = (rs1 >> 8) & 0xFF, b_id = (rs1 >> 16) & 3, a_id = (rs1 >> 18) & 3;
  const int a_t = rs2 & 1, b_t = (rs2 >> 1) & 1, is_resadd = (rs2 >> 2) & 1;
  const uint64_t I = L->I, J = L->J, K = L->K;
  const uint64_t pad_I = L->pad_I, pad_J = L->pad_J, pad_K = L->pad_K;
  if (act > 1) sim_fail("loop_ws activation %d (a normalization) is not supported", act);
  if (a_id > 2 || b_id > 2) sim_fail("loop_ws spad ids must be 0, 1 or 2 (got %d, %d)", a_id, b_id);
  if (pad_I >= DIM || pad_J >= DIM || pad_K >= DIM)
    sim_fail("loop_ws padding (%llu, %llu, %llu) must be below DIM=%d", (unsigned long long)pad_I,
             (unsigned long long)pad_J, (unsigned long long)pad_K, DIM);
  if ((I * K + K * J) * DIM > SPAD_ROWS / 2 || I * J * DIM > ACC_ROWS / 2)
    sim_fail("loop_ws bounds I=%llu J=%llu K=%llu exceed the double-buffered limits "
             "(I*K + K*J)*DIM <= %u and I*J*DIM <= %u", (unsigned long long)I,
             (unsigned long long)J, (unsigned long long)K, SPAD_ROWS / 2, ACC_ROWS / 2);
  if (!I || !J || (!K && !is_resadd)) return;

  const uint32_t half = SPAD_ROWS / 2;
  const int a_half = a_id ? a_id - 1 : G.ab_half, b_half = b_id ? b_id - 1 : G.ab_half;
  G.ab_half ^= 1;
  const int continuing = ex_accumulate && !L->D && !is_resadd && G.c_started;
  if (!continuing) G.c_half ^= 1;
  G.c_started = 1;
  const uint32_t A_start = a_half * half;
  const uint32_t B_start = b_half * half + half - (uint32_t)(K * J * DIM);
  const uint32_t C_start = ACC_BIT | (uint32_t)(G.c_half * (ACC_ROWS / 2));
  const size_t esz = sizeof(elem_t);
  const size_t sizeof_C = full_C ? sizeof(acc_t) : sizeof(elem_t);
  const size_t sizeof_D = low_D ? sizeof(elem_t) : sizeof(acc_t);
#define EDGE(x, n, pad) (DIM - ((x) == (n) - 1 ? (pad) : 0))

  if (is_resadd) {  /* C = A*scaleA + B*scaleB through the accumulator */
    for (uint64_t i = 0; i < I; i++)
      for (uint64_t j = 0; j < J; j++) {
        const uint32_t c = C_start + (uint32_t)((i * J + j) * DIM);
        const uint64_t rows = EDGE(i, I, pad_I), cols = EDGE(j, J, pad_J);
        g_mvin(L->A + (i * L->A_stride + j) * DIM * esz, pack_addr(rows, cols, c), 0);
        g_mvin(L->B + (i * L->B_stride + j) * DIM * esz, pack_addr(rows, cols, c | ACCUM_BIT), 1);
        if (L->C) g_mvout(L->C + (i * L->C_stride + j) * DIM * sizeof_C,
                          pack_addr(rows, cols, c | (full_C ? FULL_BIT : 0)));
      }
    return;
  }

  if (L->D)
    for (uint64_t i = 0; i < I; i++)
      for (uint64_t j = 0; j < J; j++)
        g_mvin(L->D + (i * L->D_stride + j) * DIM * sizeof_D,
               pack_addr(EDGE(i, I, pad_I), EDGE(j, J, pad_J), C_start + (uint32_t)((i * J + j) * DIM)), 2);

  /* As Gemmini's LoopMatmul does, operands move MAX_BLOCK_LEN tiles per mvin (one full DMA
   * request per DRAM row) along the dimension contiguous in DRAM, and C leaves the
   * accumulator up to MAX_BLOCK_LEN tiles per mvout (one tile when full width). */
  const uint64_t mb = MAX_BLOCK_LEN, mb_c = full_C ? MAX_BLOCK_LEN_ACC : MAX_BLOCK_LEN;
#define GROUP(x, n, m) ((x) + (m) <= (n) ? (m) : (n) - (x))  /* tiles in the group at x */
  /* The load FSM runs ahead of the execute FSM (they are separate in Gemmini's loop unit):
   * every load of the loop is emitted first, in the order the computes need them; the
   * reservation station and the row dependences decide when each runs. */
  for (uint64_t k = 0; k < K; k++)
    for (uint64_t j = 0; j < J; j++)
      for (uint64_t i = 0; i < I; i++) {
        const uint32_t A_sp = A_start + (uint32_t)((a_t ? k * I + i : i * K + k) * DIM);
        const uint32_t B_sp = B_start + (uint32_t)((b_t ? j * K + k : k * J + j) * DIM);
        if (j == 0 && L->A) {  /* A tiles (i, k..) or, transposed, (k, i..) */
          if (a_t && i % mb == 0) {
            const uint64_t n = GROUP(i, I, mb);
            g_mvin(L->A + (k * L->A_stride + i) * DIM * esz,
                   pack_addr(EDGE(k, K, pad_K), n * DIM - (i + n == I ? pad_I : 0), A_sp), 0);
          } else if (!a_t && k % mb == 0) {
            const uint64_t n = GROUP(k, K, mb);
            g_mvin(L->A + (i * L->A_stride + k) * DIM * esz,
                   pack_addr(EDGE(i, I, pad_I), n * DIM - (k + n == K ? pad_K : 0), A_sp), 0);
          }
        }
        if (i == 0 && L->B) {  /* B tiles (k, j..) or, transposed, (j, k..) */
          if (b_t && k % mb == 0) {
            const uint64_t n = GROUP(k, K, mb);
            g_mvin(L->B + (j * L->B_stride + k) * DIM * esz,
                   pack_addr(EDGE(j, J, pad_J), n * DIM - (k + n == K ? pad_K : 0), B_sp), 1);
          } else if (!b_t && j % mb == 0) {
            const uint64_t n = GROUP(j, J, mb);
            g_mvin(L->B + (k * L->B_stride + j) * DIM * esz,
                   pack_addr(EDGE(k, K, pad_K), n * DIM - (j + n == J ? pad_J : 0), B_sp), 1);
          }
        }
      }
  for (uint64_t k = 0; k < K; k++)
    for (uint64_t j = 0; j < J; j++)
      for (uint64_t i = 0; i < I; i++) {
        const uint32_t A_sp = A_start + (uint32_t)((a_t ? k * I + i : i * K + k) * DIM);
        const uint32_t B_sp = B_start + (uint32_t)((b_t ? j * K + k : k * J + j) * DIM);
        const uint32_t C_sp = C_start + (uint32_t)((i * J + j) * DIM);
        uint32_t out = C_sp | ACCUM_BIT;
        if (!ex_accumulate && k == 0) out &= ~ACCUM_BIT;
        g_preload(pack_addr(EDGE(k, K, pad_K), EDGE(j, J, pad_J), i == 0 ? B_sp : GARBAGE),
                  pack_addr(EDGE(i, I, pad_I), EDGE(j, J, pad_J), out));
        g_compute(pack_addr(EDGE(i, I, pad_I), EDGE(k, K, pad_K), A_sp),
                  pack_addr(DIM, DIM, GARBAGE), i == 0);
        const uint64_t j0 = j - j % mb_c, n = GROUP(j0, J, mb_c);
        if (L->C && k == K - 1 && j == j0 + n - 1)  /* the group's last tile is done */
          g_mvout(L->C + (i * L->C_stride + j0) * DIM * sizeof_C,
                  pack_addr(EDGE(i, I, pad_I), n * DIM - (j0 + n == J ? pad_J : 0),
                            (C_start + (uint32_t)((i * J + j0) * DIM)) | (full_C ? FULL_BIT : 0)));
      }
#undef GROUP
#undef EDGE
}

/* ---- loop_conv_ws ----------------------------------------------------------------------
 * One tile of a convolution: bias, input and weights into local memory, the im2col-free
 * WS computes, and the output (optionally max-pooled) back to DRAM. Same schedule as the
 * reference C code of Gemmini's sp_tiled_conv. */
typedef struct {
  int batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim, out_col_dim;
  int pool_out_row_dim, pool_out_col_dim, stride, padding, kernel_dim, kernel_dilation;
  int pool_size, pool_stride, pool_padding, batches, porows, pocols, pochs, krows, kcols, kchs;
  int lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad, orows, ocols;
  int in_stride, weight_stride, out_stride;
  uint64_t weights, output, bias, input;
} conv_t;

static conv_t decode_conv(void) {
  const uint64_t *r1 = G.loop.conv_rs1, *r2 = G.loop.conv_rs2;
  conv_t c;
  c.batch_size = r1[0] & 0xFFFF; c.in_row_dim = (r1[0] >> 16) & 0xFFFF;
  c.in_channels = (r1[0] >> 32) & 0xFFFF; c.out_channels = (r1[0] >> 48) & 0xFFFF;
  c.out_row_dim = r2[0] & 0xFFFF; c.pool_out_row_dim = (r2[0] >> 16) & 0xFFFF;
  c.out_col_dim = (r2[0] >> 32) & 0xFFFF; c.stride = (r2[0] >> 48) & 0xFF;
  c.padding = (r2[0] >> 56) & 0xFF;
  c.pool_padding = r1[1] & 0xFF; c.pool_stride = (r1[1] >> 8) & 0xFF;
  c.pool_size = (r1[1] >> 16) & 0xFFFF; c.pool_out_col_dim = (r1[1] >> 32) & 0xFFFF;
  c.kernel_dim = (r1[1] >> 48) & 0xFFFF;
  c.pochs = r2[1] & 0xFFFF; c.pocols = (r2[1] >> 16) & 0xFFFF;
  c.porows = (r2[1] >> 32) & 0xFFFF; c.batches = (r2[1] >> 48) & 0xFFFF;
  c.lpad = r1[2] & 0xFFFF; c.kchs = (r1[2] >> 16) & 0xFFFF;
  c.kcols = (r1[2] >> 32) & 0xFFFF; c.krows = (r1[2] >> 48) & 0xFFFF;
  c.in_col_dim = r2[2] & 0xFFFF; c.plpad = (r2[2] >> 16) & 0xFF; c.dpad = (r2[2] >> 24) & 0xFF;
  c.upad = (r2[2] >> 32) & 0xFFFF; c.rpad = (r2[2] >> 48) & 0xFFFF;
  c.kernel_dilation = r1[3] & 0x3FF; c.pdpad = (r1[3] >> 10) & 0x7FF;
  c.pupad = (r1[3] >> 21) & 0x7FF; c.prpad = (r1[3] >> 32) & 0xFFFF; c.orows = (r1[3] >> 48) & 0xFFFF;
  c.ocols = r2[3] & 0xFFFF; c.out_stride = (r2[3] >> 16) & 0xFFFF;
  c.weight_stride = (r2[3] >> 32) & 0xFFFF; c.in_stride = (r2[3] >> 48) & 0xFFFF;
  c.weights = r1[4]; c.output = r2[4]; c.bias = r1[5]; c.input = r2[5];
  return c;
}

static int ceil_div(int a, int b) { return a / b + (a % b != 0); }

void op_loop_conv_ws(uint64_t rs1, uint64_t rs2) {
  const conv_t c = decode_conv();
  const int no_bias = rs1 & 1, wrot180 = (rs1 >> 1) & 1, trans_output_1203 = (rs1 >> 2) & 1;
  const int trans_weight_1203 = (rs1 >> 3) & 1, trans_weight_0132 = (rs1 >> 4) & 1;
  const int trans_input_3120 = (rs1 >> 5) & 1, dw = (rs1 >> 6) & 1;
  int max_pixels_per_row = (rs1 >> 8) & 0xFF;
  const int no_pool = rs2 & 1, downsample = (rs2 >> 1) & 1, input_dilated = (rs2 >> 2) & 1;
  const int activation = (rs2 >> 3) & 3;
  const int b_id = (rs1 >> 16) & 3, a_id = (rs1 >> 18) & 3;
  if (max_pixels_per_row < 1) max_pixels_per_row = 1;
  if (a_id > 2 || b_id > 2) sim_fail("loop_conv_ws spad ids must be 0, 1 or 2 (got %d, %d)", a_id, b_id);
  if (activation > 1) sim_fail("loop_conv_ws activation %d is not supported", activation);
  if (input_dilated && c.stride != 1) sim_fail("loop_conv_ws: input dilation needs stride 1");
  if (c.kernel_dilation < 1 || c.stride < 1) sim_fail("loop_conv_ws: stride and kernel dilation must be >= 1");
  const int kchs = dw ? 1 : c.kchs, ochs = dw ? 1 : c.pochs;
  const int krows = c.krows, kcols = c.kcols, batches = c.batches;
  const int orows = c.orows, ocols = c.ocols;
  const size_t esz = sizeof(elem_t);

#define UNDILATED(x) (((x) + input_dilated) >> input_dilated)
#define DS(x) ((x) >> downsample)
#define US(x) ((x) << downsample)
  const int dilated_krows = krows + (c.kernel_dilation - 1) * (krows - 1);
  const int dilated_kcols = kcols + (c.kernel_dilation - 1) * (kcols - 1);
  const int irows_nd = orows * c.stride + dilated_krows - 1;
  const int icols_nd = ocols * c.stride + dilated_kcols - 1;
  const int irows_unpadded = input_dilated ? (irows_nd - c.upad - c.dpad + 1) / 2 : irows_nd - c.upad - c.dpad;
  const int icols_unpadded = input_dilated ? (icols_nd - c.lpad - c.rpad + 1) / 2 : icols_nd - c.lpad - c.rpad;
  const int irows = input_dilated ? irows_unpadded + UNDILATED(c.upad) + UNDILATED(c.dpad) : irows_nd;
  const int icols = input_dilated ? icols_unpadded + UNDILATED(c.lpad) + UNDILATED(c.rpad) : icols_nd;
  const int ichs = kchs;

  const int out_banks = ceil_div(ochs, DIM), in_banks = ceil_div(kchs, DIM);
  const int B_rows = trans_weight_0132 ? in_banks * kcols * krows * ochs : out_banks * kcols * krows * kchs;
  const int A_rows = trans_input_3120 ? ceil_div(batches, DIM) * ichs * DS(irows) * DS(icols)
                                      : in_banks * batches * DS(irows) * DS(icols);
  const int C_rows = out_banks * batches * orows * ocols;
  if (A_rows < 0 || B_rows < 0 || orows <= 0 || ocols <= 0 || batches <= 0)
    sim_fail("loop_conv_ws: inconsistent tile dimensions");
  /* Inputs and weights reused across tiles (spad id 1 or 2, null pointer: no reload) keep
   * a region of their own: id 1 in the lower half of the scratchpad, id 2 in the upper. */
  const uint32_t space = (a_id || b_id) ? SPAD_ROWS / 2 : SPAD_ROWS;
  if ((uint64_t)A_rows + B_rows > space || C_rows > ACC_ROWS / 2)
    sim_fail("loop_conv_ws tile needs %d scratchpad rows (of %u) and %d accumulator rows (of %u)",
             A_rows + B_rows, space, C_rows, ACC_ROWS / 2);

  const uint32_t A_start = a_id == 2 ? SPAD_ROWS / 2 : 0;
  const uint32_t B_start = (b_id == 1 ? SPAD_ROWS / 2 : SPAD_ROWS) - B_rows;
  const uint32_t D_start = ACC_BIT + G.conv_d_row, C_start = ACC_BIT + ACCUM_BIT + G.conv_c_row;
  if (c.bias) G.conv_d_row = (G.conv_d_row + ACC_ROWS / 2) % ACC_ROWS;
  if (c.output) G.conv_c_row = (G.conv_c_row + ACC_ROWS / 2) % ACC_ROWS;

  if (c.bias) {  /* bias rows (zeros when no_bias) */
    const int max_ochs_per_mvin = ochs < MAX_BLOCK_LEN_ACC * DIM ? ochs : MAX_BLOCK_LEN_ACC * DIM;
    g_config_ld(0, batches * orows * ocols, 1, 2);
    for (int b = 0; b < batches; b++)
      for (int orow = 0; orow < orows; orow++)
        for (int ocol = 0; ocol < ocols; ocol += DIM) {
          const int I = ocols - ocol > DIM ? DIM : ocols - ocol;
          for (int och = 0; och < ochs; och += max_ochs_per_mvin) {
            const int J = ochs - och > max_ochs_per_mvin ? max_ochs_per_mvin : ochs - och;
            const uint32_t D_sp = D_start + (och / DIM) * batches * orows * ocols + b * orows * ocols + orow * ocols + ocol;
            g_mvin(no_bias ? 0 : c.bias + och * sizeof(acc_t), pack_addr(I, J, D_sp), 2);
          }
        }
  }

  if (c.input) {
    int max_chs = ichs < MAX_BLOCK_LEN * DIM ? ichs : MAX_BLOCK_LEN * DIM;
    if (trans_input_3120) max_chs = batches < MAX_BLOCK_LEN * DIM ? batches : MAX_BLOCK_LEN * DIM;
    const uint64_t dram_stride = (trans_input_3120 ? c.batch_size : c.in_stride) * esz;
    const int spad_stride = trans_input_3120 ? ichs * DS(irows) * DS(icols) : batches * DS(irows) * DS(icols);
    g_config_ld(US(dram_stride), spad_stride, max_pixels_per_row, 0);
    const int b_it = trans_input_3120 ? max_chs : 1, ich_it = trans_input_3120 ? 1 : max_chs;
    for (int b = 0; b < batches; b += b_it)
      for (int irow = -UNDILATED(c.upad); irow < irows_unpadded + UNDILATED(c.dpad); irow += US(1)) {
        const int irow_padded = irow + UNDILATED(c.upad);
        for (int icol = -UNDILATED(c.lpad); icol < icols_unpadded + UNDILATED(c.rpad);) {
          int I = icols_unpadded - icol > US(DIM) ? US(DIM) : icols_unpadded - icol;
          if (icol < 0) I = -icol > DIM ? DIM : -icol;
          else if (icol >= icols_unpadded)
            I = icols_unpadded + UNDILATED(c.rpad) - icol > DIM ? DIM : icols_unpadded + UNDILATED(c.rpad) - icol;
          const int icol_padded = icol + UNDILATED(c.lpad);
          for (int ich = 0; ich < ichs; ich += ich_it) {
            int K = ichs - ich > max_chs ? max_chs : ichs - ich;
            if (trans_input_3120) K = batches - b > max_chs ? max_chs : batches - b;
            uint32_t A_sp = A_start + (ich / DIM) * spad_stride + b * DS(irows) * DS(icols) +
                            DS(irow_padded) * DS(icols) + DS(icol_padded);
            if (trans_input_3120)
              A_sp = A_start + (b / DIM) * spad_stride + ich * DS(irows) * DS(icols) +
                     DS(irow_padded) * DS(icols) + DS(icol_padded);
            const int zeros = irow < 0 || irow >= irows_unpadded || icol < 0 || icol >= icols_unpadded;
            uint64_t in = c.input + ((uint64_t)((int64_t)b * c.in_row_dim * c.in_col_dim + (int64_t)irow * c.in_col_dim + icol) * c.in_stride + ich) * esz;
            if (trans_input_3120)
              in = c.input + ((uint64_t)((int64_t)ich * c.in_row_dim * c.in_col_dim + (int64_t)irow * c.in_col_dim + icol) * c.batch_size + b) * esz;
            g_mvin(zeros ? 0 : in, pack_addr(DS(I), K, A_sp), 0);
          }
          icol += I;
        }
      }
  }

  if (c.weights) {
    int max_chs = ochs < MAX_BLOCK_LEN * DIM ? ochs : MAX_BLOCK_LEN * DIM;
    if (trans_weight_0132) max_chs = kchs < MAX_BLOCK_LEN * DIM ? kchs : MAX_BLOCK_LEN * DIM;
    uint64_t dram_stride = (uint64_t)c.weight_stride * esz;
    if (dw) dram_stride = esz;
    else if (trans_weight_1203) dram_stride = (uint64_t)c.kernel_dim * c.kernel_dim * c.out_channels * esz;
    else if (trans_weight_0132) dram_stride = (uint64_t)c.in_channels * esz;
    const int block_stride = trans_weight_0132 ? krows * kcols * ochs : krows * kcols * kchs;
    g_config_ld(dram_stride, block_stride, 1, 1);
    const int och_it = trans_weight_0132 ? DIM : max_chs, kch_it = trans_weight_0132 ? max_chs : DIM;
    for (int och = 0; och < ochs; och += och_it)
      for (int krow = 0; krow < krows; krow++)
        for (int kcol = 0; kcol < kcols; kcol++)
          for (int kch = 0; kch < kchs; kch += kch_it) {
            int K = kchs - kch > DIM ? DIM : kchs - kch;
            int J = ochs - och > max_chs ? max_chs : ochs - och;
            if (trans_weight_0132) {
              K = ochs - och > DIM ? DIM : ochs - och;
              J = kchs - kch > max_chs ? max_chs : kchs - kch;
            }
            uint32_t B_sp = B_start + (och / DIM) * krows * kcols * kchs + krow * kcols * kchs + kcol * kchs + kch;
            if (trans_weight_0132)
              B_sp = B_start + (kch / DIM) * krows * kcols * ochs + krow * kcols * ochs + kcol * ochs + och;
            uint64_t w = c.weights + ((uint64_t)(krow * c.kernel_dim * c.in_channels + kcol * c.in_channels + kch) * c.weight_stride + och) * esz;
            if (dw) w = c.weights + (uint64_t)(krow * c.kernel_dim + kcol) * esz;
            else if (trans_weight_1203)
              w = c.weights + ((uint64_t)(kch * c.kernel_dim * c.kernel_dim + krow * c.kernel_dim + kcol) * c.out_channels + och) * esz;
            else if (trans_weight_0132)
              w = c.weights + ((uint64_t)(krow * c.kernel_dim * c.out_channels + kcol * c.out_channels + och) * c.in_channels + kch) * esz;
            g_mvin(w, pack_addr(K, J, B_sp), 1);
          }
  }

  {  /* computes */
    const int b_it = trans_input_3120 ? DIM : 1;
    const int ocol_it = trans_input_3120 ? 1 : (DIM << input_dilated);
    if (trans_input_3120)  /* set-only-strides config_ex: A and C strides for CHWN input */
      g_config(((uint64_t)(irows * icols) << 16) | (1u << 7), (uint64_t)(orows * ocols) << 48);
    for (int och = 0; och < ochs; och += DIM)
      for (int krow = 0; krow < krows; krow++)
        for (int kcol = 0; kcol < kcols; kcol += max_pixels_per_row)
          for (int kch = 0; kch < kchs; kch += DIM) {
            int new_weights = 1;
            for (int b = 0; b < batches; b += b_it)
              for (int orow = 0; orow < orows; orow++) {
                if (input_dilated && ((krow * c.kernel_dilation + orow * c.stride - c.upad) % 2 != 0)) continue;
                for (int ocol = 0; ocol < ocols;) {
                  if (input_dilated && ((kcol * c.kernel_dilation + ocol * c.stride - c.lpad) % 2 != 0)) {
                    ocol++;
                    continue;
                  }
                  const int irow = UNDILATED(orow * c.stride + krow * c.kernel_dilation);
                  const int icol = UNDILATED(ocol * c.stride + kcol * c.kernel_dilation);
                  const int pixels = kcols - kcol > max_pixels_per_row ? max_pixels_per_row : kcols - kcol;
                  const uint32_t C_sp = C_start + (och / DIM) * batches * orows * ocols + b * orows * ocols + orow * ocols + ocol;
                  int I = UNDILATED(ocols - ocol > (DIM << input_dilated) ? (DIM << input_dilated) : ocols - ocol);
                  const int J = ochs - och > DIM ? DIM : ochs - och;
                  const int K = pixels * (kchs - kch > DIM ? DIM : kchs - kch);
                  if (trans_input_3120) I = batches - b > DIM ? DIM : batches - b;
                  uint32_t A_sp = A_start + (kch / DIM) * batches * DS(irows) * DS(icols) + b * DS(irows) * DS(icols) + DS(irow) * DS(icols) + DS(icol);
                  if (trans_input_3120)
                    A_sp = A_start + (b / DIM) * kchs * DS(irows) * DS(icols) + kch * DS(irows) * DS(icols) + DS(irow) * DS(icols) + DS(icol);
                  const int krow_ = wrot180 ? krows - krow - 1 : krow;
                  const int kcol_ = wrot180 ? kcols - kcol - 1 : kcol;
                  uint32_t B_sp = B_start + (och / DIM) * krows * kcols * kchs + krow_ * kcols * kchs + kcol_ * kchs + kch;
                  if (trans_weight_0132)
                    B_sp = B_start + (kch / DIM) * krows * kcols * ochs + krow_ * kcols * ochs + kcol_ * ochs + och;
                  g_preload(pack_addr(K, J, new_weights ? B_sp : GARBAGE), pack_addr(I, J, C_sp));
                  g_compute(pack_addr(I, K, A_sp), pack_addr(I, J, GARBAGE), new_weights);
                  ocol += ocol_it;
                  new_weights = 0;
                }
              }
          }
  }

  if (c.output && no_pool) {
    for (int b = 0; b < batches; b++)
      for (int orow = 0; orow < orows; orow++)
        for (int ocol = 0; ocol < ocols; ocol += DIM) {
          const int I = ocols - ocol > DIM ? DIM : ocols - ocol;
          for (int och = 0; och < ochs; och += DIM) {
            const int J = ochs - och > DIM ? DIM : ochs - och;
            const uint32_t C_sp = C_start + (och / DIM) * batches * orows * ocols + b * orows * ocols + orow * ocols + ocol;
            uint64_t out = c.output + ((uint64_t)(b * c.out_row_dim * c.out_col_dim + orow * c.out_col_dim + ocol) * c.out_stride + och) * esz;
            if (trans_output_1203)
              out = c.output + ((uint64_t)(orow * c.out_col_dim * c.batch_size + ocol * c.batch_size + b) * c.out_channels + och) * esz;
            g_mvout(out, pack_addr(I, J, C_sp & ~ACCUM_BIT));
          }
        }
  } else if (c.output) {
    const uint64_t scale = float_bits64(G.st_scale), act = (uint64_t)G.st_act;
    const uint64_t stride = (uint64_t)c.out_stride * esz;
    g_config(((uint64_t)ocols << 56) | ((uint64_t)orows << 48) | ((uint64_t)c.pocols << 40) |
             ((uint64_t)c.porows << 32) | ((uint64_t)c.pool_out_col_dim << 24) |
             ((uint64_t)c.plpad << 10) | ((uint64_t)c.pupad << 8) | ((uint64_t)c.pool_size << 6) |
             ((uint64_t)c.pool_stride << 4) | (act << 2) | 2, (scale << 32) | stride);
    for (int b = 0; b < batches; b++)
      for (int poch = 0; poch < ochs; poch += DIM) {
        const int channels = poch + DIM >= ochs ? ochs - poch : DIM;
        const uint32_t C_sp = C_start + (poch / DIM) * batches * orows * ocols + b * orows * ocols;
        g_mvout(c.output + ((uint64_t)(b * c.pool_out_row_dim * c.pool_out_col_dim) * c.out_stride + poch) * esz,
                pack_addr(0, channels, C_sp & ~ACCUM_BIT));
      }
    g_config((act << 2) | 2, (scale << 32) | stride);
  }
#undef UNDILATED
#undef DS
#undef US
}
