"""Static checks: each rule names itself and the line; legitimate code is left alone."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from torch_llmbackend.evaluate.static_checks import check_c_source, check_candidate, tokenize_c

TRITON = {"torch", "triton", "math"}
CUDA = {"torch", "math", "torch_llmbackend.targets.cuda_loader"}

HEADER = "import torch\nimport triton\nimport triton.language as tl\n\n\n"
MODEL = "\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return torch.empty_like(x)\n"


def violations(body: str, allowed=TRITON, **kw):
    return check_candidate(HEADER + textwrap.dedent(body) + MODEL, allowed, **kw)


def rules_and_lines(body: str, **kw):
    return {(v.rule, v.line - HEADER.count("\n")) for v in violations(body, **kw)}


@pytest.mark.parametrize(
    "body, rule, line",
    [
        ("import os\n", "import", 1),
        ("from subprocess import run\n", "import", 1),
        ("import importlib\n", "import", 1),
        ("from . import sibling\n", "import", 1),
        ("from torch import *\n", "import", 1),
        ("def f(p):\n    return open(p).read()\n", "builtin", 2),
        ("def f(s):\n    return eval(s)\n", "builtin", 2),
        ("def f():\n    exec('1')\n", "builtin", 2),
        ("def f(x):\n    return getattr(x, 'add')\n", "builtin", 2),
        ("def f(x):\n    setattr(x, 'a', 1)\n", "builtin", 2),
        ("g = globals\n", "builtin", 1),
        ("def f():\n    return __builtins__\n", "dunder", 2),
        ("def f(fn):\n    return fn.__globals__\n", "dunder", 2),
        ("def f():\n    return ().__class__.__subclasses__()\n", "dunder", 2),
        ("def f(k):\n    return k.__code__\n", "dunder", 2),
        ("FMT = '{0.__globals__}'\n", "dunder", 1),
        ("def f():\n    torch.os.system('x')\n", "module-escape", 2),
        ("def f():\n    return triton.runtime.jit.os\n", "module-escape", 2),
        ("def f():\n    return torch._C\n", "private-api", 2),
        ("def f(m):\n    return torch.compile(m)\n", "banned-api", 2),
        ("def f(t, p):\n    torch.save(t, p)\n", "banned-api", 2),
        ("def f():\n    torch.backends.cuda.matmul.allow_tf32 = True\n", "banned-api", 2),
        ("def f():\n    torch.set_default_dtype(torch.float64)\n", "banned-api", 2),
        ("from torch.utils.cpp_extension import load_inline\n", "banned-api", 1),
        ("def f(fn):\n    return triton.testing.do_bench(fn)\n", "banned-api", 2),
        ("def f(x):\n    return x.numpy()\n", "host-readback", 2),
        ("def f(x):\n    return x.tolist()\n", "host-readback", 2),
        ("N = 0\ndef f():\n    global N\n    N += 1\n", "global-state", 3),
        ("def f():\n    n = 0\n    def g():\n        nonlocal n\n        n += 1\n    return g\n", "global-state", 4),
        ("CACHE = {}\ndef f(k):\n    return CACHE.get(k)\n", "module-state", 3),
        ("BUF = torch.empty(10)\ndef f(x):\n    return BUF\n", "module-state", 3),
        ("class Box:\n    pass\nBOX = Box\ndef f(x):\n    BOX.last = x\n", "module-state", 5),
        ("def f(x):\n    torch.my_cache = x\n", "module-state", 2),
        ("class C:\n    seen = []\n", "class-state", 2),
        ("def f(x, memo={}):\n    return memo\n", "default-arg", 1),
        ("def f(x, memo=list()):\n    return memo\n", "default-arg", 1),
    ],
)
def test_rule_and_line(body, rule, line):
    assert (rule, line) in rules_and_lines(body), violations(body)


def test_state_on_self_outside_init_is_rejected_but_init_may_set_it():
    source = HEADER + textwrap.dedent(
        """\
        class ModelNew(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.block = 128
                self.seen = []
                self.stats = {}
                self.count = 0

            def forward(self, x):
                self.last = x
                self.seen.append(x)
                self.stats["n"] = 1
                self.count += 1
                return torch.empty_like(x)
        """
    )
    found = {(v.rule, v.line) for v in check_candidate(source, TRITON)}
    assert found == {("self-state", 15), ("self-state", 16), ("self-state", 17), ("self-state", 18)}


def test_missing_modelnew_and_syntax_errors():
    assert [v.rule for v in check_candidate("import torch\nclass Model(torch.nn.Module):\n    pass\n", TRITON)] == ["modelnew"]
    (v,) = check_candidate("import torch\ndef f(:\n", TRITON)
    assert (v.rule, v.line) == ("syntax", 2)


def test_legitimate_code_passes():
    source = HEADER + textwrap.dedent(
        '''\
        """Docs may say cuBLAS, at::matmul, os.system or open() in prose."""
        import math

        BLOCK = 128
        SIZES = (64, 128)
        EPS = 1e-5
        CONFIGS = [triton.Config({"BLOCK": b}) for b in SIZES]


        def grid(n):
            return (triton.cdiv(n, BLOCK),)


        @triton.autotune(configs=CONFIGS, key=["n"])
        @triton.jit
        def kernel(x_ptr, n, BLOCK: tl.constexpr):
            pass


        class ModelNew(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.block = BLOCK
                self.scale = math.sqrt(2.0)

            def forward(self, x):
                try:
                    out = torch.empty_like(x)
                except RuntimeError:
                    pass
                flat = out.view(-1)
                parts = []
                parts.append(flat)
                kernel[grid(x.numel())](x, x.numel())
                if __name__ == "__main__":
                    pass
                return out
        '''
    )
    assert check_candidate(source, TRITON) == []


def test_loader_module_of_a_target_is_an_allowed_import():
    source = textwrap.dedent(
        '''\
        import torch
        from torch_llmbackend.targets.cuda_loader import load_cuda

        SRC = r"""
        #include <cuda_fp16.h>
        extern "C" __global__ void k(const float* x, float* y, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;  // cublasSgemm would be slower
            if (i < n) y[i] = x[i] > 0.f ? x[i] : 0.f;
        }
        """


        class ModelNew(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.k = load_cuda(SRC).kernel("k")

            def forward(self, x):
                y = torch.empty_like(x)
                self.k((x.numel() + 255) // 256, 256, (x, y, x.numel()))
                return y
        '''
    )
    assert check_candidate(source, CUDA) == []
    assert [v.rule for v in check_candidate(source, TRITON)] == ["import"]
    assert [v.rule for v in check_candidate(source.replace("cuda_loader import", "cuda_loader import os as load_cuda, "), CUDA)][:1] == ["module-escape"]


C_SOURCE = """
#include <cublas_v2.h>
#include <cuda_fp16.h>
// cudnnConvolutionForward( in a comment is fine
extern "C" __global__ void k(float* y) {
    const char* s = "at::mm(x) in a string is fine";
    cublasSgemm(handle, 0, 0);
}
torch::Tensor run(torch::Tensor x) {
    auto y = torch::empty_like(x);
    auto z = at::matmul(x, x);
    return x.sum();
}
"""


def test_c_source_library_calls_are_found_with_their_lines():
    found = [(v.line, v.message.split(" ")[0]) for v in check_c_source(C_SOURCE, first_line=10) if v.rule == "c-library"]
    assert found == [(11, "#include"), (16, "call"), (20, "at::matmul:"), (21, ".sum()")]
    # libraries allowed: what is left is the host function, which no CUDA source may hold
    assert [(v.rule, v.line) for v in check_c_source(C_SOURCE, first_line=10, allow_libraries=True)] == [("c-host", 18)]


def test_c_source_in_a_python_string_is_scanned_with_python_line_numbers():
    source = "import torch\n\nSRC = '''" + C_SOURCE + "'''\n" + MODEL
    lines = sorted(v.line for v in check_candidate(source, TRITON) if v.rule == "c-library")
    assert lines == [4, 9, 13, 14]
    assert [v.rule for v in check_candidate(source, TRITON, allow_libraries=True)] == ["c-host"]


def test_c_tokenizer_skips_comments_strings_and_raw_strings():
    toks = tokenize_c('a /* b \n c */ d "e f" \'g\' R"x(h i)x" // j\n k::l')
    assert [t.text for t in toks] == ["a", "d", "k", "::", "l"]
    assert [t.line for t in toks if t.text in ("d", "k")] == [2, 3]


# --- default deny -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "body, rule",
    [
        ("def f():\n    t = torch\n    return t.os\n", "module-alias"),  # issue 17: `_t = torch`
        ("def f():\n    a, b = torch, triton\n", "module-alias"),
        ("def f():\n    return (t := tl)\n", "module-alias"),
        ("def f(m=torch):\n    return m\n", "module-alias"),
        ("def f(g):\n    return g(torch)\n", "module-alias"),
        ("def f():\n    return [torch][0]\n", "module-alias"),
        ("def f():\n    return torch.cuda\n", "module-alias"),
        ("def f():\n    return f'{torch}'\n", "module-alias"),
        ("def f(x):\n    torch.serialization.save(x, 'p')\n", "module-escape"),  # issue 17
        ("def f(x, y):\n    return torch.matmul(x, y)\n", "not-allowed"),
        ("def f(x):\n    return torch.nn.functional.relu(x)\n", "not-allowed"),
        ("def f():\n    return torch.ops.aten.add\n", "banned-api"),
        ("def f():\n    return triton.runtime.driver\n", "banned-api"),
        ("def f(b):\n    return triton.runtime.driver.active.utils.load_binary(b)\n", "banned-api"),
        ("def f():\n    return tl.inline_asm_elementwise\n", "not-allowed"),
        ("def f():\n    return torch.__dict__['os']\n", "dunder"),
        ("def f():\n    return vars(torch)\n", "builtin"),
        ("def f(x):\n    return type(x)\n", "builtin"),
        ("def f():\n    print('x')\n", "builtin"),
        ("def f():\n    return object\n", "builtin"),
        ("def f(g):\n    return g.gi_frame\n", "attribute"),
        ("def f(x):\n    return x.untyped_storage()\n", "attribute"),
        ("def f(x):\n    return x.sum()\n", "attribute"),
        ("def f(e):\n    return e.__traceback__\n", "dunder"),
        ("def f(x):\n    return x.item()\n", "host-readback"),
        ("import torch.nn.functional as F\n", "not-allowed"),
        ("from torch import serialization\n", "module-escape"),
        ("from triton.runtime import driver\n", "banned-api"),
        ("def f():\n    import math\n", "import"),
        ("from __future__ import braces\n", "import"),
        ("def deco(fn):\n    return fn\n@deco\ndef g():\n    pass\n", "decorator"),
        ("class M(type):\n    pass\nclass K(metaclass=M):\n    pass\n", "class"),
        ("class K(object):\n    pass\n", "class"),
        ("class K:\n    for i in range(3):\n        pass\n", "class"),
        ("open_ = 1\nfor i in range(3):\n    pass\n", "top-level"),
        ("if True:\n    X = 1\n", "top-level"),
        ("try:\n    X = 1\nexcept Exception:\n    pass\n", "top-level"),
        ("X = torch.empty(3).shape\n", "top-level"),
        ("torch.allclose = max\n", "top-level"),
        ("def f(x, n=torch.autograd.set_grad_enabled(False)):\n    return x\n", "top-level"),
        ("async def f():\n    pass\n", "async"),
        ("class B(torch.nn.Module):\n    def __init_subclass__(cls):\n        pass\n", "dunder"),
        ("class B:\n    def __del__(self):\n        pass\n", "dunder"),
    ],
)
def test_default_deny_refuses_by_name(body, rule):
    assert rule in {v.rule for v in violations(body)}, violations(body)


def test_allowed_launch_wrapper_idioms_pass():
    source = textwrap.dedent(
        '''\
        from __future__ import annotations

        import math

        import torch
        import triton
        import triton.language as tl
        from torch import nn

        BLOCK: tl.constexpr = 128
        DTYPES = (torch.float16, torch.bfloat16)
        grid = lambda meta: (triton.cdiv(meta["n"], meta["BLOCK"]),)  # noqa: E731


        @triton.heuristics({"EVEN": lambda args: args["n"] % 128 == 0})
        @triton.jit
        def kernel(x_ptr, n, BLOCK: tl.constexpr, EVEN: tl.constexpr):
            offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
            v = tl.load(x_ptr + offs, mask=offs < n).to(tl.float32)
            v = v - v.max(axis=0) + v.exp().sum(axis=0) * 0
            tl.store(x_ptr + offs, tl.math.rsqrt(tl.extra.libdevice.tanh(v)).to(x_ptr.dtype.element_ty), mask=offs < n)


        class ModelNew(nn.Module):
            def __init__(self):
                super(ModelNew, self).__init__()
                self.scale = math.sqrt(2.0)

            @torch.no_grad()
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                out = torch.empty_strided(x.shape, x.stride(), dtype=torch.promote_types(x.dtype, torch.float32), device=x.device)
                props = torch.cuda.get_device_properties(x.device) if x.is_cuda else None
                sms = props.multi_processor_count if props is not None else 1
                if x.is_cuda:
                    device = triton.runtime.driver.active.get_current_device()
                    sms = triton.runtime.driver.active.utils.get_device_properties(device)["multiprocessor_count"]
                n = x.numel() * sms // sms
                kernel[grid](out.view(-1), n, BLOCK=128)
                return out.view_as(x)
        '''
    )
    assert check_candidate(source, TRITON) == []


def test_self_attributes_must_be_the_class_own():
    source = HEADER + textwrap.dedent(
        """\
        class ModelNew(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.k = 1

            def forward(self, x):
                self.register_forward_hook(print)
                return torch.empty_like(x) if self.k else self.k
        """
    )
    found = [(v.rule, v.message.split(" ")[0]) for v in check_candidate(source, TRITON)]
    assert ("attribute", "`self.register_forward_hook`") in found and len([f for f in found if f[0] == "attribute"]) == 1


def test_the_loader_takes_a_checked_constant_source():
    base = 'import torch\nfrom torch_llmbackend.targets.cuda_loader import load_cuda\nSRC = "x"\n'
    model = "class ModelNew(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.k = {}\n"
    assert check_candidate(base + model.format('load_cuda(SRC).kernel("k")'), CUDA) == []
    for call in ('load_cuda(SRC + "y")', "load_cuda(str(SRC))", "(lambda f: f(SRC))(load_cuda)"):
        rules = {v.rule for v in check_candidate(base + model.format(call), CUDA)}
        assert rules & {"c-source", "module-alias"}, call


# --- every shipped kernel passes ------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _target_of(path: Path) -> str:
    name = path.stem
    return next((t for t in ("gemmini", "cuda") if name.endswith(f"_{t}")), "triton")


SHIPPED = sorted([*(ROOT / "cache" / "kernels").glob("*.py"), *(ROOT / "bench" / "curated").glob("*_*.py"),
                  *(ROOT / "bench" / "curated" / "triton").glob("*.py")])


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_kernel_passes_the_default_deny_checks(path):
    from torch_llmbackend.targets import get_target

    found = check_candidate(path.read_text(), get_target(_target_of(path)).allowed_imports)
    assert found == [], "\n".join(map(str, found))


def test_the_shipped_set_covers_all_three_targets():
    # 50: one copy of each kernel (35 shipped in cache/kernels, 15 curated ones that do not ship);
    # before bench/curated stopped repeating the shipped ones there were 79 files
    assert len(SHIPPED) >= 50 and {_target_of(p) for p in SHIPPED} == {"triton", "cuda", "gemmini"}


# --- CUDA C++ -----------------------------------------------------------------------------------

KERNEL = 'extern "C" __global__ void k(float* y, int n) { int i = threadIdx.x; if (i < n) y[i] = 0.f; }\n'


@pytest.mark.parametrize(
    "src, rule",
    [
        ("#include <stdio.h>\n" + KERNEL, "c-include"),
        ('#include "kernel.cuh"\n' + KERNEL, "c-include"),
        ("#  include_next <cuda_fp16.h>\n" + KERNEL, "c-include"),
        ("/* */ #include </etc/passwd>\n" + KERNEL, "c-include"),  # a comment does not hide a directive
        (KERNEL + "int main() { return 0; }\n", "c-host"),
        (KERNEL + "static void helper(float* p) { p[0] = 1.f; }\n", "c-host"),
        (KERNEL + '__device__ void f() { system("x"); }\n', "c-syscall"),
        (KERNEL + '__device__ void f() { const char* p = getenv("HOME"); }\n', "c-syscall"),
        (KERNEL + '__device__ void f() { asm volatile("syscall"); }\n', "c-syscall"),
        ("#define CAT(a, b) a##b\n" + KERNEL, "c-macro"),
        ("#pragma GCC poison x\n" + KERNEL, "c-directive"),
        ("#include <cuda/std/../../../../etc/passwd>\n" + KERNEL, "c-include"),
    ],
)
def test_cuda_source_rule(src, rule):
    assert rule in {v.rule for v in check_c_source(src)}, check_c_source(src)


def test_cuda_source_with_device_helpers_templates_and_unrolling_passes():
    src = textwrap.dedent(
        """\
        #include <cuda_fp16.h>
        #include <cuda/std/limits>
        namespace {
        template <typename T> __device__ __forceinline__ T warp_sum(T v) {
            #pragma unroll
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }
        struct Pair { float a, b; __device__ float sum() const { return a + b; } };
        }
        extern "C" {
        __global__ void __launch_bounds__(256) k(const __half* x, float* y, int n) {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            float v = i < n ? __half2float(x[i]) : 0.f;
            asm volatile("mov.u32 %0, %%laneid;" : "=r"(i));
            printf("%f", warp_sum(v));
            if (i < n) y[i] = v;
        }
        }
        """
    )
    assert check_c_source(src) == []


# --- Gemmini C ----------------------------------------------------------------------------------

GEMMINI_BODY = "void kernel(const elem_t *a, elem_t *c) {\n  %s\n}\n"


def gemmini(body: str, prelude: str = "") -> list:
    return check_c_source('#include "include/gemmini.h"\n' + prelude + GEMMINI_BODY % body, dialect="gemmini")


@pytest.mark.parametrize(
    "prelude, body, rule",
    [
        ("", 'system("x");', "c-syscall"),
        ("", 'FILE *f = fopen("p", "w");', "c-syscall"),
        ("", 'write(1, "x", 1);', "c-syscall"),
        ("", "syscall(60, 0);", "c-syscall"),
        ("", '__asm__("syscall");', "c-construct"),
        ("__attribute__((constructor)) static void init(void) { }\n", "", "c-construct"),
        ("extern int counter;\n", "", "c-construct"),
        ("int mkfifo(const char *p, unsigned m);\n", 'mkfifo("p", 0);', "c-declaration"),
        ("", 'mkfifo("p", 0);', "c-call"),
        ("", 'void *p = __builtin_frame_address(0);', "c-construct"),
        ("", "int (*f)(int) = 0;", "c-construct"),
        ("typedef int F(const char *);\n", "", "c-construct"),
        ("#define RUN(f) f(\"x\")\n", "RUN(system);", "c-syscall"),
        ("#define CALL mknod\n", "CALL(\"p\", 0, 0);", "c-call"),
        ("#define P(a, b) a##b\n", "P(sys, tem)(\"x\");", "c-macro"),
        ("#pragma redefine_extname puts system\n", 'puts("x");', "c-directive"),
        ("#include <unistd.h>\n", "", "c-include"),
        ("#include \"/etc/passwd\"\n", "", "c-include"),
        ("", '(mkfifo)("p", 0);', "c-construct"),
        ("", '(0, mkfifo)("p", 0);', "c-construct"),
        ("", "void *t[1]; int (*g[1])(int); g[0](1);", "c-construct"),
    ],
)
def test_gemmini_c_rule(prelude, body, rule):
    found = gemmini(body, prelude)
    assert rule in {v.rule for v in found}, found


def test_gemmini_c_library_calls_macros_and_own_helpers_pass():
    prelude = textwrap.dedent(
        """\
        #include <string.h>
        #define TILE (2 * DIM)
        static elem_t scratch[TILE * TILE] row_align(1);
        static void helper(const elem_t *src, elem_t *dst, int n);
        static void helper(const elem_t *src, elem_t *dst, int n) { memcpy(dst, src, n * sizeof(elem_t)); }
        """
    )
    body = ("helper(a, scratch, TILE); printf(\"%d\\n\", TILE); c[0] = fmaxf((elem_t)(a[0]), 0.0f);\n"
            "  if (c[0]) (void)0;\n"
            "  tiled_matmul_auto(4, 4, 4, a, a, NULL, c, 4, 4, 4, 4, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY, "
            "MVIN_SCALE_IDENTITY, NO_ACTIVATION, ACC_SCALE_IDENTITY, 0, false, false, false, false, false, 0, WS);\n"
            "  gemmini_fence();")
    assert gemmini(body, prelude) == []
