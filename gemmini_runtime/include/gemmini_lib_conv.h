// gemmini_lib_conv.h: tiled convolutions (part of gemmini.h; include that).
//
// NHWC input, weights as (kernel_dim * kernel_dim * in_channels) x out_channels (HWIO), int32
// bias, optional max-pooling. Each tile is one loop_conv_ws instruction; the *_auto
// functions choose tile sizes greedily as Gemmini's library does. Convolutions run WS only.
#ifndef GEMMINI_LIB_CONV_H
#define GEMMINI_LIB_CONV_H

static inline void sp_tiled_conv(
        int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int pool_out_row_dim, int pool_out_col_dim,
        int stride, int padding, int kernel_dim, int kernel_dilation,
        int in_stride, int weight_stride, int out_stride,
        int pool_size, int pool_stride, int pool_padding,
        int batches,
        int porows, int pocols, int pochs,
        int krows, int kcols, int kchs,
        int lpad, int rpad, int upad, int dpad,
        int plpad, int prpad, int pupad, int pdpad,
        const elem_t * input,
        const elem_t * weights,
        elem_t * output,
        const acc_t * bias,
        int act, acc_scale_t scale,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        bool no_bias, bool no_pool, bool downsample, bool input_dilated,
        bool dw, int a_spad_id, int b_spad_id) {
  (void)scale;
  if (dw) { kchs = 1; pochs = 1; }
  const int orows = porows * pool_stride + pool_size - 1 - pupad - pdpad;
  const int ocols = pocols * pool_stride + pool_size - 1 - plpad - prpad;
  const int max_pixels_per_row = 1;  // no first-layer optimization in this runtime
  gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
      out_row_dim, out_col_dim, pool_out_row_dim, pool_out_col_dim, stride, padding, kernel_dim,
      kernel_dilation, pool_size, pool_stride, pool_padding, batches, porows, pocols, pochs,
      krows, kcols, kchs, lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad, orows, ocols,
      weights, output, bias, input, no_bias, no_pool, downsample, wrot180, input_dilated, act,
      trans_output_1203, trans_weight_1203, trans_weight_0132, trans_input_3120,
      max_pixels_per_row, in_stride, weight_stride, out_stride, dw, a_spad_id, b_spad_id);
}

static inline int tiled_conv_total_spad_rows(bool acc,
        int stride, int input_dilation, int kernel_dilation,
        bool downsample, bool trans_weight_0132, bool trans_input_3120,
        int batches, int porows, int pocols, int ochs,
        int krows, int kcols, int kchs,
        int pool_size, int pool_stride) {
  const int orows = porows * pool_stride + pool_size - 1;
  const int ocols = pocols * pool_stride + pool_size - 1;
  const int krows_dilated = krows + (kernel_dilation - 1) * (krows - 1);
  const int kcols_dilated = kcols + (kernel_dilation - 1) * (kcols - 1);
  int irows = orows * stride + krows_dilated - 1;
  int icols = ocols * stride + kcols_dilated - 1;
  const int ichs = kchs;
  irows = irows / input_dilation + (irows % input_dilation != 0);
  icols = icols / input_dilation + (icols % input_dilation != 0);
  const int in_channels_per_bank = ichs / DIM + (ichs % DIM != 0);
  const int out_channels_per_bank = ochs / DIM + (ochs % DIM != 0);
  const int batches_per_bank = batches / DIM + (batches % DIM != 0);
  const int A_rows = trans_input_3120 ?
      (batches_per_bank * ichs * (irows >> downsample) * (icols >> downsample)) :
      (in_channels_per_bank * batches * (irows >> downsample) * (icols >> downsample));
  const int B_rows = trans_weight_0132 ?
      in_channels_per_bank * kcols * krows * ochs :
      out_channels_per_bank * kcols * krows * kchs;
  const int C_rows = out_channels_per_bank * batches * orows * ocols;
  return acc ? C_rows : A_rows + B_rows;
}

