// tiled_matmul_auto on ragged sizes in WS and OS against matmul_cpu, with bias, scale, ReLU.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define MAX_I 100
#define MAX_J 90
#define MAX_K 120

static elem_t A[MAX_I][MAX_K], B[MAX_K][MAX_J], C[MAX_I][MAX_J], gold[MAX_I][MAX_J];
static acc_t D[MAX_I][MAX_J];

int main() {
  const size_t sizes[][3] = {{16, 16, 16}, {MAX_I, MAX_J, MAX_K}, {33, 17, 65}, {1, 90, 7}};
  for (size_t i = 0; i < MAX_I; i++)
    for (size_t k = 0; k < MAX_K; k++) A[i][k] = (elem_t)(rand() % 16 - 8);
  for (size_t k = 0; k < MAX_K; k++)
    for (size_t j = 0; j < MAX_J; j++) B[k][j] = (elem_t)(rand() % 16 - 8);
  for (size_t i = 0; i < MAX_I; i++)
    for (size_t j = 0; j < MAX_J; j++) D[i][j] = rand() % 400 - 200;

  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    const size_t I = sizes[s][0], J = sizes[s][1], K = sizes[s][2];
    for (int type = OS; type <= WS; type++) {
      tiled_matmul_auto(I, J, K, (elem_t *)A, (elem_t *)B, (acc_t *)D, (elem_t *)gold,
          MAX_K, MAX_J, MAX_J, MAX_J, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
          MVIN_SCALE_IDENTITY, RELU, 0.05, 0, false, false, false, false, false, 0, CPU);
      const uint64_t start = read_cycles();
      tiled_matmul_auto(I, J, K, (elem_t *)A, (elem_t *)B, (acc_t *)D, (elem_t *)C,
          MAX_K, MAX_J, MAX_J, MAX_J, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
          MVIN_SCALE_IDENTITY, RELU, 0.05, 0, false, false, false, false, false, 0, type);
      const uint64_t end = read_cycles();
      for (size_t i = 0; i < I; i++)
        for (size_t j = 0; j < J; j++)
          if (C[i][j] != gold[i][j]) {
            printf("%s %zux%zux%zu: C[%zu][%zu] = %d, expected %d\n", type == WS ? "WS" : "OS",
                   I, J, K, i, j, C[i][j], gold[i][j]);
            exit(1);
          }
      if (end <= start) {
        printf("read_cycles did not advance\n");
        exit(1);
      }
      printf("%s %zux%zux%zu: %llu cycles\n", type == WS ? "WS" : "OS", I, J, K,
             (unsigned long long)(end - start));
    }
  }
  return 0;
}
