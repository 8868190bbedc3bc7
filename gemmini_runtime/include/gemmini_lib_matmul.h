// gemmini_lib_matmul.h: tiled matrix multiplication (part of gemmini.h; include that).
//
// tiled_matmul_auto picks tile sizes greedily under the scratchpad and accumulator limits
// (as Gemmini's library does) and runs tiles with loop_ws (WS) or explicit instructions
// (OS), or runs matmul_cpu (CPU). Normalizing activations (LAYERNORM, IGELU, SOFTMAX) are not
// supported by this runtime.
#ifndef GEMMINI_LIB_MATMUL_H
#define GEMMINI_LIB_MATMUL_H

enum tiled_matmul_type_t {OS, WS, CPU};

#ifdef HAS_MVIN_SCALE
#define GEMMINI_SCALE(x, scale) MVIN_SCALE((x), (scale))
#else
#define GEMMINI_SCALE(x, scale) (x)
#endif

#ifdef HAS_MVIN_ACC_SCALE
#define GEMMINI_ACC_SCALE(x, scale) MVIN_SCALE_ACC((x), (scale))
#else
#define GEMMINI_ACC_SCALE(x, scale) (x)
#endif

static inline elem_t scale_and_sat(acc_t x, int act, acc_scale_t scale, acc_scale_t bert_scale) {
  (void)bert_scale;
  acc_t y = ACC_SCALE(x, scale);
  y = y > elem_t_max ? elem_t_max : (y < elem_t_min ? elem_t_min : y);
  if (act == RELU && y < 0) y = 0;
  return (elem_t)y;
}

static inline void gemmini_check_activation(int act) {
  if (act != NO_ACTIVATION && act != RELU) {
    printf("gemmini_runtime: activation %d (a normalization) is not supported\n", act);
    exit(1);
  }
}

// CPU reference: C = act(scale(A*B + D)), A/B optionally transposed, D broadcast if repeating
static inline void matmul_cpu(bool transA, bool transB, size_t DIM_I, size_t DIM_J, size_t DIM_K,
        const elem_t* A, const elem_t* B, const acc_t * D,
        elem_t* C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale, bool repeating_bias) {
  (void)D_scale_factor;
  gemmini_check_activation(act);
  const size_t a_row = transA ? 1 : stride_A, a_col = transA ? stride_A : 1;
  const size_t b_row = transB ? 1 : stride_B, b_col = transB ? stride_B : 1;
  for (size_t i = 0; i < DIM_I; i++) {
    for (size_t j = 0; j < DIM_J; j++) {
      const size_t bias_row = repeating_bias ? 0 : i;
      acc_t sum = D == NULL ? 0 : GEMMINI_ACC_SCALE(D[bias_row * stride_D + j], D_scale_factor);
      for (size_t k = 0; k < DIM_K; k++)
        sum += GEMMINI_SCALE(A[i * a_row + k * a_col], A_scale_factor) *
               GEMMINI_SCALE(B[k * b_row + j * b_col], B_scale_factor);
      C[i * stride_C + j] = scale_and_sat(sum, act, scale, bert_scale);
    }
  }
}

