"""The library baseline: a subgraph lowered, without any LLM, onto Gemmini's tiled library.

`library_source(problem)` returns a candidate module (ModelNew + one C function) that runs the
subgraph through tiled_matmul_auto / tiled_conv_auto / tiled_resadd_auto /
tiled_global_average_auto with the right strides, transposes, bias, activation and scale, or
None with the reason (`lower(problem)` says why). The backend verifies it like any candidate
and uses its simulated cycles as the yardstick an LLM kernel must beat.

What it understands (graph order, each producer absorbing its epilogue when the intermediate
values have no other use):
- matmul: mm, addmm (bias: D with repeating_bias), _int_mm (int8 x int8 -> int32, full_C);
  B given as t/permute of a row-major matrix (nn.Linear's weight) runs with transpose_B;
  epilogue: bias add, relu (act=RELU), multiplication by a scalar (the accumulator scale) and,
  in int8, the requantize chain int32 -> float32 * scale -> round (half to even) ->
  clamp [-128|0, 127] -> int8, which is exactly Gemmini's mvout scaling (float32 multiply,
  round to nearest even, saturate).
- convolution (2-D, groups 1, square kernel, equal strides/padding/dilation), with relu,
  scalar scale and a following max_pool2d fused as Gemmini's pooling-on-store.
- add of two equal-shaped float tensors (residual add) with relu: tiled_resadd_auto.
- global average pooling (mean over H, W; adaptive_avg_pool2d to 1x1) of square images.
- views (view, reshape, flatten, clone, ...) of row-major values cost nothing.

Layouts: Gemmini convolutions read NHWC activations and (kh*kw*cin) x cout weights. Inputs are
converted on the host side of ModelNew (permute + contiguous, a layout copy); values made
inside the C function stay NHWC between convolutions and pools, and are converted with a plain
C loop on the host when a row-major consumer (a flatten before a linear) or an output needs
them. Host work is not Gemmini work: it costs no simulated cycles, so only layout moves are
done there, never arithmetic.

Dtypes pick the configuration: float32 subgraphs run on the FP32 config (DIM 4), subgraphs
with int8 inputs on the int8 config (DIM 16), where float32 may appear only inside the
requantize chain.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace

import numpy as np

from ...records import Problem
from .graph import Graph, Node, Ref, UnsupportedGraph, parse_problem

log = logging.getLogger(__name__)

# ops that only re-describe a row-major value (free on a contiguous buffer)
ROW_VIEWS = frozenset({"view", "_unsafe_view", "reshape", "clone", "alias", "detach", "squeeze", "unsqueeze", "flatten"})
TRANSPOSES = frozenset({"t", "permute", "transpose"})
RELU, NO_ACT = 1, 0


class Unsupported(Exception):
    """The subgraph (or part of it) has no library lowering; the message says why."""


@dataclass
class Buffer:
    """One pointer argument of the C function."""

    name: str  # C parameter and Python variable name
    shape: tuple[int, ...]  # logical (PyTorch) shape of the value it holds
    layout: str  # "row" (PyTorch contiguous order), "nhwc" (4-D, channels last), "hwio" (conv weights)
    dtype: str  # torch dtype name
    host: str | None = None  # Python expression that makes it from an input (None: allocated)
    written: bool = False
    what: str = ""  # the layer that writes it, for an allocation failure's message

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass
class Epilogue:
    """What the accumulator does on the way out (Gemmini's mvout path)."""

    end: str  # the value the kernel writes
    act: int = NO_ACT
    scale: float = 1.0
    scaled: bool = False
    bias: str | None = None
    out_dtype: str = "float32"
    pool: tuple[int, int, int] | None = None  # (size, stride, padding) of a fused max pool
    absorbed: list[str] = field(default_factory=list)


@dataclass
class Lowered:
    source: str  # the candidate module
    c_source: str
    config: str  # "fp32" | "int8"
    steps: list[str]  # one line per library call, for logs and prompts
    macs: int  # useful multiply-accumulates of one forward
    block: int | None = None  # rows per block when the matmul chain is streamed (see stream_rows)


def lower(problem: Problem, stream_block: int | None = None) -> Lowered:
    """The library lowering of `problem`; raises Unsupported with the reason. `stream_block`
    forces a matmul chain to run in blocks of that many rows (as a large one does by itself)."""
    try:
        graph = parse_problem(problem)
    except UnsupportedGraph as e:
        raise Unsupported(str(e)) from None
    return _Lowering(graph, problem, stream_block).run()


def library_source(problem: Problem) -> str | None:
    try:
        return lower(problem).source
    except Unsupported as e:
        log.info("gemmini: no library lowering for %s: %s", problem.key[:16], e)
        return None


def config_for(graph: Graph) -> str:
    dtypes = {d for _, d in graph.inputs.values()}
    return "int8" if "int8" in dtypes else "fp32"


def useful_macs(graph: Graph) -> int:
    """Multiply-accumulates the subgraph's products need (what Gemmini must execute)."""
    total = 0
    for n in graph.nodes.values():
        if n.short in ("mm", "addmm", "_int_mm"):
            a = n.args[1] if n.short == "addmm" else n.args[0]
            total += math.prod(n.shape) * graph.shape(a.name)[-1]
        elif n.short == "convolution":
            w = graph.shape(n.args[1].name)
            total += math.prod(n.shape) * math.prod(w[1:])
    return total


def longest_reduction(graph: Graph) -> int:
    """The longest sum any output element needs: a product's K (a convolution's in_ch*kh*kw) or
    a global average's H*W (what evaluate/reduction_error.py scales the fp32 judgement by)."""
    longest = 0
    for n in graph.nodes.values():
        if n.short in ("mm", "addmm", "_int_mm"):
            a = n.args[1] if n.short == "addmm" else n.args[0]
            longest = max(longest, graph.shape(a.name)[-1])
        elif n.short == "convolution":
            longest = max(longest, math.prod(graph.shape(n.args[1].name)[1:]))
        elif n.short in ("mean", "_adaptive_avg_pool2d", "avg_pool2d"):
            longest = max(longest, math.prod(graph.shape(n.args[0].name)[2:]))
    return longest


class _Lowering:
    def __init__(self, graph: Graph, problem: Problem, stream_block: int | None = None):
        self.g, self.problem = graph, problem
        self.stream_block, self.block = stream_block, None  # forced / chosen block of rows (streaming)
        self.config = config_for(graph)
        self.elem = "float32" if self.config == "fp32" else "int8"
        self.acc = "float32" if self.config == "fp32" else "int32"
        self.params: list[Buffer] = []
        self.made: dict[str, Buffer] = {}  # value -> buffer holding it (as written by a step)
        self.cache: dict[tuple[str, str], Buffer] = {}  # (value, layout) -> buffer
        self.done: set[str] = set()
        self.c_steps: list[str] = []
        self.steps: list[str] = []
        self.helpers: set[str] = set()

    # -- driver ---------------------------------------------------------------------------------
    def run(self) -> Lowered:
        for dtype in {d for _, d in self.g.inputs.values()} | {n.dtype for n in self.g.nodes.values() if n.dtype}:
            if dtype not in ("float32", "int8", "int32"):
                raise Unsupported(f"dtype {dtype} has no Gemmini configuration")
        for node in self.g.nodes.values():
            if node.name in self.done:
                continue
            s = node.short
            if s in ROW_VIEWS or s in TRANSPOSES or s == "_to_copy" and node.dtype == self.g.dtype(node.args[0].name):
                continue  # resolved when a consumer needs the value
            if s in ("mm", "addmm", "_int_mm"):
                self.matmul(node)
            elif s == "convolution":
                self.conv(node)
            elif s == "add":
                self.resadd(node)
            elif s in ("mean", "_adaptive_avg_pool2d", "avg_pool2d"):
                self.global_average(node)
            else:
                raise Unsupported(f"{node.op} has no Gemmini library lowering on its own (only fused after a matmul or conv)")
        if not self.c_steps:
            raise Unsupported("nothing to compute on Gemmini")
        outputs = [self.output(name) for name in self.g.outputs]
        self.stream_rows(outputs)
        c_source = self.c_source()
        return Lowered(self.module(c_source, outputs), c_source, self.config, self.steps, useful_macs(self.g), self.block)

    # -- values and buffers ---------------------------------------------------------------------
    def param(self, buf: Buffer) -> Buffer:
        self.params.append(buf)
        return buf

    def new_buffer(self, value: str, shape, layout: str, dtype: str) -> Buffer:
        buf = self.param(Buffer(f"b{len(self.params)}", tuple(shape), layout, dtype, written=True))
        self.made[value] = buf
        self.cache[(value, layout)] = buf
        return buf

    def source_of(self, name: str) -> tuple[str, tuple[int, ...]]:
        """Follow free views back to the value that holds the data: (value, this shape)."""
        shape = self.g.shape(name)
        while name in self.g.nodes and name not in self.made:
            n = self.g.nodes[name]
            if n.short in ROW_VIEWS or n.short == "_to_copy" and n.dtype == self.g.dtype(n.args[0].name) and _plain_copy(n):
                name = n.args[0].name
                continue
            raise Unsupported(f"{n.op} result is needed in memory but no lowering produces it")
        return name, shape

    def row(self, name: str) -> Buffer:
        """`name` as a row-major buffer (its PyTorch contiguous order)."""
        base, shape = self.source_of(name)
        buf = self.cache.get((base, "row"))
        if buf is None:
            if base in self.g.inputs:
                buf = self.param(Buffer(f"p{len(self.params)}", self.g.shape(base), "row", self.g.dtype(base), host=f"{base}.contiguous()"))
                self.cache[(base, "row")] = buf
            else:
                nhwc = self.made[base]
                buf = self.new_buffer(base, nhwc.shape, "row", nhwc.dtype)
                self.made[base] = nhwc  # the producer's buffer stays the value's home
                self.convert(nhwc, buf, "nhwc_to_nchw")
        return replace(buf, shape=shape)

    def nhwc(self, name: str) -> Buffer:
        base, shape = self.source_of(name)
        if len(shape) != 4:
            raise Unsupported(f"a {len(shape)}-D value cannot be read as NHWC")
        buf = self.cache.get((base, "nhwc"))
        if buf is not None and buf.shape == shape:
            return buf
        if base in self.g.inputs and self.g.shape(base) == shape:
            buf = self.param(Buffer(f"p{len(self.params)}", shape, "nhwc", self.g.dtype(base), host=f"{base}.permute(0, 2, 3, 1).contiguous()"))
        else:
            src = self.row(name)
            buf = Buffer(f"b{len(self.params)}", shape, "nhwc", src.dtype, written=True)
            self.param(buf)
            self.convert(src, buf, "nchw_to_nhwc")
        self.cache[(base, "nhwc")] = buf
        return buf

    def convert(self, src: Buffer, dst: Buffer, helper: str) -> None:
        n, c, h, w = src.shape
        self.helpers.add(helper)
        self.c_steps.append(f"  {helper}({src.name}, {dst.name}, {n}, {c}, {h}, {w});  /* layout only, on the host */")
        dst.what = f"the {helper} layout copy of a {n}x{c}x{h}x{w} value"

    def operand_b(self, name: str) -> tuple[Buffer, bool]:
        """The B operand of a matmul: a row-major [K, N] buffer, or the row-major [N, K] matrix
        it is the transpose of (then transpose_B)."""
        n = self.g.nodes.get(name)
        if n is not None and n.short in TRANSPOSES and name not in self.made and _is_2d_swap(n):
            return self.row(n.args[0].name), True
        return self.row(name), False

    # -- matmuls ---------------------------------------------------------------------------------
    def matmul(self, node: Node) -> None:
        if node.short == "addmm":
            if node.kwargs.get("beta", 1) != 1 or node.kwargs.get("alpha", 1) != 1:
                raise Unsupported("addmm with beta/alpha other than 1")
            bias, a, b = node.args
        else:
            (a, b), bias = node.args, None
        if node.short == "_int_mm" and self.config != "int8":
            raise Unsupported("_int_mm needs int8 inputs")
        if node.short != "_int_mm" and self.config != "fp32":
            raise Unsupported(f"{node.op} on {self.g.dtype(a.name)} data: Gemmini's int8 path runs torch._int_mm")
        M, K = self.g.shape(a.name)
        N = self.g.shape(b.name)[1]
        A = self.row(a.name)
        B, trans_b = self.operand_b(b.name)
        ep = self.matmul_epilogue(node, bias.name if isinstance(bias, Ref) else None)
        D, repeating = "NULL", False
        if ep.bias is not None:
            bshape = self.g.shape(ep.bias)
            if math.prod(bshape) == N and (len(bshape) == 1 or bshape[-2] == 1):
                repeating = True
            elif tuple(bshape) != (M, N):
                raise Unsupported(f"bias of shape {list(bshape)} does not broadcast as Gemmini's D ({M}x{N} or one row)")
            D = self.row(ep.bias).name
        full_c = ep.out_dtype == self.acc and self.config == "int8"
        C = self.new_buffer(ep.end, self.g.shape(ep.end), "row", ep.out_dtype)
        self.done.update(ep.absorbed)
        self.c_steps.append(MatmulCall(M, N, K, A.name, B.name, D, C.name, trans_b, repeating, full_c, ep.act, ep.scale))
        self.steps.append(f"tiled_matmul_auto {M}x{N}x{K}" + (" transpose_B" if trans_b else "") + _ep_text(ep))
        C.what = f"the output of layer {self.steps[-1]}"

    def matmul_epilogue(self, node: Node, bias: str | None) -> Epilogue:
        """Absorb the chain of single-use ops after a matmul that Gemmini's store path does;
        stop at the last value Gemmini can write (int8 in the int8 config only once the whole
        requantize chain is there; int32 raw only without activation or scale)."""
        state = Epilogue(node.name, bias=bias, out_dtype=node.dtype, absorbed=[node.name])
        best = replace(state, absorbed=list(state.absorbed)) if self.writable(state) else None
        flt = rounded = low_ok = high_ok = False
        cur = node.name
        while (u := self.g.single_user(cur)) is not None:
            s, other = u.short, _other_operand(u, cur)
            if s in ROW_VIEWS or s == "_to_copy" and u.dtype == self.g.dtype(cur) and _plain_copy(u):
                pass
            elif s == "relu":
                state.act = RELU
            elif s == "add" and state.bias is None and not state.scaled and not flt and isinstance(other, Ref) \
                    and other.name in self.g.inputs and self.g.dtype(other.name) == self.acc and u.kwargs.get("alpha", 1) == 1:
                state.bias = other.name
            elif s == "mul" and _is_number(other) and not state.scaled and (self.config == "fp32" or flt):
                if state.act == RELU and other < 0:
                    break  # relu then a negative scale is not scale then relu
                state.scale, state.scaled = float(np.float32(other)), True
            elif self.config == "int8" and s == "_to_copy" and _plain_copy(u) and u.dtype == "float32" and self.g.dtype(cur) == "int32":
                flt = True
            elif self.config == "int8" and flt and s == "round" and not u.kwargs and len(u.args) == 1:
                rounded = True
            elif self.config == "int8" and flt and s in ("clamp", "clamp_min", "clamp_max"):
                lo, hi = _clamp_bounds(u)
                if lo is not None:
                    if lo == 0:
                        state.act = RELU
                    elif lo != -128:
                        break
                    low_ok = True
                if hi is not None:
                    if hi != 127:
                        break
                    high_ok = True
            elif self.config == "int8" and flt and s == "_to_copy" and _plain_copy(u) and u.dtype == "int8":
                if not (rounded and high_ok and (low_ok or state.act == RELU)):
                    break  # a float -> int8 cast of values that may be out of range or unrounded
                flt = False
            else:
                break
            cur = u.name
            state.end, state.out_dtype = cur, u.dtype
            state.absorbed.append(cur)
            if not flt and self.writable(state):
                best = replace(state, absorbed=list(state.absorbed))
        if best is None:
            raise Unsupported(f"the value after {node.op} cannot be written by Gemmini as it is used ({self.g.dtype(node.name)} with an epilogue it cannot do)")
        return best

    def writable(self, ep: Epilogue) -> bool:
        if self.config == "fp32":
            return ep.out_dtype == "float32"
        if ep.out_dtype == "int32":
            return ep.act == NO_ACT and not ep.scaled  # raw accumulator read: no activation, no scale
        return ep.out_dtype == "int8"

    # -- convolutions ---------------------------------------------------------------------------
    def conv(self, node: Node) -> None:
        x, w, b, stride, padding, dilation, transposed, _output_padding, groups = node.args
        if self.config != "fp32":
            raise Unsupported("int8 convolutions are not in PyTorch's CPU reference; only float32 convolutions run")
        xs, ws = self.g.shape(x.name), self.g.shape(w.name)
        if transposed or groups != 1 or len(xs) != 4:
            raise Unsupported("only 2-D, non-transposed, groups=1 convolutions map onto tiled_conv_auto")
        if len(set(stride)) != 1 or len(set(padding)) != 1 or len(set(dilation)) != 1 or ws[2] != ws[3]:
            raise Unsupported("tiled_conv_auto needs a square kernel and the same stride, padding and dilation in both dims")
        kdim, st, pad, dil = ws[2], stride[0], padding[0], dilation[0]
        if kdim <= pad:
            raise Unsupported("tiled_conv_auto needs kernel_dim > padding")
        X = self.nhwc(x.name)
        W = self.param(Buffer(f"p{len(self.params)}", tuple(ws), "hwio", self.g.dtype(w.name), host=f"{w.name}.permute(2, 3, 1, 0).contiguous()"))
        B = self.row(b.name).name if isinstance(b, Ref) else "NULL"
        ep = self.conv_epilogue(node)
        n, cout, oh, ow = node.shape
        C = self.new_buffer(ep.end, self.g.shape(ep.end), "nhwc", "float32")
        self.done.update(ep.absorbed)
        size, pstride, ppad = ep.pool or (0, 0, 0)
        self.c_steps.append(
            f"  tiled_conv_auto({n}, {xs[2]}, {xs[3]}, {xs[1]}, {cout}, {oh}, {ow},\n"
            f"      {st}, 1, {dil}, {pad}, {kdim}, false, false, false, false, false,\n"
            f"      {X.name}, {W.name}, {B}, {C.name}, {_act(ep.act)}, {_c_float(ep.scale)}, {size}, {pstride}, {ppad}, WS);")
        self.steps.append(f"tiled_conv_auto {xs[1]}->{cout} k{kdim} s{st} p{pad} on {xs[2]}x{xs[3]}" + _ep_text(ep))
        C.what = f"the output of layer {self.steps[-1]} (batch {n})"

    def conv_epilogue(self, node: Node) -> Epilogue:
        state = Epilogue(node.name, absorbed=[node.name])
        cur = node.name
        while (u := self.g.single_user(cur)) is not None:
            if u.short == "relu":
                state.act = RELU
            elif u.short == "mul" and _is_number(_other_operand(u, cur)) and not state.scaled and state.pool is None:
                s = _other_operand(u, cur)
                if state.act == RELU and s < 0:
                    break
                state.scale, state.scaled = float(np.float32(s)), True
            elif u.short == "max_pool2d_with_indices" and state.pool is None:
                pool = _pool_params(u)
                first = self.g.single_user(u.name)
                if pool is None or first is None or first.op != "getitem" or first.args[1] != 0:
                    break
                if pool[2] and state.act != RELU:
                    break  # Gemmini pads pools with zeros; equal to -inf padding only after a relu
                state.pool = pool
                state.absorbed.append(u.name)
                u = first
            else:
                break
            cur = u.name
            state.end = cur
            state.absorbed.append(cur)
        return state

    # -- elementwise and pooling -----------------------------------------------------------------
    def resadd(self, node: Node) -> None:
        a, b = node.args[:2]
        if self.config != "fp32":
            raise Unsupported("int8 + int8 wraps around in PyTorch but saturates on Gemmini")
        if not (isinstance(a, Ref) and isinstance(b, Ref)) or self.g.shape(a.name) != self.g.shape(b.name) or node.kwargs.get("alpha", 1) != 1:
            raise Unsupported("add of a scalar or with broadcasting has no library call (tiled_resadd_auto adds equal shapes)")
        shape = node.shape
        nhwc = len(shape) == 4 and any(self.made.get(self.source_of(v.name)[0], Buffer("", (), "row", "")).layout == "nhwc" for v in (a, b))
        A, B = (self.nhwc(a.name), self.nhwc(b.name)) if nhwc else (self.row(a.name), self.row(b.name))
        relu = (u := self.g.single_user(node.name)) is not None and u.short == "relu"
        end = u.name if relu else node.name
        C = self.new_buffer(end, self.g.shape(end), "nhwc" if nhwc else "row", "float32")
        self.done.update({node.name, end})
        J = shape[1] if nhwc else shape[-1]
        I = math.prod(shape) // J
        self.c_steps.append(f"  tiled_resadd_auto({I}, {J}, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, ACC_SCALE_IDENTITY,\n"
                            f"      {A.name}, {B.name}, {C.name}, {_c_bool(relu)}, WS);")
        self.steps.append(f"tiled_resadd_auto {I}x{J}" + (" +relu" if relu else ""))
        C.what = f"the output of layer {self.steps[-1]}"

    def global_average(self, node: Node) -> None:
        x = node.args[0].name
        xs = self.g.shape(x)
        if self.config != "fp32" or len(xs) != 4 or xs[2] != xs[3] or not _is_global_average(node, xs):
            raise Unsupported(f"{node.op} is not a global average of square images (tiled_global_average_auto)")
        X = self.nhwc(x)
        n, c = xs[0], xs[1]
        C = self.new_buffer(node.name, node.shape, "row", "float32")  # [N, C(, 1, 1)]: same order either way
        self.done.add(node.name)
        self.c_steps.append(f"  tiled_global_average_auto({X.name}, {C.name}, {n}, {c}, {xs[2]}, WS);")
        self.steps.append(f"tiled_global_average_auto {n}x{c} over {xs[2]}x{xs[3]}")
        C.what = f"the output of layer {self.steps[-1]}"

    # -- streaming -------------------------------------------------------------------------------
    def stream_rows(self, outputs) -> None:
        """A chain of matmuls whose values between layers exceed STREAM_BYTES runs in blocks of
        rows: each layer computes `rows` rows into a block-sized buffer that the next layer reads,
        so no intermediate is allocated whole (a wide hidden layer of a large batch would be).
        Rows are independent in a matmul chain whose weights and biases are inputs, so the
        result is the same; the cycles differ only by the library calls' tiling per block."""
        calls = self.c_steps
        if not calls or not all(isinstance(c, MatmulCall) for c in calls) or len({c.M for c in calls}) != 1:
            return
        out_names = {buf.name for buf, _, _ in outputs}
        by_name = {p.name: p for p in self.params}
        between = [by_name[c.C] for c in calls if c.C not in out_names]
        biggest = max((b.numel // calls[0].M * _ELEM_BYTES[b.dtype] for b in between), default=0)  # bytes per row
        rows = calls[0].M
        if not biggest or (biggest * rows <= STREAM_BYTES if self.stream_block is None else rows <= self.stream_block):
            return
        written = {c.C for c in calls}
        for c in calls:  # every operand is either a layer's output or an input with its rows first
            if c.B in written or c.A not in written and by_name[c.A].shape[:1] != (rows,):
                return
            if c.D != "NULL" and not c.repeating and (c.D in written or by_name[c.D].shape[:1] != (rows,)):
                return
        block = self.stream_block or max(DIM_ROWS, STREAM_BYTES // biggest // DIM_ROWS * DIM_ROWS)
        for b in between:
            b.shape = (block, b.numel // rows)
        self.c_steps = [StreamedRows(rows, block, calls, {b.name for b in between})]
        self.block = block

    # -- outputs and code ------------------------------------------------------------------------
    def output(self, name: str) -> tuple[Buffer, str, tuple[int, ...]]:
        base, shape = self.source_of(name)
        if base in self.g.inputs:
            raise Unsupported("an output is a view of an input; nothing for Gemmini to do")
        buf = self.made[base]
        return buf, name, shape

    def c_source(self) -> str:
        decls = ", ".join(f"{'' if p.written else 'const '}{_ctype(p.dtype, self.config)} *{p.name}" for p in self.params)
        helpers = "".join(HELPERS[h] for h in sorted(self.helpers))
        body = "\n".join(map(str, self.c_steps))
        return f'#include "include/gemmini.h"\n{helpers}\nvoid kernel({decls}) {{\n{body}\n}}\n'

    def module(self, c_source: str, outputs: list[tuple[Buffer, str, tuple[int, ...]]]) -> str:
        out_specs = self.problem.outputs
        lines, returns = [], []
        direct = {}
        for i, (buf, _name, shape) in enumerate(outputs):
            spec = out_specs[i]
            if buf.layout == "row" and tuple(spec.stride) == _contiguous(spec.shape) and buf.name not in direct:
                direct[buf.name] = shape
        for p in self.params:
            if p.host is not None:
                lines.append(f"        {p.name} = {p.host}")
            else:  # through workspace(): an allocation that fails names its layer and size
                shape = tuple(direct[p.name]) if p.name in direct else p.numel
                lines.append(f"        {p.name} = workspace({shape}, torch.{p.dtype}, {p.what or 'a buffer'!r})")
        lines.append(f"        self.kernel({', '.join(p.name for p in self.params)})")
        for i, (buf, _name, shape) in enumerate(outputs):
            spec = out_specs[i]
            if buf.name in direct and direct[buf.name] == shape:
                returns.append(buf.name)
                continue
            lines.append(f"        o{i} = torch.empty_strided({tuple(spec.shape)}, {tuple(spec.stride)}, dtype=torch.{spec.dtype})")
            if buf.layout == "nhwc":
                n, c, h, w = buf.shape
                view = f"{buf.name}.view({n}, {h}, {w}, {c}).permute(0, 3, 1, 2).reshape({tuple(shape)})"
            else:
                view = f"{buf.name}.view({tuple(shape)})"
            lines.append(f"        o{i}.copy_({view})")
            returns.append(f"o{i}")
        ret = returns[0] if len(returns) == 1 else "(" + ", ".join(returns) + ",)"
        args = ", ".join(self.g.inputs)
        steps = "\n".join(f"#   {s}" for s in self.steps)
        return MODULE.format(steps=steps, c_source=c_source.rstrip(), config=self.config, args=args, body="\n".join(lines), ret=ret)


STREAM_BYTES = 256 << 20  # values between layers larger than this are computed in blocks of rows
DIM_ROWS = 16  # blocks of rows are a multiple of the larger array (int8: DIM 16)
_ELEM_BYTES = {"float32": 4, "int32": 4, "int8": 1}


@dataclass
class MatmulCall:
    """One tiled_matmul_auto call; `rows` and the pointer offsets are given when streamed."""

    M: int
    N: int
    K: int
    A: str
    B: str
    D: str
    C: str
    trans_b: bool
    repeating: bool
    full_c: bool
    act: int
    scale: float

    def render(self, rows: str | None = None, offset=lambda name, per_row: name) -> str:
        d = self.D if self.D == "NULL" or self.repeating else offset(self.D, self.N)
        return (f"  tiled_matmul_auto({rows or self.M}, {self.N}, {self.K}, {offset(self.A, self.K)}, {self.B}, {d}, {offset(self.C, self.N)},\n"
                f"      {self.K}, {self.K if self.trans_b else self.N}, {0 if self.repeating else self.N}, {self.N},\n"
                f"      MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,\n"
                f"      {_act(self.act)}, {_c_float(self.scale)}, 0, {_c_bool(self.repeating)},\n"
                f"      false, {_c_bool(self.trans_b)}, {_c_bool(self.full_c)}, false, 0, WS);")

    def __str__(self) -> str:
        return self.render()


@dataclass
class StreamedRows:
    """A matmul chain run `block` rows at a time; `blocked` buffers hold one block."""

    rows: int
    block: int
    calls: list
    blocked: set

    def __str__(self) -> str:
        def offset(name: str, per_row: int) -> str:
            return name if name in self.blocked else f"{name} + (size_t)r0 * {per_row}"

        inner = "\n".join("  " + c.render("n", offset).replace("\n", "\n  ") for c in self.calls)
        return (f"  /* in blocks of {self.block} rows: no value between layers is allocated whole */\n"
                f"  for (int r0 = 0; r0 < {self.rows}; r0 += {self.block}) {{\n"
                f"    const int n = {self.rows} - r0 < {self.block} ? {self.rows} - r0 : {self.block};\n"
                f"{inner}\n  }}")


MODULE = '''"""Gemmini library baseline (written by the gemmini target, no LLM)."""
# Library calls:
{steps}
import torch

from torch_llmbackend.targets.gemmini_kernel import GemminiKernel, workspace

C_SRC = r"""
{c_source}
"""


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = GemminiKernel(C_SRC, "kernel", config="{config}")

    def forward(self, {args}):
{body}
        return {ret}
'''

HELPERS = {
    "nhwc_to_nchw": """
static void nhwc_to_nchw(const elem_t *src, elem_t *dst, int n, int c, int h, int w) {
  for (int b = 0; b < n; b++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int k = 0; k < c; k++)
    dst[((b * c + k) * h + y) * w + x] = src[((b * h + y) * w + x) * c + k];
}
""",
    "nchw_to_nhwc": """
static void nchw_to_nhwc(const elem_t *src, elem_t *dst, int n, int c, int h, int w) {
  for (int b = 0; b < n; b++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) for (int k = 0; k < c; k++)
    dst[((b * h + y) * w + x) * c + k] = src[((b * c + k) * h + y) * w + x];
}
""",
}


# -- small predicates ---------------------------------------------------------------------------
def _ctype(dtype: str, config: str) -> str:
    if config == "fp32":
        return "elem_t"
    return {"int8": "elem_t", "int32": "acc_t"}.get(dtype, "float")


def _contiguous(shape) -> tuple[int, ...]:
    out, acc = [], 1
    for s in reversed(shape):
        out.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(out))


def _act(act: int) -> str:
    return "RELU" if act == RELU else "NO_ACTIVATION"


def _c_bool(v: bool) -> str:
    return "true" if v else "false"


def _c_float(v: float) -> str:
    """A C float literal that parses to exactly the float32 value PyTorch multiplies by."""
    return repr(float(np.float32(v))) + "f"  # a Python float's repr always has a '.' or an exponent


def _ep_text(ep: Epilogue) -> str:
    parts = []
    if ep.bias:
        parts.append("bias")
    if ep.scaled:
        parts.append(f"scale {ep.scale:g}")
    if ep.act == RELU:
        parts.append("relu")
    if ep.pool:
        parts.append(f"maxpool {ep.pool[0]}/{ep.pool[1]}")
    if ep.out_dtype != "float32":
        parts.append(f"-> {ep.out_dtype}")
    return (" +" + " +".join(parts)) if parts else ""


def _other_operand(node: Node, cur: str):
    args = [a for a in node.args[:2]]
    if len(args) < 2:
        return None
    return args[1] if isinstance(args[0], Ref) and args[0].name == cur else args[0]


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _plain_copy(node: Node) -> bool:
    """_to_copy that only changes dtype (no device move, layout or memory format change)."""
    extra = set(node.kwargs) - {"dtype", "layout", "device"}
    return len(node.args) == 1 and not extra


def _is_2d_swap(node: Node) -> bool:
    if node.short == "t":
        return True
    if node.short == "permute":
        return list(node.args[1]) == [1, 0]
    return node.short == "transpose" and sorted(a % 2 for a in node.args[1:3]) == [0, 1]


def _clamp_bounds(node: Node) -> tuple[float | None, float | None]:
    if node.short == "clamp_min":
        return node.args[1], None
    if node.short == "clamp_max":
        return None, node.args[1]
    lo = node.args[1] if len(node.args) > 1 else node.kwargs.get("min")
    hi = node.args[2] if len(node.args) > 2 else node.kwargs.get("max")
    return lo, hi


def _pool_params(node: Node) -> tuple[int, int, int] | None:
    args = list(node.args) + [None] * 6
    kernel, stride, padding, dilation, ceil = args[1], args[2] or args[1], args[3] or [0, 0], args[4] or [1, 1], args[5] or False
    kernel, stride = list(kernel) * (2 // len(kernel)), list(stride) * (2 // len(stride))
    padding, dilation = list(padding) * (2 // len(padding)), list(dilation) * (2 // len(dilation))
    if ceil or len(set(kernel)) != 1 or len(set(stride)) != 1 or len(set(padding)) != 1 or set(dilation) != {1}:
        return None
    return kernel[0], stride[0], padding[0]


def _is_global_average(node: Node, xs) -> bool:
    if node.short == "mean":
        dims = sorted(d % 4 for d in node.args[1])
        return dims == [2, 3] and node.kwargs.get("dtype") is None
    if node.short == "_adaptive_avg_pool2d":
        return list(node.args[1]) == [1, 1]
    if node.short == "avg_pool2d":
        args = list(node.args) + [None] * 6
        kernel, stride, padding = args[1], args[2] or args[1], args[3] or [0]
        return list(kernel) in ([xs[2], xs[3]], [xs[2]]) and set(padding) == {0} and list(stride)[0] >= xs[2]
    return False
