"""The CUDA target and the pure parts of its loader, on the CPU: compile-option and include
policy, cache keys and the on-disk cache, NVRTC log trimming, kernel signature parsing, argument
type resolution and packing, launch dimensions. Compiling with NVRTC needs no GPU; those tests
run where NVRTC is installed (cuda-python or CuPy) and are skipped elsewhere."""
import struct

import pytest
import torch

from torch_llmbackend.targets import get_target
from torch_llmbackend.targets.cuda import LOADER_MODULE, CudaTarget
from torch_llmbackend.targets.cuda_loader import (
    CudaBuildError, CudaLaunchError, Param, cache_key, check_options, check_source_policy, compile_cuda,
    launch_dims, pack_args, parse_kernel_params, read_cached, resolve_types, toolchain_status, trim_log,
    write_cached,
)

SCALE = r"""
extern "C" __global__ void scale(const float* __restrict__ x, float* y, float a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i];
}
"""

NVRTC_LOG = """\
kernel.cu(4): error: identifier "z" is undefined
      if (i < n) y[i] = a * z[i];
                            ^

kernel.cu(2): warning #177-D: variable "unused" was declared but never referenced
      int unused;
          ^

Remark: The warnings can be suppressed with "-diag-suppress <warning-number>"

kernel.cu(5): error: expected a ";"
      return
            ^

2 errors detected in the compilation of "kernel.cu".
"""

needs_nvrtc = pytest.mark.skipif(not toolchain_status()[0], reason="NVRTC (cuda-python or CuPy) is not installed")


# --- the target -------------------------------------------------------------------------------

def test_target_is_registered_with_gpu_ops_and_the_loader_import():
    target = get_target("cuda")
    assert isinstance(target, CudaTarget) and target.name == "cuda"
    assert torch.ops.aten.addmm.default in target.ops and torch.ops.aten._softmax.default in target.ops
    assert target.dtypes >= {"float32", "float16", "bfloat16"}
    assert isinstance(target.allowed_imports, frozenset)
    assert target.allowed_imports == {"torch", "math", LOADER_MODULE}


def test_target_is_unavailable_without_a_cuda_device():
    target = CudaTarget()
    assert not target.availability("cpu").ok
    assert "CUDA device" in target.availability("cpu").reason
    if not torch.cuda.is_available():
        assert not target.availability("cuda").ok
        assert target.capability("cuda") == "no-cuda-device"


def test_key_versions_name_torch_and_cuda_majors():
    versions = CudaTarget().key_versions()
    assert versions["torch"] == torch.__version__.split(".")[0]
    assert versions["cuda"] == (torch.version.cuda or "none").split(".")[0]


def test_guide_tells_the_llm_the_answer_format():
    guide = CudaTarget().guide()
    for must in ("```python", "ModelNew", "load_cuda", 'extern "C"', "torch.empty", "grid", "block", "if (i < n)", "cuBLAS"):
        assert must in guide, must


# --- what a candidate may ask NVRTC for ------------------------------------------------------------

@pytest.mark.parametrize("line", [
    '#include "/etc/passwd"', "#include </etc/passwd>", "#include <../../etc/passwd>", "#include_next <cuda_fp16.h>",
    "#define F </etc/hosts>\n#include F", "%:include <x/../y.h>", "#  include \\\n  \"secret.h\"",
])
def test_includes_other_than_toolkit_headers_are_refused(line):
    with pytest.raises(CudaBuildError, match="not allowed"):
        check_source_policy(line + "\n" + SCALE)


def test_toolkit_headers_and_commented_out_includes_pass():
    check_source_policy("#include <cuda_fp16.h>\n#include <cuda/std/limits>\n// #include \"x.h\"\n/* #include </etc> */\n" + SCALE)


def test_only_harmless_options_pass():
    assert check_options(("-use_fast_math", "-maxrregcount=64", "-DTILE=32", "--ftz=true")) == ("-use_fast_math", "-maxrregcount=64", "-DTILE=32", "--ftz=true")
    for bad in ("-I/etc", "--include-path=/tmp", "-include=/etc/passwd", "--pre-include=x.h", "-o/tmp/x"):
        with pytest.raises(CudaBuildError, match="not allowed"):
            check_options((bad,))


