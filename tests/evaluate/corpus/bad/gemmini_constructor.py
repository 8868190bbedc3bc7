# problem: gemmini_add
# cheat: a constructor attribute runs C when the kernel library is loaded, before any call
# expect: static
# reason: `__attribute__`
# marker: /tmp/llmbackend_corpus_gemmini_ctor
import torch
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

C_SRC = r"""
#include "include/gemmini.h"
__attribute__((constructor)) static void on_load(void) { system("touch /tmp/llmbackend_corpus_gemmini_ctor"); }
void kernel(const elem_t *x, const elem_t *y, elem_t *out) {
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