// One output-stationary tile: explicit mvins, preload/compute pairs and mvouts.
static inline void sp_tiled_matmul_os(const elem_t * A, const elem_t * B, const void * D, void * C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        size_t I, size_t J, size_t K, size_t pad_I, size_t pad_J, size_t pad_K,
        size_t A_row_stride, size_t B_row_stride, size_t D_row_stride, size_t C_row_stride,
        bool a_transpose, bool b_transpose,
        bool full_C, bool low_D,
        bool no_bias, bool repeating_bias,
        int act, int a_spad_id, int b_spad_id) {
  (void)a_transpose; (void)b_transpose; (void)low_D; (void)act; (void)a_spad_id; (void)b_spad_id;
  const uint32_t A_sp_addr_start = 0;
  const uint32_t B_sp_addr_start = BANK_NUM * BANK_ROWS - K * J * DIM;
  const uint32_t D_sp_addr_start = 1u << (ADDR_LEN - 1);
  const uint32_t C_sp_addr_start = (3u << (ADDR_LEN - 2)) | ((uint32_t)full_C << (ADDR_LEN - 3));

  const size_t A_blocks = K <= MAX_BLOCK_LEN ? K : MAX_BLOCK_LEN;
  const size_t B_blocks = J <= MAX_BLOCK_LEN ? J : MAX_BLOCK_LEN;
  const size_t D_blocks = J <= MAX_BLOCK_LEN_ACC ? J : MAX_BLOCK_LEN_ACC;

  if (D != NULL && !no_bias) {
    const size_t D_stride = repeating_bias ? 0 : D_row_stride * sizeof(acc_t);
    gemmini_extended_config_ld(D_stride, D_scale_factor);
    for (size_t i = 0; i < I; i++)
      for (size_t j = 0; j < J; j += D_blocks) {
        const size_t bias_row = repeating_bias ? 0 : i;
        const acc_t * const D_dram_addr = (const acc_t *)D + (bias_row * D_row_stride + j) * DIM;
        const uint32_t D_sp_addr_acc = D_sp_addr_start + (i * J + j) * DIM;
        const size_t blocks = j + D_blocks <= J ? D_blocks : J - j;
        const size_t cols = blocks * DIM - (j + blocks >= J ? pad_J : 0);
        const size_t rows = DIM - (i == I - 1 ? pad_I : 0);
        gemmini_extended_mvin(D_dram_addr, D_sp_addr_acc, cols, rows);
      }
  }

  gemmini_extended_config_ld(B_row_stride * sizeof(elem_t), B_scale_factor);
  for (size_t j = 0; j < J; j += B_blocks)
    for (size_t k = 0; k < K; k++) {
      const elem_t * const B_dram_addr = B + (k * B_row_stride + j) * DIM;
      const uint32_t B_sp_addr = B_sp_addr_start + (k * J + j) * DIM;
      const size_t blocks = j + B_blocks <= J ? B_blocks : J - j;
      const size_t cols = blocks * DIM - (j + blocks >= J ? pad_J : 0);
      const size_t rows = DIM - (k == K - 1 ? pad_K : 0);
      gemmini_extended_mvin(B_dram_addr, B_sp_addr, cols, rows);
    }

  gemmini_extended_config_ld(A_row_stride * sizeof(elem_t), A_scale_factor);
  for (size_t i = 0; i < I; i++)
    for (size_t k = 0; k < K; k += A_blocks) {
      const elem_t * const A_dram_addr = A + (i * A_row_stride + k) * DIM;
      const uint32_t A_sp_addr = A_sp_addr_start + (i * K + k) * DIM;
      const size_t blocks = k + A_blocks <= K ? A_blocks : K - k;
      const size_t cols = blocks * DIM - (k + blocks >= K ? pad_K : 0);
      const size_t rows = DIM - (i == I - 1 ? pad_I : 0);
      gemmini_extended_mvin(A_dram_addr, A_sp_addr, cols, rows);
    }

  for (size_t i = 0; i < I; i++)
    for (size_t j = 0; j < J; j++) {
      const uint32_t C_sp_addr = C_sp_addr_start + (i * J + j) * DIM;
      for (size_t k = 0; k < K; k++) {
        const uint32_t A_sp_addr = A_sp_addr_start + (i * K + k) * DIM;
        const uint32_t B_sp_addr = B_sp_addr_start + (k * J + j) * DIM;
        uint32_t out_sp_addr = k == K - 1 ? C_sp_addr : GARBAGE_ADDR;
        // without a bias, the first tile overwrites what the accumulator holds
        if (no_bias && D != NULL && k == K - 1) out_sp_addr &= ~(1u << (ADDR_LEN - 2));
        const size_t A_cols = DIM - (k == K - 1 ? pad_K : 0);
        const size_t A_rows = DIM - (i == I - 1 ? pad_I : 0);
        const size_t B_cols = DIM - (j == J - 1 ? pad_J : 0);
        const size_t B_rows = DIM - (k == K - 1 ? pad_K : 0);
        const size_t C_cols = DIM - (j == J - 1 ? pad_J : 0);
        const size_t C_rows = DIM - (i == I - 1 ? pad_I : 0);
        gemmini_extended_preload(GARBAGE_ADDR, out_sp_addr, DIM, DIM, C_cols, C_rows);
        if (k == 0) {
          gemmini_extended_compute_preloaded(A_sp_addr, B_sp_addr, A_cols, A_rows, B_cols, B_rows);
        } else {
          gemmini_extended_compute_accumulated(A_sp_addr, B_sp_addr, A_cols, A_rows, B_cols, B_rows);
        }
      }
    }

  if (C != NULL) {
    const size_t sizeof_C = full_C ? sizeof(acc_t) : sizeof(elem_t);
    for (size_t i = 0; i < I; i++)
      for (size_t j = 0; j < J; j++) {
        void * const C_dram_addr = (int8_t *)C + (i * C_row_stride + j) * DIM * sizeof_C;
        const uint32_t C_sp_addr = C_sp_addr_start + (i * J + j) * DIM;
        const size_t C_cols = DIM - (j == J - 1 ? pad_J : 0);
        const size_t C_rows = DIM - (i == I - 1 ? pad_I : 0);
        gemmini_extended_mvout(C_dram_addr, C_sp_addr, C_cols, C_rows);
      }
  }
}

