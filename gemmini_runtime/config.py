"""Accelerator configurations and the `gemmini_params.h` generated from each.

A config is a handful of numbers (array size, element type, memory sizes); everything
else (rows, block lengths, C types, scaling macros) is derived, so an int8 DIM-32 config
or a smaller scratchpad is a parameter change, not a code change.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

ELEM_TYPES = ("int8", "float32")


@dataclass(frozen=True)
class MemoryModel:
    """The memory system of the timing model. Each default names where it comes from: Gemmini's
    default configuration (`GemminiConfigs.defaultConfig` in Gemmini's Configs.scala), the
    Chipyard SoC Gemmini sits in, or FireSim's DRAM model (FASED). Cycles are Gemmini's clock,
    which in Chipyard is also the system bus's."""

    # Gemmini default config: dma_buswidth = 128 bits; one beat of the DMA's TileLink port per
    # cycle, each direction (reads return on channel D, writes go out on channel A).
    dma_bus_bytes: int = 16
    # Gemmini default config: max_in_flight_mem_reqs = 16, for the reader and for the writer.
    dma_max_inflight: int = 16
    # DRAM data rate, reads and writes together. Chipyard's memory bus (the port the L2 refills
    # through) is 64 bits wide (rocket-chip MemoryBusKey beatBytes = 8): at most 8 bytes/cycle.
    dram_bytes_per_cycle: int = 8
    # Round trip of one request that misses the L2, in cycles. FireSim's default DRAM model
    # (FASED DDR3 FR-FCFS, FRFCFS16GBQuadRank) runs tCAS = tRCD = tRP = 14 DRAM cycles: a row miss
    # is 42 + 4 (the burst); with the TileLink crossbar, the L2 miss path and the memory bus
    # (about 30 cycles, an estimate) that is ~80. Derived, not a measured FireSim figure.
    dram_latency: int = 80
    # Gemmini default config: sp_singleported = true (each scratchpad bank does one read or one
    # write per cycle), acc_singleported = false (an accumulator bank reads and writes in the
    # same cycle). sp_banks = 4 and acc_banks = 2 are Config.bank_num / Config.acc_banks.
    sp_singleported: bool = True
    acc_singleported: bool = False

    def __post_init__(self):
        for name in ("dma_bus_bytes", "dma_max_inflight", "dram_bytes_per_cycle", "dram_latency"):
            if getattr(self, name) < 1:
                raise ValueError(f"MemoryModel.{name} must be at least 1, got {getattr(self, name)}")
        if self.dma_max_inflight > 256:
            raise ValueError("MemoryModel.dma_max_inflight is at most 256")

    @property
    def key(self) -> str:
        return (f"bus{self.dma_bus_bytes}-if{self.dma_max_inflight}-dram{self.dram_bytes_per_cycle}"
                f"x{self.dram_latency}-sp{int(self.sp_singleported)}{int(self.acc_singleported)}")


@dataclass(frozen=True)
class Config:
    """One Gemmini configuration (defaults: Gemmini's default int8 config)."""

    name: str = "int8"
    dim: int = 16
    elem: str = "int8"  # "int8" (acc int32) or "float32" (acc float32)
    spad_kib: int = 256
    acc_kib: int = 64
    bank_num: int = 4
    acc_banks: int = 2
    max_bytes: int = 64  # one DMA request
    memory: MemoryModel = MemoryModel()

    def __post_init__(self):
        if self.elem not in ELEM_TYPES:
            raise ValueError(f"Config.elem must be one of {ELEM_TYPES}, got {self.elem!r}")
        if self.dim < 1 or self.dim > 64:
            raise ValueError(f"Config.dim must be in 1..64, got {self.dim}")
        if self.spad_rows % self.bank_num:
            raise ValueError("scratchpad rows must divide evenly into banks")

    # --- derived sizes -------------------------------------------------------------
    @property
    def is_float(self) -> bool:
        return self.elem == "float32"

    @property
    def elem_bytes(self) -> int:
        return 4 if self.is_float else 1

    @property
    def acc_bytes(self) -> int:
        return 4

    @property
    def spad_rows(self) -> int:
        return self.spad_kib * 1024 // (self.dim * self.elem_bytes)

    @property
    def bank_rows(self) -> int:
        return self.spad_rows // self.bank_num

    @property
    def acc_rows(self) -> int:
        return self.acc_kib * 1024 // (self.dim * self.acc_bytes)

    @property
    def dma_bytes(self) -> int:
        # A DMA request must hold at least one accumulator row, or MAX_BLOCK_LEN_ACC is 0.
        return max(self.max_bytes, self.dim * self.acc_bytes)

    @property
    def max_block_len(self) -> int:
        return self.dma_bytes // (self.dim * self.elem_bytes)

    @property
    def max_block_len_acc(self) -> int:
        return self.dma_bytes // (self.dim * self.acc_bytes)

    @property
    def elem_dtype(self) -> np.dtype:
        return np.dtype(np.float32 if self.is_float else np.int8)

    @property
    def acc_dtype(self) -> np.dtype:
        return np.dtype(np.float32 if self.is_float else np.int32)

    @property
    def key(self) -> str:
        """A file-name-safe identity of every field (two configs with equal keys are equal)."""
        return (f"{self.name}-d{self.dim}-{self.elem}-s{self.spad_kib}-a{self.acc_kib}"
                f"-b{self.bank_num}-m{self.max_bytes}"
                + ("" if self.memory == MemoryModel() else f"-{self.memory.key}"))

    def with_(self, **changes) -> "Config":
        return replace(self, **changes)

    def params_header(self) -> str:
        return render_params_header(self)


CONFIGS = {
    "int8": Config(),
    "fp32": Config(name="fp32", dim=4, elem="float32"),
    "int8-dim32": Config(name="int8-dim32", dim=32),
    "int8-small": Config(name="int8-small", spad_kib=64, acc_kib=16),
}


def get_config(config: "Config | str | None" = None) -> Config:
    """A Config from a Config, a registered name, or None (env GEMMINI_CONFIG, else int8)."""
    if isinstance(config, Config):
        return config
    name = config or os.environ.get("GEMMINI_CONFIG") or "int8"
    try:
        return CONFIGS[name]
    except KeyError:
        raise ValueError(f"unknown Gemmini config {name!r}; known: {sorted(CONFIGS)}") from None


_INT8_TYPES = """\
typedef int8_t elem_t;
static const elem_t elem_t_max = 127;
static const elem_t elem_t_min = -128;
typedef int32_t acc_t;
typedef int64_t full_t;

#define HAS_MVIN_SCALE
typedef float scale_t;
typedef uint32_t scale_t_bits;

typedef int32_t scale_acc_t;
typedef uint32_t scale_acc_t_bits;

typedef float acc_scale_t;
typedef uint32_t acc_scale_t_bits;

#define ACC_SCALE_T_IS_FLOAT
#define ACC_SCALE_EXP_BITS 8
#define ACC_SCALE_SIG_BITS 24

#define ELEM_T_MAX 127
#define ELEM_T_MIN (-128)
"""

_FP32_TYPES = """\
#define ELEM_T_IS_FLOAT
#define ELEM_T_EXP_BITS 8
#define ELEM_T_SIG_BITS 24
#define ACC_T_EXP_BITS 8
#define ACC_T_SIG_BITS 24
typedef float elem_t;
typedef uint32_t elem_t_bits;
static const elem_t elem_t_max = 3.4028235e38f;
static const elem_t elem_t_min = -3.4028235e38f;
typedef float acc_t;
typedef uint32_t acc_t_bits;
typedef double full_t;

#define HAS_MVIN_SCALE
typedef float scale_t;
typedef uint32_t scale_t_bits;

#define HAS_MVIN_ACC_SCALE
typedef float scale_acc_t;
typedef uint32_t scale_acc_t_bits;

typedef float acc_scale_t;
typedef uint32_t acc_scale_t_bits;

#define ACC_SCALE_T_IS_FLOAT
#define ACC_SCALE_EXP_BITS 8
#define ACC_SCALE_SIG_BITS 24
"""

# Scaling and rounding macros: the same arithmetic as the simulator core (csrc/sim_arith.h).
_INT8_MACROS = """\
// Round to nearest, ties to even, in float (Gemmini's hardware rounds in its scale type).
#define ROUND_NEAR_EVEN(x) \\
    ({ const float x_ = (x); \\
       const long long i_ = x_; \\
       const long long next_ = x_ < 0 ? x_ - 1 : x_ + 1; \\
       const float rem_ = x_ - i_; \\
       const float rem_abs_ = rem_ < 0 ? -rem_ : rem_; \\
       rem_abs_ < 0.5f ? i_ : (rem_abs_ > 0.5f ? next_ : (i_ % 2 == 0 ? i_ : next_)); })

// Rounding right shift, round-to-nearest-even (RISC-V vxrm = rne).
#define ROUNDING_RIGHT_SHIFT(x, shift) \\
    ({ ((shift) > 0) ? (((x) >> (shift)) + \\
        ((((x) >> ((shift) - 1)) & 1) & \\
         (((((shift) <= 1) ? 0 : ((x) & ((1 << ((shift) - 1)) - 1))) != 0) | (((x) >> (shift)) & 1)))) \\
        : ((x) << (-(shift))); })

#define ACC_SCALE(x, scale) \\
    ({ float y_ = ROUND_NEAR_EVEN((x) * (scale)); \\
       y_ > INT8_MAX ? INT8_MAX : (y_ < INT8_MIN ? INT8_MIN : (acc_t)y_); })

#define MVIN_SCALE(x, scale) \\
    ({ float y_ = ROUND_NEAR_EVEN((x) * (scale)); \\
       y_ > INT8_MAX ? INT8_MAX : (y_ < INT8_MIN ? INT8_MIN : (elem_t)y_); })

#define MVIN_SCALE_ACC(x, scale) (x)
"""

_FP32_MACROS = """\
#define ROUNDING_RIGHT_SHIFT(x, shift) (x)
#define ACC_SCALE(x, scale) ((x) * (scale))
#define MVIN_SCALE(x, scale) ((x) * (scale))
#define MVIN_SCALE_ACC(x, scale) ((x) * (scale))
"""


def render_params_header(cfg: Config) -> str:
    types = _FP32_TYPES if cfg.is_float else _INT8_TYPES
    macros = _FP32_MACROS if cfg.is_float else _INT8_MACROS
    m = cfg.memory
    return f"""\
// gemmini_params.h for config "{cfg.name}" ({cfg.key}).
// Generated by gemmini_runtime.config from the config; do not edit.
#ifndef GEMMINI_PARAMS_H
#define GEMMINI_PARAMS_H

#include <stdint.h>
#include <limits.h>

#define GEMMINI_CONFIG_NAME "{cfg.name}"
#define XCUSTOM_ACC 3
#define DIM {cfg.dim}
#define ADDR_LEN 32
#define BANK_NUM {cfg.bank_num}
#define BANK_ROWS {cfg.bank_rows}
#define ACC_ROWS {cfg.acc_rows}
#define ACC_BANKS {cfg.acc_banks}
#define MAX_BYTES {cfg.dma_bytes}
#define MAX_BLOCK_LEN (MAX_BYTES/(DIM*{cfg.elem_bytes}))
#define MAX_BLOCK_LEN_ACC (MAX_BYTES/(DIM*{cfg.acc_bytes}))

{types}
#define row_align(blocks) __attribute__((aligned(blocks*DIM*sizeof(elem_t))))
#define row_align_acc(blocks) __attribute__((aligned(blocks*DIM*sizeof(acc_t))))

#define MVIN_SCALE_IDENTITY 1.0
#define ACC_SCALE_IDENTITY 1.0

// the timing model's memory system (gemmini_runtime.config.MemoryModel gives each source)
#define GEMMINI_DMA_BUS_BYTES {m.dma_bus_bytes}
#define GEMMINI_DMA_MAX_INFLIGHT {m.dma_max_inflight}
#define GEMMINI_DRAM_BYTES_PER_CYCLE {m.dram_bytes_per_cycle}
#define GEMMINI_DRAM_LATENCY {m.dram_latency}
#define GEMMINI_SP_SINGLEPORTED {int(m.sp_singleported)}
#define GEMMINI_ACC_SINGLEPORTED {int(m.acc_singleported)}

{macros}
#endif // GEMMINI_PARAMS_H
"""
