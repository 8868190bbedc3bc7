"""Invalid programs stop with an error that names the instruction, its index and its
operands; the calling process survives and the next call starts clean."""
import re

import numpy as np
import pytest

import gemmini_runtime as gr
from gemmini_runtime.isa import (ACC, GARBAGE_ADDR, OS, WS, Insn, compute, config_ex, config_ld,
                                 config_st, loop_ws, mvin, mvout, preload)


def error_of(run, insns, *buffers) -> str:
    with pytest.raises(gr.GemminiProgramError) as e:
        run(insns, *buffers)
    return str(e.value)


def test_scratchpad_address_out_of_range_names_instruction_index_and_operands(run):
    a = np.zeros((16, 16), np.int8)
    msg = error_of(run, [config_ld(16), mvin(a, 16384 - 8)], a)
    assert "scratchpad row 16391" in msg and "beyond its 16384 rows" in msg
    assert re.search(r"instruction #1 mvin\(rs1=0x[0-9a-f]+, rs2=0x10001000003ff8\)", msg)


@pytest.mark.parametrize("insn_args,needle", [
    (dict(rows=17), "17 rows; at most DIM=16"),
    (dict(cols=65), "65 columns; at most 64"),
    (dict(local=ACC, cols=17), "17 columns; at most 16 (MAX_BLOCK_LEN_ACC"),
    (dict(local=ACC + 1020), "accumulator row 1035"),
])
def test_mvin_shape_limits(run, insn_args, needle):
    a = np.zeros(4096, np.int32)
    args = dict(local=0, rows=16, cols=16) | insn_args
    msg = error_of(run, [config_ld(64), mvin(a, args["local"], args["rows"], args["cols"])], a)
    assert needle in msg and "mvin" in msg


@pytest.mark.parametrize("dataflow,a_t,b_t", [(OS, False, True), (WS, True, True)])
def test_illegal_transpose_combination_is_refused_at_config(run, dataflow, a_t, b_t):
    msg = error_of(run, [config_ex(dataflow, a_transpose=a_t, b_transpose=b_t)])
    assert "illegal transpose combination" in msg and "#0 config" in msg


def test_dram_access_outside_the_passed_arrays(run):
    a = np.zeros((16, 16), np.int8)
    other = np.zeros((16, 16), np.int8)           # exists, but was not passed to the call
    msg = error_of(run, [config_ld(16), mvin(other, 0)], a)
    assert "DRAM read outside the program's memory" in msg


def test_dram_read_past_the_end_of_an_array(run):
    a = np.zeros((8, 16), np.int8)                # half a tile
    assert "outside the program's memory" in error_of(run, [config_ld(16), mvin(a, 0)], a)


def test_writes_to_a_const_parameter_are_refused():
    k = gr.build_function(r'''
#include "include/gemmini.h"
void bad(const elem_t *in, elem_t *out) {
  gemmini_config_ld(DIM); gemmini_config_st(DIM);
  gemmini_mvin(in, 0); gemmini_mvout(in, 0);   /* writes into the input */
}''', "bad")
    a, b = np.ones((16, 16), np.int8), np.zeros((16, 16), np.int8)
    with pytest.raises(gr.GemminiProgramError, match="is read-only"):
        k(a, b)
    assert (a == 1).all()


def test_error_inside_loop_ws_names_the_loop_and_the_generated_command(run):
    A = np.zeros((16, 16), np.int8)
    C = np.zeros((8, 16), np.int8)                # too small for the 16-row tile
    msg = error_of(run, [config_ex(WS), config_st(16), config_ld(16, state=0), config_ld(16, state=1)]
                   + loop_ws(1, 1, 1, A, A, 0, C, 16, 16, 0, 16), A, C)
    assert re.search(r"#9 loop_ws\(rs1=.*in its generated mvout\(rs1=0x", msg)


def test_loop_ws_bounds_beyond_double_buffering(run):
    A = np.zeros(16, np.int8)
    msg = error_of(run, loop_ws(32, 32, 8, A, A, 0, A, 0, 0, 0, 0), A)
    assert "exceed the double-buffered limits" in msg


@pytest.mark.parametrize("insn,needle", [
    (Insn(99, 1, 2), "unknown instruction funct 99"),
    (compute(ACC, GARBAGE_ADDR, True), "must be a scratchpad address"),
    (preload(GARBAGE_ADDR, 0, c_rows=20), "20 rows x 16 cols"),
    (config_st(16, act=2), "mvout activation 2 is not supported"),
])
def test_other_invalid_instructions(run, insn, needle):
    assert needle in error_of(run, [insn])


def test_library_assertions_end_the_call_not_the_process():
    k = gr.build_function(r'''
#include "include/gemmini.h"
void too_big(elem_t *A) {   /* tiles that cannot fit the scratchpad */
  tiled_matmul(4096, 4096, 4096, A, A, NULL, A, 1, 1, 1, 1, 1, 1, 1, NO_ACTIVATION, 1, 0, false,
               64, 64, 64, false, false, false, false, 0, WS);
}''', "too_big")
    with pytest.raises(gr.GemminiProgramError, match=r"called exit\(1\)"):
        k(np.zeros(16, np.int8))


def test_the_next_call_after_an_error_starts_clean(run):
    a = np.arange(256, dtype=np.int8).reshape(16, 16)
    out = np.zeros_like(a)
    error_of(run, [config_ld(16), mvin(a, 0), mvin(a, 1 << 20)], a)
    stats = run([config_ld(16), config_st(16), mvin(a, 0), mvout(out, 0)], a, out)
    assert np.array_equal(out, a) and stats.instructions == 4


def test_a_program_stopped_by_the_simulator_exits_3_and_reports_through_the_api(tmp_path):
    src = tmp_path / "bad.c"
    src.write_text(r'''
#include "include/gemmini.h"
int main() { static elem_t a[DIM][DIM]; gemmini_mvin(a, 999999); gemmini_fence(); return 0; }
''')
    prog = gr.compile_program(src)
    import subprocess
    proc = subprocess.run([str(prog.path)], capture_output=True, text=True)
    assert proc.returncode == 3 and "gemmini-sim: invalid Gemmini program" in proc.stderr
    with pytest.raises(gr.GemminiProgramError, match=r"#0 mvin"):
        prog.run()


def test_a_huge_dram_stride_is_an_error_not_a_wild_access(run):
    a = np.zeros((16, 16), np.int8)
    assert "overflows the address space" in error_of(run, [config_ld(2**62), mvin(a, 0)], a)
