"""Fast CPU checks of the benchmark problems: every file loads and follows the format, runs on
the meta device within the memory budget, and the smallest ones run in eager on the CPU.

    pytest bench/test_problems_load.py
"""
import pytest
import torch

from bench.problems import (
    LEVELS,
    ProblemError,
    all_problems,
    footprint,
    get_problem,
    load_problem,
    smallest_problems,
)

MEMORY_BUDGET = 2 * 2**30
MIN_PROBLEMS = {1: 18, 2: 14, 3: 10}
PROBLEM_IDS = [p.meta.id for p in all_problems()]


def test_each_level_has_its_share_of_problems():
    counts = {level: len(all_problems(level)) for level in LEVELS}
    assert all(counts[level] >= MIN_PROBLEMS[level] for level in LEVELS), counts
    assert sum(counts.values()) >= 40
    assert len(set(PROBLEM_IDS)) == len(PROBLEM_IDS)
    assert PROBLEM_IDS == sorted(PROBLEM_IDS)


@pytest.mark.parametrize("problem_id", PROBLEM_IDS)
def test_problem_runs_on_meta_within_budget(problem_id):
    problem = get_problem(problem_id)
    assert problem.meta.doc and "\n" not in problem.meta.doc
    model, inputs = problem.instantiate("meta")
    floats = [t for t in [*inputs, *model.parameters()] if t.is_floating_point()]
    assert floats and all(t.dtype == problem.meta.dtype for t in floats), "dtype differs from the one the name declares"

    size = footprint(problem_id)
    assert size.total_bytes < MEMORY_BUDGET, f"{size.total_bytes / 2**30:.2f} GiB"
    assert size.output_shapes and all(d == problem.meta.dtype for d in size.output_dtypes)
    if any(word in problem_id for word in ("matmul", "gemm", "linear", "conv", "attention", "mlp", "block")):
        assert size.flops > 1e9, "a problem built on matrix products does real work"


def test_smallest_problems_run_in_eager_on_cpu():
    problems = smallest_problems(3, level=1)
    assert len(problems) == 3
    for problem in problems:
        model, inputs = problem.instantiate("cpu", seed=1)
        rebuilt, same_inputs = problem.instantiate("cpu", seed=1)
        with torch.no_grad():
            out = model(*inputs)
            again = rebuilt(*same_inputs)
        outs = out if isinstance(out, tuple) else (out,)
        assert tuple(tuple(o.shape) for o in outs) == footprint(problem.meta.id).output_shapes
        assert all(bool(o.isfinite().all()) for o in outs)
        assert all(float(o.float().abs().max()) > 0 for o in outs), "an all-zero output tests nothing"
        torch.testing.assert_close(again, out, rtol=0, atol=0)  # same seed, same weights and inputs


def test_a_problem_missing_part_of_the_format_is_refused(tmp_path):
    level = tmp_path / "level1"
    level.mkdir()
    incomplete = level / "01_no_inputs.py"
    incomplete.write_text('"""A model without get_inputs."""\nimport torch.nn as nn\n\nclass Model(nn.Module):\n    pass\n\n'
                          "def get_init_inputs():\n    return []\n")
    with pytest.raises(ProblemError, match="missing get_inputs"):
        load_problem(incomplete)

    two_line_doc = level / "02_long_doc.py"
    two_line_doc.write_text('"""First line.\n\nMore."""\nModel = get_inputs = get_init_inputs = None\n')
    with pytest.raises(ProblemError, match="one-line"):
        load_problem(two_line_doc)

    outside_level = tmp_path / "01_stray.py"
    outside_level.write_text(incomplete.read_text())
    with pytest.raises(ProblemError, match="levelN"):
        load_problem(outside_level)


def test_dtype_is_declared_by_the_name():
    declared = {p.meta.name: p.meta.dtype for p in all_problems()}
    assert declared["04_matmul_rect_fp16"] == torch.float16
    assert declared["05_linear_nobias_bf16"] == torch.bfloat16
    assert declared["01_matmul_square"] == torch.float32


def test_output_check_tolerates_summation_order_but_not_wrong_values():
    from bench.bench_problems import check_outputs

    x = torch.randn(64, 32768)
    in_order = torch.cumsum(x, dim=-1)
    reordered = torch.cumsum(x.double(), dim=-1).float()  # what a blocked scan gives, roughly
    assert check_outputs(reordered, in_order).correct

    broken = in_order.clone()
    broken[3, 1000] += 1.0
    check = check_outputs(broken, in_order)
    assert not check.correct and check.max_abs_error == pytest.approx(1.0, rel=1e-3)
    assert "1 of" in check.reason

    assert not check_outputs(in_order[:, :10], in_order).correct  # shape
    assert not check_outputs(in_order.half(), in_order).correct  # dtype
    assert not check_outputs((in_order, in_order), in_order).correct  # output count
    assert check_outputs((in_order.half(),), (in_order.half() + 1e-3,)).correct  # fp16 tolerance