// One weight-stationary tile: a single loop_ws instruction.
static inline void sp_tiled_matmul_ws(const elem_t * A, const elem_t * B,
        const void * D, void * C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        size_t I, size_t J, size_t K, size_t pad_I, size_t pad_J, size_t pad_K,
        size_t A_row_stride, size_t B_row_stride, size_t D_row_stride, size_t C_row_stride,
        bool a_transpose, bool b_transpose,
        bool full_C, bool low_D,
        bool no_bias, bool repeating_bias,
        int act, int a_spad_id, int b_spad_id) {
  (void)A_scale_factor; (void)B_scale_factor; (void)D_scale_factor;
  gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, no_bias ? NULL : D, C,
    A_row_stride, B_row_stride, repeating_bias ? 0 : D_row_stride, C_row_stride,
    a_transpose, b_transpose,
    full_C, low_D, !no_bias || D == NULL,
    act, a_spad_id, b_spad_id, false);
}

static inline void tiled_matmul_outer(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t* A, const elem_t* B,
        const void * D, void * C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        size_t tile_I, size_t tile_J, size_t tile_K,
        int act, acc_scale_t scale, acc_scale_t bert_scale,
        bool repeating_bias,
        bool a_transpose, bool b_transpose,
        bool full_C, bool low_D,
        uint8_t weightA,
        int dataflow) {
  (void)bert_scale; (void)weightA;
  const size_t dim_I_padded = (dim_I / DIM + (dim_I % DIM != 0)) * DIM;
  const size_t dim_J_padded = (dim_J / DIM + (dim_J % DIM != 0)) * DIM;
  const size_t dim_K_padded = (dim_K / DIM + (dim_K % DIM != 0)) * DIM;

  const size_t I0 = dim_I_padded / (tile_I * DIM) + (dim_I_padded % (tile_I * DIM) != 0);
  const size_t J0 = dim_J_padded / (tile_J * DIM) + (dim_J_padded % (tile_J * DIM) != 0);
  const size_t K0 = dim_K_padded / (tile_K * DIM) + (dim_K_padded % (tile_K * DIM) != 0);

  // the last tiles along each dimension may be smaller, and padded inside
  const size_t last_I = dim_I_padded % (tile_I * DIM) == 0 ? tile_I : (dim_I_padded / DIM) % tile_I;
  const size_t last_J = dim_J_padded % (tile_J * DIM) == 0 ? tile_J : (dim_J_padded / DIM) % tile_J;
  const size_t last_K = dim_K_padded % (tile_K * DIM) == 0 ? tile_K : (dim_K_padded / DIM) % tile_K;

  const size_t padding_I = dim_I_padded - dim_I;
  const size_t padding_J = dim_J_padded - dim_J;
  const size_t padding_K = dim_K_padded - dim_K;

  const bool no_bias = D == NULL;
  if (no_bias) D = (void *)1;  // a dummy non-null address: "the first K tile overwrites"

  const size_t sizeof_D = low_D ? sizeof(elem_t) : sizeof(acc_t);
  const size_t sizeof_C = full_C ? sizeof(acc_t) : sizeof(elem_t);

  gemmini_extended_config_ex(dataflow, act & 3, 0, 1, a_transpose, b_transpose);
  gemmini_extended_config_st(stride_C * sizeof_C, act & 3, scale);
  gemmini_extended3_config_ld(stride_A * sizeof(elem_t), A_scale_factor, false, 0);
  gemmini_extended3_config_ld(stride_B * sizeof(elem_t), B_scale_factor, false, 1);
  gemmini_extended3_config_ld(repeating_bias ? 0 : (stride_D * sizeof_D), D_scale_factor, low_D, 2);

  void (*inner)(const elem_t *, const elem_t *, const void *, void *,
        scale_t, scale_t, scale_acc_t,
        size_t, size_t, size_t, size_t, size_t, size_t,
        size_t, size_t, size_t, size_t,
        bool, bool, bool, bool, bool, bool,
        int, int, int);
  inner = dataflow == OUTPUT_STATIONARY ? &sp_tiled_matmul_os : &sp_tiled_matmul_ws;

  // keep an operand resident when it has at most two tiles (WS only)
  int a_spad_id = 0, b_spad_id = 0;
  const bool b_reuse = (J0 * K0 <= 2) && (dataflow == WEIGHT_STATIONARY);
  const bool a_reuse = (I0 * K0 <= 2) && (dataflow == WEIGHT_STATIONARY);

  for (size_t i0 = 0; i0 < I0; i0++)
    for (size_t j0 = 0; j0 < J0; j0++)
      for (size_t k0 = 0; k0 < K0; k0++) {
        if (a_reuse) a_spad_id = ((i0 + k0) == 0) ? 1 : 2;
        if (b_reuse) b_spad_id = ((j0 + k0) == 0) ? 1 : 2;

        const void * pre;
        if (k0 != 0) {
          pre = NULL;
        } else {
          const size_t bias_row = repeating_bias ? 0 : i0 * tile_I * DIM;
          pre = (const int8_t *)D + (bias_row * stride_D + j0 * tile_J * DIM) * sizeof_D;
        }
        void * out = k0 == K0 - 1 ? (int8_t *)C + (i0 * tile_I * DIM * stride_C + j0 * tile_J * DIM) * sizeof_C : NULL;

        const size_t I = i0 < I0 - 1 ? tile_I : last_I;
        const size_t J = j0 < J0 - 1 ? tile_J : last_J;
        const size_t K = k0 < K0 - 1 ? tile_K : last_K;
        const size_t pad_I = i0 == I0 - 1 ? padding_I : 0;
        const size_t pad_J = j0 == J0 - 1 ? padding_J : 0;
        const size_t pad_K = k0 == K0 - 1 ? padding_K : 0;

        const elem_t * a = a_transpose ? (A + k0 * tile_K * DIM * stride_A + i0 * tile_I * DIM)
          : (A + i0 * tile_I * DIM * stride_A + k0 * tile_K * DIM);
        const elem_t * b = b_transpose ? (B + j0 * tile_J * DIM * stride_B + k0 * tile_K * DIM)
          : (B + k0 * tile_K * DIM * stride_B + j0 * tile_J * DIM);
        if (a_reuse && j0 >= 1) a = NULL;
        if (b_reuse && i0 >= 1) b = NULL;

        (*inner)(a, b, pre, out,
            A_scale_factor, B_scale_factor, D_scale_factor,
            I, J, K, pad_I, pad_J, pad_K,
            stride_A, stride_B, stride_D, stride_C,
            a_transpose, b_transpose, full_C, low_D, no_bias, repeating_bias,
            act, a_spad_id, b_spad_id);
      }

  gemmini_fence();
}

