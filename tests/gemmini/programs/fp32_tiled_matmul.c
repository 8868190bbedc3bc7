// Build with the fp32 config: float tiled matmul in both dataflows against matmul_cpu.
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#ifndef ELEM_T_IS_FLOAT
#error "build this program with gemmini-cc --config fp32"
#endif

#define I 37
#define J 22
#define K 51

static elem_t A[I][K], B[K][J], C[I][J], gold[I][J];
static acc_t D[I][J];

int main() {
  // small integers: every partial sum is exact, so any summation order agrees
  for (int i = 0; i < I; i++) for (int k = 0; k < K; k++) A[i][k] = rand() % 9 - 4;
  for (int k = 0; k < K; k++) for (int j = 0; j < J; j++) B[k][j] = rand() % 9 - 4;
  for (int i = 0; i < I; i++) for (int j = 0; j < J; j++) D[i][j] = rand() % 21 - 10;
  for (int type = OS; type <= CPU; type++) {
    tiled_matmul_auto(I, J, K, (elem_t *)A, (elem_t *)B, (acc_t *)D,
        type == CPU ? (elem_t *)gold : (elem_t *)C, K, J, J, J, MVIN_SCALE_IDENTITY,
        MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION, 0.5, 0, false, false, false,
        false, false, 0, (enum tiled_matmul_type_t)type);
    if (type == CPU) break;
    tiled_matmul_auto(I, J, K, (elem_t *)A, (elem_t *)B, (acc_t *)D, (elem_t *)gold, K, J, J, J,
        MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, NO_ACTIVATION, 0.5, 0,
        false, false, false, false, false, 0, CPU);
    for (int i = 0; i < I; i++)
      for (int j = 0; j < J; j++)
        if (C[i][j] != gold[i][j]) { printf("fp32 mismatch at %d,%d\n", i, j); exit(1); }
  }
  printf("fp32_tiled_matmul: ok\n");
  return 0;
}
