"""Kernels as ops: a stitched graph calls its kernel through the op (traceable, for Inductor),
or through the op's slot directly where the graph runs as Python."""
import torch

from torch_llmbackend import runtime
from torch_llmbackend.records import TensorSpec


def _graph_calling(op, as_tuple: bool = False) -> torch.fx.GraphModule:
    graph = torch.fx.Graph()
    x = graph.placeholder("x")
    y = graph.call_function(op, (x,))
    out = graph.call_function(torch.ops.aten.add.Tensor, (y, x))
    graph.output((out,) if as_tuple else out)  # AOTAutograd's graphs return a tuple
    return torch.fx.GraphModule(torch.nn.Module(), graph)


SPEC = TensorSpec((4,), (1,), "float32", "cpu")


def _counting_op(key: str):
    """The op for `key` with a kernel that triples its input, and the list of its calls."""
    calls = []

    def kernel(x):
        calls.append(x)
        return x * 3

    return runtime.kernel_op(key, kernel, [SPEC], [SPEC]), calls


def test_a_graph_run_as_python_calls_the_kernel_without_the_dispatcher():
    op, calls = _counting_op("f00d" * 8)
    gm = _graph_calling(op)
    x = torch.arange(4.0)
    assert torch.equal(gm(x), x * 4) and "llmbackend" in gm.code
    runtime.call_directly(gm)
    assert "torch.ops.llmbackend" not in gm.code and runtime.op_name_for("f00d" * 8) in gm.code
    assert torch.equal(gm(x), x * 4) and len(calls) == 2

    runtime.kernel_op("f00d" * 8, lambda x: x * 5, [SPEC], [SPEC])  # a new winner for the key
    assert torch.equal(gm(x), x * 6)  # the slot is re-pointed in place, direct callers included


def test_inductor_compiles_the_rest_of_a_stitched_inference_graph_around_the_kernel_op(caplog):
    # As the backend does for a graph's rest: retrace with Inductor's decompositions on fake
    # inputs, run Inductor's inference passes, compile; the kernel op stays one opaque call.
    from torch._subclasses.fake_tensor import FakeTensorMode

    from torch_llmbackend.backend import _inductor_decomposed
    from torch_llmbackend.evaluate.inductor import compile_with_inductor

    op, calls = _counting_op("beef" * 8)
    fake_mode = FakeTensorMode()
    fake_x = fake_mode.from_tensor(torch.empty(4))
    lowered = _inductor_decomposed(_graph_calling(op, as_tuple=True), [fake_x])
    with caplog.at_level("WARNING", logger="torch_llmbackend"):
        compiled = compile_with_inductor(lowered, [fake_x], inference=True)
    assert "passes failed" not in caplog.text  # Inductor's passes ran, around an op they do not know
    x = torch.arange(4.0)
    (out,) = compiled([x])
    assert torch.equal(out, x * 4) and len(calls) == 1
