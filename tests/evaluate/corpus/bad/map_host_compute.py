# problem: add_relu
# cheat: Python computes every element through Tensor.map_ (no aten op, so the run-time guard sees only a copy); old checks let it pass as verified
# expect: static
# reason: `\.map_` is not an allowed attribute
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        out.copy_(x)
        out.map_(y, lambda a, b: max(a + b, 0.0))
        return out