// value of one output pixel before scaling (CPU reference)
static inline acc_t conv_cpu_pixel(int b, int orow, int ocol, int och,
        int batch_size, int in_row_dim, int in_col_dim, int in_channels, int out_channels,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        int in_stride, int weight_stride,
        bool wrot180, bool trans_input_3120, bool trans_weight_1203, bool trans_weight_0132,
        const elem_t * input, const elem_t * weights, const acc_t * bias) {
  acc_t opixel = bias == NULL ? 0 : bias[och];
  for (int krow = 0; krow < kernel_dim; krow++) {
    const int ir = orow * stride + krow * kernel_dilation - padding;
    if (ir % input_dilation != 0) continue;
    const int irow = ir / input_dilation;
    for (int kcol = 0; kcol < kernel_dim; kcol++) {
      const int ic = ocol * stride + kcol * kernel_dilation - padding;
      if (ic % input_dilation != 0) continue;
      const int icol = ic / input_dilation;
      const int krow_ = wrot180 ? kernel_dim - krow - 1 : krow;
      const int kcol_ = wrot180 ? kernel_dim - kcol - 1 : kcol;
      for (int kch = 0; kch < in_channels; kch++) {
        const bool outside = irow < 0 || irow >= in_row_dim || icol < 0 || icol >= in_col_dim;
        elem_t ipixel = 0;
        if (!outside)
          ipixel = trans_input_3120  // CHWN
              ? input[(kch * in_row_dim * in_col_dim + irow * in_col_dim + icol) * batch_size + b]
              : input[(b * in_row_dim * in_col_dim + irow * in_col_dim + icol) * in_stride + kch];
        elem_t weight;
        if (trans_weight_1203)  // WIHO
          weight = weights[(kch * kernel_dim * kernel_dim + krow_ * kernel_dim + kcol_) * out_channels + och];
        else if (trans_weight_0132)  // HWOI
          weight = weights[(krow_ * kernel_dim * out_channels + kcol_ * out_channels + och) * in_channels + kch];
        else
          weight = weights[(krow_ * kernel_dim * in_channels + kcol_ * in_channels + kch) * weight_stride + och];
        opixel += weight * ipixel;
      }
    }
  }
  return opixel;
}

static inline void conv_cpu_without_pool(
        int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        int in_stride, int weight_stride, int out_stride,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        const elem_t * input, const elem_t * weights, const acc_t * bias, elem_t * output,
        int act, acc_scale_t scale) {
  for (int b = 0; b < batch_size; b++)
    for (int orow = 0; orow < out_row_dim; orow++)
      for (int ocol = 0; ocol < out_col_dim; ocol++)
        for (int och = 0; och < out_channels; och++) {
          const acc_t opixel = conv_cpu_pixel(b, orow, ocol, och, batch_size, in_row_dim,
              in_col_dim, in_channels, out_channels, stride, input_dilation, kernel_dilation,
              padding, kernel_dim, in_stride, weight_stride, wrot180, trans_input_3120,
              trans_weight_1203, trans_weight_0132, input, weights, bias);
          elem_t * out = trans_output_1203  // HWNC
              ? output + (orow * out_col_dim * batch_size + ocol * batch_size + b) * out_channels + och
              : output + (b * out_row_dim * out_col_dim + orow * out_col_dim + ocol) * out_stride + och;
          *out = scale_and_sat(opixel, act, scale, 0);
        }
}

static inline void conv_cpu(
        int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        int in_stride, int weight_stride, int out_stride,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        const elem_t * input, const elem_t * weights, const acc_t * bias, elem_t * output,
        int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding) {
  if (pool_stride == 0) {
    conv_cpu_without_pool(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
        out_row_dim, out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim,
        in_stride, weight_stride, out_stride, wrot180, trans_output_1203, trans_input_3120,
        trans_weight_1203, trans_weight_0132, input, weights, bias, output, act, scale);
    return;
  }
  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  for (int b = 0; b < batch_size; b++)
    for (int porow = 0; porow < pool_out_row_dim; porow++)
      for (int pocol = 0; pocol < pool_out_col_dim; pocol++)
        for (int poch = 0; poch < out_channels; poch++) {
          elem_t running_max = 0;
          bool initialized = false;
          for (int pwrow = 0; pwrow < pool_size; pwrow++) {
            const int orow = porow * pool_stride + pwrow - pool_padding;
            for (int pwcol = 0; pwcol < pool_size; pwcol++) {
              const int ocol = pocol * pool_stride + pwcol - pool_padding;
              elem_t v;
              if (orow < 0 || orow >= out_row_dim || ocol < 0 || ocol >= out_col_dim) {
                v = 0;  // padding of the pooling window counts as zero
              } else {
                v = scale_and_sat(conv_cpu_pixel(b, orow, ocol, poch, batch_size, in_row_dim,
                    in_col_dim, in_channels, out_channels, stride, input_dilation,
                    kernel_dilation, padding, kernel_dim, in_stride, weight_stride, wrot180,
                    trans_input_3120, trans_weight_1203, trans_weight_0132, input, weights,
                    bias), act, scale, 0);
              }
              if (!initialized || v > running_max) { running_max = v; initialized = true; }
            }
          }
          elem_t * out = trans_output_1203
              ? output + (porow * pool_out_col_dim * batch_size + pocol * batch_size + b) * out_channels + poch
              : output + (b * pool_out_row_dim * pool_out_col_dim + porow * pool_out_col_dim + pocol) * out_stride + poch;
          *out = running_max;
        }
}

