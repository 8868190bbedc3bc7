// OS with A (and A and B) transposed, accumulating in the array onto an earlier product:
// checked against testutils' full-width transposed references. The config_ex line has no ';'
// on purpose: Gemmini's macros are statements and its own tests write them that way.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

static void random_matrix(elem_t m[DIM][DIM]) {
  for (int i = 0; i < DIM; i++)
    for (int j = 0; j < DIM; j++) m[i][j] = (elem_t)(rand() % 16 - 8);
}

int main() {
  static elem_t A1[DIM][DIM], B1[DIM][DIM], A2[DIM][DIM], B2[DIM][DIM], C[DIM][DIM], gold[DIM][DIM];
  static elem_t zero[DIM][DIM];
  static full_t first[DIM][DIM], both[DIM][DIM];
  gemmini_flush(0);
  gemmini_config_ld(DIM * sizeof(elem_t));
  gemmini_config_st(DIM * sizeof(elem_t));
  for (int bt = 0; bt <= 1; bt++) {
    random_matrix(A1); random_matrix(B1); random_matrix(A2); random_matrix(B2);
    if (bt) {
      matmul_AB_transposed(A1, B1, zero, first);
      matmul_full_AB_transposed(A2, B2, first, both);
    } else {
      matmul_A_transposed(A1, B1, zero, first);
      matmul_full_A_transposed(A2, B2, first, both);
    }
    matshift(both, gold, 0);
    gemmini_mvin(A1, 0);
    gemmini_mvin(B1, DIM);
    gemmini_mvin(A2, 2 * DIM);
    gemmini_mvin(B2, 3 * DIM);
    gemmini_extended_config_ex(OUTPUT_STATIONARY, NO_ACTIVATION, 0, 1, true, bt)
    gemmini_preload_zeros(GARBAGE_ADDR);
    gemmini_compute_preloaded(0, DIM);
    gemmini_preload_zeros(4 * DIM);
    gemmini_compute_accumulated(2 * DIM, 3 * DIM);
    gemmini_mvout(C, 4 * DIM);
    gemmini_fence();
    if (!is_equal(C, gold)) {
      printf("B_transpose=%d: C differs from the reference\n", bt);
      printMatrix(C);
      printMatrix(gold);
      exit(1);
    }
  }
  exit(0);
}
