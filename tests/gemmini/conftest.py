"""Fixtures for the gemmini_runtime tests: a build cache for the session, instruction
runners per config, and independent numpy models of Gemmini's arithmetic."""
import os

import numpy as np
import pytest

from gemmini_runtime.isa import InstructionRunner


@pytest.fixture(scope="session", autouse=True)
def gemmini_cache(tmp_path_factory):
    """Builds go to a fresh cache unless GEMMINI_RUNTIME_CACHE points at one already."""
    if os.environ.get("GEMMINI_RUNTIME_CACHE"):
        yield os.environ["GEMMINI_RUNTIME_CACHE"]
        return
    path = str(tmp_path_factory.mktemp("gemmini-cache"))
    os.environ["GEMMINI_RUNTIME_CACHE"] = path
    yield path
    del os.environ["GEMMINI_RUNTIME_CACHE"]


@pytest.fixture(scope="session")
def run():
    """Issue Python-encoded instructions on the int8 config."""
    return InstructionRunner("int8")


@pytest.fixture(scope="session")
def run_fp32():
    return InstructionRunner("fp32")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ---- numpy models of the datapath (written from SPEC section 4, not from the C code) -----
def rne_sat_int8(x):
    """round half to even in float32, then saturate to int8"""
    y = np.rint(np.asarray(x, dtype=np.float32))
    return np.clip(y, -128, 127).astype(np.int8)


def scale_int8(x, scale):
    return rne_sat_int8(np.asarray(x, np.float32) * np.float32(scale))


def rounding_shift(x, shift):
    x = np.asarray(x, np.int64)
    if shift == 0:
        return x
    q = x >> shift
    round_bit = (x >> (shift - 1)) & 1
    sticky = (x & ((1 << (shift - 1)) - 1)) != 0 if shift > 1 else np.zeros_like(x, bool)
    return q + (round_bit & (sticky | (q & 1)))


def matmul_ref(A, B, D=None, scale=1.0, relu=False):
    """act(clamp(RNE(float32(A@B + D) * scale))) as int8"""
    acc = A.astype(np.int64) @ B.astype(np.int64)
    if D is not None:
        acc = acc + D
    acc = acc.astype(np.int32)  # the accumulator is 32 bits wide
    out = scale_int8(acc, scale)
    return np.maximum(out, 0) if relu else out


@pytest.fixture(scope="session")
def ref():
    """The numpy models above, as ref.matmul, ref.scale_int8, ref.rounding_shift, ..."""
    from types import SimpleNamespace
    return SimpleNamespace(matmul=matmul_ref, scale_int8=scale_int8, rne_sat_int8=rne_sat_int8,
                           rounding_shift=rounding_shift)
