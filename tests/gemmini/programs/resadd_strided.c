// tiled_resadd_stride_auto on rows padded beyond the matrix width, against the strided
// resadd_cpu; the packed (stride-less) resadd_cpu still agrees on packed rows.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define I 45
#define J 37
#define STRIDE (J + 11)

static elem_t A[I][STRIDE], B[I][STRIDE], C[I][STRIDE], gold[I][STRIDE];
static elem_t packed_A[I][J], packed_B[I][J], packed_gold[I][J];

int main() {
  for (int i = 0; i < I; i++)
    for (int j = 0; j < STRIDE; j++) {
      A[i][j] = rand() % 64 - 32; B[i][j] = rand() % 16 - 8;
      C[i][j] = gold[i][j] = 77;  // the padding must stay as it is
    }
  resadd_cpu(I, J, STRIDE, 2.0, 0.5, 0.75, (elem_t *)A, (elem_t *)B, (elem_t *)gold, true);
  tiled_resadd_stride_auto(I, J, 2.0, 0.5, 0.75, STRIDE, (elem_t *)A, (elem_t *)B, (elem_t *)C, true, WS);
  for (int i = 0; i < I; i++)
    for (int j = 0; j < STRIDE; j++)
      if (C[i][j] != gold[i][j]) {
        printf("C[%d][%d] = %d, expected %d\n", i, j, C[i][j], gold[i][j]);
        exit(1);
      }
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++) { packed_A[i][j] = A[i][j]; packed_B[i][j] = B[i][j]; }
  resadd_cpu(I, J, 2.0, 0.5, 0.75, (elem_t *)packed_A, (elem_t *)packed_B, (elem_t *)packed_gold, true);
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++)
      if (packed_gold[i][j] != gold[i][j]) {
        printf("packed resadd_cpu differs at [%d][%d]\n", i, j);
        exit(1);
      }
  exit(0);
}
