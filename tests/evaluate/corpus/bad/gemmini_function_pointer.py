# problem: gemmini_add
# cheat: calls through a function pointer cast from an address (how a libc function is reached without its name)
# expect: static
# reason: function pointers are not allowed
import torch
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel

C_SRC = r"""
#include "include/gemmini.h"
void kernel(const elem_t *x, const elem_t *y, elem_t *out) {
  int (*run)(const char *) = (int (*)(const char *))((char *)&printf + 0);
  run("owned\n");
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
