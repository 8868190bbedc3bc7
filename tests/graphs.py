"""Helpers for tests: aten graphs with fake-tensor metadata, the way AOTAutograd hands them over."""
import torch
from torch._decomp import core_aten_decompositions
from torch.fx.experimental.proxy_tensor import make_fx

from torch_llmbackend.graph import lift, make_problem, partition
from torch_llmbackend.targets import get_target


def aten_graph(fn, *inputs) -> torch.fx.GraphModule:
    return make_fx(fn, decomposition_table=core_aten_decompositions(), tracing_mode="fake")(*inputs)


def problems_of(fn, *inputs, target="triton", min_ops=1):
    """The Problems (one per subgraph) the backend would build for `fn` on `inputs`."""
    gm = aten_graph(fn, *inputs)
    tgt = get_target(target)
    parts = partition(gm, tgt, min_ops)
    return [make_problem(lift(nodes), tgt.name, "test-cap", tgt.key_versions()) for nodes in parts.groups]


def key_of(fn, *inputs, **kw) -> str:
    (problem,) = problems_of(fn, *inputs, **kw)
    return problem.key


def dynamic_aten_graph(fn, *inputs, dims=((0, 0),)) -> torch.fx.GraphModule:
    """The aten graph Dynamo and AOTAutograd hand a backend when `dims` ((input, dim) pairs) are
    dynamic: SymInt placeholders, size arithmetic as nodes, symbolic fake tensors."""
    from torch._dynamo.backends.common import aot_autograd

    graphs = []

    def capture(gm, example_inputs):
        graphs.append(gm)
        return gm

    backend = aot_autograd(fw_compiler=capture, inference_compiler=capture,
                           decompositions=dict(core_aten_decompositions().items()))
    for i, d in dims:
        torch._dynamo.mark_dynamic(inputs[i], d)
    torch._dynamo.reset()
    with torch.no_grad():
        torch.compile(fn, backend=backend, fullgraph=True)(*inputs)
    return graphs[-1]
