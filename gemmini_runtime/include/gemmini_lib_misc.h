// gemmini_lib_misc.h: residual addition and global average pooling (part of gemmini.h).
#ifndef GEMMINI_LIB_MISC_H
#define GEMMINI_LIB_MISC_H

// C = clamp(ACC_SCALE(MVIN_SCALE(A) + MVIN_SCALE(B), C_scale)), floor 0 with relu
static inline void resadd_cpu(const size_t I, const size_t J,
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
      acc_t result = MVIN_SCALE(A[i * J + j], A_scale) + MVIN_SCALE(B[i * J + j], B_scale);
      result = ACC_SCALE(result, C_scale);
      result = result > elem_t_max ? elem_t_max : (result < minimum ? minimum : result);
      C[i * J + j] = result;
    }
}

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
  gemmini_extended_config_st(J * sizeof(elem_t), relu ? RELU : NO_ACTIVATION, C_scale);
  gemmini_config_ex(WS, 0, 0);
  gemmini_extended4_config_ld(J * sizeof(elem_t), A_scale, true, DIM, 0);
  gemmini_extended4_config_ld(J * sizeof(elem_t), B_scale, true, DIM, 1);
  for (size_t i = 0; i < I; i += tile_I)
    for (size_t j = 0; j < J; j += tile_J) {
      const size_t I_tile = i + tile_I <= I ? tile_I : I - i;
      const size_t J_tile = j + tile_J <= J ? tile_J : J - j;
      sp_tiled_resadd(I_tile, J_tile, A_scale, B_scale,
          A + i * J + j, B + i * J + j, C + i * J + j, J, J, J, relu);
    }
  gemmini_fence();
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
  if (matadd_type == CPU) {
    resadd_cpu(I, J, A_scale, B_scale, C_scale, A, B, C, relu);
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
  tiled_resadd(I, J, tile_I, tile_J, A_scale, B_scale, C_scale, A, B, C, relu, matadd_type);
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
