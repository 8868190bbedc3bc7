"""The Gemmini target: subgraphs run on the (simulated) Gemmini systolic array.

Tensors live on the host (device type "cpu"); the accelerator is gemmini_runtime's simulator,
which runs Gemmini C programs bit-exactly and counts cycles with its documented timing model.
A candidate module holds C source in a string and calls it through
targets/gemmini_kernel.GemminiKernel. Float32 subgraphs run on the FP32 configuration (DIM 4)
and are verified at fp32 tolerance, a miss judged against float64 with eager's error bounds
widened by sqrt(K/256) for a reduction of length K (evaluate/reduction_error.py: the array sums
in order over K); int8 subgraphs (torch._int_mm and the requantize chain around it) on the int8
configuration (DIM 16) and must match eager exactly. The library lowering is verified on reduced
sizes of the same structure and once at full size (`reduced_checks`, reduce.py).

Timing is simulated cycles of one forward (`measure`); the yardstick is the target's own
library lowering (`baseline_source`, lower.py), not eager or Inductor, whose wall-clock
microseconds on the host mean nothing next to accelerator cycles.
"""
from __future__ import annotations

import importlib.util
import operator
import shutil
from dataclasses import dataclass, field

import torch

from ...records import Timing
from ..base import VIEW_OPS, Availability, Target, _tensor_vals, dtype_name

aten = torch.ops.aten

PRODUCTS = frozenset({aten.mm.default, aten.addmm.default, aten._int_mm.default, aten.convolution.default})
GLOBAL_AVERAGES = frozenset({aten.mean.dim, aten._adaptive_avg_pool2d.default, aten.avg_pool2d.default})
# Ops Gemmini applies on a product's way out of the accumulator (mvout: bias was added in the
# accumulator, then scale, round-to-nearest-even, saturate, activation, pooling).
EPILOGUE = frozenset({
    aten.relu.default, aten.mul.Tensor, aten.mul.Scalar, aten.round.default, aten.clamp.default,
    aten.clamp_min.default, aten.clamp_max.default, aten.max_pool2d_with_indices.default,
})
GEMMINI_OPS = PRODUCTS | GLOBAL_AVERAGES | EPILOGUE | {aten.add.Tensor}


# Timing fails with this text when forward ran no Gemmini instruction (host C or no kernel
# call): zero cycles would read as infinitely fast.
NO_GEMMINI_WORK = "forward ran no Gemmini instruction (0 simulated cycles): the work must run on Gemmini through GemminiKernel"


@dataclass
class GemminiTiming(Timing):
    """Simulated cycles of one forward, with the simulator's figures (cycles, MACs,
    utilization, scratchpad/accumulator use) for the report and the LLM's feedback."""

    stats: dict = field(default_factory=dict)


