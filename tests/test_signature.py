"""The structural key: equal for the same computation, different for any change that matters."""
import torch
import torch.nn.functional as F

from torch_llmbackend.graph import lift, make_problem, partition
from torch_llmbackend.targets import get_target

from .graphs import aten_graph, key_of, problems_of

x = torch.randn(8, 16)
y = torch.randn(8, 16)


def gelu_bias(a, b):
    return F.gelu(a + b)


def test_same_subgraph_from_two_models_shares_a_key():
    class Block(torch.nn.Module):
        def forward(self, inp, bias):
            return F.gelu(inp + bias)

    class Other(torch.nn.Module):  # different class, different variable names
        def forward(self, activations, shift):
            summed = activations + shift
            return torch.nn.functional.gelu(summed)

    assert key_of(Block(), x, y) == key_of(Other(), x, y)


def test_renamed_nodes_keep_the_key():
    gm = aten_graph(gelu_bias, x, y)
    tgt = get_target("triton")
    before = make_problem(lift(partition(gm, tgt, 1).groups[0]), "triton", "cap", {}).key
    for i, node in enumerate(gm.graph.nodes):
        node.name = f"renamed_{i}"
    gm.recompile()
    after = make_problem(lift(partition(gm, tgt, 1).groups[0]), "triton", "cap", {}).key
    assert before == after


def test_op_shape_dtype_stride_and_constant_changes_change_the_key():
    base = key_of(gelu_bias, x, y)
    assert key_of(lambda a, b: F.relu(a + b), x, y) != base  # op
    assert key_of(gelu_bias, torch.randn(8, 17), torch.randn(8, 17)) != base  # shape
    assert key_of(gelu_bias, x.half(), y.half()) != base  # dtype
    assert key_of(gelu_bias, torch.randn(16, 8).t(), y) != base  # stride
    assert key_of(lambda a, b: F.gelu(a + 2.0 * b), x, y) != key_of(lambda a, b: F.gelu(a + 3.0 * b), x, y)  # constant
    assert key_of(lambda a, b: F.gelu(a + b, approximate="tanh"), x, y) != base  # non-tensor argument


def test_target_and_capability_enter_the_key():
    gm = aten_graph(gelu_bias, x, y)
    sub = lift(partition(gm, get_target("triton"), 1).groups[0])
    assert make_problem(sub, "triton", "sm_90", {}).key != make_problem(sub, "triton", "sm_80", {}).key
    assert make_problem(sub, "triton", "sm_90", {}).key != make_problem(sub, "cuda", "sm_90", {}).key
    assert make_problem(sub, "triton", "sm_90", {"torch": "2"}).key != make_problem(sub, "triton", "sm_90", {"torch": "3"}).key


def test_the_reference_module_reproduces_the_subgraph():
    (problem,) = problems_of(gelu_bias, x, y)
    namespace = {}
    exec(compile(problem.reference_source, "<reference>", "exec"), namespace)
    model = namespace["Model"](*namespace["get_init_inputs"]())
    torch.testing.assert_close(model(x, y), gelu_bias(x, y))
    assert [tuple(t.shape) for t in namespace["get_inputs"]()] == [(8, 16), (8, 16)]
    assert problem.ops == ("aten.add.Tensor", "aten.gelu.default")
    assert "in0: float32[8,16] stride(16,1) cpu" in problem.signature


def test_unsupported_ops_are_left_out_with_a_reason():
    def fn(a, idx):
        return torch.relu(a)[idx] * 2

    gm = aten_graph(fn, x, torch.tensor([0, 3]))
    parts = partition(gm, get_target("triton"), 1)
    reasons = {lo.op: lo.reason for lo in parts.left_out}
    assert "aten.index.Tensor" in reasons and "not supported" in reasons["aten.index.Tensor"]


def test_min_subgraph_ops_leaves_small_groups_with_a_reason():
    gm = aten_graph(lambda a: torch.relu(a), x)
    parts = partition(gm, get_target("triton"), 2)
    assert parts.groups == []
    assert "below min_subgraph_ops=2" in parts.left_out[0].reason


def test_tf32_enters_the_key_and_the_problem():
    gm = aten_graph(lambda a, b: a @ b, torch.randn(8, 8), torch.randn(8, 8))
    sub = lift(partition(gm, get_target("triton"), 1).groups[0])
    strict, tf32 = make_problem(sub, "triton", "sm_90", {}), make_problem(sub, "triton", "sm_90", {}, allow_tf32=True)
    assert strict.key != tf32.key and tf32.allow_tf32 and not strict.allow_tf32