// depthwise: weights [channels][kernel_dim][kernel_dim]
static inline void conv_dw_cpu(
        int batch_size, int in_row_dim, int in_col_dim,
        int channels, int out_row_dim, int out_col_dim,
        int stride, int padding, int kernel_dim,
        const elem_t * input, const elem_t * weights, const acc_t * bias, elem_t * output,
        int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding) {
  const bool no_pool = pool_stride == 0;
  if (no_pool) { pool_size = 1; pool_stride = 1; pool_padding = 0; }
  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  for (int b = 0; b < batch_size; b++)
    for (int porow = 0; porow < pool_out_row_dim; porow++)
      for (int pocol = 0; pocol < pool_out_col_dim; pocol++)
        for (int ch = 0; ch < channels; ch++) {
          elem_t running_max = 0;
          bool initialized = false;
          for (int pwrow = 0; pwrow < pool_size; pwrow++)
            for (int pwcol = 0; pwcol < pool_size; pwcol++) {
              const int orow = porow * pool_stride + pwrow - pool_padding;
              const int ocol = pocol * pool_stride + pwcol - pool_padding;
              elem_t v = 0;
              if (!(orow < 0 || orow >= out_row_dim || ocol < 0 || ocol >= out_col_dim)) {
                acc_t opixel = bias == NULL ? 0 : bias[ch];
                for (int krow = 0; krow < kernel_dim; krow++)
                  for (int kcol = 0; kcol < kernel_dim; kcol++) {
                    const int irow = orow * stride + krow - padding;
                    const int icol = ocol * stride + kcol - padding;
                    const elem_t ipixel = irow < 0 || irow >= in_row_dim || icol < 0 || icol >= in_col_dim ? 0 :
                        input[(b * in_row_dim * in_col_dim + irow * in_col_dim + icol) * channels + ch];
                    opixel += weights[(ch * kernel_dim + krow) * kernel_dim + kcol] * ipixel;
                  }
                v = scale_and_sat(opixel, act, scale, 0);
              }
              if (!initialized || v > running_max) { running_max = v; initialized = true; }
            }
          output[(b * pool_out_row_dim * pool_out_col_dim + porow * pool_out_col_dim + pocol) * channels + ch] = running_max;
        }
}

// Geometry of one conv tile: clipped tile sizes and the padding at the image edges.
typedef struct {
  int batches, porows, pocols, krows, kcols;
  int plpad, prpad, pupad, pdpad, lpad, rpad, upad, dpad;
  int irows, icols;  // input rows/cols the tile reads, padding included
} gemmini_conv_tile_t;

