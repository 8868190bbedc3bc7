"""What the LLM reads: the problem, the guide, experience, and feedback it can act on."""
from tests.agent.fakes import timed
from tests.agent.kernels import add_relu_problem
from torch_llmbackend.agent import prompts
from torch_llmbackend.records import Evaluation
from torch_llmbackend.targets import get_target


def test_the_first_prompt_holds_reference_exact_tensors_guide_and_experience():
    problem = add_relu_problem()
    messages = prompts.build_messages(problem, knowledge="Fusing pointwise chains paid 1.8x last time.")
    assert [m["role"] for m in messages] == ["system", "user"]
    text = messages[1]["content"]
    assert problem.reference_source.strip() in text
    assert "input 1: float32[4, 40] stride [40, 1] on cpu" in text
    assert "output 0: float32[4, 40] stride [40, 1] on cpu" in text
    assert "320 floating-point operations" in text
    assert get_target("triton").guide().strip() in text
    assert "## Experience from earlier searches\n\nFusing pointwise chains paid 1.8x last time." in text
    assert "Experience" not in prompts.build_messages(problem)[1]["content"]


def test_history_keeps_the_last_rounds_and_restates_a_best_candidate_that_scrolled_out():
    history = [prompts.Turn(f"reply {i}", f"feedback {i}") for i in range(5)]
    messages = prompts.build_messages(add_relu_problem(), history=history, best=("BEST SOURCE", "correct; 1.5x"))
    assert [m["content"] for m in messages[2:]] == ["reply 2", "feedback 2", "reply 3", "feedback 3", "reply 4", "feedback 4"]
    assert "(2 earlier rounds are omitted.)" in messages[1]["content"]
    assert "BEST SOURCE" in messages[1]["content"] and "correct; 1.5x" in messages[1]["content"]


def test_feedback_on_a_verified_candidate_gives_timing_against_both_baselines_and_the_profile():
    ev = timed(5.0, eager_us=10.0, inductor_us=8.0)
    ev.profile = "memory-bound: 41% of peak bandwidth"
    text = prompts.feedback_text(ev, target_speedup=2.0)
    assert "yours 5 us; eager 10 us (2.00x faster than eager); inductor 8 us (1.60x faster than inductor) on test." in text
    assert "Profile:\nmemory-bound: 41% of peak bandwidth" in text
    assert "the goal is 2x over the faster baseline" in text
    slow = prompts.feedback_text(timed(20.0), 2.0)
    assert "(0.50x SLOWER than eager)" in slow


def test_feedback_on_a_mismatch_gives_the_errors_and_where():
    ev = Evaluation(False, "verify", "output 0 differs from the reference: max abs error 1.25 at [2, 7] (input seed 1, normal)",
                    verification={"max_abs_error": 1.25, "max_rel_error": 0.9, "where": [2, 7], "big": list(range(100))})
    text = prompts.feedback_text(ev, 2.0)
    assert "outputs do not match the reference" in text and "max abs error 1.25 at [2, 7]" in text
    assert "- max_rel_error: 0.9" in text and "- where: [2, 7]" in text and "big" not in text


def test_compiler_errors_lose_library_frames_and_keep_what_matters():
    error = "\n".join([
        "Traceback (most recent call last):",
        '  File "/tmp/work/llmk_triton_ab12.py", line 21, in forward',
        "    add_relu_kernel[(1,)](x, y, out, n, BLOCK=64)",
        '  File "/venv/lib/python3.11/site-packages/triton/runtime/jit.py", line 390, in run',
        "    kernel = self.compile(src, target=target, options=options.__dict__)",
        "             ^^^^^^^^^^^^",
        "triton.compiler.errors.CompilationError: at 7:10:",
        "    out = tl.relu_that_does_not_exist(x + y)",
        "          ^",
        "AttributeError(\"module 'triton.language' has no attribute 'relu_that_does_not_exist'\")",
    ])
    trimmed = prompts.trim_error(error)
    assert "site-packages" not in trimmed and "self.compile" not in trimmed
    assert "llmk_triton_ab12.py" in trimmed and "add_relu_kernel[(1,)]" in trimmed
    assert trimmed.endswith("has no attribute 'relu_that_does_not_exist'\")")
    long = prompts.trim_error("\n".join(f"line {i}" for i in range(100)), max_lines=30)
    assert long.count("\n") == 30 and "(70 lines omitted)" in long and "line 99" in long and "line 0" in long


def test_code_fences_cannot_be_closed_early_by_the_content():
    assert prompts.fence("x = '```'") == "````python\nx = '```'\n````"


def test_feedback_says_when_the_figure_is_the_host_time_of_a_call():
    ev = timed(60.0, eager_us=110.0, inductor_us=39.0)
    ev.timings["candidate"].update(gpu_median=32.8, steady=60.0)  # GPU-fast, launch-bound
    text = prompts.feedback_text(ev, 2.0)
    assert "Your figure is the host time of one call (60 us to issue it; the kernels take 32.8 us on the GPU)" in text
    assert "fewer kernel launches" in text
    ev.timings["candidate"].update(gpu_median=60.0, steady=12.0)  # GPU-bound: the kernel is the work
    assert "host time" not in prompts.feedback_text(ev, 2.0)
