from conftest import conv_problem, decomposed_softmax_problem, matmul_problem, softmax_problem

from torch_llmbackend.store.knowledge import Attempt, KnowledgeBase
from torch_llmbackend.store.knowledge.retrieval import estimate_tokens

SOFTMAX_LESSON = "Softmax rows of 4096 fit one Triton program: block reduction with the row in registers won."
CONV_LESSON = "Convolution as implicit GEMM with tensor cores could not beat cuDNN; only the ReLU epilogue helped."


def _seed(kb: KnowledgeBase) -> None:
    kb.record_search(softmax_problem(), "cuda", "triton",
                     [Attempt(["block_reduction", "fusion"], True, "", 2.4, 1.3, True)], SOFTMAX_LESSON, "model-a")
    kb.record_search(conv_problem(), "cuda", "triton",
                     [Attempt(["tiling", "tensor_cores"], True, "", 1.05, 0.8, False),
                      Attempt(["fusion"], False, "verify: mismatch 3e-2", None, None, False)], CONV_LESSON, "model-a")


def test_softmax_like_graph_gets_the_softmax_lesson_not_the_conv_one(kb):
    _seed(kb)
    ranked = kb.similar(decomposed_softmax_problem(), "cuda")
    assert ranked and ranked[0].record.lesson == SOFTMAX_LESSON
    assert all(s.record.lesson != CONV_LESSON for s in ranked)

    section = kb.retrieve(decomposed_softmax_problem(), "cuda")
    assert SOFTMAX_LESSON in section
    assert CONV_LESSON not in section
    # the statistics of its state and notes about softmax come with it
    assert "memory/softmax/triton" in section and "block_reduction | 1 | 1 | 1.30x" in section
    assert "online_softmax" in section


def test_conv_graph_gets_the_conv_lesson(kb):
    _seed(kb)
    section = kb.retrieve(conv_problem(), "cuda")
    assert CONV_LESSON in section and SOFTMAX_LESSON not in section


def test_section_stays_within_the_token_budget(kb):
    _seed(kb)
    for budget in (150, 400, 800, 1500, 4000):
        section = kb.retrieve(decomposed_softmax_problem(), "cuda", budget_tokens=budget)
        assert section and estimate_tokens(section) <= budget
    assert kb.retrieve(decomposed_softmax_problem(), "cuda", budget_tokens=20) == ""
    # a larger budget gives more, never less
    small = kb.retrieve(decomposed_softmax_problem(), "cuda", budget_tokens=400)
    large = kb.retrieve(decomposed_softmax_problem(), "cuda", budget_tokens=4000)
    assert len(large) > len(small)


def test_not_the_whole_base(kb):
    for i in range(30):
        kb.record_search(softmax_problem(key=f"s{i}"), "cuda", "triton",
                         [Attempt(["block_reduction"], True, "", 2.0, 1.1, True)], f"lesson number {i}.", "m")
    section = kb.retrieve(decomposed_softmax_problem(), "cuda", budget_tokens=100_000)
    assert sum(f"lesson number {i}." in section for i in range(30)) == 3


def test_empty_when_nothing_is_relevant(tmp_path):
    bare = KnowledgeBase(str(tmp_path / "bare"), load_starter=False)
    assert bare.retrieve(decomposed_softmax_problem(), "cuda") == ""
    bare.record_search(conv_problem(), "cuda", "triton", [Attempt(["tiling"], True, "", 1.0, 0.9, False)],
                       CONV_LESSON, "m")
    assert bare.retrieve(decomposed_softmax_problem(), "cuda") == ""


def test_notes_are_scoped_to_the_target(kb):
    gemmini = kb.retrieve(matmul_problem(512, 512, 512, "int8", target="gemmini"), "gemmini")
    assert "loop_ws" in gemmini and "tl.dot" not in gemmini
    triton = kb.retrieve(matmul_problem(), "cuda")
    assert "loop_ws" not in triton and "tensor_cores" in triton
