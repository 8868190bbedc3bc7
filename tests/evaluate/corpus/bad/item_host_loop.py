# problem: add_relu
# cheat: computes element by element in Python, reading values back with .item()
# expect: static
# reason: `\.item\(\)` reads tensor data
# unchecked-expect: guard
# unchecked-reason: _local_scalar_dense
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        flat_x, flat_y, flat_o = x.view(-1), y.view(-1), out.view(-1)
        for i in range(flat_o.numel()):
            flat_o[i] = max(flat_x[i].item() + flat_y[i].item(), 0.0)
        return out