class GemminiTarget(Target):
    name = "gemmini"
    allowed_imports = frozenset({"torch", "math", "torch_llmbackend.targets.gemmini_kernel"})
    ops = GEMMINI_OPS
    dtypes = frozenset({"float32", "int8", "int32"})
    wall_clock_baselines = False  # timed in simulated cycles: the library kernel is the yardstick

    def availability(self, device_type: str) -> Availability:
        if device_type != "cpu":
            return Availability(False, f"Gemmini runs on host (CPU) tensors through its simulator; inputs are on {device_type}")
        if importlib.util.find_spec("gemmini_runtime") is None:
            return Availability(False, "gemmini_runtime is not importable")
        from gemmini_runtime.build import CC

        if shutil.which(CC) is None:
            return Availability(False, f"no C compiler ({CC!r}) to build Gemmini programs for the simulator")
        return Availability(True)

    def capability(self, device_type: str) -> str:
        """Both configurations a subgraph may run on (its dtype picks one): any change to their
        array size or memories changes the key."""
        from gemmini_runtime import get_config

        return "gemmini-" + "+".join(get_config(name).key for name in ("fp32", "int8"))

    def unsupported_reason(self, node: torch.fx.Node) -> str | None:
        op = node.target
        if op is aten.max_pool2d_with_indices.default:
            # its second output holds int64 indices, which a fused pool never writes
            reason = _pool_reason(node)
        else:
            reason = super().unsupported_reason(node)
        if reason is not None:
            return reason
        if op in VIEW_OPS:
            return _view_reason(node)
        vals = _tensor_vals(node)
        out_dtype = dtype_name(vals[0].dtype) if vals else ""
        if op in (aten.mm.default, aten.addmm.default) and out_dtype != "float32":
            return f"{out_dtype} mm: Gemmini's int8 path runs torch._int_mm (int8 x int8 -> int32)"
        if op is aten.convolution.default:
            transposed, groups = node.args[6], node.args[8]
            if transposed or groups != 1 or out_dtype != "float32" or len(vals[0].shape) != 4:
                return "only float32 2-D convolutions with groups=1, not transposed, map onto tiled_conv_auto"
            return None
        if op in PRODUCTS:
            return None
        if op is aten.add.Tensor:
            other = node.args[1]
            if not isinstance(other, torch.fx.Node):
                return "add of a scalar: Gemmini adds tensors (a bias in the accumulator or a residual)"
            if out_dtype == "int8":
                return "int8 + int8 wraps around in PyTorch but saturates on Gemmini"
            return None
        if op in GLOBAL_AVERAGES:
            return None if out_dtype == "float32" else "average pooling runs on float32 data only"
        if op in (aten.mul.Tensor, aten.mul.Scalar) and isinstance(node.args[1], torch.fx.Node):
            return "multiplication by a tensor: Gemmini scales by one scalar on the way out of the accumulator"
        if op in EPILOGUE and op is not aten.relu.default and not _after_product(node):
            return f"{_short(op)} on its own: Gemmini applies it only to a matmul or convolution result on its way out"
        return None

    def guide(self) -> str:
        return GUIDE

    def baseline_source(self, problem) -> str | None:
        from .lower import library_source

        return library_source(problem)

    def measure(self, instance, inputs, problem=None) -> GemminiTiming:
        """Simulated cycles of one forward (deterministic: one run is the measurement). With the
        problem, the forward must have run all of its multiply-accumulates on Gemmini: cycles
        of a kernel that does its arithmetic in host C would mean nothing."""
        return self.timed_call(instance, inputs, problem)[1]

    def timed_call(self, fn, inputs, problem=None):
        """(fn(*inputs), its GemminiTiming): one simulated run is both a verification run and
        the measurement, since cycles do not depend on the data."""
        from ..gemmini_kernel import recording

        with recording() as rec:
            out = fn(*inputs)
        if not rec.calls or not rec.cycles:
            raise RuntimeError(NO_GEMMINI_WORK)
        if problem is not None:
            from .graph import parse_problem
            from .lower import useful_macs

            needed = useful_macs(parse_problem(problem))
            if rec.macs < needed:
                raise RuntimeError(f"the forward ran {rec.macs:,} of the subgraph's {needed:,} multiply-accumulates on "
                                   "Gemmini; all of the products must run on the accelerator (compute instructions), not in host C")
        c = float(rec.cycles)
        return out, GemminiTiming(median=c, p20=c, p80=c, runs=1, unit="cycles", stats=rec.summary())

    def float_arbiter(self, problem):
        """How a float32 output that misses eager's tolerance is judged against float64: with
        bounds widened by the subgraph's longest reduction (evaluate/reduction_error.py), since
        Gemmini sums in order over K where eager's library sums in blocks."""
        from ...evaluate.reduction_error import reduction_arbiter
        from .graph import UnsupportedGraph, parse_problem
        from .lower import longest_reduction

        try:
            return reduction_arbiter(longest_reduction(parse_problem(problem)))
        except UnsupportedGraph:
            return None

    def reduced_checks(self, problem, source: str) -> list | None:
        """[(the problem at reduced sizes, the candidate for it)] when `source` is the target's
        own library lowering, which is one function of the shapes (reduce.py): the
        evaluator then runs every trial at reduced sizes and one at full size. None for any
        other source (an LLM's kernel has its sizes written in) or when nothing is large."""
        from .lower import DIM_ROWS, Unsupported, lower
        from .reduce import reduced_problem

        try:
            full = lower(problem)
        except Unsupported:
            return None
        small = reduced_problem(problem) if source == full.source else None
        if small is None:
            return None
        # a schedule streamed in blocks of rows is checked streamed too, in blocks of DIM_ROWS
        return [(small, lower(small, DIM_ROWS if full.block else None).source)]

