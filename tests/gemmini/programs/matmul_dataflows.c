// One DIM x DIM matmul in each dataflow and each allowed transpose, against testutils'
// reference matmuls; OS results are rounding-shifted into the scratchpad.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

static void random_matrix(elem_t m[DIM][DIM]) {
  for (int i = 0; i < DIM; i++)
    for (int j = 0; j < DIM; j++) m[i][j] = (elem_t)(rand() % 32 - 16);
}

int main() {
  static elem_t A[DIM][DIM], B[DIM][DIM], D[DIM][DIM], C[DIM][DIM], gold[DIM][DIM];
  static full_t full[DIM][DIM];
  const int combos[6][3] = {  // dataflow, A_transpose, B_transpose
    {WEIGHT_STATIONARY, 0, 0}, {WEIGHT_STATIONARY, 0, 1}, {WEIGHT_STATIONARY, 1, 0},
    {OUTPUT_STATIONARY, 0, 0}, {OUTPUT_STATIONARY, 1, 0}, {OUTPUT_STATIONARY, 1, 1}};
  const int shift = 3;
  gemmini_flush(0);

  for (int c = 0; c < 6; c++) {
    const int df = combos[c][0], at = combos[c][1], bt = combos[c][2];
    random_matrix(A); random_matrix(B); random_matrix(D);
    if (!at && !bt) matmul(A, B, D, full);
    else if (at && !bt) matmul_A_transposed(A, B, D, full);
    else if (!at && bt) matmul_B_transposed(A, B, D, full);
    else matmul_AB_transposed(A, B, D, full);
    matshift(full, gold, df == OUTPUT_STATIONARY ? shift : 0);
    matrelu(gold, gold);

    gemmini_extended3_config_ex(df, RELU, df == OUTPUT_STATIONARY ? shift : 0, ACC_SCALE_IDENTITY,
                                1, 1, at, bt, false);
    gemmini_config_ld(DIM * sizeof(elem_t));
    gemmini_config_st(DIM * sizeof(elem_t));
    gemmini_mvin(A, 0);
    gemmini_mvin(B, DIM);
    gemmini_mvin(D, 2 * DIM);
    if (df == WEIGHT_STATIONARY) {  // B is preloaded, D rides with the compute
      gemmini_preload(DIM, 3 * DIM);
      gemmini_compute_preloaded(0, 2 * DIM);
    } else {                        // D is preloaded into the array's accumulators
      gemmini_preload(2 * DIM, 3 * DIM);
      gemmini_compute_preloaded(0, DIM);
    }
    gemmini_mvout(C, 3 * DIM);
    gemmini_fence();

    if (!is_equal(C, gold)) {
      printf("dataflow %d A_transpose %d B_transpose %d: mismatch\n", df, at, bt);
      printMatrix(C);
      printMatrix(gold);
      exit(1);
    }
  }
  printf("matmul_dataflows: ok\n");
  return 0;
}
