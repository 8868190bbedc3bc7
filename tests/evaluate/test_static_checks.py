"""Static checks: each rule names itself and the line; legitimate code is left alone."""
from __future__ import annotations

import textwrap

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
        ("def f():\n    return __builtins__\n", "builtin", 2),
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

            def forward(self, x):
                self.last = x
                self.seen.append(x)
                self.stats["n"] = 1
                self.count += 1
                return torch.empty_like(x)
        """
    )
    found = {(v.rule, v.line) for v in check_candidate(source, TRITON)}
    assert found == {("self-state", 13), ("self-state", 14), ("self-state", 15), ("self-state", 16)}


def test_missing_modelnew_and_syntax_errors():
    assert [v.rule for v in check_candidate("import torch\nclass Model(torch.nn.Module):\n    pass\n", TRITON)] == ["modelnew"]
    (v,) = check_candidate("import torch\ndef f(:\n", TRITON)
    assert (v.rule, v.line) == ("syntax", 2)


def test_legitimate_code_passes():
    source = HEADER + textwrap.dedent(
        '''\
        """Docs may say cuBLAS, at::matmul, os.system or open() in prose."""
        import math
        import torch.nn.functional as F

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
    found = [(v.line, v.message.split(" ")[0]) for v in check_c_source(C_SOURCE, first_line=10)]
    assert found == [(11, "#include"), (16, "call"), (20, "at::matmul:"), (21, ".sum()")]
    assert check_c_source(C_SOURCE, allow_libraries=True) == []


def test_c_source_in_a_python_string_is_scanned_with_python_line_numbers():
    source = "import torch\n\nSRC = '''" + C_SOURCE + "'''\n" + MODEL
    lines = sorted(v.line for v in check_candidate(source, TRITON) if v.rule == "c-library")
    assert lines == [4, 9, 13, 14]
    assert [v.rule for v in check_candidate(source, TRITON, allow_libraries=True)] == []


def test_c_tokenizer_skips_comments_strings_and_raw_strings():
    toks = tokenize_c('a /* b \n c */ d "e f" \'g\' R"x(h i)x" // j\n k::l')
    assert [t.text for t in toks] == ["a", "d", "k", "::", "l"]
    assert [t.line for t in toks if t.text in ("d", "k")] == [2, 3]
