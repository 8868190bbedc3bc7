"""The two-phase search against a scripted chat-completions server, with the real evaluator:
a wrong translation is rejected, host arithmetic is refused once Gemmini must compute, and a
faster schedule wins, is stored, and is what the next compile runs."""
import pytest
import torch

from tests.gemmini_target.kernels import LIBRARY_CALL, PLAIN_C, PLAIN_C_WRONG, RETILED, answer
from tests.gemmini_target.models import Int8Linear
from torch_llmbackend.agent.gemmini_search import GemminiSearch
from torch_llmbackend.backend import report
from torch_llmbackend.options import Options
from torch_llmbackend.store.kernels import KernelStore


@pytest.fixture(scope="module")
def evaluator():
    from torch_llmbackend.evaluate import Evaluator

    ev = Evaluator(Options(worker_timeout_s=120.0), baseline_names=())
    yield ev
    ev.close()


def queued_problem(gemmini_options, model, x):
    """Compile offline once: the miss is queued with its Problem (and the library runs)."""
    with torch.no_grad():
        torch.compile(model, backend="llm", options=gemmini_options)(x)
    (problem,) = KernelStore(gemmini_options["cache_dir"]).pending()
    return problem


def test_wrong_translation_is_rejected_and_a_faster_schedule_wins_and_is_cached(llm_server, gemmini_options, evaluator):
    model = Int8Linear()
    x = torch.randint(-8, 8, (128, 64), dtype=torch.int8, generator=torch.Generator().manual_seed(2))
    problem = queued_problem(gemmini_options, model, x)
    assert problem.signature.splitlines()[1:3] == ["in0: int8[128,64] stride(64,1) cpu", "in1: int8[64,64] stride(64,1) cpu"]

    llm_server.add(
        answer(PLAIN_C_WRONG), answer(PLAIN_C),  # step 1: the wrong loop nest is rejected, the fix passes
        answer(LIBRARY_CALL),  # step 2
        answer(PLAIN_C), answer(LIBRARY_CALL),  # step 3: host arithmetic is refused
        "tiling: tiles that hold all of w load it once.", answer(RETILED),  # phase 2, round 1
    )
    options = Options(base_url=llm_server.base_url, model="scripted", cache_dir=gemmini_options["cache_dir"],
                      max_rounds=1, progress=False, request_timeout_s=30.0)
    with KernelStore(options.cache_dir) as store:
        result = GemminiSearch(options, evaluator, store).search(problem)

    prompts = llm_server.prompts()
    assert "step 1 of 3" in prompts[0] and "loop nest" in prompts[0]
    assert "differs from eager" in prompts[1]  # the mismatch of the wrong translation went back
    assert "step 2 of 3" in prompts[2] and "step 3 of 3" in prompts[3]
    assert "ran as host C, which is not allowed" in prompts[4]
    assert "Choose ONE optimisation" in prompts[5] and "cycles" in prompts[5]
    assert result.ok and result.speedup > 1.0, result.reason
    assert result.entry.source.strip() == RETILED.strip() and result.entry.provenance["technique"] == "tiling"
    library = result.entry.timings["library"]["median"]
    assert result.entry.timings["candidate"]["median"] < library

    torch._dynamo.reset()
    with torch.no_grad():
        got = torch.compile(model, backend="llm", options=gemmini_options)(x)
    assert torch.equal(got, model(x))
    (row,) = report()
    assert row["source"] == "cache" and row["runs"] == "kernel"
    assert row["speedup_vs_library"] > 1.0 and row["time_unit"] == "cycles"