static inline size_t tiled_matmul_total_spad_rows(size_t I, size_t J, size_t K) {
  return (I * K + K * J) * DIM;
}

static inline size_t tiled_matmul_total_acc_rows(size_t I, size_t J) {
  return (I * J) * DIM;
}

// A tiled matmul with given tile factors (in units of DIM).
static inline void tiled_matmul(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t* A, const elem_t* B,
        const void * D, void* C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale,
        bool repeating_bias,
        size_t tile_I, size_t tile_J, size_t tile_K,
        bool transpose_A, bool transpose_B,
        bool full_C, bool low_D,
        uint8_t weightA,
        enum tiled_matmul_type_t tiled_matmul_type) {
  gemmini_check_activation(act);
  if (tile_I <= 0 || tile_J <= 0 || tile_K <= 0) {
    printf("tile_I, tile_J and tile_K must be positive\n");
    exit(1);
  }
  const size_t dim_I_padded = (dim_I / DIM + (dim_I % DIM != 0)) * DIM;
  const size_t dim_J_padded = (dim_J / DIM + (dim_J % DIM != 0)) * DIM;
  const size_t dim_K_padded = (dim_K / DIM + (dim_K % DIM != 0)) * DIM;
  if (tile_I * DIM > dim_I_padded || tile_J * DIM > dim_J_padded || tile_K * DIM > dim_K_padded) {
    printf("a tile factor is larger than its padded dimension\n");
    exit(1);
  }
  const bool double_buffered = tiled_matmul_type == WS;
  const size_t total_spad_size = double_buffered ? BANK_NUM * BANK_ROWS / 2 : BANK_NUM * BANK_ROWS;
  const size_t total_acc_size = double_buffered ? ACC_ROWS / 2 : ACC_ROWS;
  if (tiled_matmul_total_spad_rows(tile_I, tile_J, tile_K) > total_spad_size) {
    printf("Not enough space in scratchpad to store A and B matrices\n");
    exit(1);
  }
  if (tiled_matmul_total_acc_rows(tile_I, tile_J) > total_acc_size) {
    printf("Not enough space in accumulator to store C\n");
    exit(1);
  }
  if (tile_I > 65535 || tile_J > 65535 || tile_K > 65535) {
    printf("I, J, and K tiling factors must be less than 65535, to fit within the bounds of the LOOP_WS function\n");
    exit(1);
  }
  static const char matmul_type_str[][4] = {"OS", "WS", "CPU"};
  if (((tiled_matmul_type == OS) && (transpose_A || transpose_B)) ||
      (tiled_matmul_type == WS && transpose_A && transpose_B)) {
    printf("Not implemented: %s matmul, a_transpose=%d, b_transpose=%d\n",
           matmul_type_str[tiled_matmul_type], transpose_A, transpose_B);
    exit(1);
  }
  if ((tiled_matmul_type == CPU && (full_C || low_D)) || (tiled_matmul_type == OS && low_D)) {
    printf("Not implemented: %s matmul, full_C=%d, low_D=%d\n",
           matmul_type_str[tiled_matmul_type], full_C, low_D);
    exit(1);
  }

  if (tiled_matmul_type == OS || tiled_matmul_type == WS) {
    tiled_matmul_outer(dim_I, dim_J, dim_K, A, B, D, C,
        stride_A, stride_B, stride_D, stride_C,
        A_scale_factor, B_scale_factor, D_scale_factor,
        tile_I, tile_J, tile_K, act, scale, bert_scale, repeating_bias,
        transpose_A, transpose_B, full_C, low_D, weightA, (int)tiled_matmul_type);
  } else {
    matmul_cpu(transpose_A, transpose_B, dim_I, dim_J, dim_K,
        A, B, (const acc_t *)D, (elem_t *)C,
        stride_A, stride_B, stride_D, stride_C,
        A_scale_factor, B_scale_factor, D_scale_factor,
        act, scale, bert_scale, repeating_bias);
  }
}

