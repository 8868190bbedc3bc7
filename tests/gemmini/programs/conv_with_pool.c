// tiled_conv_auto with max-pooling against the CPU reference (conv_cpu).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "include/gemmini_testutils.h"

#define BATCH_SIZE 2
#define IN_ROW_DIM 15
#define IN_COL_DIM 13
#define IN_CHANNELS 17
#define OUT_CHANNELS 21
#define KERNEL_DIM 3
#define PADDING 1
#define STRIDE 1
#define POOL_SIZE 3
#define POOL_STRIDE 2
#define POOL_PADDING 1

#define OUT_ROW_DIM ((IN_ROW_DIM + 2 * PADDING - KERNEL_DIM) / STRIDE + 1)
#define OUT_COL_DIM ((IN_COL_DIM + 2 * PADDING - KERNEL_DIM) / STRIDE + 1)
#define POOL_OUT_ROW_DIM ((OUT_ROW_DIM + 2 * POOL_PADDING - POOL_SIZE) / POOL_STRIDE + 1)
#define POOL_OUT_COL_DIM ((OUT_COL_DIM + 2 * POOL_PADDING - POOL_SIZE) / POOL_STRIDE + 1)

static elem_t input[BATCH_SIZE][IN_ROW_DIM][IN_COL_DIM][IN_CHANNELS];
static elem_t weights[KERNEL_DIM * KERNEL_DIM * IN_CHANNELS][OUT_CHANNELS];
static acc_t bias[OUT_CHANNELS];
static elem_t out_cpu[BATCH_SIZE][POOL_OUT_ROW_DIM][POOL_OUT_COL_DIM][OUT_CHANNELS];
static elem_t out_gemmini[BATCH_SIZE][POOL_OUT_ROW_DIM][POOL_OUT_COL_DIM][OUT_CHANNELS];

int main() {
  for (size_t i = 0; i < sizeof(input); i++) ((elem_t *)input)[i] = (elem_t)(rand() % 9 - 4);
  for (size_t i = 0; i < sizeof(weights); i++) ((elem_t *)weights)[i] = (elem_t)(rand() % 9 - 4);
  for (int i = 0; i < OUT_CHANNELS; i++) bias[i] = rand() % 61 - 30;

  for (int type = WS; type <= CPU; type++)
    tiled_conv_auto(BATCH_SIZE, IN_ROW_DIM, IN_COL_DIM, IN_CHANNELS, OUT_CHANNELS,
        OUT_ROW_DIM, OUT_COL_DIM, STRIDE, 1, 1, PADDING, KERNEL_DIM,
        false, false, false, false, false,
        (elem_t *)input, (elem_t *)weights, bias,
        type == CPU ? (elem_t *)out_cpu : (elem_t *)out_gemmini,
        RELU, 0.25, POOL_SIZE, POOL_STRIDE, POOL_PADDING, (enum tiled_matmul_type_t)type);

  for (size_t i = 0; i < sizeof(out_cpu); i++)
    if (((elem_t *)out_cpu)[i] != ((elem_t *)out_gemmini)[i]) {
      printf("conv_with_pool: mismatch at %zu\n", i);
      exit(1);
    }
  printf("conv_with_pool: ok\n");
  return 0;
}
