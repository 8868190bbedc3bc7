// gemmini_lib_misc.h: residual addition and global average pooling (part of gemmini.h).
#ifndef GEMMINI_LIB_MISC_H
#define GEMMINI_LIB_MISC_H

// C = clamp(ACC_SCALE(MVIN_SCALE(A) + MVIN_SCALE(B), C_scale)), floor 0 with relu; row i of
// each matrix starts at i * stride elements.
static inline void gemmini_resadd_cpu_strided(const size_t I, const size_t J, const size_t stride,
        const scale_t A_scale,
        const scale_t B_scale,
        const acc_scale_t C_scale,
        const elem_t * A,
        const elem_t * B,
        elem_t * C,
        bool relu) {
  const acc_t minimum = relu ? 0 : elem_t_min;
  for (size_t i = 0; i < I; i++)
    for (size_t j = 0; j < J; j++) {
      const size_t at = i * stride + j;
      acc_t result = MVIN_SCALE(A[at], A_scale) + MVIN_SCALE(B[at], B_scale);
      result = ACC_SCALE(result, C_scale);
      result = result > elem_t_max ? elem_t_max : (result < minimum ? minimum : result);
      C[at] = result;
    }
}

// resadd_cpu takes the stride after J in Gemmini's current gemmini.h (10 arguments) and had no
// stride before (9 arguments, rows packed); programs of both generations call it, so the
// argument count picks the form.
#define GEMMINI_RESADD_CPU_PACKED(I, J, A_scale, B_scale, C_scale, A, B, C, relu) \
  gemmini_resadd_cpu_strided(I, J, J, A_scale, B_scale, C_scale, A, B, C, relu)
#define GEMMINI_RESADD_CPU_PICK(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, form, ...) form
#define resadd_cpu(...) GEMMINI_RESADD_CPU_PICK(__VA_ARGS__, gemmini_resadd_cpu_strided, \
    GEMMINI_RESADD_CPU_PACKED, _unused)(__VA_ARGS__)

// One resadd tile through the accumulator: a loop_ws with is_resadd.
static inline void sp_tiled_resadd(const size_t I, const size_t J,
        const scale_t A_scale,
        const scale_t B_scale,
        const elem_t * A, const elem_t * B, elem_t * C,
        size_t A_row_stride, size_t B_row_stride, size_t C_row_stride,
        bool relu) {
  (void)A_scale; (void)B_scale; (void)relu;
  const size_t pad_I = (I % DIM) == 0 ? 0 : DIM - (I % DIM);
  const size_t pad_J = (J % DIM) == 0 ? 0 : DIM - (J % DIM);
  const size_t tile_I = I / DIM + (I % DIM != 0);
  const size_t tile_J = J / DIM + (J % DIM != 0);
  gemmini_loop_ws(tile_I, tile_J, 0, pad_I, pad_J, 0, A, B, NULL, C,
      A_row_stride, B_row_stride, 0, C_row_stride,
      false, false, false, false, false, 0, 0, 0, true);
}

static inline void tiled_resadd(const size_t I, const size_t J,
        const size_t stride,
        const size_t tile_I, const size_t tile_J,
        const scale_t A_scale,
        const scale_t B_scale,
        const acc_scale_t C_scale,
        const elem_t * A,
        const elem_t * B,
        elem_t * C,
        bool relu,
        enum tiled_matmul_type_t matadd_type) {
  (void)matadd_type;
  gemmini_extended_config_st(stride * sizeof(elem_t), relu ? RELU : NO_ACTIVATION, C_scale);
  gemmini_config_ex(WS, 0, 0);
  gemmini_extended4_config_ld(stride * sizeof(elem_t), A_scale, true, DIM, 0);
  gemmini_extended4_config_ld(stride * sizeof(elem_t), B_scale, true, DIM, 1);
  for (size_t i = 0; i < I; i += tile_I)
    for (size_t j = 0; j < J; j += tile_J) {
      const size_t I_tile = i + tile_I <= I ? tile_I : I - i;
      const size_t J_tile = j + tile_J <= J ? tile_J : J - j;
      const size_t at = i * stride + j;
      sp_tiled_resadd(I_tile, J_tile, A_scale, B_scale, A + at, B + at, C + at,
          stride, stride, stride, relu);
    }
  gemmini_fence();
}