static inline gemmini_conv_tile_t gemmini_conv_tile(
    int b, int porow, int pocol, int krow, int kcol, int orow, int ocol, int irow, int icol,
    int batch_size, int batches, int pool_out_row_dim, int porows, int pool_out_col_dim, int pocols,
    int kernel_dim, int krows, int kcols, int pool_size, int pool_stride, int stride,
    int kernel_dilation, int out_row_dim, int out_col_dim, int in_row_dim, int in_col_dim) {
  gemmini_conv_tile_t t;
  t.batches = batch_size - b > batches ? batches : batch_size - b;
  t.porows = pool_out_row_dim - porow > porows ? porows : pool_out_row_dim - porow;
  t.pocols = pool_out_col_dim - pocol > pocols ? pocols : pool_out_col_dim - pocol;
  t.krows = kernel_dim - krow > krows ? krows : kernel_dim - krow;
  t.kcols = kernel_dim - kcol > kcols ? kcols : kernel_dim - kcol;
  const int ocols_ = t.pocols * pool_stride + pool_size - 1;
  const int orows_ = t.porows * pool_stride + pool_size - 1;
  t.plpad = ocol < 0 ? -ocol : 0;
  t.prpad = ocol + ocols_ > out_col_dim ? ocol + ocols_ - out_col_dim : 0;
  t.pupad = orow < 0 ? -orow : 0;
  t.pdpad = orow + orows_ > out_row_dim ? orow + orows_ - out_row_dim : 0;
  const int dilated_krows_ = t.krows + (kernel_dilation - 1) * (t.krows - 1);
  const int dilated_kcols_ = t.kcols + (kernel_dilation - 1) * (t.kcols - 1);
  const int icols_ = (ocols_ - t.plpad - t.prpad) * stride + dilated_kcols_ - 1;
  const int irows_ = (orows_ - t.pupad - t.pdpad) * stride + dilated_krows_ - 1;
  t.lpad = icol < 0 ? -icol : 0;
  t.rpad = icol + icols_ > in_col_dim ? icol + icols_ - in_col_dim : 0;
  t.upad = irow < 0 ? -irow : 0;
  t.dpad = irow + irows_ > in_row_dim ? irow + irows_ - in_row_dim : 0;
  t.irows = irows_;
  t.icols = icols_;
  return t;
}

