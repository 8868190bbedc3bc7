"""The two-phase LLM workflow for Gemmini (Hong et al. 2024, "LLM-Aided Compilation for Tensor
Accelerators"; Autocomp 2025).

Phase one translates the subgraph into correct Gemmini C in three small steps a weaker model
can manage, each checked against eager (exactly for int8) by the evaluator before the next:
  1. the loop nest and tiling in plain C on the host (no Gemmini instruction yet);
  2. data movement: config_ld/mvin of the tiles into the scratchpad, host sums moved into the
     accumulator, config_st/mvout applying the epilogue (strides, scales, activation);
  3. the compute instructions: preload/compute replace the host sums (all MACs on Gemmini).
Phase two optimises the translated kernel with the simulator's cycles, utilization and
scratchpad/accumulator use as feedback: each round first asks for ONE optimisation from a menu,
then for its implementation. The winner must beat the target's library lowering (the yardstick)
in cycles; it is stored like any verified kernel, and the search goes to the knowledge base.

    GemminiSearch(options, evaluator, store, kb=None, provider=None).search(problem) -> SearchResult
    GemminiSearch(services=searcher).search(problem)  # within a compile's Searcher (agent/search.py)

Its requests go through the shared SearchServices (agent/services.py), its budget is the kernel
search's Budget (agent/budget.py), and it hands the knowledge link the same SearchOutcome
(agent/outcome.py) as the kernel search does.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..options import Options
from ..records import Evaluation, Problem
from ..targets.gemmini import NO_GEMMINI_WORK
from ..targets.gemmini.graph import UnsupportedGraph, parse_problem
from ..targets.gemmini.lower import Unsupported, config_for, lower, useful_macs
from . import prompts
from .budget import Budget, BudgetSpent
from .extract import extract_code
from .outcome import SearchOutcome, SearchResult, knowledge_attempt
from .provider import DeadlineExceeded, EndpointUnavailable, MalformedResponse, Provider, RequestRejected, Usage
from .services import SearchServices
from .transcript import Transcript
from .winners import kernel_entry

log = logging.getLogger(__name__)

STEP_ATTEMPTS = 2  # tries per phase-one step before the translation is given up
MENU = ("tiling", "loop order", "dataflow", "double buffering", "scratchpad reuse", "loop_ws",
        "fusing the epilogue", "hoisting configs")

SYSTEM = ("You are an expert in the Gemmini systolic-array accelerator and its C programming interface. "
          "You write Gemmini C kernels for PyTorch subgraphs. Every module you write is built, run on a "
          "cycle-counting simulator and checked against the PyTorch reference (int8 results must match "
          "exactly). Be correct first; then minimise simulated cycles.")

STEPS = (
    ("loop nest",
     "Phase 1, step 1 of 3: the loop nest and tiling, in PLAIN C. Write the module with a C function that "
     "computes the subgraph on the host, WITHOUT Gemmini instructions yet: loops tiled by DIM={dim} over the "
     "output rows (I), columns (J) and the reduction (K), exactly as the Gemmini version will tile them, "
     "with elem_t inputs, acc_t sums and the whole epilogue (bias, scale, round-to-nearest-even, "
     "saturation, activation). Use config=\"{config}\". It only has to be correct."),
    ("data movement",
     "Phase 1, step 2 of 3: data movement. Keep the loop nest and the host-side sums, but move the data "
     "through Gemmini's memories: config_ld (DRAM row stride in bytes, scale) and mvin of the A and B "
     "tiles into the scratchpad at the addresses step 3 will compute from; put each output tile's host "
     "sums into the accumulator with an mvin (local address bit 31 set, acc_t rows) and write the outputs "
     "with config_st (stride in bytes, activation, scale) and mvout, so Gemmini's store path applies the "
     "epilogue. End with gemmini_fence()."),
    ("compute",
     "Phase 1, step 3 of 3: the compute instructions. Replace the host-side sums with Gemmini compute: "
     "config_ex (WS dataflow), preload of B tiles (weights) with the accumulator output address, "
     "compute_preloaded / compute_accumulated on the A tiles, accumulating into the accumulator rows "
     "(bit 30) that your mvouts read. No arithmetic may remain on the host."),
)
PLAN = ("Phase 2, optimisation round {round}. Current kernel: {current}. The library baseline "
        "(tiled library calls: {library_steps}) takes {library:.0f} cycles. Choose ONE optimisation from this "
        "menu: " + ", ".join(MENU) + ". Name it first, then say in at most 6 lines why it cuts cycles for these "
        "exact shapes (think of scratchpad/accumulator capacity, reuse and instruction count). No code.")
IMPLEMENT = ("Implement exactly that optimisation on the current best module (below). Keep it correct. Answer "
             "with ONE complete module in a ```python block that defines `class ModelNew`.\n\n{source}")


@dataclass
class _Attempt:
    phase: str  # "loop nest", "data movement", "compute" or "optimise"
    technique: str
    source: str | None
    evaluation: Evaluation
    cycles: float | None = None


@dataclass
class _State:
    problem: Problem
    budget: Budget
    usage: Usage
    attempts: list[_Attempt] = field(default_factory=list)
    rounds: int = 0
    transcript: Transcript | None = None


class GemminiSearch:
    def __init__(self, options: Options | None = None, evaluator=None, store=None, kb=None,
                 provider: Provider | None = None, machine: dict[str, str] | None = None, *,
                 services: SearchServices | None = None):
        """Either the compile's `services` (a Searcher), or the parts to build them from;
        `machine`: the winner is stored as verified on it (see winners.kernel_entry)."""
        if services is None:
            if options is None:
                raise TypeError("GemminiSearch needs options, an evaluator and a store, or services=")
            services = SearchServices(options, evaluator, store, kb, provider=provider, machine=machine)
        self.services = services
        self.options = services.options
        self.usage = Usage()  # the requests of this object's searches

    # -- the search -------------------------------------------------------------------------
    def search(self, problem: Problem) -> SearchResult:
        usage = Usage()
        state = _State(problem, Budget(self.options, usage, lambda: self.services.endpoint_error), usage)
        try:
            state.transcript = Transcript(self.options.cache_dir, problem.key, f"Gemmini search for {problem.key}")
        except OSError as e:
            log.warning("cannot write a search transcript: %s", e)
        try:
            lowered = lower(problem)
            graph = parse_problem(problem)
        except (Unsupported, UnsupportedGraph) as e:
            return self._result(state, f"no library lowering to measure against ({e})", None, None)
        library = self._library_cycles(problem, lowered.source)
        if library is None:
            return self._result(state, "the library baseline did not verify; nothing to beat", None, None)
        context = {"dim": 4 if lowered.config == "fp32" else 16, "config": config_for(graph),
                   "macs": useful_macs(graph), "library": library, "library_steps": "; ".join(lowered.steps)}
        knowledge = self.services.knowledge.retrieve(problem)
        best: _Attempt | None = None
        try:
            translated = self._phase_one(state, context, knowledge)
            if translated is None:
                reason = "phase one found no correct translation"
            else:
                best = translated
                best = self._phase_two(state, context, knowledge, translated)
                reason = f"{state.rounds} optimisation round(s) done"
        except BudgetSpent as e:
            reason = str(e)
            best = _best_of(state.attempts, context["macs"])
        return self._finish(state, reason, best, library)

    def _phase_one(self, state: _State, ctx: dict, knowledge: str) -> _Attempt | None:
        previous: str | None = None
        passed: _Attempt | None = None
        for name, text in STEPS:
            request = text.format(**ctx)
            if previous is not None:
                request += "\n\nThe previous step's verified module:\n\n" + prompts.fence(previous)
            history: list[prompts.Turn] = []
            passed = None
            for _ in range(STEP_ATTEMPTS):
                attempt = self._attempt(state, name, name, self._messages(state.problem, knowledge, history, request))
                if self._ok(attempt, ctx, final=name == "compute"):
                    passed = attempt
                    break
                history.append(prompts.Turn(attempt.source or "", self._feedback(attempt, ctx, final=name == "compute")))
            if passed is None:
                return None
            previous = passed.source
        return passed

    def _phase_two(self, state: _State, ctx: dict, knowledge: str, best: _Attempt) -> _Attempt:
        for rnd in range(1, self.options.max_rounds + 1):
            if best.cycles is not None and ctx["library"] / best.cycles >= self.options.target_speedup:
                break
            state.rounds = rnd
            plan_request = PLAN.format(round=rnd, current=_figures(best.evaluation), library=ctx["library"],
                                       library_steps=ctx["library_steps"])
            base = self._messages(state.problem, knowledge, [], plan_request + "\n\nCurrent best module:\n\n" + prompts.fence(best.source))
            plan = self._ask(state, f"round {rnd} (plan)", base)
            technique = next((m for m in MENU if m in plan.lower()), "other")
            messages = base + [{"role": "assistant", "content": plan},
                               {"role": "user", "content": IMPLEMENT.format(source=prompts.fence(best.source))}]
            attempt = self._attempt(state, "optimise", technique, messages)
            if self._ok(attempt, ctx, final=True) and attempt.cycles < best.cycles:
                best = attempt
            self._note(state, f"round {rnd}: {technique}: {self._feedback(attempt, ctx, final=True).splitlines()[0]}")
        return best

    # -- one request and its evaluation ------------------------------------------------------
    def _attempt(self, state: _State, phase: str, technique: str, messages: list[dict]) -> _Attempt:
        reply = self._ask(state, phase, messages)
        extraction = extract_code(reply)
        if extraction.source is None:
            evaluation = Evaluation(False, "extract", extraction.feedback)
        else:
            evaluation = self.services.evaluate_once(state.problem, extraction.source)
        cand = evaluation.timings.get("candidate") if evaluation.ok else None
        attempt = _Attempt(phase, technique, extraction.source, evaluation, cand.get("median") if cand else None)
        state.attempts.append(attempt)
        return attempt

    def _ask(self, state: _State, label: str, messages: list[dict]) -> str:
        state.budget.check()
        if state.transcript:
            state.transcript.request(label, messages)
        try:
            reply = self.services.chat(messages, state.usage, deadline=state.budget.deadline)
        except EndpointUnavailable:
            raise  # the services warned once for the compile; the caller falls back
        except (RequestRejected, DeadlineExceeded, MalformedResponse) as e:
            raise BudgetSpent(f"LLM request failed: {e}") from None
        self.usage.add(reply.usage)
        if state.transcript:
            state.transcript.reply(label, reply.text, reply.model)
        return reply.text

    def _messages(self, problem: Problem, knowledge: str, history: list[prompts.Turn], request: str) -> list[dict]:
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompts.problem_text(problem, knowledge)}]
        for turn in history:
            messages.append({"role": "assistant", "content": turn.reply})
            messages.append({"role": "user", "content": turn.feedback})
        return prompts.append_request(messages, request)

    def _ok(self, attempt: _Attempt, ctx: dict, final: bool) -> bool:
        """Verified; and, once Gemmini must compute, every useful MAC ran on the array. Before
        that, a host-only module passes: it verified, and only its timing (0 cycles) failed."""
        e = attempt.evaluation
        if not final and e.stage == "timing" and NO_GEMMINI_WORK in e.reason:
            return True
        if not e.ok:
            return False
        return not final or _stats(e).get("macs", 0) >= ctx["macs"]

    def _feedback(self, attempt: _Attempt, ctx: dict, final: bool) -> str:
        e = attempt.evaluation
        if final and e.stage == "timing" and NO_GEMMINI_WORK in e.reason:
            return ("Your module is correct, but it ran no Gemmini instruction: the arithmetic ran as host C, "
                    "which is not allowed now. Do every product with preload/compute (or loop_ws / the tiled library).")
        if e.ok and final and _stats(e).get("macs", 0) < ctx["macs"]:
            return (f"Your module is correct, but Gemmini executed only {_stats(e).get('macs', 0):,} of the "
                    f"{ctx['macs']:,} multiply-accumulates: the rest ran as host C, which is not allowed. Do "
                    "every product with preload/compute (or loop_ws / the tiled library).")
        if e.ok:
            return f"Your module is correct: {_figures(e)}; the library takes {ctx['library']:.0f} cycles."
        return prompts.feedback_text(e, self.options.target_speedup)

    # -- baseline, knowledge, result ---------------------------------------------------------
    def _library_cycles(self, problem: Problem, source: str) -> float | None:
        try:
            library = self.services.evaluator.baselines(problem).get("library")
        except Exception as e:  # the evaluator's failure: measure the library as a candidate instead
            log.info("baselines unavailable for %s: %s", problem.key[:16], e)
            library = None
        if not (isinstance(library, dict) and library.get("median")):
            ev = self.services.evaluate_once(problem, source)
            library = ev.timings.get("candidate") if ev.ok else None
        return float(library["median"]) if library else None

    def _finish(self, state: _State, reason: str, best: _Attempt | None, library: float) -> SearchResult:
        entry, speedup = None, None
        if best is not None and best.cycles:
            speedup = library / best.cycles
            if speedup > 1.0:
                timings = {**best.evaluation.timings, "library": best.evaluation.timings.get("library") or {"median": library, "unit": "cycles"}}
                best.evaluation.timings = timings
                entry = kernel_entry(state.problem, best.source, best.evaluation, {
                    "author": self.options.model, "via": "gemmini-two-phase", "rounds": state.rounds,
                    "technique": best.technique, "tokens": state.usage.total_tokens, "requests": state.usage.requests,
                    "transcript": state.transcript.path if state.transcript else None}, self.services.machine)
                try:
                    self.services.store.put(entry)
                    self.services.store.clear_pending(state.problem.key)
                except Exception as e:  # the kernel is still usable in this process
                    log.warning("could not save the Gemmini kernel for %s: %s", state.problem.key[:16], e)
                reason += f"; winner {best.cycles:.0f} cycles, {speedup:.2f}x the library ({library:.0f} cycles)"
            else:
                reason += f"; best verified kernel {best.cycles:.0f} cycles does not beat the library ({library:.0f} cycles)"
        outcome = self._outcome(state, reason, entry, best, speedup)
        self._add_knowledge(outcome, state, best if entry is not None else None, library)
        self.services.knowledge.record(outcome, lambda label, messages: self._ask(state, label, messages))
        return outcome.result()

    def _add_knowledge(self, outcome: SearchOutcome, state: _State, winner: _Attempt | None, library: float) -> None:
        """Every attempt as a knowledge-base record, and the conversation a lesson is asked on."""
        if self.services.knowledge.kb is None or not state.attempts:
            return
        for a in state.attempts:
            vs_library = library / a.cycles if a.cycles else None
            outcome.attempts.append(knowledge_attempt(
                a.evaluation, f"{a.technique}\n{a.source or ''}", "gemmini", won=a is winner, technique=a.technique,
                # Gemmini's one baseline is its library (cycles); eager/Inductor do not apply
                speedup_vs_library=vs_library if a.phase == "optimise" or a is winner else None))
        lines = [f"- {a.phase} ({a.technique}): " + (_figures(a.evaluation) if a.evaluation.ok else prompts.first_line(a.evaluation.reason))
                 for a in state.attempts]
        request = ("The search is over (" + outcome.reason + "). Attempts:\n" + "\n".join(lines) +
                   "\nIn 2-4 plain sentences, no code: what should the next engineer know when writing Gemmini C "
                   "for a similar subgraph (tiling, dataflow, data movement, numerics pitfalls)?")
        outcome.lesson_request = self._messages(state.problem, "", [], request)

    def _note(self, state: _State, text: str) -> None:
        if state.transcript:
            state.transcript.note(text)

    def _outcome(self, state: _State, reason: str, entry, best: _Attempt | None,
                 speedup: float | None = None) -> SearchOutcome:
        evaluation = best.evaluation if best is not None else (state.attempts[-1].evaluation if state.attempts else None)
        return SearchOutcome(problem=state.problem, reason=reason, rounds=state.rounds, usage=state.usage, entry=entry,
                             best=evaluation, speedup=speedup, device="gemmini",
                             transcript_path=state.transcript.path if state.transcript else None)

    def _result(self, state: _State, reason: str, entry, best: _Attempt | None,
                speedup: float | None = None) -> SearchResult:
        return self._outcome(state, reason, entry, best, speedup).result()


def _stats(evaluation: Evaluation) -> dict:
    cand = evaluation.timings.get("candidate")
    return cand.get("stats", {}) if isinstance(cand, dict) else {}


def _figures(evaluation: Evaluation) -> str:
    s = _stats(evaluation)
    if not s:
        return "not timed"
    return (f"{s['cycles']:,} cycles, {s['macs']:,} MACs, utilization {s['utilization']:.1%}, scratchpad rows "
            f"{s['spad_rows_used']}/{s['spad_rows']}, accumulator rows {s['acc_rows_used']}/{s['acc_rows']}, "
            f"{s['instructions']} instructions issued")


def _best_of(attempts: list[_Attempt], macs: int) -> _Attempt | None:
    done = [a for a in attempts if a.evaluation.ok and a.cycles and _stats(a.evaluation).get("macs", 0) >= macs]
    return min(done, key=lambda a: a.cycles) if done else None