// C = A + B (scaled, optionally ReLU) over I x J elements whose rows are `stride` elements
// apart in all three matrices.
_STATIC void tiled_resadd_stride_auto(const size_t I, const size_t J,
        const scale_t A_scale,
        const scale_t B_scale,
        const acc_scale_t C_scale,
        const size_t stride,
        const elem_t * A,
        const elem_t * B,
        elem_t * C,
        bool relu,
        enum tiled_matmul_type_t matadd_type) {
  if (matadd_type == CPU) {
    gemmini_resadd_cpu_strided(I, J, stride, A_scale, B_scale, C_scale, A, B, C, relu);
    return;
  }
  if (matadd_type != WS) {
    printf("Unsupported type\n");
    exit(1);
  }
  size_t tile_I = I, tile_J = J;
  // the tile's padded rows must fit half the accumulator
  size_t total_acc_rows = (tile_I / DIM + (tile_I % DIM != 0)) * DIM * (tile_J / DIM + (tile_J % DIM != 0));
  while (total_acc_rows > ACC_ROWS / 2) {
    if (tile_I >= tile_J || tile_J <= DIM) tile_I /= 2;
    else tile_J -= DIM;
    total_acc_rows = (tile_I / DIM + (tile_I % DIM != 0)) * DIM * (tile_J / DIM + (tile_J % DIM != 0));
  }
  tiled_resadd(I, J, stride, tile_I, tile_J, A_scale, B_scale, C_scale, A, B, C, relu, matadd_type);
}

_STATIC void tiled_resadd_auto(const size_t I, const size_t J,
        const scale_t A_scale,
        const scale_t B_scale,
        const acc_scale_t C_scale,
        const elem_t * A,
        const elem_t * B,
        elem_t * C,
        bool relu,
        enum tiled_matmul_type_t matadd_type) {
  tiled_resadd_stride_auto(I, J, A_scale, B_scale, C_scale, J, A, B, C, relu, matadd_type);
}

// C = act(scale(A)) for an int32 (acc_t) I x J matrix, through the accumulator: full-width
// mvins, scaled mvouts. Gemmini's normalizations (LAYERNORM, SOFTMAX) need a config built with
// HAS_NORMALIZATIONS, which no config here is (programs test that macro); they are refused
// like every normalizing activation (gemmini_check_activation).
_STATIC void tiled_norm_auto(const size_t I, const size_t J,
        const acc_t * A, elem_t * C, const acc_scale_t C_scale, int act,
        enum tiled_matmul_type_t norm_type) {
  gemmini_check_activation(act);
  if (norm_type == CPU) {
    for (size_t i = 0; i < I; i++)
      for (size_t j = 0; j < J; j++) C[i * J + j] = scale_and_sat(A[i * J + j], act, C_scale, 0);
    return;
  }
  const uint32_t acc_base = (uint32_t)1 << (ADDR_LEN - 1);
  gemmini_extended4_config_ld(J * sizeof(acc_t), MVIN_SCALE_IDENTITY, false, DIM, 0);
  gemmini_extended_config_st(J * sizeof(elem_t), act, C_scale);
  // DIM-row strips, one accumulator half each, so the next strip loads while this one stores
  for (size_t i = 0, half = 0; i < I; i += DIM, half ^= 1) {
    const size_t rows = I - i < DIM ? I - i : DIM;
    for (size_t j = 0; j < J; j += DIM) {
      const size_t cols = J - j < DIM ? J - j : DIM;
      const uint32_t row = acc_base + (uint32_t)(half * (ACC_ROWS / 2) + (j / DIM % ((ACC_ROWS / 2) / DIM)) * DIM);
      gemmini_extended_mvin(A + i * J + j, row, cols, rows);
      gemmini_extended_mvout(C + i * J + j, row, cols, rows);
    }
  }
  gemmini_fence();
}

