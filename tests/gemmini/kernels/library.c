// Thin kernels around Gemmini's library functions, called from the tests on numpy arrays.
#include "include/gemmini.h"

void matmul(const elem_t *A, const elem_t *B, const acc_t *D, elem_t *C, int I, int J, int K,
            int has_bias, int repeating_bias, float scale, int act, int a_t, int b_t, int type) {
  tiled_matmul_auto(I, J, K, A, B, has_bias ? D : NULL, C, a_t ? I : K, b_t ? K : J, J, J,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, act, scale, 0,
      repeating_bias, a_t, b_t, false, false, 0, (enum tiled_matmul_type_t)type);
}

void matmul_full_c(const elem_t *A, const elem_t *B, const acc_t *D, acc_t *C, int I, int J, int K,
                   int has_bias, int type) {
  tiled_matmul_auto(I, J, K, A, B, has_bias ? D : NULL, C, K, J, J, J,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
      ACC_SCALE_IDENTITY, 0, false, false, false, true, false, 0, (enum tiled_matmul_type_t)type);
}

void matmul_low_d(const elem_t *A, const elem_t *B, const elem_t *D, elem_t *C, int I, int J, int K) {
  tiled_matmul_auto(I, J, K, A, B, D, C, K, J, J, J,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
      ACC_SCALE_IDENTITY, 0, false, false, false, false, true, 0, WS);
}

void matmul_tiles(const elem_t *A, const elem_t *B, elem_t *C, int I, int J, int K,
                  int tile_I, int tile_J, int tile_K, int type) {
  tiled_matmul(I, J, K, A, B, NULL, C, K, J, J, J,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION,
      ACC_SCALE_IDENTITY, 0, false, tile_I, tile_J, tile_K, false, false, false, false, 0,
      (enum tiled_matmul_type_t)type);
}

// dims = {batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride, padding,
//         kernel_dim, pool_size, pool_stride, pool_padding, input_dilation, kernel_dilation,
//         wrot180, trans_output_1203, trans_weight_1203, trans_weight_0132, trans_input_3120}
void conv(const elem_t *in, const elem_t *w, const acc_t *bias, elem_t *out, const int *d,
          int has_bias, int act, float scale, int type) {
  tiled_conv_auto(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[13], d[14], d[8], d[9],
      d[15], d[16], d[19], d[17], d[18], in, w, has_bias ? bias : NULL, out, act, scale,
      d[10], d[11], d[12], (enum tiled_matmul_type_t)type);
}

void conv_dw(elem_t *in, elem_t *w, acc_t *bias, elem_t *out, const int *d, int act, float scale,
             int type) {
  tiled_conv_dw_auto(d[0], d[1], d[2], d[3], d[5], d[6], d[7], d[8], d[9], in, w, bias, out,
      act, scale, d[10], d[11], d[12], (enum tiled_matmul_type_t)type);
}

void resadd(const elem_t *A, const elem_t *B, elem_t *C, int I, int J, float a_scale,
            float b_scale, float c_scale, int relu, int type) {
  tiled_resadd_auto(I, J, a_scale, b_scale, c_scale, A, B, C, relu, (enum tiled_matmul_type_t)type);
}

void global_average(const elem_t *in, elem_t *out, int batches, int channels, int dim, int type) {
  tiled_global_average_auto(in, out, batches, channels, dim, (enum tiled_matmul_type_t)type);
}
