"""Gemmini Problems written as signature text, as graph/signature.py writes them (no Dynamo run)."""
import hashlib
import re

from torch_llmbackend.records import Problem, TensorSpec
from torch_llmbackend.targets.gemmini.graph import parse_problem
from torch_llmbackend.targets.gemmini.reduce import _reference_source

HEAD = "target gemmini test torch2"
_SPEC = re.compile(r"(\w+)\[([\d,]*)\] stride\(([\d,]*)\) (\w+)$")


def _spec(text: str) -> TensorSpec:
    dtype, shape, stride, device = _SPEC.search(text).groups()
    ints = lambda t: tuple(int(x) for x in t.split(",") if x)  # noqa: E731
    return TensorSpec(ints(shape), ints(stride), dtype, device)


def problem(body: str) -> Problem:
    lines = [ln.strip() for ln in body.strip().splitlines()]
    signature = "\n".join([HEAD, *lines])
    inputs = tuple(_spec(ln) for ln in lines if ln.startswith("in"))
    outputs = tuple(_spec(ln) for ln in lines if ln.startswith("out"))
    ops = tuple(ln.split(" = ")[1].split("(")[0] for ln in lines if ln.startswith("v"))
    parse_problem(Problem("", signature, "gemmini", ops, inputs, outputs, ""))  # it must replay
    return Problem(hashlib.sha256(signature.encode()).hexdigest(), signature, "gemmini", ops, inputs, outputs,
                   _reference_source(signature, list(inputs)))


def lenet(batch: int) -> Problem:
    """LeNet-5: two conv+relu+pool blocks, a flatten and three linears."""
    return problem(f"""
        in0: float32[{batch},1,32,32] stride(1024,1024,32,1) cpu
        in1: float32[6,1,5,5] stride(25,25,5,1) cpu
        in2: float32[6] stride(1) cpu
        in3: float32[16,6,5,5] stride(150,25,5,1) cpu
        in4: float32[16] stride(1) cpu
        in5: float32[120,400] stride(400,1) cpu
        in6: float32[120] stride(1) cpu
        in7: float32[10,120] stride(120,1) cpu
        in8: float32[10] stride(1) cpu
        v0 = aten.convolution.default(in0, in1, in2, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        v1 = aten.relu.default(v0)
        v2 = aten.max_pool2d_with_indices.default(v1, [2, 2])
        v3 = getitem(v2, 0)
        v4 = aten.convolution.default(v3, in3, in4, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        v5 = aten.relu.default(v4)
        v6 = aten.max_pool2d_with_indices.default(v5, [2, 2])
        v7 = getitem(v6, 0)
        v8 = aten.view.default(v7, [{batch}, 400])
        v9 = aten.permute.default(in5, [1, 0])
        v10 = aten.addmm.default(in6, v8, v9)
        v11 = aten.relu.default(v10)
        v12 = aten.permute.default(in7, [1, 0])
        v13 = aten.addmm.default(in8, v11, v12)
        out0: v13 float32[{batch},10] stride(10,1) cpu""")


def mlp(batch: int, k: int, hidden: int, out: int = 8) -> Problem:
    """linear(k -> hidden) + relu + linear(hidden -> out), nn.Linear's layout."""
    return problem(f"""
        in0: float32[{batch},{k}] stride({k},1) cpu
        in1: float32[{hidden},{k}] stride({k},1) cpu
        in2: float32[{hidden}] stride(1) cpu
        in3: float32[{out},{hidden}] stride({hidden},1) cpu
        in4: float32[{out}] stride(1) cpu
        v0 = aten.permute.default(in1, [1, 0])
        v1 = aten.addmm.default(in2, in0, v0)
        v2 = aten.relu.default(v1)
        v3 = aten.permute.default(in3, [1, 0])
        v4 = aten.addmm.default(in4, v2, v3)
        out0: v4 float32[{batch},{out}] stride({out},1) cpu""")
