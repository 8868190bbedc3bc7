"""The search for one subgraph's kernel, and for many at once.

Each round: prompt -> reply -> extract -> evaluate (static checks, build, verification,
timing and profile all happen in the evaluator's worker) -> feedback text for the next round.
Several samples per round form a small beam: all are evaluated, the most promising one carries
the conversation on, the others are summarised in its feedback. The search stops on a budget
(rounds, tokens, wall time) or once the best verified candidate beats the faster baseline by
Options.target_speedup; that candidate goes to the store with its provenance.

The endpoint failing for good (`EndpointUnavailable`) is warned about once per Searcher (one
Searcher serves one compile) and every search still waiting returns at once, so the compile
goes on with fallbacks instead of hitting a dead server once per subgraph.

Processes that share a cache folder search a key once between them (store/search_lock.py): the
others wait for the searching one, up to the search budget, and take its winner from the store;
they search themselves only if it died mid-search, and fall back if it outlasts the wait.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..options import Options
from ..records import Evaluation, Problem
from ..store.search_lock import SearchLock
from . import prompts
from .extract import extract_code
from .budget import Budget, BudgetSpent
from .gemmini_search import GemminiSearch
from .outcome import SearchOutcome, SearchResult, device_name, knowledge_attempt
from .progress import SearchProgress
from .provider import DeadlineExceeded, EndpointUnavailable, MalformedResponse, Provider, Reply, RequestRejected, Usage
from .services import SearchServices
from .transcript import Transcript
from .winners import best_baseline, kernel_entry, rank, speedup_over_best

log = logging.getLogger(__name__)

# How much longer than its budget another process's search may take before a waiter gives up
# on it: the last round's evaluation and the store write come after the budget check.
WAIT_GRACE_S = 60.0


@dataclass
class Sample:
    """One reply of a round and what became of it."""

    label: str
    reply: str | None = None
    plan: str = ""
    source: str | None = None
    evaluation: Evaluation | None = None
    truncated: bool = False
    error: str = ""  # the endpoint's answer was unusable; the LLM never saw this
    stop: str = ""  # this sample ended the search (budget, dead endpoint, rejected request)


@dataclass
class _Best:
    source: str
    evaluation: Evaluation
    round: int
    sample: Sample


class Searcher(SearchServices):
    """Searches the subgraphs of one compile, sharing its SearchServices (agent/services.py)."""

    def __init__(self, options: Options, evaluator: Any, store: Any, kb: Any = None, *,
                 provider: Provider | None = None, machine: dict[str, str] | None = None) -> None:
        super().__init__(options, evaluator, store, kb, provider=provider, machine=machine)
        self._progress = SearchProgress(options.progress)

    def search(self, problem: Problem) -> SearchResult:
        with self._progress:
            return self._search(problem)

    def search_many(self, problems: list[Problem]) -> dict[str, SearchResult]:
        """Search several subgraphs concurrently (Options.max_concurrency at a time); equal
        keys are searched once."""
        unique = list({p.key: p for p in problems}.values())
        if not unique:
            return {}
        workers = min(self.options.max_concurrency, len(unique))
        with self._progress, ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llm-search") as pool:
            futures = {p.key: pool.submit(self._search, p) for p in unique}
            results = {key: f.result() for key, f in futures.items()}
        self._consolidate_if_due()
        return results

    def _consolidate_if_due(self) -> None:
        if self.endpoint_error is not None:
            return
        usage = Usage()
        self.knowledge.consolidate_if_due(
            lambda prompt: self.chat([{"role": "user", "content": prompt}], usage, deadline=None).text, usage)

    def _search(self, problem: Problem) -> SearchResult:
        """Search `problem` here, or wait for the process already searching it."""
        since = time.time()
        lock = SearchLock.open(getattr(self.store, "cache_dir", None) or self.options.cache_dir, problem.key)
        if lock is None:
            return self._search_here(problem)
        with lock:
            if lock.try_acquire():
                return self._search_holding(lock, problem)
            return self._wait_for_other(lock, problem, since)

    def _search_holding(self, lock: SearchLock, problem: Problem) -> SearchResult:
        result = self._search_here(problem)
        lock.record({"winner": result.ok, "reason": result.reason})
        return result

    def _wait_for_other(self, lock: SearchLock, problem: Problem, since: float) -> SearchResult:
        bound = self.options.max_search_seconds + WAIT_GRACE_S
        log.info("another process is searching subgraph %s; waiting up to %.0fs for its kernel", problem.key[:16], bound)
        acquired = lock.acquire(bound)
        outcome = lock.outcome()
        found = self._winner_from_store(problem, outcome.get("pid"))
        if found is not None:
            return found
        if not acquired:
            return SearchResult(problem.key, None, None, f"another process was still searching this subgraph after {bound:.3g}s; "
                                "falling back here (its kernel is a cache hit next time)", 0, Usage().to_json())
        if outcome.get("finished", 0.0) >= since and not outcome.get("winner"):
            return SearchResult(problem.key, None, None, f"another process (pid {outcome.get('pid')}) searched this subgraph "
                                f"just now and found no verified kernel: {outcome.get('reason', '')}", 0, Usage().to_json())
        log.info("the search of subgraph %s in another process ended without storing a kernel; searching here", problem.key[:16])
        return self._search_holding(lock, problem)

    def _winner_from_store(self, problem: Problem, pid: Any) -> SearchResult | None:
        """The kernel another process's search stored, checked as a cache hit is: static checks
        again when it was verified on this machine, else verified here first."""
        try:
            entry = self.store.get(problem.key)
        except Exception as e:  # a store that cannot be read costs the wait, not the compile
            log.warning("could not read the kernel store for %s: %s", problem.key[:16], e)
            return None
        if entry is None:
            return None
        trusted = self.machine is not None and entry.verified_here(self.machine)
        if trusted and hasattr(self.evaluator, "check") and self.evaluator.check(problem, entry.source):
            trusted = False  # the static checks refuse it now: verify it like any stranger's kernel
        if not trusted:
            ev = self.evaluate(problem, entry.source)
            if not ev.ok:
                log.warning("the kernel another process stored for %s failed verification here (%s): %s",
                            problem.key[:16], ev.stage, ev.reason.splitlines()[0] if ev.reason else "")
                return None
        best = Evaluation(True, "ok", "", verification=dict(entry.verification), timings=dict(entry.timings))
        return SearchResult(problem.key, entry, best, f"found by another process's search (pid {pid})", 0, Usage().to_json())

    def _search_here(self, problem: Problem) -> SearchResult:
        if problem.target == "gemmini":
            return self._search_gemmini(problem)
        search = _ProblemSearch(self, problem)
        try:
            return search.run()
        except Exception as e:  # a bug here must cost this subgraph its kernel, not the compile
            log.warning("the search for %s failed: %s: %s; the subgraph falls back", problem.key[:16],
                        type(e).__name__, e, exc_info=True)
            return search._result(f"the search failed: {type(e).__name__}: {e}")


    def _search_gemmini(self, problem: Problem) -> SearchResult:
        """Gemmini subgraphs take the two-phase accelerator workflow (agent/gemmini_search.py),
        on this Searcher's services: its requests count in this compile's usage."""
        if self._dead is not None:
            return SearchResult(problem.key, None, None, f"LLM endpoint unavailable ({self._dead})", 0, Usage().to_json())
        search = GemminiSearch(services=self)
        try:
            return search.search(problem)
        except EndpointUnavailable as e:
            return SearchResult(problem.key, None, None, f"LLM endpoint unavailable ({e})", 0, search.usage.to_json())
        except Exception as e:  # a bug here must cost this subgraph its kernel, not the compile
            log.warning("the Gemmini search for %s failed: %s: %s; the subgraph falls back", problem.key[:16],
                        type(e).__name__, e, exc_info=True)
            return SearchResult(problem.key, None, None, f"the search failed: {type(e).__name__}: {e}", 0, search.usage.to_json())


class _ProblemSearch:
    """The state of one subgraph's search."""

    def __init__(self, searcher: Searcher, problem: Problem) -> None:
        self.s = searcher
        self.options = searcher.options
        self.problem = problem
        self.usage = Usage()
        self.history: list[prompts.Turn] = []
        self.best: _Best | None = None
        self.furthest: Evaluation | None = None  # the failure that got furthest, when nothing verified
        self.samples: list[Sample] = []  # every sample of every round, for the knowledge base
        self.rounds = 0
        self.budget = Budget(self.options, self.usage, lambda: searcher.endpoint_error)
        self._baselines: dict | None = None
        self.transcript: Transcript | None = None

    def run(self) -> SearchResult:
        if self.s.endpoint_error is not None:
            return self._result(f"LLM endpoint unavailable: {self.s.endpoint_error}")
        try:
            self.transcript = Transcript(self.options.cache_dir, self.problem.key,
                                         f"Search for subgraph {self.problem.key} ({self.problem.target})")
            self.transcript.note(f"model: {self.options.model}  \nendpoint: {self.options.base_url or 'default'}  \n"
                                 f"signature:\n\n{prompts.fence(self.problem.signature, 'text')}")
        except OSError as e:
            log.warning("cannot write a search transcript under %s: %s", self.options.cache_dir, e)
        knowledge = self.s.knowledge.retrieve(self.problem)
        task = self.s._progress.task(f"kernel {self.problem.key[:10]}", self.options.max_rounds)
        reason = ""
        for rnd in range(1, self.options.max_rounds + 1):
            reason = self.budget.spent()
            if reason:
                break
            self.rounds = rnd
            samples = self._round(rnd, knowledge)
            self._take(samples)
            self.s._progress.update(task, advance=1, status=self._status())
            stops = [s.stop for s in samples if s.stop]
            speedup = self._speedup()
            if speedup is not None and speedup >= self.options.target_speedup:
                base = best_baseline(self.best.evaluation, self._baselines)
                reason = f"target speed-up reached: {_times(speedup)} over {base[0]} in round {rnd}"
                break
            if stops:
                reason = stops[0]
                break
        else:
            reason = f"round budget spent ({self.options.max_rounds} rounds)"
        result = self._finish(reason)
        self.s._progress.finish(task, "stored" if result.ok else "no kernel")
        return result

    # one round ---------------------------------------------------------------------------
    def _round(self, rnd: int, knowledge: str) -> list[Sample]:
        best = None
        if self.best is not None:
            best = (self.best.source, prompts.summary_line(self.best.evaluation, self._baselines))
        messages = prompts.build_messages(self.problem, knowledge, self.history, best)
        n = self.options.samples_per_round
        labels = [f"round {rnd}" + (f", sample {i + 1}" if n > 1 else "") for i in range(n)]
        if n == 1:
            return [self._sample(labels[0], messages)]
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="llm-sample") as pool:
            return list(pool.map(lambda label: self._sample(label, messages), labels))

    def _sample(self, label: str, messages: list[dict[str, str]]) -> Sample:
        sample = Sample(label)
        try:
            if self.options.plan_first:
                sample.plan = self._ask(f"{label} (plan)", prompts.plan_messages(messages)).text
                messages = prompts.implement_messages(messages, sample.plan)
            reply = self._ask(label, messages)
        except BudgetSpent as e:
            sample.stop = str(e)
            return sample
        except EndpointUnavailable as e:
            sample.stop = f"LLM endpoint unavailable: {e}"
            return sample
        except RequestRejected as e:
            sample.stop = str(e)
            return sample
        except MalformedResponse as e:
            sample.error = str(e)
            self._note(f"**{label}**: {e} (counted as a failed sample)")
            return sample
        sample.reply = reply.text
        extraction = extract_code(reply.text)
        sample.truncated = extraction.truncated or reply.finish_reason == "length"
        if extraction.source is None:
            sample.evaluation = Evaluation(ok=False, stage="extract", reason=extraction.feedback)
        else:
            sample.source = extraction.source
            sample.evaluation = self.s.evaluate(self.problem, extraction.source)
        self._note(f"**{label}** outcome: {prompts.summary_line(sample.evaluation, self._baselines_for(sample.evaluation))}")
        return sample

    def _ask(self, label: str, messages: list[dict[str, str]]) -> Reply:
        self.budget.check()
        if self.transcript:
            self.transcript.request(label, messages)
        try:
            reply = self.s.chat(messages, self.usage, deadline=self.budget.deadline)
        except DeadlineExceeded as e:
            raise BudgetSpent(self.budget.spent() or str(e)) from e
        if self.transcript:
            u = reply.usage
            self.transcript.reply(label, reply.text, f"{reply.model}, {u.prompt_tokens}+{u.completion_tokens} tokens"
                                  + (" (estimated)" if u.estimated else "") + f", finish: {reply.finish_reason}")
        return reply

    def _take(self, samples: list[Sample]) -> None:
        """Keep the best verified candidate; carry the most promising reply on."""
        self.samples += samples
        for s in samples:
            e = s.evaluation
            if e is None:
                continue
            if e.ok and s.source and (self.best is None or rank(e) > rank(self.best.evaluation)):
                self.best = _Best(s.source, e, self.rounds, s)
            if not e.ok and rank(e) >= rank(self.furthest):
                self.furthest = e
        answered = sorted((s for s in samples if s.evaluation is not None), key=lambda s: rank(s.evaluation), reverse=True)
        if not answered:
            return
        chosen = answered[0]
        feedback = prompts.feedback_text(chosen.evaluation, self.options.target_speedup, self._baselines_for(chosen.evaluation))
        if chosen.truncated:
            feedback = ("Your reply was cut off (it hit the token limit or left a code fence open); "
                        "answer more briefly.\n\n" + feedback)
        others = answered[1:]
        if others:
            feedback += "\n\nYour other attempts this round:\n" + "\n".join(
                f"- {prompts.summary_line(s.evaluation, self._baselines)}" for s in others)
        self.history.append(prompts.Turn(chosen.reply, feedback))

    # budgets and results -------------------------------------------------------------------
    def _baselines_for(self, evaluation: Evaluation) -> dict | None:
        """Baseline timings, fetched from the evaluator once, only when a verified candidate's
        evaluation does not already carry them."""
        if evaluation.ok and self._baselines is None and best_baseline(evaluation) is None:
            self._baselines = self.s.baselines(self.problem)
        return self._baselines

    def _speedup(self) -> float | None:
        return speedup_over_best(self.best.evaluation, self._baselines) if self.best else None

    def _status(self) -> str:
        speedup = self._speedup()
        if speedup is not None:
            return f"best {_times(speedup)}"
        return "verified" if self.best else (f"last: {self.furthest.stage}" if self.furthest else "")

    def _note(self, text: str) -> None:
        if self.transcript:
            self.transcript.note(text)

    def _finish(self, reason: str) -> SearchResult:
        entry = None
        if self.best is not None:
            speedup = self._speedup()
            timing = f"{_times(speedup)} over the faster baseline" if speedup is not None else "not timed against a baseline"
            if not reason.startswith("target speed-up"):
                reason += f"; best verified candidate: {timing} (round {self.best.round})"
            entry = self._store()
        elif self.furthest is not None:
            reason += f"; no verified candidate (furthest: {prompts.summary_line(self.furthest)})"
        else:
            reason += "; no candidate was evaluated"
        self._note(f"**Result**: {reason}  \nusage: {self.usage.to_json()}")
        outcome = self._outcome(reason, entry)
        self.s.knowledge.record(outcome, lambda label, messages: self._ask(label, messages).text)
        return outcome.result()

    def _store(self) -> Any:
        provenance = {
            "author": self.options.model, "rounds": self.rounds, "round_found": self.best.round,
            "tokens": self.usage.total_tokens, "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens, "requests": self.usage.requests,
            "cost": self.usage.cost, "endpoint": self.options.base_url or "default", "via": "search",
            "transcript": self.transcript.path if self.transcript else None,
        }
        entry = kernel_entry(self.problem, self.best.source, self.best.evaluation, provenance, self.s.machine)
        try:
            self.s.store.put(entry)
            self.s.store.clear_pending(self.problem.key)
        except Exception as e:  # the kernel is still usable in this process
            log.warning("could not save the kernel for %s to the store: %s", self.problem.key[:16], e)
        return entry

    def _outcome(self, reason: str, entry: Any = None) -> SearchOutcome:
        """The finished search as a plain record: the result, every evaluated sample as a
        knowledge-base attempt, and the conversation a lesson is asked on."""
        outcome = self._plain_outcome(reason, entry)
        outcome.device = device_name(self.problem)
        winner = self.best.sample if self.best else None
        won = (self._speedup() or 0.0) > 1.0
        for s in self.samples:
            e = s.evaluation
            if e is None:
                continue
            outcome.attempts.append(knowledge_attempt(
                e, "\n".join((s.plan, s.source or s.reply or "")), self.problem.target, won=s is winner and won,
                speedup_vs_eager=_speedup(e, "eager", self._baselines),
                speedup_vs_inductor=_speedup(e, "inductor", self._baselines)))
        if outcome.attempts and self.s.knowledge.kb is not None and not self.budget.spent():
            from ..store.knowledge.prompts import lesson_prompt

            messages = prompts.build_messages(self.problem, "", self.history)
            request = lesson_prompt(self.problem, outcome.attempts, outcome.device)
            outcome.lesson_request = prompts.append_request(messages, request)
        return outcome

    def _plain_outcome(self, reason: str, entry: Any = None) -> SearchOutcome:
        return SearchOutcome(
            problem=self.problem, reason=reason, rounds=self.rounds, usage=self.usage, entry=entry,
            best=self.best.evaluation if self.best else self.furthest, speedup=self._speedup(),
            transcript_path=self.transcript.path if self.transcript else None)

    def _result(self, reason: str, entry: Any = None) -> SearchResult:
        return self._plain_outcome(reason, entry).result()


def _times(speedup: float) -> str:
    # two decimals, but a kernel 500x slower than the baseline must not read "0.00x"
    return f"{speedup:.2f}x" if speedup >= 0.1 else f"{speedup:.2g}x"


def _speedup(evaluation: Evaluation, baseline: str, baselines: dict | None) -> float | None:
    """The verified candidate's speed-up over `baseline`, its own timings first, then the
    baselines fetched for the search."""
    if not evaluation.ok:
        return None
    merged = Evaluation(True, "ok", "", timings={**(baselines or {}), **evaluation.timings})
    return merged.speedup(baseline)