// output[b][c] = round(mean over the dim x dim pixels of input[b][.][.][c]);
// integers round as (sum + count/2) / count
static inline void global_average_cpu(const elem_t * input, elem_t * output,
    int batches, int channels, int dim) {
  const int count = dim * dim;
  for (int batch = 0; batch < batches; batch++)
    for (int channel = 0; channel < channels; channel++) {
      acc_t sum = 0;
      for (int pixel = 0; pixel < count; pixel++)
        sum += input[((size_t)batch * count + pixel) * channels + channel];
#ifdef ELEM_T_IS_FLOAT
      output[batch * channels + channel] = sum / count;
#else
      output[batch * channels + channel] = (sum + count / 2) / count;
#endif
    }
}

// Sums every pixel into one accumulator row per channel block (accumulating mvins of int8
// rows), then scales by 1/(dim*dim) on the way out.
static inline void sp_tiled_global_average(const elem_t * input, elem_t * output,
    int batches, int channels, int dim, int channel_tile_size) {
  (void)batches;
  const uint32_t C_acc_addr_start = (uint32_t)1 << 31;
  size_t blocks = channel_tile_size / DIM + (channel_tile_size % DIM != 0);
  if (blocks > MAX_BLOCK_LEN) blocks = MAX_BLOCK_LEN;
  for (int channel = 0; channel < channel_tile_size; channel += blocks * DIM)
    for (int row = 0; row < dim; row++)
      for (int col = 0; col < dim; col++) {
        const elem_t * in = input + (row * dim + col) * channels + channel;
        const uint32_t acc_addr_start = C_acc_addr_start | ((uint32_t)(row != 0 || col != 0) << 30);
        const uint32_t acc_addr = acc_addr_start + channel / DIM;
        const size_t cols = channel + blocks * DIM <= (size_t)channel_tile_size ?
            blocks * DIM : (size_t)(channel_tile_size - channel);
        gemmini_extended_mvin(in, acc_addr, cols, 1);
      }
  for (int channel = 0; channel < channel_tile_size; channel += DIM) {
    const uint32_t acc_addr = C_acc_addr_start + channel / DIM;
    const size_t cols = channel + DIM <= channel_tile_size ? DIM : channel_tile_size - channel;
    gemmini_extended_mvout(output + channel, acc_addr, cols, 1);
  }
}

static inline void tiled_global_average(const elem_t * input, elem_t * output,
    int batches, int channels, int dim,
    int channel_tile_size) {
  // block stride 1: the DIM-column blocks of one pixel land in consecutive accumulator rows
  gemmini_extended4_config_ld(DIM * sizeof(elem_t), MVIN_SCALE_IDENTITY, true, 1, 0);
  gemmini_config_ex(0, NO_ACTIVATION, 0);
  gemmini_extended_config_st(0, NO_ACTIVATION, 1.0 / (dim * dim));
  for (int batch = 0; batch < batches; batch++)
    for (int channel = 0; channel < channels; channel += channel_tile_size) {
      const int tile_size = channel + channel_tile_size <= channels ? channel_tile_size : channels - channel;
      sp_tiled_global_average(input + batch * dim * dim * channels + channel,
          output + batch * channels + channel, batches, channels, dim, tile_size);
    }
  gemmini_fence();
}

static inline void tiled_global_average_auto(const elem_t * input, elem_t * output,
    int batches, int channels, int dim,
    enum tiled_matmul_type_t type) {
  if (type == CPU) {
    global_average_cpu(input, output, batches, channels, dim);
    return;
  }
  int channel_tile_size = channels;
  int acc_rows = channel_tile_size / DIM + (channel_tile_size % DIM != 0);
  while (acc_rows > ACC_ROWS) {
    channel_tile_size--;
    acc_rows = channel_tile_size / DIM + (channel_tile_size % DIM != 0);
  }
  tiled_global_average(input, output, batches, channels, dim, channel_tile_size);
}

#endif // GEMMINI_LIB_MISC_H
