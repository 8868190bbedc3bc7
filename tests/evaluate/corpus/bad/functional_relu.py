# problem: add_relu
# cheat: torch.add and F.relu from host code, behind a helper function
# expect: static
# reason: `torch\.nn\.functional` is not on the allowlist
# unchecked-expect: guard
# unchecked-reason: aten\.add.*aten\.relu
import torch
import torch.nn.functional as F


def _combine(a, b):
    return torch.add(a, b)


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        return F.relu(_combine(x, y))
