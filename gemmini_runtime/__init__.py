"""gemmini_runtime: a drop-in host runtime and simulator for Gemmini C programs.

Programs written against Gemmini's headers compile unmodified on the host (gemmini-cc)
and run against a bit-exact functional simulator with a documented cycle model. From
Python, build a kernel function from C source and call it on numpy arrays or torch CPU
tensors; each call returns the stats of that call. Independent of torch_llmbackend.
"""
from .build import BuildError, cache_dir, config_root, include_flags, link_flags
from .config import CONFIGS, Config, MemoryModel, get_config
from .runtime import (GemminiProgramError, Kernel, Param, Program, ProgramResult, Stats,
                      build_function, build_functions, compile_program, parse_signature, run_program)

build_program = compile_program

__all__ = [
    "BuildError", "CONFIGS", "Config", "MemoryModel", "GemminiProgramError", "Kernel", "Param", "Program",
    "ProgramResult", "Stats", "build_function", "build_functions", "build_program", "cache_dir", "compile_program",
    "config_root", "get_config", "include_flags", "link_flags", "parse_signature", "run_program",
]
