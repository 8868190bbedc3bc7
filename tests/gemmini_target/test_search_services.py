"""The Gemmini workflow inside a compile's Searcher: its requests go through the Searcher's
services, so they count once in the compile's usage, and an endpoint that died for the compile
(in another subgraph's search) stops it before its next request."""
from tests.agent.kernels import answer
from tests.gemmini_target.kernels import PLAIN_C
from tests.gemmini_target.problems import mlp
from torch_llmbackend.agent import Searcher
from torch_llmbackend.agent.provider import EndpointUnavailable
from torch_llmbackend.options import Options
from torch_llmbackend.records import Evaluation
from torch_llmbackend.store.kernels import KernelStore
from torch_llmbackend.targets.gemmini.graph import parse_problem
from torch_llmbackend.targets.gemmini.lower import useful_macs


class CyclesEvaluator:
    """Every module verifies and runs all of the problem's MACs on Gemmini in `cycles`; the
    library takes 1000 cycles. `on_evaluate` runs before each verdict."""

    def __init__(self, macs: int, cycles: float, on_evaluate=lambda n: None) -> None:
        self.macs, self.cycles, self.on_evaluate, self.calls = macs, cycles, on_evaluate, 0

    def evaluate(self, problem, source):
        self.calls += 1
        self.on_evaluate(self.calls)
        stats = {"cycles": int(self.cycles), "macs": self.macs, "utilization": 0.5, "spad_rows_used": 1,
                 "spad_rows": 2, "acc_rows_used": 1, "acc_rows": 2, "instructions": 3}
        return Evaluation(True, "ok", "", verification={"seeds": 1},
                          timings={"candidate": {"median": self.cycles, "unit": "cycles", "stats": stats}})

    def baselines(self, problem):
        return {"library": {"median": 1000.0, "unit": "cycles"}}


def searcher(server, cache_dir, evaluator, store):
    options = Options(base_url=server.base_url, model="scripted", cache_dir=cache_dir, max_rounds=1,
                      target_speedup=1.5, progress=False, request_timeout_s=30.0)
    return Searcher(options, evaluator, store)


def test_the_gemmini_search_counts_its_requests_in_the_compiles_usage_once(llm_server, cache_dir):
    problem = mlp(4, 16, 16)
    llm_server.add(answer(PLAIN_C), answer(PLAIN_C), answer(PLAIN_C))  # the three phase-one steps
    with KernelStore(cache_dir) as store:
        s = searcher(llm_server, cache_dir, CyclesEvaluator(useful_macs(parse_problem(problem)), 400.0), store)
        result = s.search(problem)
    assert result.ok, result.reason  # 400 cycles beat the library's 1000 by the target: no phase-two round
    assert len(llm_server.requests) == 3 and result.usage["requests"] == 3
    assert s.usage.requests == 3 and s.usage.total_tokens == result.usage["total_tokens"] > 0


def test_an_endpoint_that_died_for_the_compile_stops_the_gemmini_search_before_its_next_request(llm_server, cache_dir):
    problem = mlp(4, 16, 16)
    llm_server.add(answer(PLAIN_C), answer(PLAIN_C), answer(PLAIN_C))
    with KernelStore(cache_dir) as store:
        holder = {}
        # another subgraph's search finds the endpoint gone while this one evaluates its first step
        dies = lambda n: n == 1 and holder["s"].endpoint_failed(EndpointUnavailable("connection refused"))  # noqa: E731
        evaluator = CyclesEvaluator(useful_macs(parse_problem(problem)), 400.0, dies)
        holder["s"] = s = searcher(llm_server, cache_dir, evaluator, store)
        result = s.search(problem)
    assert len(llm_server.requests) == 1
    assert result.reason.startswith("LLM endpoint unavailable: connection refused"), result.reason
