// One whole 3x3 convolution (padding 1, stride 1, NHWC, 16 channels in and out) as a single
// loop_conv_ws instruction, the way tiled_conv issues one per tile.
#include "include/gemmini.h"

#define R 8
#define CH 16

void loop_conv(const elem_t *input, const elem_t *weights, const acc_t *bias, elem_t *output,
               float scale) {
  gemmini_extended_config_st(CH * sizeof(elem_t), NO_ACTIVATION, scale);
  gemmini_extended3_config_ex(WEIGHT_STATIONARY, 0, 0, 0, 1, 1, false, false, false);
  gemmini_loop_conv_ws(1, R, R, CH, CH, R, R, R, R, 1, 1, 3, 1, 1, 1, 0,
      1, R, R, CH, 3, 3, CH,          // batches, porows, pocols, pochs, krows, kcols, kchs
      1, 1, 1, 1, 0, 0, 0, 0,         // lpad, rpad, upad, dpad, plpad, prpad, pupad, pdpad
      R, R,                           // orows, ocols
      weights, output, bias, input,
      false, true, false, false, false, NO_ACTIVATION, false, false, false, false,
      1, CH, CH, CH, false, 0, 0);
  gemmini_fence();
}