# --- cache ------------------------------------------------------------------------------------

def test_cache_key_changes_with_everything_that_changes_the_binary():
    base = cache_key(SCALE, ("-std=c++17",), "sm_90", (13, 0))
    assert base == cache_key(SCALE, ("-std=c++17",), "sm_90", (13, 0))
    variants = [cache_key(SCALE + " ", ("-std=c++17",), "sm_90", (13, 0)), cache_key(SCALE, ("-std=c++20",), "sm_90", (13, 0)),
                cache_key(SCALE, ("-std=c++17",), "sm_90a", (13, 0)), cache_key(SCALE, ("-std=c++17",), "sm_90", (13, 1)),
                cache_key(SCALE, ("-std=c++17",), "sm_90", (13, 0), ("/usr/local/cuda/include",))]
    assert len({base, *variants}) == 6


def test_cached_binary_round_trips_and_damage_is_detected(tmp_path):
    folder = str(tmp_path / "cuda")
    assert read_cached(folder, "k1") is None
    write_cached(folder, "k1", b"\x7fELF-cubin", {"arch": "sm_90"})
    assert read_cached(folder, "k1") == b"\x7fELF-cubin"
    (tmp_path / "cuda" / "k1.cubin").write_bytes(b"\x7fELF-cubiX")
    assert read_cached(folder, "k1") is None


# --- NVRTC logs ---------------------------------------------------------------------------------

def test_trimmed_log_keeps_errors_with_their_source_line_and_drops_noise():
    text = trim_log(NVRTC_LOG)
    assert text.splitlines()[0] == 'line 4: error: identifier "z" is undefined'
    assert "a * z[i]" in text and "^" in text
    assert 'line 5: error: expected a ";"' in text
    assert "warning" not in text and "Remark" not in text and "errors detected" not in text
    assert "kernel.cu" not in text


def test_trimmed_log_caps_the_number_of_errors():
    many = "".join(f'kernel.cu({i}): error: identifier "v{i}" is undefined\n  v{i};\n  ^\n\n' for i in range(1, 30))
    text = trim_log(many, max_errors=3)
    assert text.count("error:") == 3 and "and 26 more errors" in text


def test_trimmed_log_shows_warnings_when_there_is_no_error():
    text = trim_log(NVRTC_LOG.replace("error", "warning #1-D"))
    assert "warning" in text


# --- signatures and arguments ---------------------------------------------------------------------

def test_kernel_parameters_are_parsed_from_the_source():
    params = parse_kernel_params("// extern \"C\" __global__ void scale(int q)\n" + SCALE, "scale")
    assert [p.code for p in params] == ["p", "p", "f", "i"]
    assert params[0].pointee == "float" and params[0].text == "const float* __restrict__ x"
    launch_bounds = 'extern "C" __global__ void __launch_bounds__(256) k(const __half* a, long long n, unsigned int m) {}'
    assert [p.code for p in parse_kernel_params(launch_bounds, "k")] == ["p", "q", "I"]
    assert parse_kernel_params(SCALE, "missing") is None


def test_argument_types_come_from_the_declaration_or_from_types():
    params = parse_kernel_params(SCALE, "scale")
    x = torch.zeros(4)
    assert resolve_types((x, x, 2.0, 4), None, params) == "ppfi"
    assert resolve_types((x, x, 2.0, 4), "ppfi", None) == "ppfi"
    import numpy as np

    assert resolve_types((x, x, np.float32(2.0), np.int32(4)), None, None) == "ppfi"


