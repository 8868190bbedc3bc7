// The kernel both benchmarks run: Gemmini's default tiled_matmul_auto schedule, int8 in
// and out, no bias, identity scale.
#include "include/gemmini.h"

void matmul(const elem_t *A, const elem_t *B, elem_t *C, int I, int J, int K, int type) {
  tiled_matmul_auto(I, J, K, A, B, NULL, C, K, J, J, J, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      MVIN_SCALE_IDENTITY, NO_ACTIVATION, ACC_SCALE_IDENTITY, 0, false, false, false, false,
      false, 0, (enum tiled_matmul_type_t)type);
}