static inline void tiled_conv(
        int batch_size,
        int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        int in_stride, int weight_stride, int out_stride,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        int batches,
        int porows, int pocols, int pochs,
        int krows, int kcols, int kchs,
        const elem_t * input,
        const elem_t * weights,
        const acc_t * bias,
        elem_t * output,
        int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
  gemmini_check_activation(act);
  if (trans_weight_1203 && trans_weight_0132) {
    printf("Only one weight transformation can be applied at a time\n");
    exit(1);
  }
  if (tiled_conv_type == CPU) {
    if (pool_size == 1 && pool_stride == 1 && pool_padding == 0) pool_stride = 0;
    conv_cpu(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
        out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim,
        in_stride, weight_stride, out_stride, wrot180, trans_output_1203, trans_input_3120,
        trans_weight_1203, trans_weight_0132, input, weights, bias, output, act, scale,
        pool_size, pool_stride, pool_padding);
    return;
  } else if (tiled_conv_type == OS) {
    printf("Gemmini convs do not currently support OS\n");
    exit(1);
  }

  bool no_bias = false;
  if (bias == NULL) { bias = (const acc_t *)1; no_bias = true; }  // dummy: bias rows are zeros
  const bool no_pool = pool_stride == 0;
  if (no_pool) { pool_size = 1; pool_stride = 1; pool_padding = 0; }

  const bool downsample = stride == 2 && kernel_dim == 1 && in_row_dim % 2 == 0 &&
      in_col_dim % 2 == 0 && padding == 0 && no_pool && input_dilation == 1 && !trans_input_3120;
  const int input_dilated = input_dilation == 2;

  {
    const int spad_rows = tiled_conv_total_spad_rows(false, stride, input_dilation,
        kernel_dilation, downsample, trans_weight_0132, trans_input_3120,
        batches, porows, pocols, pochs, krows, kcols, kchs, pool_size, pool_stride);
    const int acc_rows = tiled_conv_total_spad_rows(true, stride, input_dilation,
        kernel_dilation, downsample, trans_weight_0132, trans_input_3120,
        batches, porows, pocols, pochs, krows, kcols, kchs, pool_size, pool_stride);
    if (spad_rows > BANK_NUM * BANK_ROWS / 2) {
      printf("not enough scratchpad space to store inputs and weights, %d\n", spad_rows);
      exit(1);
    }
    if (acc_rows > ACC_ROWS / 2) { printf("not enough accumulator space to store outputs\n"); exit(1); }
    if (kernel_dim <= padding) { printf("kernel_dim must be larger than padding\n"); exit(1); }
    if (input_dilation > 2) { printf("input_dilation > 2 is only supported on CPU\n"); exit(1); }
    if (input_dilation > 1 && stride > 1) {
      printf("input input_dilation is only supported when stride == 1\n");
      exit(1);
    }
    if (trans_output_1203 && !no_pool) {
      printf("Output can only be transposed when pooling is disabled\n");
      exit(1);
    }
    if (trans_input_3120 && trans_weight_0132) {
      printf("Cannot transpose innermost dimensions of both inputs and weights on WS.\n");
      exit(1);
    }
  }

  const size_t st_dram_stride = trans_output_1203 ?
      batch_size * out_channels * sizeof(elem_t) : out_stride * sizeof(elem_t);
  gemmini_extended_config_st(st_dram_stride, act, scale);
  gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, 0, input_dilation, stride >> downsample,
      trans_input_3120, trans_weight_0132, false);

  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int dilated_in_row_dim = in_row_dim + (input_dilation - 1) * (in_row_dim - 1);
  const int dilated_in_col_dim = in_col_dim + (input_dilation - 1) * (in_col_dim - 1);

  // keep inputs or weights resident when they have at most two tiles
  int a_spad_id = 0, b_spad_id = 0;
  const int num_kch = ceil_divide_int(in_channels, kchs), num_poch = ceil_divide_int(out_channels, pochs);
  const int num_b = ceil_divide_int(batch_size, batches), num_porow = ceil_divide_int(pool_out_row_dim, porows);
  const int num_pocol = ceil_divide_int(pool_out_col_dim, pocols);
  const int num_krow = ceil_divide_int(kernel_dim, krows), num_kcol = ceil_divide_int(kernel_dim, kcols);
  const bool b_reuse = num_kch * num_poch * num_krow * num_kcol <= 2;
  const bool a_reuse = num_kch * num_krow * num_kcol * num_b * num_porow * num_pocol <= 2;

  for (int b = 0; b < batch_size; b += batches)
    for (int porow = 0; porow < pool_out_row_dim; porow += porows) {
      const int orow = porow * pool_stride - pool_padding;
      for (int pocol = 0; pocol < pool_out_col_dim; pocol += pocols) {
        const int ocol = pocol * pool_stride - pool_padding;
        for (int poch = 0; poch < out_channels; poch += pochs)
          for (int krow = 0; krow < kernel_dim; krow += krows) {
            const int orow_floored = orow < 0 ? 0 : orow;
            const int irow = orow_floored * stride + krow * kernel_dilation - padding;
            for (int kcol = 0; kcol < kernel_dim; kcol += kcols) {
              const int ocol_floored = ocol < 0 ? 0 : ocol;
              const int icol = ocol_floored * stride + kcol * kernel_dilation - padding;
              for (int kch = 0; kch < in_channels; kch += kchs) {
                if (a_reuse) a_spad_id = (kch + krow + kcol + b + porow + pocol) == 0 ? 1 : 2;
                if (b_reuse) b_spad_id = (kch + poch + krow + kcol) == 0 ? 1 : 2;

                elem_t * out = trans_output_1203
                    ? output + (porow * pool_out_col_dim * batch_size + pocol * batch_size + b) * out_channels + poch
                    : output + (b * pool_out_row_dim * pool_out_col_dim + porow * pool_out_col_dim + pocol) * out_stride + poch;
                if (krow + krows < kernel_dim || kcol + kcols < kernel_dim || kch + kchs < in_channels)
                  out = NULL;  // partial sums stay in the accumulator
                const acc_t * bias_ = bias + poch;
                if (krow > 0 || kcol > 0 || kch > 0) bias_ = NULL;

                const gemmini_conv_tile_t t = gemmini_conv_tile(b, porow, pocol, krow, kcol,
                    orow, ocol, irow, icol, batch_size, batches, pool_out_row_dim, porows,
                    pool_out_col_dim, pocols, kernel_dim, krows, kcols, pool_size, pool_stride,
                    stride, kernel_dilation, out_row_dim, out_col_dim, dilated_in_row_dim,
                    dilated_in_col_dim);
                const int pochs_ = out_channels - poch > pochs ? pochs : out_channels - poch;
                const int kchs_ = in_channels - kch > kchs ? kchs : in_channels - kch;
                int lpad = t.lpad, rpad = t.rpad, upad = t.upad, dpad = t.dpad;
                if (input_dilated) {
                  lpad += lpad == 0 && icol % 2 != 0;
                  rpad += rpad == 0 && (icol + t.icols) % 2 != 1;
                  upad += upad == 0 && irow % 2 != 0;
                  dpad += dpad == 0 && (irow + t.irows) % 2 != 1;
                }

                int krow_ = krow, kcol_ = kcol;
                if (wrot180) { krow_ = kernel_dim - krow - t.krows; kcol_ = kernel_dim - kcol - t.kcols; }

                const elem_t * weights_slice = trans_weight_1203
                    ? weights + (kch * kernel_dim * kernel_dim + krow_ * kernel_dim + kcol_) * out_channels + poch
                    : trans_weight_0132
                    ? weights + (krow_ * kernel_dim * out_channels + kcol_ * out_channels + poch) * in_channels + kch
                    : weights + (krow_ * kernel_dim * in_channels + kcol_ * in_channels + kch) * weight_stride + poch;
                const elem_t * in = trans_input_3120
                    ? input + (kch * in_row_dim * in_col_dim + ((irow + upad) >> input_dilated) * in_col_dim + ((icol + lpad) >> input_dilated)) * batch_size + b
                    : input + (b * in_row_dim * in_col_dim + ((irow + upad) >> input_dilated) * in_col_dim + ((icol + lpad) >> input_dilated)) * in_stride + kch;
                if (b_reuse && (pocol + porow + b > 0)) weights_slice = NULL;
                if (a_reuse && poch > 0) in = NULL;

                sp_tiled_conv(batch_size, in_row_dim, in_col_dim, in_channels,
                    out_channels, out_row_dim, out_col_dim, pool_out_row_dim, pool_out_col_dim,
                    stride, padding, kernel_dim, kernel_dilation, in_stride, weight_stride, out_stride,
                    pool_size, pool_stride, pool_padding,
                    t.batches, t.porows, t.pocols, pochs_, t.krows, t.kcols, kchs_,
                    lpad, rpad, upad, dpad, t.plpad, t.prpad, t.pupad, t.pdpad,
                    in, weights_slice, out, bias_, act, scale,
                    wrot180, trans_output_1203, trans_input_3120, trans_weight_1203, trans_weight_0132,
                    no_bias, no_pool, downsample, input_dilated, false, a_spad_id, b_spad_id);
              }
            }
          }
      }
    }
  gemmini_fence();
}

