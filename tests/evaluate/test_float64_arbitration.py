"""A float mismatch against eager is arbitrated by a float64 reference: rounding order passes,
a real error does not."""
import torch
import torch.nn.functional as F

from torch_llmbackend.evaluate.verify import no_worse_than_eager


def large_rows():
    torch.manual_seed(0)
    return torch.randn(256, 1000) * 1000 + 3000  # large magnitude with an offset


def test_a_layernorm_reduced_in_another_order_passes():
    x = large_rows()
    exact, eager = F.layer_norm(x.double(), (1000,)), F.layer_norm(x, (1000,))
    mean = x.view(256, 10, 100).sum(-1).sum(-1, keepdim=True) / 1000  # chunked sum, other order
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    ok, _ = no_worse_than_eager((x - mean) / torch.sqrt(var + 1e-5), eager, exact)
    assert ok


def test_an_error_far_above_eagers_own_is_rejected_with_the_figures():
    x = large_rows()
    exact, eager = F.layer_norm(x.double(), (1000,)), F.layer_norm(x, (1000,))
    wrong = eager.clone()
    wrong[5, 7] += 0.01
    ok, detail = no_worse_than_eager(wrong, eager, exact)
    assert not ok and "float64 reference" in detail and "eager's" in detail


def test_an_offset_everywhere_is_rejected():
    x = large_rows()
    exact, eager = F.layer_norm(x.double(), (1000,)), F.layer_norm(x, (1000,))
    assert not no_worse_than_eager(eager + 1e-3, eager, exact)[0]