// A tiled matmul with tile factors chosen to fill the scratchpad and accumulator.
_STATIC void tiled_matmul_auto(size_t dim_I, size_t dim_J, size_t dim_K,
        const elem_t* A, const elem_t* B,
        const void * D, void * C,
        size_t stride_A, size_t stride_B, size_t stride_D, size_t stride_C,
        scale_t A_scale_factor, scale_t B_scale_factor, scale_acc_t D_scale_factor,
        int act, acc_scale_t scale, acc_scale_t bert_scale,
        bool repeating_bias,
        bool transpose_A, bool transpose_B,
        bool full_C, bool low_D,
        uint8_t weightA,
        enum tiled_matmul_type_t tiled_matmul_type) {
  const size_t partition_rows = BANK_NUM * BANK_ROWS / 2;
  const size_t mats_in_partition = partition_rows / DIM;
  const size_t mats_in_acc = ACC_ROWS / DIM;
  const size_t max_tile_i_j = (size_t)sqrt(mats_in_acc);
  const size_t max_tile_k = mats_in_partition / max_tile_i_j;
  // "db_": double-buffered (WS keeps two tiles in flight)
  const size_t db_partition_rows = (BANK_NUM * BANK_ROWS / 2) / 2;
  const size_t db_mats_in_partition = db_partition_rows / DIM;
  const size_t db_mats_in_acc = (ACC_ROWS / 2) / DIM;
  const size_t db_max_tile_i_j = (size_t)sqrt(db_mats_in_acc);
  const size_t db_max_tile_k = db_mats_in_partition / db_max_tile_i_j;

  const size_t dim_I_padded = (dim_I / DIM + (dim_I % DIM != 0)) * DIM;
  const size_t dim_J_padded = (dim_J / DIM + (dim_J % DIM != 0)) * DIM;
  const size_t dim_K_padded = (dim_K / DIM + (dim_K % DIM != 0)) * DIM;

  const bool double_buffered = tiled_matmul_type == WS;
  const size_t max_spad_rows = double_buffered ? BANK_NUM * BANK_ROWS / 2 : BANK_NUM * BANK_ROWS;
  const size_t max_acc_rows = double_buffered ? ACC_ROWS / 2 : ACC_ROWS;

  size_t tile_I, tile_J, tile_K;
  if (double_buffered) {
    tile_I = dim_I_padded / DIM < db_max_tile_i_j ? dim_I_padded / DIM : db_max_tile_i_j;
    tile_J = dim_J_padded / DIM < db_max_tile_i_j ? dim_J_padded / DIM : db_max_tile_i_j;
    tile_K = dim_K_padded / DIM < db_max_tile_k ? dim_K_padded / DIM : db_max_tile_k;
  } else {
    tile_I = dim_I_padded / DIM < max_tile_i_j ? dim_I_padded / DIM : max_tile_i_j;
    tile_J = dim_J_padded / DIM < max_tile_i_j ? dim_J_padded / DIM : max_tile_i_j;
    tile_K = dim_K_padded / DIM < max_tile_k ? dim_K_padded / DIM : max_tile_k;
  }

  // grow J, then I, then K while everything still fits
  while (true) {
    bool increased = false;
    if (tiled_matmul_total_spad_rows(tile_I, tile_J + 1, tile_K) <= max_spad_rows &&
        tiled_matmul_total_acc_rows(tile_I, tile_J + 1) <= max_acc_rows &&
        (tile_J + 1) * DIM <= dim_J_padded) {
      tile_J++;
      increased = true;
    }
    if (tiled_matmul_total_spad_rows(tile_I + 1, tile_J, tile_K) <= max_spad_rows &&
        tiled_matmul_total_acc_rows(tile_I + 1, tile_J) <= max_acc_rows &&
        (tile_I + 1) * DIM <= dim_I_padded) {
      tile_I++;
      increased = true;
    }
    if (tiled_matmul_total_spad_rows(tile_I, tile_J, tile_K + 1) <= max_spad_rows &&
        (tile_K + 1) * DIM <= dim_K_padded) {
      tile_K++;
      increased = true;
    }
    if (!increased) break;
  }

#ifdef PRINT_TILE
#if PRINT_TILE
  printf("tile_I: %zu\ntile_J: %zu\ntile_K: %zu\n", tile_I, tile_J, tile_K);
#endif
#endif

  tiled_matmul(dim_I, dim_J, dim_K, A, B, D, C,
      stride_A, stride_B, stride_D, stride_C,
      A_scale_factor, B_scale_factor, D_scale_factor,
      act, scale, bert_scale, repeating_bias,
      tile_I, tile_J, tile_K,
      transpose_A, transpose_B, full_C, low_D, weightA,
      tiled_matmul_type);
}

#endif // GEMMINI_LIB_MATMUL_H
