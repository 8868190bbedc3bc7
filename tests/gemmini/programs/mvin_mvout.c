// Move random matrices into the scratchpad and back out, at several addresses.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define N 8

int main() {
  gemmini_flush(0);
  gemmini_config_ld(DIM * sizeof(elem_t));
  gemmini_config_st(DIM * sizeof(elem_t));

  static elem_t in[N][DIM][DIM], out[N][DIM][DIM];
  for (int n = 0; n < N; n++)
    for (int i = 0; i < DIM; i++)
      for (int j = 0; j < DIM; j++)
        in[n][i][j] = (elem_t)(rand() % 256 - 128);

  for (int n = 0; n < N; n++) {
    const uint32_t addr = n * (BANK_ROWS / 2);  // spread over the banks
    gemmini_mvin(in[n], addr);
    gemmini_mvout(out[n], addr);
  }
  gemmini_fence();

  for (int n = 0; n < N; n++)
    if (!is_equal(in[n], out[n])) {
      printf("Matrix %d mismatch:\n", n);
      printMatrix(in[n]);
      printMatrix(out[n]);
      exit(1);
    }
  printf("mvin_mvout: ok\n");
  return 0;
}