def _pool_reason(node: torch.fx.Node) -> str | None:
    if any(u.target is not operator.getitem or u.args[1] != 0 for u in node.users):
        return "max pooling indices are needed (training): Gemmini's pooling writes values only"
    val = node.meta.get("val")
    if not isinstance(val, (tuple, list)) or dtype_name(val[0].dtype) != "float32":
        return "max pooling runs on float32 data only"
    return None


def _short(op) -> str:
    return str(op).replace("aten.", "").split(".")[0]


def _view_reason(node: torch.fx.Node) -> str | None:
    if node.target is aten._to_copy.default:
        src = node.args[0]
        if not isinstance(src, torch.fx.Node) or not isinstance(src.meta.get("val"), torch.Tensor):
            return "a copy of a non-tensor"
        a, b = dtype_name(src.meta["val"].dtype), dtype_name(node.meta["val"].dtype)
        if a == b:
            return None
        if (a, b) == ("int32", "float32") or (a, b) == ("float32", "int8") and _after_product(node):
            return None  # the requantize chain: int32 accumulator -> float scale -> int8
        return f"dtype conversion {a} -> {b} has no Gemmini equivalent (only the int32 -> scaled int8 requantize chain)"
    return None


def _after_product(node: torch.fx.Node, depth: int = 12) -> bool:
    """True when `node` sits in a single-input chain hanging off a matmul or convolution."""
    cur = node
    for _ in range(depth):
        src = cur.args[0] if cur.args else None
        if not isinstance(src, torch.fx.Node):
            return False
        if src.target in PRODUCTS:
            return True
        if src.target is aten.add.Tensor:  # a bias add: follow the product side
            src = next((a for a in src.args[:2] if isinstance(a, torch.fx.Node) and a.target in PRODUCTS | EPILOGUE | VIEW_OPS), src.args[0])
            if src.target in PRODUCTS:
                return True
        if src.target is operator.getitem:
            src = src.args[0]
        cur = src
    return False


