"""The Python API: building kernels from C source, calling them on numpy arrays and torch
tensors, per-call stats, caching and configs."""
from pathlib import Path

import numpy as np
import pytest

import gemmini_runtime as gr

MATMUL = r'''
#include "include/gemmini.h"
void kernel(const elem_t *A, const elem_t *B, elem_t *C, int I, int J, int K) {
  tiled_matmul_auto(I, J, K, A, B, NULL, C, K, J, J, J, MVIN_SCALE_IDENTITY, MVIN_SCALE_IDENTITY,
      MVIN_SCALE_IDENTITY, NO_ACTIVATION, ACC_SCALE_IDENTITY, 0, false, false, false, false,
      false, 0, WS);
}
'''


@pytest.fixture(scope="module")
def kernel():
    return gr.build_function(MATMUL, "kernel")


def test_a_kernel_runs_on_numpy_arrays_and_returns_the_stats_of_the_call(kernel, ref, rng):
    A, B = rng.integers(-5, 5, (40, 30), dtype=np.int8), rng.integers(-5, 5, (30, 20), dtype=np.int8)
    C = np.zeros((40, 20), np.int8)
    stats = kernel(A, B, C, 40, 20, 30)
    assert np.array_equal(C, ref.matmul(A, B))
    assert stats.macs == 40 * 20 * 30 and stats.cycles > 0
    assert stats.issued["loop_ws"] == 1 and stats.executed["compute_preloaded"] > 0
    assert 0 < stats.spad_rows_used <= stats.spad_rows and 0 < stats.acc_rows_used <= stats.acc_rows


def test_each_call_starts_from_a_reset_accelerator(kernel, rng):
    A, B = rng.integers(-5, 5, (64, 64), dtype=np.int8), rng.integers(-5, 5, (64, 64), dtype=np.int8)
    first = kernel(A, B, np.zeros((64, 64), np.int8), 64, 64, 64)
    second = kernel(A, B, np.zeros((64, 64), np.int8), 64, 64, 64)
    assert first == second


def test_torch_cpu_tensors_are_passed_in_place(kernel, ref):
    torch = pytest.importorskip("torch")
    A = torch.randint(-5, 5, (32, 48), dtype=torch.int8)
    B = torch.randint(-5, 5, (48, 16), dtype=torch.int8)
    C = torch.zeros(32, 16, dtype=torch.int8)
    kernel(A, B, C, 32, 16, 48)
    assert np.array_equal(C.numpy(), ref.matmul(A.numpy(), B.numpy()))


def test_arguments_are_checked_before_the_call(kernel):
    a = np.zeros((16, 16), np.int8)
    with pytest.raises(TypeError, match="needs dtype int8"):
        kernel(a, a, np.zeros((16, 16), np.int32), 16, 16, 16)
    with pytest.raises(TypeError, match="C-contiguous"):
        kernel(a, a, np.zeros((16, 32), np.int8)[:, ::2], 16, 16, 16)
    with pytest.raises(TypeError, match="takes 6 arguments"):
        kernel(a, a, a)


def test_builds_are_cached_by_source_and_config(kernel):
    again = gr.build_function(MATMUL, "kernel")
    assert again.library == kernel.library
    other = gr.build_function(MATMUL + "\n// changed\n", "kernel")
    assert other.library != kernel.library
    assert gr.build_function(MATMUL, "kernel", config="int8-dim32").library != kernel.library


def test_signature_parsing():
    params = gr.parse_signature(
        "void f(const elem_t *A, acc_t B[16][16], int n, float scale, size_t k) {}", "f")
    assert [(p.name, p.pointer, p.const, p.base) for p in params] == [
        ("A", True, True, "elem_t"), ("B", True, False, "acc_t"), ("n", False, False, "int"),
        ("scale", False, False, "float"), ("k", False, False, "size_t")]


def test_a_dim32_config_is_a_parameter_change(ref, rng):
    cfg = gr.get_config("int8-dim32")
    assert (cfg.dim, cfg.spad_rows, cfg.acc_rows, cfg.max_block_len) == (32, 8192, 512, 4)
    k = gr.build_function(MATMUL, "kernel", config=cfg)
    A, B = rng.integers(-5, 5, (70, 50), dtype=np.int8), rng.integers(-5, 5, (50, 90), dtype=np.int8)
    C = np.zeros((70, 90), np.int8)
    stats = k(A, B, C, 70, 90, 50)
    assert np.array_equal(C, ref.matmul(A, B)) and stats.dim == 32


def test_custom_configs_build_their_own_params_header():
    small = gr.Config(name="tiny", dim=8, spad_kib=16, acc_kib=8)
    header = small.params_header()
    assert "#define DIM 8" in header and f"#define BANK_ROWS {16 * 1024 // 8 // 4}" in header
    assert (gr.config_root(small) / "libgemmini_sim.a").exists()


def test_the_shipped_default_params_header_matches_the_int8_config():
    shipped = Path(gr.__file__).parent / "include" / "gemmini_params.h"
    assert shipped.read_text() == gr.get_config("int8").params_header()


def test_programs_run_from_c_text_with_stats():
    result = gr.run_program(r'''
#include "include/gemmini_testutils.h"
int main() {
  static elem_t a[DIM][DIM], b[DIM][DIM];
  for (int i = 0; i < DIM; i++) a[i][i] = 1;
  gemmini_config_ld(DIM); gemmini_config_st(DIM);
  gemmini_mvin(a, 0); gemmini_mvout(b, 0); gemmini_fence();
  printf("%d\n", is_equal(a, b));
  return 0;
}''')
    assert result.ok and result.stdout.strip() == "1"
    assert result.stats.issued == {"config": 2, "mvin": 1, "mvout": 1}


def test_kernels_may_use_their_own_stack_and_static_buffers_from_any_thread():
    import threading
    k = gr.build_function(r'''
#include "include/gemmini.h"
static elem_t table[DIM][DIM];
void copy_via_locals(const elem_t *in, elem_t *out) {
  elem_t local[DIM][DIM];
  gemmini_config_ld(DIM); gemmini_config_st(DIM);
  gemmini_mvin(in, 0); gemmini_mvout(local, 0); gemmini_fence();   /* to the stack */
  gemmini_mvin(local, DIM); gemmini_mvout(table, DIM); gemmini_fence();  /* to static data */
  gemmini_mvin(table, 2 * DIM); gemmini_mvout(out, 2 * DIM); gemmini_fence();
}''', "copy_via_locals")
    a = np.arange(256, dtype=np.int8).reshape(16, 16)
    outs = []

    def call():
        out = np.zeros_like(a)
        k(a, out)
        outs.append(out)

    call()
    t = threading.Thread(target=call)
    t.start()
    t.join()
    assert len(outs) == 2 and all(np.array_equal(o, a) for o in outs)
