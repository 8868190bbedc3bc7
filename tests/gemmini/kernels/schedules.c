// Two schedules of one int8 matmul (C = saturate(A * B), n x n, n a multiple of DIM): the
// library's tiles, which keep operands in the scratchpad and reuse them, and one that loads
// both operand tiles again for every single tile product, so it moves n/DIM times the bytes.
#include "include/gemmini.h"

void matmul_reuse(const elem_t *A, const elem_t *B, elem_t *C, int n) {
  tiled_matmul_auto(n, n, n, A, B, NULL, C, n, n, n, n, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      MVIN_SCALE_IDENTITY, NO_ACTIVATION, ACC_SCALE_IDENTITY, 0, false, false, false, false,
      false, 0, WS);
}

void matmul_streaming(const elem_t *A, const elem_t *B, elem_t *C, int n) {
  const uint32_t acc = 1u << 31, accumulate = 1u << 30;
  gemmini_config_ex(WEIGHT_STATIONARY, NO_ACTIVATION, 0);
  gemmini_config_ld(n * sizeof(elem_t));
  gemmini_config_st(n * sizeof(elem_t));
  for (int i = 0; i < n; i += DIM)
    for (int j = 0; j < n; j += DIM) {
      const uint32_t c = acc + (uint32_t)(((i / DIM + j / DIM) % 2) * DIM);
      for (int k = 0; k < n; k += DIM) {
        const uint32_t a_sp = (uint32_t)((k / DIM % 4) * 2 * DIM), b_sp = a_sp + DIM;
        gemmini_mvin(A + i * n + k, a_sp);
        gemmini_mvin(B + k * n + j, b_sp);
        gemmini_preload(b_sp, k == 0 ? c : (c | accumulate));
        gemmini_compute_preloaded(a_sp, GARBAGE_ADDR);
      }
      gemmini_mvout(C + i * n + j, c);
    }
  gemmini_fence();
}
