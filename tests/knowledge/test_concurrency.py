import multiprocessing as mp

from conftest import decomposed_softmax_problem, softmax_problem

from torch_llmbackend.store.knowledge import Attempt, KnowledgeBase

PROCESSES, SEARCHES = 6, 20


def _writer(cache_dir: str, worker: int, errors) -> None:
    try:
        kb = KnowledgeBase(cache_dir)  # every process opens (and may initialise) the base itself
        for i in range(SEARCHES):
            problem = softmax_problem() if i % 2 else decomposed_softmax_problem()
            attempts = [Attempt(["block_reduction"], True, "", 2.0, 1.1 + i / 100, i % 3 == 0),
                        Attempt(["online_softmax", "fusion"], False, "build: error", None, None, False)]
            kb.record_search(problem, "cuda", "triton", attempts, f"worker {worker} search {i}", f"model-{worker}")
            kb.retrieve(problem, "cuda")  # readers run alongside the writers
    except BaseException as e:  # report to the parent instead of dying silently
        errors.put(f"{worker}: {type(e).__name__}: {e}")


def test_concurrent_writers_add_up(tmp_path):
    cache = str(tmp_path / "shared")
    ctx = mp.get_context("fork")
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(cache, w, errors)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert all(p.exitcode == 0 for p in procs)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []

    kb = KnowledgeBase(cache)
    n = PROCESSES * SEARCHES
    assert kb.count_searches() == n
    assert len({r.uid for r in kb.searches()}) == n
    br = next(s for s in kb.stats("memory/softmax/triton") if s.technique == "block_reduction")
    assert (br.tried, br.verified) == (n, n)
    assert br.won == PROCESSES * len([i for i in range(SEARCHES) if i % 3 == 0])
    online = next(s for s in kb.stats("memory/softmax/triton") if s.technique == "online_softmax")
    assert (online.tried, online.verified, online.won) == (n, 0, 0)
    # the starter was loaded exactly once, however many processes raced to do it
    assert [v.source for v in kb.note_versions()] == ["starter"]
