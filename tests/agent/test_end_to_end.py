"""The search with everything real: the openai client against a chat-completions server, the
evaluator's worker building, verifying and timing Triton kernels (interpreter, CPU tensors),
and the kernel store."""

from tests.agent.kernels import BROKEN, GOOD, WRONG, add_relu_problem, answer
from torch_llmbackend.agent import Searcher
from torch_llmbackend.options import Options
from torch_llmbackend.store.kernels import KernelStore


def search(server, tmp_path, evaluator, problem):
    options = Options(base_url=server.base_url, model="scripted", cache_dir=str(tmp_path / "cache"),
                      max_rounds=2, progress=False, request_timeout_s=10.0)
    with KernelStore(options.cache_dir) as store:
        result = Searcher(options, evaluator, store).search(problem)
        return result, store.get(problem.key)


def test_a_kernel_that_does_not_compile_is_fed_back_and_the_fix_is_stored(llm_server, tmp_path, evaluator):
    llm_server.add(answer(BROKEN), answer(GOOD))
    problem = add_relu_problem()
    result, stored = search(llm_server, tmp_path, evaluator, problem)

    second_prompt = llm_server.prompts()[1]
    assert "relu_that_does_not_exist" in second_prompt  # the compiler's complaint reached the LLM
    assert "site-packages" not in second_prompt  # trimmed to what matters
    assert result.ok and result.rounds == 2 and result.best.ok
    assert stored.source == GOOD and stored.provenance["author"] == "scripted" and stored.provenance["rounds"] == 2
    assert stored.timings["candidate"]["median"] > 0 and stored.timings.get("eager")


def test_a_numerically_wrong_kernel_is_rejected_and_the_mismatch_reaches_the_next_prompt(llm_server, tmp_path, evaluator):
    llm_server.add(answer(WRONG), answer(GOOD))
    problem = add_relu_problem()
    result, stored = search(llm_server, tmp_path, evaluator, problem)

    second = llm_server.requests[1]["messages"]
    assert second[-2]["content"] == answer(WRONG)
    feedback = second[-1]["content"]
    assert "outputs do not match the reference" in feedback
    assert "max abs" in feedback.lower()
    assert result.ok and stored.source == GOOD


def test_nothing_verified_stores_nothing(llm_server, tmp_path, evaluator):
    llm_server.add(answer(WRONG), answer(BROKEN))
    result, stored = search(llm_server, tmp_path, evaluator, add_relu_problem())
    assert not result.ok and stored is None
    assert result.reason.startswith("round budget spent (2 rounds); no verified candidate (furthest: failed at verify")