static inline void tiled_conv_dw(
    int batch_size, int in_row_dim, int in_col_dim,
    int channels, int out_row_dim, int out_col_dim,
    int stride, int padding, int kernel_dim,
    int batches,
    int porows, int pocols,
    int krows, int kcols,
    const elem_t * input,
    const elem_t * weights,
    const acc_t * bias,
    elem_t * output,
    int act, acc_scale_t scale,
    int pool_size, int pool_stride, int pool_padding,
    enum tiled_matmul_type_t tiled_conv_type) {
  gemmini_check_activation(act);
  if (tiled_conv_type == CPU) {
    if (pool_size == 1 && pool_stride == 1 && pool_padding == 0) pool_stride = 0;
    conv_dw_cpu(batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim,
        stride, padding, kernel_dim, input, weights, bias, output, act, scale,
        pool_size, pool_stride, pool_padding);
    return;
  } else if (tiled_conv_type == OS) {
    printf("Gemmini convs do not currently support OS\n");
    exit(1);
  }
  bool no_bias = false;
  if (bias == NULL) { bias = (const acc_t *)1; no_bias = true; }
  const bool no_pool = pool_stride == 0;
  if (no_pool) { pool_size = 1; pool_stride = 1; pool_padding = 0; }
  if (kernel_dim <= padding) { printf("kernel_dim must be larger than padding\n"); exit(1); }

  gemmini_extended_config_st(channels * sizeof(elem_t), act, scale);
  gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, 0, 1, stride, false, false, false);

  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;

  for (int b = 0; b < batch_size; b += batches)
    for (int porow = 0; porow < pool_out_row_dim; porow += porows) {
      const int orow = porow * pool_stride - pool_padding;
      for (int pocol = 0; pocol < pool_out_col_dim; pocol += pocols) {
        const int ocol = pocol * pool_stride - pool_padding;
        for (int ch = 0; ch < channels; ch++)
          for (int krow = 0; krow < kernel_dim; krow += krows) {
            const int orow_floored = orow < 0 ? 0 : orow;
            const int irow = orow_floored * stride + krow - padding;
            for (int kcol = 0; kcol < kernel_dim; kcol += kcols) {
              const int ocol_floored = ocol < 0 ? 0 : ocol;
              const int icol = ocol_floored * stride + kcol - padding;
              elem_t * out = output + (b * pool_out_row_dim * pool_out_col_dim + porow * pool_out_col_dim + pocol) * channels + ch;
              if (krow + krows < kernel_dim || kcol + kcols < kernel_dim) out = NULL;
              const acc_t * bias_ = bias + ch;
              if (krow > 0 || kcol > 0) bias_ = NULL;

              const gemmini_conv_tile_t t = gemmini_conv_tile(b, porow, pocol, krow, kcol,
                  orow, ocol, irow, icol, batch_size, batches, pool_out_row_dim, porows,
                  pool_out_col_dim, pocols, kernel_dim, krows, kcols, pool_size, pool_stride,
                  stride, 1, out_row_dim, out_col_dim, in_row_dim, in_col_dim);
              const elem_t * weights_slice = weights + (ch * kernel_dim + krow) * kernel_dim + kcol;
              const elem_t * in = input + (b * in_row_dim * in_col_dim + (irow + t.upad) * in_col_dim + (icol + t.lpad)) * channels + ch;

              sp_tiled_conv(batch_size, in_row_dim, in_col_dim, channels,
                  channels, out_row_dim, out_col_dim, pool_out_row_dim, pool_out_col_dim,
                  stride, padding, kernel_dim, 1, channels, 1, channels,
                  pool_size, pool_stride, pool_padding,
                  t.batches, t.porows, t.pocols, 1, t.krows, t.kcols, 1,
                  t.lpad, t.rpad, t.upad, t.dpad, t.plpad, t.prpad, t.pupad, t.pdpad,
                  in, weights_slice, out, bias_, act, scale,
                  false, false, false, false, false,
                  no_bias, no_pool, false, false, true, 0, 0);
            }
          }
      }
    }
  gemmini_fence();
}