GUIDE = """\
Target: Gemmini, a DIM x DIM systolic array, run by gemmini_runtime's cycle-counting simulator.
Write the kernel in Gemmini C; a Python module builds and calls it. Answer with ONE ```python block:

```python
import torch
from torch_llmbackend.targets.gemmini_kernel import GemminiKernel
C_SRC = r'''
#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, const acc_t *bias, elem_t *C) {   /* your C */ }
'''
class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.k = GemminiKernel(C_SRC, "kernel", config="fp32")   # "fp32" for float32, "int8" for int8
    def forward(self, x, w, b):
        c = torch.empty(64, 32, dtype=torch.float32)             # allocate every output
        self.k(x.contiguous(), w.contiguous(), b.contiguous(), c) # pointers: contiguous CPU tensors
        return c
```
Rules: the C may include only "include/gemmini.h" and standard C headers and call only gemmini.h, its own
functions and libc math/memcpy/memset/malloc/free/printf (no files, processes, asm, extern, __attribute__ or
function pointers). Host Python may only allocate, take views and make layout copies (.permute(...).contiguous());
all arithmetic runs in Gemmini instructions (arithmetic in host C loops is not Gemmini work and is
rejected). Pointer params: elem_t* (fp32: float32; int8: int8), acc_t* (fp32: float32; int8: int32).
Shapes are fixed: hard-code them in C. The C function may be named anything; pass its name.

Configs: fp32: DIM=4, elem_t=acc_t=float. int8: DIM=16, elem_t=int8, acc_t=int32, scale_t=float.
Scratchpad: 256 KiB = BANK_NUM*BANK_ROWS = 4*4096 rows of DIM elem_t (both configs); accumulator:
64 KiB = ACC_ROWS rows of DIM acc_t (int8: 1024, fp32: 4096). Local addresses count rows.
Local address bit 31: accumulator; bit 30: accumulate (+=) instead of overwrite; bit 29 (mvout from
acc): raw acc_t instead of scaled elem_t. GARBAGE_ADDR: zeros as B/D, "no write" as C.

Library (include/gemmini.h; strides in elements; D=NULL: no bias; C=act(scale*(A*B+D))):
tiled_matmul_auto(I, J, K, A, B, D, C, stride_A, stride_B, stride_D, stride_C,
  A_scale, B_scale, D_scale, act /*NO_ACTIVATION|RELU*/, scale, bert_scale /*0*/, repeating_bias,
  transpose_A, transpose_B, full_C /*acc_t output*/, low_D, weightA /*0*/, WS|OS)
tiled_matmul(... same up to repeating_bias, then tile_I, tile_J, tile_K (in DIM units), transpose_A,
  transpose_B, full_C, low_D, weightA, WS|OS): you choose tiles; WS needs (I*K+K*J)*DIM <= spad/2
  and I*J*DIM <= ACC_ROWS/2.
tiled_conv_auto(batch, in_rows, in_cols, in_ch, out_ch, out_rows, out_cols, stride, 1, dilation, padding,
  kernel_dim, false,false,false,false,false, input_NHWC, weights_HWIO /*(kh*kw*in_ch) x out_ch*/,
  bias /*acc_t or NULL*/, output_NHWC, act, scale, pool_size, pool_stride /*0: no pool*/, pool_padding, WS)
tiled_resadd_auto(I, J, A_scale, B_scale, C_scale, A, B, C, relu, WS)
tiled_global_average_auto(input_NHWC, output, batches, channels, dim, WS)

ISA macros (rows/cols <= DIM per block; mvin up to MAX_BLOCK_LEN*DIM cols, split in DIM blocks):
gemmini_extended_config_ex(dataflow WS|OS, act, sys_shift, A_stride, A_transpose, B_transpose)
gemmini_extended3_config_ld(dram_stride_bytes, scale, shrunk, id /*0,1,2 for mvin,mvin2,mvin3*/)
gemmini_extended_config_st(dram_stride_bytes, act, acc_scale)
gemmini_extended_mvin(dram_ptr, local_addr, cols, rows) (mvin2, mvin3 use ld state 1, 2)
gemmini_extended_mvout(dram_ptr, local_addr, cols, rows)
gemmini_extended_preload(BD_addr, C_addr, BD_cols, BD_rows, C_cols, C_rows)
gemmini_extended_compute_preloaded(A_addr, BD_addr, A_cols, A_rows, BD_cols, BD_rows)
gemmini_extended_compute_accumulated(...same...)   gemmini_fence()
WS: preload puts a DIM x DIM block of B (weights) in the array and sets C's address; compute_preloaded
streams A rows through it (C = A*B, += into acc with bit 30); compute_accumulated reuses the weights
with new A rows. OS: accumulate A*B inside the array, C written at the end.
gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, D, C, A_stride, B_stride, D_stride, C_stride,
  A_transpose, B_transpose, full_C, low_D, ex_accumulate, act, a_spad_id, b_spad_id, is_resadd):
  a whole tiled WS matmul (I, J, K in DIM tiles) run by a hardware FSM with no per-instruction host
  cost; double-buffered, so (I*K + K*J)*DIM <= 8192 and I*J*DIM <= ACC_ROWS/2;
  config_ex/config_st/config_ld for its strides and scales must be set before (see tiled_matmul).

Cost model: the host issues one instruction per 4 cycles (loops avoid that); mvin/mvout cost about
one cycle per 16 bytes; a WS compute costs its A rows; load, execute and store overlap when data is
double-buffered. Peak: DIM*DIM MACs per cycle; feedback gives cycles, MACs and utilization.
int8 numerics: mvout scale multiplies in float32, rounds half to even, saturates to [-128, 127],
then ReLU; exactly torch's clamp(round(acc.float() * s), -128, 127).to(int8).
"""