@pytest.mark.parametrize("args, types, message", [
    ((1, 2, 3), None, "takes 4 parameters"),
    (("x", "x", 2.0, 4.5), "ppfd", "declares `int n`"),
    (("x", "x", "t", 4), None, "given as a pointer but the kernel declares `float a`"),
    (("x", "x", "t", 4), "ppfi", "its parameter must be a pointer"),
])
def test_malformed_calls_are_explained(args, types, message):
    params = parse_kernel_params(SCALE, "scale")
    x = torch.zeros(4)
    args = tuple(x if a == "x" else torch.zeros(1) if a == "t" else a for a in args)
    with pytest.raises(CudaLaunchError, match=message):
        resolve_types(args, types, params)


def test_python_scalars_need_a_declared_or_given_type():
    with pytest.raises(CudaLaunchError, match="C type is unknown"):
        resolve_types((torch.zeros(1), 3), None, None)


def test_packing_uses_one_little_endian_slot_per_parameter():
    packed = pack_args((None, 7, -1, 2.5, 0.25, 2**40), "pIifdq", None, None)
    assert len(packed) == 6 * 8
    assert struct.unpack("<Q", packed[0:8])[0] == 0
    assert struct.unpack("<I", packed[8:12])[0] == 7
    assert struct.unpack("<i", packed[16:20])[0] == -1
    assert struct.unpack("<f", packed[24:28])[0] == 2.5
    assert struct.unpack("<d", packed[32:40])[0] == 0.25
    assert struct.unpack("<q", packed[40:48])[0] == 2**40


def test_packing_refuses_cpu_tensors_wrong_dtypes_and_overflow():
    with pytest.raises(CudaLaunchError, match="kernels need CUDA tensors"):
        pack_args((torch.zeros(2),), "p", [Param("float* x", "p", "float")], None)
    with pytest.raises(CudaLaunchError, match="does not fit int32"):
        pack_args((2**31,), "i", None, None)
    with pytest.raises(CudaLaunchError, match="int32 parameter given float"):
        pack_args((1.5,), "i", None, None)


def test_launch_dimensions_are_checked():
    assert launch_dims(5, "grid") == (5, 1, 1)
    assert launch_dims((4, 2), "block") == (4, 2, 1)
    for bad, what, message in [((0,), "grid", "below 1"), ((1025,), "block", "at most 1024"), ((1, 2, 3, 4), "grid", "1 to 3"),
                               ((1.5,), "grid", "must be ints"), ((1, 70000), "grid", "exceeds")]:
        with pytest.raises(CudaLaunchError, match=message):
            launch_dims(bad, what)


# --- NVRTC itself (no GPU needed) ---------------------------------------------------------------------

@needs_nvrtc
def test_nvrtc_builds_a_cubin_and_the_second_build_is_a_cache_hit(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_CACHE_DIR", str(tmp_path))
    first = compile_cuda(SCALE, "sm_90")
    assert first.cubin[:4] == b"\x7fELF" and not first.cached
    second = compile_cuda(SCALE, "sm_90")
    assert second.cached and second.cubin == first.cubin and second.key == first.key
    assert list((tmp_path / "cuda").glob("*.cubin"))


@needs_nvrtc
def test_nvrtc_errors_come_back_trimmed_for_the_llm(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_CACHE_DIR", str(tmp_path))
    with pytest.raises(CudaBuildError) as info:
        compile_cuda(SCALE.replace("a * x[i]", "a * z[i]"), "sm_90")
    message = str(info.value)
    assert 'line 5: error: identifier "z" is undefined' in message
    assert "errors detected" not in message and "kernel.cu(" in info.value.log


@needs_nvrtc
def test_half_precision_headers_are_found(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_CACHE_DIR", str(tmp_path))
    src = '#include <cuda_fp16.h>\nextern "C" __global__ void h(const __half* a, __half* b) { b[0] = __hadd(a[0], a[0]); }\n'
    assert compile_cuda(src, "sm_90").cubin[:4] == b"\x7fELF"


def test_triton_kernels_for_cuda_inputs_need_a_cuda_device():
    """A bundle's H100 Triton kernels are kept, not run, on a machine without a GPU."""
    target = get_target("triton")
    assert target.availability("cuda").ok == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert "no CUDA device" in target.availability("cuda").reason