// Tile sizes for a convolution: shrink the largest factor until a tile fits half the
// scratchpad and accumulator (double buffering), then grow factors while they still fit.
// args = {batches, porows, pocols, pochs, krows, kcols, kchs}
static inline void gemmini_conv_tile_sizes(int args[7], const int max_args[7],
        int stride, int input_dilation, int kernel_dilation, bool downsample,
        bool trans_weight_0132, bool trans_input_3120, int pool_size, int pool_stride) {
  const int orows_idx = 1, ocols_idx = 2, out_channels_idx = 3, in_channels_idx = 6;
  const int max_spad_rows = BANK_NUM * BANK_ROWS / 2, max_acc_rows = ACC_ROWS / 2;
#define GEMMINI_CONV_ROWS(acc, a) tiled_conv_total_spad_rows(acc, stride, input_dilation, \
    kernel_dilation, downsample, trans_weight_0132, trans_input_3120, \
    a[0], a[1], a[2], a[3], a[4], a[5], a[6], pool_size, pool_stride)
  while (GEMMINI_CONV_ROWS(false, args) > max_spad_rows || GEMMINI_CONV_ROWS(true, args) > max_acc_rows) {
    int max_val = -1, max_idx = -1;
    for (int i = 0; i < 7; i++)
      // avoid reducing ocols when possible, to keep the array fully utilized
      if (!(i == ocols_idx && args[i] <= DIM && args[orows_idx] > 1) && args[i] > max_val) {
        max_val = args[i];
        max_idx = i;
      }
    if (max_idx == out_channels_idx || max_idx == in_channels_idx) {
      // channels shrink in steps of DIM
      if (args[max_idx] % DIM != 0) args[max_idx] = (args[max_idx] / DIM) * DIM;
      else args[max_idx] -= DIM;
      args[max_idx] = args[max_idx] == 0 ? 1 : args[max_idx];
    } else {
      args[max_idx]--;
    }
  }
  bool increased = true;
  while (increased) {  // first try to grow ocols
    increased = false;
    int cand[7];
    for (int i = 0; i < 7; i++) cand[i] = args[i];
    cand[ocols_idx]++;
    if (cand[ocols_idx] > max_args[ocols_idx]) break;
    if (GEMMINI_CONV_ROWS(false, cand) <= max_spad_rows && GEMMINI_CONV_ROWS(true, cand) <= max_acc_rows) {
      args[ocols_idx] = cand[ocols_idx];
      increased = true;
    }
  }
  increased = true;
  while (increased) {  // then any factor that still fits
    increased = false;
    for (int i = 0; i < 7; i++) {
      int cand[7];
      for (int j = 0; j < 7; j++) cand[j] = args[j];
      cand[i]++;
      if (cand[i] > max_args[i]) continue;
      if (GEMMINI_CONV_ROWS(false, cand) <= max_spad_rows && GEMMINI_CONV_ROWS(true, cand) <= max_acc_rows) {
        args[i] = cand[i];
        increased = true;
      }
    }
  }
