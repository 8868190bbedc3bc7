// tiled_resadd_auto against resadd_cpu; tiled_global_average_auto against the scaled sum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define I 70
#define J 50
#define BATCHES 3
#define CHANNELS 40
#define AVG_DIM 5

static elem_t A[I][J], B[I][J], C[I][J], gold[I][J];
static elem_t x[BATCHES][AVG_DIM][AVG_DIM][CHANNELS], avg[BATCHES][CHANNELS];

int main() {
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++) { A[i][j] = rand() % 256 - 128; B[i][j] = rand() % 256 - 128; }
  resadd_cpu(I, J, 0.5, 2.0, 0.75, (elem_t *)A, (elem_t *)B, (elem_t *)gold, true);
  tiled_resadd_auto(I, J, 0.5, 2.0, 0.75, (elem_t *)A, (elem_t *)B, (elem_t *)C, true, WS);
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++)
      if (C[i][j] != gold[i][j]) { printf("resadd mismatch at %d,%d\n", i, j); exit(1); }

  for (size_t i = 0; i < sizeof(x); i++) ((elem_t *)x)[i] = rand() % 256 - 128;
  tiled_global_average_auto((elem_t *)x, (elem_t *)avg, BATCHES, CHANNELS, AVG_DIM, WS);
  for (int b = 0; b < BATCHES; b++)
    for (int c = 0; c < CHANNELS; c++) {
      acc_t sum = 0;
      for (int p = 0; p < AVG_DIM * AVG_DIM; p++) sum += x[b][p / AVG_DIM][p % AVG_DIM][c];
      // the accelerator scales the sum by 1/(dim*dim) with Gemmini's rounding
      const elem_t want = ACC_SCALE(sum, (acc_scale_t)(1.0 / (AVG_DIM * AVG_DIM)));
      if (avg[b][c] != want) { printf("average mismatch at %d,%d\n", b, c); exit(1); }
    }
  printf("resadd_and_average: ok\n");
  return 0;
}
