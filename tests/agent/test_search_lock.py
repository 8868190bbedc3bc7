"""One search per key across processes sharing a cache folder: a process that finds another
searching waits and takes that process's winner from the store; it searches itself only when
the other died mid-search, and falls back when the other outlasts the search budget."""
import os
import signal
import threading
import time

from tests.agent.fakes import JudgeEvaluator, timed
from tests.agent.kernels import GOOD, add_relu_problem, answer
from tests.agent.test_search import searcher_for, store  # noqa: F401 (the store fixture)
from torch_llmbackend.agent import search as search_module
from torch_llmbackend.agent.winners import kernel_entry
from torch_llmbackend.store.search_lock import SearchLock

MACHINE = {"device": "cpu-interpreter", "torch": "2.13.0", "triton": "3.9.0"}


def test_the_lock_is_exclusive_across_open_files_and_bounded_in_waiting(tmp_path):
    with SearchLock.open(str(tmp_path), "k") as a, SearchLock.open(str(tmp_path), "k") as b:
        assert a.try_acquire() and not b.try_acquire()
        start = time.monotonic()
        assert not b.acquire(timeout_s=0.3) and time.monotonic() - start < 1.0
        a.record({"winner": False, "reason": "nothing verified"})
        a.release()
        assert b.acquire(timeout_s=1.0)
        assert b.outcome()["reason"] == "nothing verified" and b.outcome()["pid"] == os.getpid()


def test_a_killed_holder_releases_the_lock(tmp_path):
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the holder: takes the lock, says so, waits to be killed
        try:
            lock = SearchLock.open(str(tmp_path), "k")
            os.write(ready_w, b"1" if lock.try_acquire() else b"0")
            time.sleep(60)
        finally:
            os._exit(0)
    assert os.read(ready_r, 1) == b"1"
    with SearchLock.open(str(tmp_path), "k") as mine:
        assert not mine.try_acquire()
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert mine.acquire(timeout_s=2.0)


def test_an_odd_key_gets_a_safe_file_name(tmp_path):
    with SearchLock.open(str(tmp_path), "../../etc/passwd") as lock:
        assert os.path.dirname(lock.path) == os.path.join(str(tmp_path), "locks")


def test_a_cache_folder_that_cannot_hold_locks_means_no_lock_not_a_failure(tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    assert SearchLock.open(str(not_a_folder), "k") is None


def _other_process_searching(store, problem, then, after_s=0.5):
    """Holds the key's lock like another process's search would (its own open file), then
    does `then(lock)` and lets go."""
    lock = SearchLock.open(store.cache_dir, problem.key)
    assert lock.try_acquire()

    def finish():
        time.sleep(after_s)
        then(lock)
        lock.close()

    thread = threading.Thread(target=finish)
    thread.start()
    return thread


def test_a_waiting_searcher_takes_the_other_processes_winner_without_a_request(llm_server, store):
    problem = add_relu_problem()
    winner = kernel_entry(problem, GOOD, timed(3.0), {"author": "scripted"}, MACHINE)

    def store_winner(lock):
        store.put(winner)
        lock.record({"winner": True, "reason": "target speed-up reached"})

    other = _other_process_searching(store, problem, store_winner)
    judge = JudgeEvaluator()
    judge.check = lambda problem, source: []  # the static checks a hit gets again
    result = searcher_for(llm_server, store, evaluator=judge, machine=MACHINE).search(problem)
    other.join()
    assert result.ok and result.entry.source == GOOD and result.reason.startswith("found by another process's search (pid ")
    assert llm_server.requests == [] and judge.sources == []  # verified on this machine: not verified again


def test_a_winner_not_verified_on_this_machine_is_verified_before_use(llm_server, store):
    problem = add_relu_problem()
    other = _other_process_searching(store, problem, lambda lock: store.put(kernel_entry(problem, GOOD, timed(3.0), {})))
    judge = JudgeEvaluator()
    result = searcher_for(llm_server, store, evaluator=judge, machine=MACHINE).search(problem)
    other.join()
    assert result.ok and judge.sources == [GOOD] and llm_server.requests == []


def test_no_second_search_after_the_other_process_found_nothing(llm_server, store):
    problem = add_relu_problem()
    other = _other_process_searching(store, problem, lambda lock: lock.record(
        {"winner": False, "reason": "round budget spent (4 rounds); no verified candidate"}))
    result = searcher_for(llm_server, store).search(problem)
    other.join()
    assert not result.ok and llm_server.requests == []
    assert "searched this subgraph just now and found no verified kernel: round budget spent" in result.reason


def test_the_search_runs_here_when_the_other_process_died_mid_search(llm_server, store):
    llm_server.add(answer(GOOD.replace("import torch\n", "import torch  # 3.0 us\n", 1)))
    problem = add_relu_problem()
    other = _other_process_searching(store, problem, lambda lock: None)  # let go, nothing recorded
    result = searcher_for(llm_server, store, max_rounds=1).search(problem)
    other.join()
    assert result.ok and len(llm_server.requests) == 1 and store.get(problem.key) is not None


def test_the_wait_is_bounded_by_the_search_budget(llm_server, store, monkeypatch):
    monkeypatch.setattr(search_module, "WAIT_GRACE_S", 0.0)
    problem = add_relu_problem()
    other = _other_process_searching(store, problem, lambda lock: None, after_s=2.0)
    start = time.monotonic()
    result = searcher_for(llm_server, store, max_search_seconds=0.5).search(problem)
    assert time.monotonic() - start < 1.5
    other.join()
    assert not result.ok and llm_server.requests == [] and "still searching this subgraph after 0.5s" in result.reason