#undef GEMMINI_CONV_ROWS
}

static inline void tiled_conv_stride_auto(
        int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        int in_stride, int weight_stride, int out_stride,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        const elem_t * input,
        const elem_t * weights,
        const acc_t * bias,
        elem_t * output,
        int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
  const bool no_pool = pool_stride == 0;
  if (no_pool) { pool_size = 1; pool_stride = 1; pool_padding = 0; }
  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const bool downsample = stride == 2 && kernel_dim == 1 && padding == 0 && no_pool &&
      in_row_dim % 2 == 0 && in_col_dim % 2 == 0;

  int args[7] = {batch_size, pool_out_row_dim, pool_out_col_dim, out_channels, kernel_dim, kernel_dim, in_channels};
  const int max_args[7] = {batch_size, pool_out_row_dim, pool_out_col_dim, out_channels, kernel_dim, kernel_dim, in_channels};
  gemmini_conv_tile_sizes(args, max_args, stride, input_dilation, kernel_dilation, downsample,
      trans_weight_0132, trans_input_3120, pool_size, pool_stride);

  tiled_conv(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim,
      out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim,
      in_stride, weight_stride, out_stride,
      wrot180, trans_output_1203, trans_input_3120, trans_weight_1203, trans_weight_0132,
      args[0], args[1], args[2], args[3], args[4], args[5], args[6],
      input, weights, bias, output, act, scale,
      pool_size, no_pool ? 0 : pool_stride, pool_padding, tiled_conv_type);
}

_STATIC void tiled_conv_auto(
        int batch_size, int in_row_dim, int in_col_dim, int in_channels,
        int out_channels, int out_row_dim, int out_col_dim,
        int stride, int input_dilation, int kernel_dilation, int padding, int kernel_dim,
        bool wrot180, bool trans_output_1203, bool trans_input_3120,
        bool trans_weight_1203, bool trans_weight_0132,
        const elem_t * input,
        const elem_t * weights,
        const acc_t * bias,
        elem_t * output,
        int act, acc_scale_t scale,
        int pool_size, int pool_stride, int pool_padding,
        enum tiled_matmul_type_t tiled_conv_type) {
  tiled_conv_stride_auto(batch_size, in_row_dim, in_col_dim, in_channels, out_channels,
      out_row_dim, out_col_dim, stride, input_dilation, kernel_dilation, padding, kernel_dim,
      in_channels, out_channels, out_channels,
      wrot180, trans_output_1203, trans_input_3120, trans_weight_1203, trans_weight_0132,
      input, weights, bias, output, act, scale, pool_size, pool_stride, pool_padding,
      tiled_conv_type);
}

// depthwise convolution (MobileNet): weights [channels][kernel_dim][kernel_dim]
_STATIC void tiled_conv_dw_auto(
    int batch_size, int in_row_dim, int in_col_dim,
    int channels, int out_row_dim, int out_col_dim,
    int stride, int padding, int kernel_dim,
    elem_t * input,
    elem_t * weights,
    acc_t * bias,
    elem_t * output,
    int act, acc_scale_t scale,
    int pool_size, int pool_stride, int pool_padding,
    enum tiled_matmul_type_t tiled_conv_type) {
  const bool no_pool = pool_stride == 0;
  if (no_pool) { pool_size = 1; pool_stride = 1; pool_padding = 0; }
  const int pool_out_row_dim = (out_row_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  const int pool_out_col_dim = (out_col_dim + 2 * pool_padding - pool_size) / pool_stride + 1;
  int args[7] = {batch_size, pool_out_row_dim, pool_out_col_dim, 1, kernel_dim, kernel_dim, 1};
  const int max_args[7] = {batch_size, pool_out_row_dim, pool_out_col_dim, 1, kernel_dim, kernel_dim, 1};
  gemmini_conv_tile_sizes(args, max_args, stride, 1, 1, false, false, false, pool_size, pool_stride);
  tiled_conv_dw(batch_size, in_row_dim, in_col_dim, channels, out_row_dim, out_col_dim,
      stride, padding, kernel_dim, args[0], args[1], args[2], args[4], args[5],
      input, weights, bias, output, act, scale,
      pool_size, no_pool ? 0 : pool_stride, pool_padding, tiled_conv_type);
}

#endif // GEMMINI_LIB_CONV_H
