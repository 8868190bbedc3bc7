"""Gemmini instructions from Python: encoders (the operand packing of SPEC section 3) and
a runner that issues a list of them against numpy buffers.

    run = InstructionRunner()                       # int8 config
    a = np.arange(256, dtype=np.int8).reshape(16, 16); out = np.zeros_like(a)
    run([config_ld(16), config_st(16), mvin(a, 0), mvout(out, 0)], a, out)

DRAM operands are numpy arrays (their address is used) or raw integers. The buffers passed
to the runner are the only memory the instructions may touch.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from .config import Config, get_config

GARBAGE_ADDR = 0xFFFFFFFF
ACC = 1 << 31
ACCUMULATE = 1 << 30
FULL = 1 << 29
OS, WS = 0, 1

CONFIG, MVIN2, MVIN, MVOUT, COMPUTE_PRELOADED, COMPUTE_ACCUMULATED, PRELOAD, FLUSH = range(8)
LOOP_WS, LOOP_WS_BOUNDS, LOOP_WS_AB, LOOP_WS_DC, LOOP_WS_STRIDES_AB, LOOP_WS_STRIDES_DC = range(8, 14)
MVIN3, LOOP_CONV_WS = 14, 15


@dataclass(frozen=True)
class Insn:
    funct: int
    rs1: int
    rs2: int


def _addr(x) -> int:
    return x.ctypes.data if isinstance(x, np.ndarray) else int(x)


def _fbits(f: float) -> int:
    return struct.unpack("<I", struct.pack("<f", f))[0]


def pack(rows: int, cols: int, local: int) -> int:
    return (rows << 48) | (cols << 32) | (local & 0xFFFFFFFF)


def mvin(dram, local: int, rows: int = 16, cols: int = 16, state: int = 0) -> Insn:
    return Insn((MVIN, MVIN2, MVIN3)[state], _addr(dram), pack(rows, cols, local))


def mvout(dram, local: int, rows: int = 16, cols: int = 16) -> Insn:
    return Insn(MVOUT, _addr(dram), pack(rows, cols, local))


def preload(bd: int, c: int, bd_rows=16, bd_cols=16, c_rows=16, c_cols=16) -> Insn:
    return Insn(PRELOAD, pack(bd_rows, bd_cols, bd), pack(c_rows, c_cols, c))


def compute(a: int, bd: int, preloaded: bool, a_rows=16, a_cols=16, bd_rows=16, bd_cols=16) -> Insn:
    return Insn(COMPUTE_PRELOADED if preloaded else COMPUTE_ACCUMULATED,
                pack(a_rows, a_cols, a), pack(bd_rows, bd_cols, bd))


def config_ex(dataflow: int = WS, act: int = 0, sys_shift: int = 0, a_stride: int = 1,
              c_stride: int = 1, a_transpose: bool = False, b_transpose: bool = False,
              set_only_strides: bool = False) -> Insn:
    rs1 = ((a_stride << 16) | (int(b_transpose) << 9) | (int(a_transpose) << 8) |
           (int(set_only_strides) << 7) | (act << 3) | (dataflow << 2) | 0)
    return Insn(CONFIG, rs1 | (_fbits(1.0) << 32), (c_stride << 48) | (sys_shift & 0xFFFFFFFF))


def config_ld(stride_bytes: int, scale: float = 1.0, shrunk: bool = False, block_stride: int = 16,
              pixel_repeats: int = 1, state: int = 0) -> Insn:
    rs1 = ((_fbits(scale) << 32) | (block_stride << 16) | (pixel_repeats << 8) | (state << 3) |
           (int(shrunk) << 2) | 1)
    return Insn(CONFIG, rs1, stride_bytes)


def config_st(stride_bytes: int, act: int = 0, scale: float = 1.0, pool_stride: int = 0,
              pool_size: int = 0, pool_out_dim: int = 0, porows: int = 0, pocols: int = 0,
              orows: int = 0, ocols: int = 0, upad: int = 0, lpad: int = 0) -> Insn:
    rs1 = ((ocols << 56) | (orows << 48) | (pocols << 40) | (porows << 32) | (pool_out_dim << 24) |
           (lpad << 10) | (upad << 8) | (pool_size << 6) | (pool_stride << 4) | (act << 2) | 2)
    return Insn(CONFIG, rs1, (_fbits(scale) << 32) | (stride_bytes & 0xFFFFFFFF))


def loop_ws(I, J, K, A, B, D, C, A_stride, B_stride, D_stride, C_stride, pad_I=0, pad_J=0,
            pad_K=0, a_transpose=False, b_transpose=False, full_C=False, low_D=False,
            ex_accumulate=False, act=0, a_spad_id=0, b_spad_id=0, is_resadd=False) -> list[Insn]:
    """The six instructions of gemmini_loop_ws (strides in elements; 0 = absent)."""
    return [
        Insn(LOOP_WS_BOUNDS, (pad_K << 32) | (pad_J << 16) | pad_I, (K << 32) | (J << 16) | I),
        Insn(LOOP_WS_AB, _addr(A), _addr(B)),
        Insn(LOOP_WS_DC, _addr(D), _addr(C)),
        Insn(LOOP_WS_STRIDES_AB, A_stride, B_stride),
        Insn(LOOP_WS_STRIDES_DC, D_stride, C_stride),
        Insn(LOOP_WS, (a_spad_id << 18) | (b_spad_id << 16) | (act << 8) | (int(low_D) << 2) |
             (int(full_C) << 1) | int(ex_accumulate),
             (int(is_resadd) << 2) | (int(b_transpose) << 1) | int(a_transpose)),
    ]


_RUNNER_SOURCE = r"""
#include "include/gemmini.h"
void run_instructions(const uint64_t *prog, int n, void *b0, void *b1, void *b2, void *b3,
                      void *b4, void *b5) {
  for (int i = 0; i < n; i++) gemmini_sim_rocc((uint32_t)prog[3 * i], prog[3 * i + 1], prog[3 * i + 2]);
  gemmini_fence();
}
"""


class InstructionRunner:
    """Issues instruction lists against up to six numpy buffers (a kernel of its own)."""

    MAX_BUFFERS = 6

    def __init__(self, config: Config | str | None = None):
        from .runtime import build_function  # late: runtime imports this module's users

        self.config = get_config(config)
        self.kernel = build_function(_RUNNER_SOURCE, "run_instructions", self.config)

    def __call__(self, insns, *buffers: np.ndarray):
        if len(buffers) > self.MAX_BUFFERS:
            raise ValueError(f"at most {self.MAX_BUFFERS} buffers")
        flat = []
        for x in insns:
            for i in (x if isinstance(x, (list, tuple)) else [x]):
                flat += [i.funct, i.rs1 & (2**64 - 1), i.rs2 & (2**64 - 1)]
        prog = np.array(flat or [0], dtype=np.uint64)
        bufs = list(buffers) + [np.zeros(1, np.int8)] * (self.MAX_BUFFERS - len(buffers))
        return self.kernel(prog, len(flat) // 3, *bufs)
