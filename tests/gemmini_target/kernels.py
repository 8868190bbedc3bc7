"""Scripted LLM answers for the int8 linear requantize(x @ w, 0.05) with x: int8[128, 64],
w: int8[64, 64] (subgraph inputs in order of first use: x, w). int8 must match exactly."""

MODULE = '''
import torch
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

C_SRC = r"""
#include "include/gemmini.h"
void kernel(const elem_t *x, const elem_t *w, elem_t *y) {
%s
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = GemminiKernel(C_SRC, "kernel", config="int8")

    def forward(self, x, w):
        y = torch.empty(128, 64, dtype=torch.int8)
        self.k(x.contiguous(), w.contiguous(), y)
        return y
'''

# step 1: the loop nest in plain C, tiled by DIM. The wrong one truncates instead of rounding
# half to even and saturating.
_LOOPS = """
  for (int i0 = 0; i0 < 128; i0 += DIM) for (int j0 = 0; j0 < 64; j0 += DIM)
    for (int i = i0; i < i0 + DIM; i++) for (int j = j0; j < j0 + DIM; j++) {
      acc_t s = 0;
      for (int k = 0; k < 64; k++) s += x[i * 64 + k] * w[k * 64 + j];
      y[i * 64 + j] = %s;
    }"""
PLAIN_C_WRONG = MODULE % (_LOOPS % "(elem_t)(s * 0.05f)")
PLAIN_C = MODULE % (_LOOPS % "ACC_SCALE(s, 0.05f)")

# steps 2 and 3: Gemmini does the work through the tiled library
LIBRARY_CALL = MODULE % """
  tiled_matmul_auto(128, 64, 64, x, w, NULL, y, 64, 64, 64, 64,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      NO_ACTIVATION, 0.05f, 0, false, false, false, false, false, 0, WS);"""

# phase 2: tiling. 2x4x4 tiles (in units of DIM) hold all of w and two row panels of x at once, so
# w is loaded once and the DMA moves fewer bytes than the library's greedy tiles: 3264 against
# 4304 simulated cycles under the cycle model with its memory system (issue 21).
RETILED = MODULE % """
  tiled_matmul(128, 64, 64, x, w, NULL, y, 64, 64, 64, 64,
      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      NO_ACTIVATION, 0.05f, 0, false, 2, 4, 4, false, false, false, false, 0, WS);"""


def answer(source: str) -> str:
    return f"Here is the module.\n\n```python\n{source}\n```\n"
