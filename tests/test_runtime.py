"""Kernels as ops: a stitched graph calls its kernel through the op (traceable, for Inductor),
or through the op's slot directly where the graph runs as Python."""
import torch

from torch_llmbackend import runtime
from torch_llmbackend.records import TensorSpec


def _graph_calling(op) -> torch.fx.GraphModule:
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    y = graph.call_function(op, (x,))
    graph.output(graph.call_function(torch.ops.aten.add.Tensor, (y, x)))
    return torch.fx.GraphModule(torch.nn.Module(), graph)


def test_a_graph_run_as_python_calls_the_kernel_without_the_dispatcher():
    spec = TensorSpec((4,), (1,), "float32", "cpu")
    calls = []

    def kernel(x):
        calls.append(x)
        return x * 3

    op = runtime.kernel_op("f00d" * 8, kernel, [spec], [spec])
    gm = _graph_calling(op)
    x = torch.arange(4.0)
    assert torch.equal(gm(x), x * 4) and "llmbackend" in gm.code
    runtime.call_directly(gm)
    assert "torch.ops.llmbackend" not in gm.code and runtime.op_name_for("f00d" * 8) in gm.code
    assert torch.equal(gm(x), x * 4) and len(calls) == 2

    runtime.kernel_op("f00d" * 8, lambda x: x * 5, [spec], [spec])  # a new winner for the key
    assert torch.equal(gm(x), x * 6)  # the slot is re-pointed in place, direct callers included
