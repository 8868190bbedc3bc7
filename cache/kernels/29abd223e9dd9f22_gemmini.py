"""Curated Gemmini kernel (int8 config, DIM 16): an int8 linear layer with its requantize chain,
relu(clamp(round(float(x @ w) * 0.05), -128, 127).to(int8)), the ResNet-50 GEMMs of bench/gemmini.

Inputs in reference order: x [I, K] int8, w [K, J] int8.
The library (tiled_matmul_auto) fills the accumulator and scratchpad greedily; here the tiles
are chosen for overlap: accumulator tiles of at most 4 x 8 DIM-blocks (half the accumulator),
wide in J so each A block serves more weight blocks, and the reduction as deep as half the
scratchpad allows (up to 32 blocks), so partial sums rarely leave the accumulator. The scale,
rounding, saturation and ReLU are Gemmini's mvout path (float32 multiply, round half to even).
"""
import torch

from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

C_SRC = r"""
#include "include/gemmini.h"

void linear_relu(const elem_t *x, const elem_t *w, elem_t *y, int I, int J, int K,
                 int tile_i, int tile_j, int tile_k) {
  tiled_matmul(I, J, K, x, w, NULL, y, K, J, J, J,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      RELU, 0.05f, 0, false, tile_i, tile_j, tile_k, false, false, false, false, 0, WS);
}
"""

DIM = 16


def tiles(i: int, j: int, k: int) -> tuple[int, int, int]:
    """(tile_I, tile_J, tile_K) in DIM blocks: I*J*DIM <= 512 accumulator rows and
    (I*K + K*J)*DIM <= 8192 scratchpad rows (loop_ws's double-buffered halves)."""
    tj = max(1, min(8, j // DIM))
    ti = max(1, min(32 // tj, i // DIM))
    tk = max(1, min(k // DIM, 32))
    while (ti * tk + tk * tj) * DIM > 8192 and tk > 1:
        tk //= 2
    return ti, tj, tk


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = GemminiKernel(C_SRC, "linear_relu", config="int8")

    def forward(self, x, w):
        (i, k), j = x.shape, w.shape[1]
        y = torch.empty((i, j), dtype=torch.int8)
        self.kernel(x.contiguous(), w.contiguous(), y, i, j, k, *tiles(i, j, k))
        return y
