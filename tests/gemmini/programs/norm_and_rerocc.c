// tiled_norm_auto with the activations this runtime has (int32 in, scaled int8 out) against
// its CPU form; the single-accelerator ReRoCC calls Gemmini's newer tests make.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#ifdef HAS_NORMALIZATIONS
#error "no config of this runtime has Gemmini's normalization unit"
#endif

#define I 37
#define J 70

static acc_t A[I][J];
static elem_t C[I][J], gold[I][J];

int main() {
  if (!rr_acquire_single(0, 0) || rr_acquire_single(0, 1)) {
    printf("accelerator 0 must be the only one\n");
    exit(1);
  }
  rr_set_opc(XCUSTOM_ACC, 0);
  for (int i = 0; i < I; i++)
    for (int j = 0; j < J; j++) A[i][j] = rand() % 2001 - 1000;
  for (int act = NO_ACTIVATION; act <= RELU; act++) {
    tiled_norm_auto(I, J, (acc_t *)A, (elem_t *)gold, 0.125, act, CPU);
    tiled_norm_auto(I, J, (acc_t *)A, (elem_t *)C, 0.125, act, WS);
    rr_fence(0);
    for (int i = 0; i < I; i++)
      for (int j = 0; j < J; j++)
        if (C[i][j] != gold[i][j]) {
          printf("act %d: C[%d][%d] = %d, expected %d\n", act, i, j, C[i][j], gold[i][j]);
          exit(1);
        }
  }
  rr_release(0);
  exit(0);
}
