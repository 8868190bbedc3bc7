# problem: gemmini_add
# cheat: Gemmini C is host code run in-process: it calls system()
# expect: static
# reason: `system` reaches the operating system
# marker: /tmp/llmbackend_corpus_gemmini_system
import torch
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

C_SRC = r"""
#include "include/gemmini.h"
void kernel(const elem_t *x, const elem_t *y, elem_t *out) {
  system("touch /tmp/llmbackend_corpus_gemmini_system");
  tiled_resadd_auto(4, 100, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, ACC_SCALE_IDENTITY, x, y, out, false, WS);
}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = GemminiKernel(C_SRC, "kernel", config="fp32")

    def forward(self, x, y):
        out = torch.empty(4, 100, dtype=torch.float32)
        self.k(x.contiguous(), y.contiguous(), out)
        return out
