"""The Dynamo entry point (`backend="llm"`, registered through the torch_dynamo_backends entry
point only). It orchestrates and knows no LLM and no kernel language:

  Dynamo graph -> AOTAutograd (core ATen, functionalized; forward and backward graphs)
    -> partition per target -> key -> per subgraph: cache hit | agent search | fallback
    -> stitch winners as custom ops -> the rest through Inductor or eager
    -> back to Dynamo; an inference graph without AOTAutograd's runtime wrapper where that
       wrapper would do nothing (_DirectInference), and on a GPU only if it beats Dynamo's
       graph run eagerly, replayed as a CUDA graph where that is faster (whole_graph.py).

Nothing here may make a model wrong: a kernel is used only after it passed verification on this
machine, and every failure on the way falls back with the reason in the report.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch._functorch.aot_autograd import make_boxed_func
from torch._subclasses.fake_tensor import unset_fake_temporarily

from . import plans, policy, reuse, runtime, whole_graph
from .graph import Subgraph, lift, make_problem, op_name, partition
from .graph.variants import problems_at, resized, spread
from .options import Options
from .machine import this_machine
from .records import Problem
from .reports import ReportRow, attach, format_table, report, set_runs
from .speedup import format_speedup, median_of, speedup_of, speedups
from .store.bundle import shipped_entries
from .store.kernels import KernelEntry, KernelStore, open_store
from .targets import Target, get_target
from .targets.base import RefusedSource

log = logging.getLogger(__name__)

WORKER_IDLE_S = 60.0  # how long a forward graph's workers wait for its backward graph

# report, format_table and this_machine live in reports.py and machine.py; importable here as before
__all__ = ["format_table", "llm_backend", "report", "this_machine"]



def llm_backend(gm: torch.fx.GraphModule, example_inputs, options: dict | None = None, **unused):
    """torch.compile(model, backend="llm", options={...})."""
    from torch._dynamo.backends.common import aot_autograd

    opts = Options.resolve(options)
    session = CompileSession(opts)
    attach(session.rows)
    device_type = _device_type(example_inputs)

    plan_key = plans.plan_key(gm, example_inputs, opts) if not opts.search else None
    plan = plans.load(session.store(), plan_key) if plan_key else None
    if plan is not None:  # decided by an earlier process: straight to the whole-graph choice
        session.rows.append(_whole_graph_row("whole", gm, f"plan {plan_key[:12]}: {plan.why}", plan.runs))
        session.release()
        session.unlogged = (0, "whole", 0.0)
        session.log_table()
        return _whole_graph_callable(plan.runs, gm, example_inputs, plan.replay)

    direct = _DirectInference(gm, example_inputs)
    inference_unstitched = []  # an inference graph none of our kernels applies to

    def compile_graph(name: str) -> Callable:
        def compiler(graph: torch.fx.GraphModule, inputs):
            random = name == "inference" and whole_graph.draws_random_numbers(graph)  # before stitching
            compiled = GraphCompiler(session, name).compile(graph, inputs)
            if name == "inference":
                direct.offer(compiled, graph, random)
                if session.stitched == 0:
                    inference_unstitched.append(random)
            elif name == "backward" and plan_key and session.stitched == 0:
                plans.save(session.store(), plan_key, _plan_of(session, "inductor", "no kernel applies (training)"))
            return compiled

        return compiler

    wrapped = aot_autograd(
        fw_compiler=compile_graph("forward"),
        bw_compiler=compile_graph("backward"),
        inference_compiler=compile_graph("inference"),
        decompositions=_core_aten_table(),
        # the partitioner torch.compile's Inductor uses: it recomputes cheap ops in the backward
        # instead of saving them, which saves memory and time in training
        partition_fn=_inductor_partition(),
        keep_inference_input_mutations=True,
    )(gm, example_inputs)
    if inference_unstitched and opts.fallback != "eager":
        # Nothing of ours runs: the graph goes to Inductor whole, as torch.compile runs it, or
        # eagerly where that is faster (timed once; the plan remembers the choice).
        # timed only where a run changes nothing (see _DirectInference) and the user left it to us
        timed = direct.repeatable and opts.fallback == "auto" and opts.prefer == "fastest"
        runs, why, chosen, replay = _whole_graph_baseline(gm, example_inputs, session.rows, device_type, timed,
                                                          opts.cuda_graphs)
        if plan_key:
            plans.save(session.store(), plan_key, _plan_of(session, runs, why, replay))
        session.log_table()
        return chosen
    chosen = direct.callable()
    if chosen is not None and direct.repeatable and device_type in whole_graph.DEVICE_TYPES \
            and opts.fallback == "auto" and opts.prefer == "fastest":
        chosen = whole_graph.fastest(chosen, gm.forward, example_inputs, session.rows, device_type, opts.cuda_graphs,
                                     inductor=lambda: _inductor_whole_graph(gm, example_inputs))
    session.log_table()  # the inference graph's, with what runs in the end
    return chosen or wrapped


def _inductor_partition():
    from torch._functorch.partitioners import min_cut_rematerialization_partition

    return functools.partial(min_cut_rematerialization_partition, compiler="inductor")


def _inductor_whole_graph(gm: torch.fx.GraphModule, example_inputs) -> Callable:
    """Dynamo's graph through Inductor exactly as torch.compile(backend="inductor") runs it."""
    from torch._inductor.compile_fx import compile_fx

    return compile_fx(gm, list(example_inputs))


def _whole_graph_callable(runs: str, gm: torch.fx.GraphModule, example_inputs, replay: str = "") -> Callable:
    """What a plan says runs the graph: Inductor or eager, replayed as CUDA graphs if it says so."""
    fn = gm.forward
    if runs == "inductor":
        try:
            fn = _inductor_whole_graph(gm, example_inputs)
        except Exception as e:  # Inductor failing must not fail the user's compile
            log.warning("Inductor failed on the whole graph (%s: %s); it runs eagerly", type(e).__name__, e)
    if not replay:
        return fn
    from .cuda_graph import CudaGraphCall

    try:
        with unset_fake_temporarily():
            return CudaGraphCall(fn, list(example_inputs))
    except Exception as e:  # a capture that fails now costs the replay only
        log.warning("the plan's CUDA-graph replay could not be captured (%s: %s); plain calls", type(e).__name__, e)
        return fn


def _whole_graph_baseline(gm, example_inputs, rows: list[ReportRow], device_type: str | None,
                          timed: bool, cuda_graphs: bool = False) -> tuple[str, str, Callable, str]:
    """(runs, why, callable, replayed) for a graph none of our kernels applies to: Inductor on
    the whole graph; on a GPU, where timing is safe, eager instead if it is 5% faster, and
    either one replayed as CUDA graphs where that is faster still (`replayed` names which)."""
    eager = gm.forward  # one bound method: the replay check tells candidates apart by identity
    try:
        inductor = _inductor_whole_graph(gm, example_inputs)
    except Exception as e:
        why = f"eager, whole graph (Inductor failed: {type(e).__name__}: {_first_line(str(e))})"
        log.warning("Inductor failed on the whole graph (%s: %s); it runs eagerly", type(e).__name__, e)
        set_runs(rows, why)
        return "eager", why, eager, ""
    from .evaluate.timing import capturing

    runs, why, chosen = "inductor", "inductor, whole graph (no kernel of ours applies)", inductor
    timed = timed and device_type in whole_graph.DEVICE_TYPES and not capturing(device_type)
    times = whole_graph.timed_pair(inductor, eager, example_inputs, device_type) if timed else None
    if times is not None and times[1] < 0.95 * times[0]:  # eager only where clearly faster
        runs, why, chosen = "eager", f"eager, whole graph ({times[1]:.1f} us vs Inductor {times[0]:.1f} us)", eager
    elif times is not None:
        why = f"inductor, whole graph ({times[0]:.1f} us vs eager {times[1]:.1f} us)"
    set_runs(rows, why)
    replay = ""
    if timed and cuda_graphs:
        candidates = {"compiled": inductor, "eager": eager}
        replayed = whole_graph.replayed_if_faster(chosen, candidates, example_inputs, rows,
                                                  ["inductor, whole graph"] * len(rows), device_type)
        if replayed is not chosen:
            replay = "inductor" if replayed.fn is inductor else "eager"
            runs, why, chosen = replay, rows[0].runs if rows else why, replayed
    return runs, why, chosen, replay


def _plan_of(session: "CompileSession", runs: str, why: str, replay: str = "") -> plans.Plan:
    return plans.Plan(runs, why, looked_up=sorted({r.key for r in session.rows if r.key}),
                      structures=sorted(session.structures), replay=replay)


class _DirectInference:
    """Lets an inference graph skip AOTAutograd's runtime wrapper where that wrapper would do
    nothing. On the H100 machine it cost about as much per call as Dynamo's guards, or one
    eager op (bench/results/README.md, the 2026-11-25 runs). The graph is AOTAutograd's own, so keys and kernels are the same either way;
    only the call path differs. The wrapper is needed where the graph mutates inputs, returns
    aliases, carries effect tokens or runs under autograd or autocast; those keep it. Dynamo
    guards on grad mode and autocast, so a later call under other settings compiles again."""

    def __init__(self, gm: torch.fx.GraphModule, example_inputs):
        self.n_inputs = len(example_inputs)
        self.compiled: Callable | None = None
        self.repeatable = False  # calling it again changes nothing a user can see (no RNG draws)
        self.possible = (
            not torch.is_grad_enabled()
            and not any(torch.is_autocast_enabled(d) for d in ("cpu", "cuda"))
            and all(type(t) in (torch.Tensor, torch.nn.Parameter) for t in example_inputs)  # no subclasses, no SymInts
            and not any(isinstance(s, torch.SymInt) for t in example_inputs for s in (*t.shape, *t.stride()))
            and next(iter(gm.parameters()), None) is None and next(iter(gm.buffers()), None) is None
        )

    def offer(self, compiled: Callable, graph: torch.fx.GraphModule, random: bool) -> None:
        """Called with the compiled inference graph, while AOTAutograd's metadata is current."""
        if self.possible and _wrapper_is_a_no_op(graph, self.n_inputs):
            self.compiled = compiled
            self.repeatable = not random

    def callable(self) -> Callable | None:
        compiled = self.compiled
        if compiled is None:
            return None

        unboxed = getattr(compiled, "_llm_unboxed", None)
        if unboxed is not None:  # a graph run as Python takes the arguments as they come
            forward = functools.partial(unboxed)  # a partial, since a bound method takes no attributes
        else:
            def forward(*args):  # Dynamo passes the inputs as arguments; Inductor's graphs take a list
                return compiled(list(args))

        forward._llm_inference_direct = True  # for tests: this compile skipped the wrapper
        return forward


def _wrapper_is_a_no_op(graph: torch.fx.GraphModule, n_inputs: int) -> bool:
    """From AOTAutograd's metadata of the graph being compiled (where Inductor reads it too):
    the call convention is Dynamo's, and nothing is written back or re-aliased."""
    try:
        from torch._functorch._aot_autograd.schemas import OutputType

        meta = getattr(torch._guards.TracingContext.try_get(), "fw_metadata", None)
        if meta is None:
            return False
        outputs = graph.graph.output_node().args[0]
        return (
            len(graph.graph.find_nodes(op="placeholder")) == n_inputs
            and len(outputs) == len(meta.output_info)
            and not any(i.mutates_data or i.mutates_metadata for i in meta.input_info)
            and all(o.output_type == OutputType.non_alias for o in meta.output_info)
            and meta.num_intermediate_bases == 0
            and not meta.tokens
            and not getattr(meta, "num_outputs_rng_offset", 0)
        )
    except (ImportError, AttributeError, TypeError):  # another torch's metadata: keep the wrapper
        return False


@functools.lru_cache(maxsize=1)
def _core_aten_table() -> dict:
    """Core ATen decompositions as a plain dict, built once per process: the table torch hands
    out is lazy and re-materializes (about 0.2 s) on every use, which a cache hit must not pay."""
    from torch._decomp import core_aten_decompositions

    return dict(core_aten_decompositions().items())


@dataclass
class Decision:
    """What happened to one subgraph; becomes one report row."""

    problem: Problem
    sub: Subgraph
    source: str = "fallback"  # cache | llm | fallback
    reasons: list[str] = field(default_factory=list)  # the report's reason, in parts joined once
    verified: bool = False
    entry: KernelEntry | None = None  # the kernel found (cache or LLM), used or not
    run: KernelEntry | None = None  # what is stitched in: the kernel, a target baseline, or None
    timings: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # kernels of the same structure refused here
    alternates: list[Problem] = field(default_factory=list)  # the same subgraph for other targets
    table: runtime.SizeTable | None = None
    coverage: str = ""  # which sizes the kernel covers, for the report

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def because(self, reason: str) -> None:
        """The reason so far is replaced: what happened to the subgraph starts here."""
        self.reasons = [reason] if reason else []

    def also(self, part: str) -> None:
        """One more part of the reason (what happened next)."""
        self.reasons.append(part)

    def row(self, graph: str, index: int, fallback: str) -> ReportRow:
        kernel = median_of(self.timings, "candidate")
        if self.run is None:
            runs = fallback
        else:
            runs = "kernel" if self.run is self.entry else self.run.provenance.get("author", "baseline")
        candidate = self.timings.get("candidate") or {}
        return ReportRow(
            graph=graph, subgraph=index, key=self.problem.key, target=self.problem.target, ops=list(self.problem.ops),
            source=self.source, reason=self.reason, verified=self.verified, runs=runs, check=self._check(),
            kernel_time=kernel, eager_time=median_of(self.timings, "eager"),
            inductor_time=median_of(self.timings, "inductor"), library_time=median_of(self.timings, "library"),
            time_unit=candidate.get("unit", "us") if kernel else None,
            speedup_vs_eager=speedup_of(self.timings, "eager"),
            speedup_vs_inductor=speedup_of(self.timings, "inductor"),
            speedup_vs_library=speedup_of(self.timings, "library"),
            stats=candidate.get("stats"), device=self.timings.get("device"),
            kernel_gpu_time=candidate.get("gpu_median") if kernel else None,
            kernel_host_time=candidate.get("steady") if kernel else None,
            usage=self.usage, sizes=self.problem.shape_text(), coverage=self.coverage,
        )

    def _check(self) -> str | None:
        """Which rule passed what runs: eager's tolerance, or a float64 arbitration (verify.py,
        evaluate/reduction_error.py), with the figures."""
        if self.run is None or not self.verified:
            return None
        return (self.run.verification or {}).get("rule") or "within tolerance of eager"


class CompileSession:
    """What the graphs of one torch.compile call share: the report, the store, the evaluator's
    workers and one Searcher (so a dead endpoint is reported once, and usage adds up per compile).
    Workers are stopped after each graph; the backward graph may be compiled much later."""

    def __init__(self, opts: Options):
        self.opts = opts
        self.rows: list[ReportRow] = []
        self.unlogged: tuple[int, str, float] | None = None  # (first row, graph, seconds) of the last graph
        self.stitched = 0  # subgraphs of ours (kernels or a target's library) stitched in so far
        self.structures: set[str] = set()  # structural keys looked up, for a plan
        self._store: KernelStore | None = None
        self._evaluator = None
        self._idle_timer: threading.Timer | None = None
        self._searcher = None

    def store(self) -> KernelStore:
        if self._store is None:
            self._store = open_store(self.opts.cache_dir)  # never raises: read-only or none, with a warning
        return self._store

    def evaluator(self):
        if self._evaluator is None:
            from .evaluate import Evaluator

            self._evaluator = Evaluator(self.opts)
        return self._evaluator

    def searcher(self, machine: dict[str, str]):
        if self._searcher is None:
            from .agent import Searcher

            self._searcher = Searcher(self.opts, self.evaluator(), self.store(), _open_knowledge(self.opts), machine=machine)
        return self._searcher

    def log_table(self) -> None:
        """Log the last compiled graph's table, if the options ask for it and it is not logged yet."""
        if self.unlogged is not None and self.opts.log_table:
            first_row, graph, seconds = self.unlogged
            log.info("%s", format_table([r.to_dict() for r in self.rows[first_row:]], graph, seconds))
        self.unlogged = None

    def release(self, workers: bool = True) -> None:
        """Close file handles and stop the worker processes; both reopen on demand. With
        `workers=False` (after a forward graph) the workers stay warm for the backward graph,
        which AOTAutograd compiles on the first backward call, and are stopped if it has not
        come within WORKER_IDLE_S."""
        if self._store is not None:
            self._store.close()
        if workers:
            self.hold_workers()
            if self._evaluator is not None:
                self._evaluator.close()
        elif self._evaluator is not None and self._idle_timer is None:
            self._idle_timer = threading.Timer(WORKER_IDLE_S, self.release)
            self._idle_timer.daemon = True
            self._idle_timer.start()

    def hold_workers(self) -> None:
        """A graph is being compiled: the workers kept warm for it are not to be stopped."""
        timer, self._idle_timer = self._idle_timer, None
        if timer is not None:
            timer.cancel()


class GraphCompiler:
    """Compiles one aten graph (forward, backward or inference) of one torch.compile call:
    stages wired (partition, key, cache/structure/search, choose, stitch, the rest); what to
    run at each choice is policy.py's."""

    def __init__(self, session: CompileSession, name: str):
        self.session, self.opts, self.name, self.rows = session, session.opts, name, session.rows
        self.store, self.evaluator = session.store, session.evaluator

    # -- entry --------------------------------------------------------------------------------
    def compile(self, gm: torch.fx.GraphModule, example_inputs) -> Callable:
        start = time.perf_counter()
        self.session.hold_workers()
        first_row = len(self.rows)
        try:
            device_type = _device_type(example_inputs)
            target, why_not = self._pick_target(device_type)
            decisions: list[Decision] = []
            if target is not None:
                decisions = self._decide(gm, target, device_type)
            else:
                self.rows.append(_whole_graph_row(self.name, gm, why_not))
            for d in decisions:
                self.session.structures.add(d.problem.structural_key)
                if d.run is not None:
                    op = self._loaded_op(d)
                    if op is not None:
                        runtime.stitch(gm, d.sub, op)
                        self.session.stitched += 1
            runtime.finish(gm)
            if self.name == "inference" and self.session.stitched == 0 and self.opts.fallback != "eager":
                # llm_backend hands Dynamo's whole graph to Inductor instead: compile nothing here
                compiled, fallback = _as_python(gm), "inductor, whole graph"
            else:
                compiled, fallback = self._compile_rest(gm, example_inputs, device_type)
            for i, d in enumerate(decisions):
                self.rows.append(d.row(self.name, i, fallback))
            if target is not None:
                self._add_left_out_rows(fallback)
        finally:
            self.session.release(workers=self.name != "forward")  # a backward graph follows a forward one
        self.session.unlogged = (first_row, self.name, time.perf_counter() - start)
        if self.name != "inference":  # llm_backend logs an inference graph once its last check is done
            self.session.log_table()
        return compiled

    # -- target ---------------------------------------------------------------------------------
    def _pick_target(self, device_type: str | None) -> tuple[Target | None, str]:
        name = self.opts.target
        if device_type is None:
            return None, "graph inputs are on several devices or hold no tensor"
        if name == "auto":
            if device_type != "cuda":
                return None, (f"target=auto: no kernel target for {device_type} inputs "
                              "(choose target='gemmini', or 'triton' with TRITON_INTERPRET=1)")
            name = "cuda"
        try:
            target = get_target(name)
        except ImportError as e:
            return None, f"the {name} target is not available in this build ({e})"
        avail = target.availability(device_type)
        if not avail.ok:
            return None, f"the {name} target cannot run here: {avail.reason}"
        return target, ""

    # -- per subgraph -------------------------------------------------------------------------
    def _decide(self, gm: torch.fx.GraphModule, target: Target, device_type: str) -> list[Decision]:
        parts = partition(gm, target, self.opts.min_subgraph_ops)
        self._left_out = parts.left_out_summary()
        capability, versions = target.capability(device_type), target.key_versions()
        alternates = policy.alternate_targets(self.opts.target, device_type, _available_target).run
        # TF32 follows the user's setting: kernels are verified and timed the way the model runs
        tf32 = device_type == "cuda" and bool(torch.backends.cuda.matmul.allow_tf32)
        decisions = []
        for nodes in parts.groups:
            sub = lift(nodes)
            if isinstance(sub, str):
                self._left_out.append({"op": ", ".join(op_name(n.target) for n in nodes), "reason": sub, "count": len(nodes)})
                continue
            try:
                d = Decision(make_problem(sub, target.name, capability, versions, tf32), sub)
            except ValueError as e:  # a size this package cannot name (RecordError included)
                self._left_out.append({"op": ", ".join(op_name(n.target) for n in nodes), "reason": str(e), "count": len(nodes)})
                continue
            d.alternates = [make_problem(sub, alt.name, alt.capability(device_type), alt.key_versions(), tf32)
                            for alt in alternates]
            decisions.append(d)
        self._device_type, self._tf32 = device_type, tf32
        machine = this_machine(target, device_type)
        misses = [d for d in decisions if not self._use_cached_any(d, device_type, machine)]
        misses = [d for d in misses if not self._use_structural(d, machine)]
        if misses:
            self._search_or_queue(misses, machine, capability, versions, tf32)
        for d in decisions:
            self._choose(d, target, machine)
            if d.sub.dynamic:
                self._size_table(d, target, machine)
        return decisions

    def _use_cached_any(self, d: Decision, device_type: str, machine: dict[str, str]) -> bool:
        """The primary target's kernel, else the first alternate target's that is cached and
        verified here; `d` then describes that target's problem (its key and source)."""
        if self._use_cached(d, machine):
            return True
        primary = d.problem
        for alt in d.alternates:
            d.problem = alt
            if self._use_cached(d, this_machine(get_target(alt.target), device_type)) and d.entry is not None:
                return True
            d.because("")
        d.problem = primary
        return False

    def _use_cached(self, d: Decision, machine: dict[str, str]) -> bool:
        """Resolve `d` from the user's store or the shipped bundle. False on a miss."""
        store = self.store()
        entry = store.get(d.problem.key)
        origin = "cache"
        if entry is None and self.opts.use_shipped_bundle:
            shipped = shipped_entries().get(d.problem.key)
            if shipped is not None:
                # a copy: the process-wide bundle is never altered, and what the machine that
                # built the bundle verified is no evidence here, so every machine verifies first
                entry = dataclasses.replace(shipped, verified_on=[])
            origin = "shipped bundle"
        if entry is None:
            return False
        if not entry.verified_here(machine):
            # First use on this machine (or a shipped/imported kernel): verify before trusting it.
            ev = self.evaluator().evaluate(d.problem, entry.source)
            if not ev.ok:
                d.because(f"cached kernel failed verification here ({ev.stage}: {_first_line(ev.reason)})")
                log.warning("kernel %s from the %s refused on this machine: %s", d.problem.key[:16], origin, ev.reason)
                return True
            entry.verified_on.append(machine)
            entry.timings, entry.verification = ev.timings, ev.verification
            entry.problem = entry.problem or d.problem.to_json()
            if not store.readonly:
                store.put(entry)
            origin += ", verified on first use"
        d.entry, d.source, d.verified, d.timings = entry, "cache", True, entry.timings
        d.because(f"hit in the {origin}")
        return True

    def _use_structural(self, d: Decision, machine: dict[str, str]) -> bool:
        """A winner of the same structure at other sizes, proven at these sizes in a worker (the
        proof is stored, so the next process hits it exactly). False when none is proven."""
        if d.reason:  # resolved already (a cached kernel that failed here, say)
            return True
        store, refused, primary = self.store(), [], d.problem
        for problem in [primary, *d.alternates]:  # with target=auto, a Triton kernel serves a CUDA subgraph too
            target_machine = machine if problem is primary else this_machine(get_target(problem.target), self._device_type)
            for cand in reuse.candidates(store, problem, self.opts.use_shipped_bundle):
                proven = reuse.prove(self.evaluator(), store, problem, cand, target_machine)
                if isinstance(proven, str):
                    refused.append(f"kernel {cand.key[:12]} of the same structure refused at these sizes ({proven})")
                    continue
                d.problem = problem
                d.entry, d.source, d.verified, d.timings = proven, "cache", True, proven.timings
                found_at = cand.provenance.get("proven_sizes") or _sizes_of(cand)
                d.because(f"hit by structure: kernel {cand.key[:12]} (found at {found_at}) proven at these sizes")
                return True
        d.notes = refused
        return False

    def _other_sizes(self, d: Decision) -> list[Problem]:
        """One problem at other sizes than the prompt's, for the search to verify candidates at."""
        if d.sub.dynamic:
            return self._points(d)[-1:]
        target = get_target(d.problem.target)
        other = resized(d.sub, target.name, target.capability(self._device_type), target.key_versions(), self._tf32)
        return [other] if other is not None else []

    def _points(self, d: Decision) -> list[Problem]:
        """A dynamic subgraph's problems at the spread of its sizes (graph/variants.py), for the
        target of the kernel it found, the example sizes left out."""
        target = get_target(d.problem.target)
        return problems_at(d.sub, spread(d.sub)[:-1], target.name, target.capability(self._device_type),
                           target.key_versions(), self._tf32)

    def _search_or_queue(self, misses: list[Decision], machine: dict[str, str], capability: str = "",
                         versions: dict | None = None, tf32: bool = False) -> None:
        if not self.opts.search:
            for d in misses:
                if not d.reason:
                    self.store().add_pending(d.problem)
                    d.because("cache miss")
                    d.also("offline mode, " + ("not queued (the kernel store is read-only)" if self.store().readonly
                                               else "queued for `llmbackend batch export`"))
                    d.reasons += d.notes
            return
        searcher = self.session.searcher(machine)
        # a kernel must be right at sizes other than the prompt's: it reads them at run time
        searcher.variants = {d.problem.key: other for d in misses if not d.reason
                             for other in [self._other_sizes(d)] if other}
        results = searcher.search_many([d.problem for d in misses if not d.reason])
        for d in misses:
            res = results.get(d.problem.key)
            if res is None:
                continue
            d.usage = dict(res.usage or {})
            if res.entry is None:
                d.because(f"LLM search found no verified kernel: {res.reason}")
                continue
            d.entry, d.source, d.verified, d.timings = res.entry, "llm", True, res.entry.timings
            d.because(f"LLM search: {res.reason}")

    def _choose(self, d: Decision, target: Target, machine: dict[str, str]) -> None:
        """What runs the subgraph (policy.kernel_or_baseline), against the target's library
        where it has one (policy.library_baseline, cached under the key plus '.library')."""
        store = self.store()
        stored = functools.cache(lambda: store.get(d.problem.key + ".library"))  # looked up once, if at all
        # the target's own code: verified in this process, no worker needed
        library = policy.library_baseline(d.problem, target, stored, machine,
                                          lambda source: self.evaluator().evaluate_here(d.problem, source))
        if library.reason:
            d.also(library.reason)
        baseline = library.run
        if baseline is not None and baseline is not stored() and not store.readonly:
            store.put(baseline)
        choice = policy.kernel_or_baseline(d.entry, d.timings, baseline, self.opts.prefer, target.name)
        if choice.reason:
            d.also(choice.reason)
        if d.entry is not None and choice.run is not d.entry:
            d.source = "fallback"
        if baseline is not None and choice.run is baseline:
            d.verified = True
        d.run, d.timings = choice.run, choice.timings

    def _size_table(self, d: Decision, target: Target, machine: dict[str, str]) -> None:
        """Prove a dynamic subgraph's kernel at the spread of its sizes, and choose per size
        bucket: the kernel where it was proven and faster, the baseline elsewhere."""
        if d.run is None or d.run is not d.entry:
            return
        machine = this_machine(get_target(d.problem.target), self._device_type)  # the kernel's target
        where = [s for s in d.sub.sizes.hints if s in d.sub.sizes.where]
        store, measured, lines = self.store(), {}, []
        names = ("eager", "inductor")
        for p in [d.problem, *self._points(d)]:
            values = dict(p.sizes)
            key = tuple(runtime.bucket(values[s]) for s in where)
            if p is d.problem:
                ok, why = True, "chosen"
            else:
                exact = store.get(p.key)
                if exact is not None and exact.source == d.entry.source and exact.verified_here(machine):
                    proven = exact
                else:
                    proven = reuse.prove(self.evaluator(), store, p, d.entry, machine)
                if isinstance(proven, str):
                    ok, why = False, proven
                else:
                    ups = speedups(proven.timings, names)
                    ok = self.opts.prefer == "kernel" or (bool(ups) and min(ups) > 1.0)
                    why = format_speedup(min(ups)) if ups else "no baseline timing"
            measured[key] = measured.get(key, True) and ok
            lines.append(f"{p.shape_text()} {'kernel' if ok else 'baseline'} ({why})")
        d.table = runtime.SizeTable(measured)
        kernel_at = [runtime.bucket_text(k) for k in sorted(k for k, v in measured.items() if v)]
        d.coverage = "; ".join(lines)
        d.also(f"dynamic sizes: kernel in buckets {', '.join(kernel_at) or 'none'} and the nearest, "
               f"baseline elsewhere ({d.coverage})")
        if not kernel_at:
            d.run = None

    def _loaded_op(self, d: Decision):
        """The decision's kernel as an op, or None (the subgraph falls back, visibly) when its
        source fails the static checks at load: a store entry or bundle changed since it was
        verified, and none of it may run."""
        try:
            return self._op_for(d, d.run)
        except RefusedSource as e:
            log.warning("subgraph %s falls back: %s", d.problem.key[:16], e)
            d.also("refused at load (fails the static checks)")
            d.run, d.verified = None, False
            return None

    def _op_for(self, d: Decision, entry: KernelEntry):
        problem = d.problem
        module = get_target(problem.target).load(entry.source, self.store().module_dir(),
                                                 allow_libraries=self.opts.allow_libraries)
        with unset_fake_temporarily():  # a kernel module may allocate real buffers when built
            instance = module.ModelNew()
        # its forward, not the module: nn.Module's call machinery (hooks) costs microseconds per
        # call, and a kernel module has no hooks
        if d.sub.dynamic and entry is d.entry:
            return runtime.dynamic_kernel_op(d.problem.structural_key, instance.forward, d.sub, d.table)
        return runtime.kernel_op(entry.key, instance.forward, problem.inputs, problem.outputs)

    # -- the rest of the graph ----------------------------------------------------------------
    def _compile_rest(self, gm: torch.fx.GraphModule, example_inputs, device_type: str | None) -> tuple[Callable, str]:
        from .graph.partition import is_compute

        leftover = [n for n in gm.graph.nodes if is_compute(n) and not str(n.target).startswith("llmbackend.")]
        if not leftover:
            return _as_python(gm), "none"
        choice = self.opts.fallback
        if choice == "eager":
            return _as_python(gm), "eager"
        compiled, failures = None, []
        for how, compile_rest in (("lowered", self._inductor_lowered), ("compile_fx", self._inductor_whole)):
            try:
                compiled = compile_rest(gm, example_inputs)
                break
            except Exception as e:  # Inductor failing must not fail the user's compile: next way
                failures.append(f"{how}: {type(e).__name__}: {_first_line(str(e))}")
                log.warning("Inductor (%s) failed on the %s graph (%s: %s)", how, self.name, type(e).__name__, e)
        if compiled is None:
            return _as_python(gm), f"eager (Inductor failed: {'; '.join(failures)})"
        if choice == "auto" and device_type == "cuda":
            with unset_fake_temporarily():  # AOTAutograd calls us under its fake mode
                return _faster_on_gpu(gm, compiled, example_inputs)
        return compiled, "inductor"

    def _inductor_lowered(self, gm: torch.fx.GraphModule, example_inputs) -> Callable:
        """Our aten graph with Inductor's decompositions applied, into Inductor's inner compiler."""
        from .evaluate.inductor import compile_with_inductor

        lowered = _inductor_decomposed(gm, example_inputs)
        return compile_with_inductor(lowered, example_inputs, inference=self.name == "inference")

    def _inductor_whole(self, gm: torch.fx.GraphModule, example_inputs) -> Callable:
        """The graph handed to Inductor's own entry point, as torch.compile hands it a graph: it
        runs its own AOTAutograd (functional already, so only decompositions change) under
        no_grad, since autograd was taken care of around this graph."""
        from torch._inductor.compile_fx import compile_fx

        with torch.no_grad():
            compiled = compile_fx(gm, list(example_inputs))

        def boxed(args):
            out = compiled(*args)
            args.clear()
            return out

        boxed._boxed_call = True
        return boxed

    def _add_left_out_rows(self, fallback: str) -> None:
        for lo in getattr(self, "_left_out", []):
            self.rows.append(ReportRow.plain(self.name, "pytorch", [lo["op"]] * lo["count"], lo["reason"], fallback))


def _sizes_of(entry: KernelEntry) -> str:
    try:
        return Problem.from_json(entry.problem).shape_text() if entry.problem else "other sizes"
    except (KeyError, TypeError, ValueError):
        return "other sizes"


def _open_knowledge(opts: Options):
    if not opts.use_knowledge:
        return None
    try:
        from .store.knowledge import KnowledgeBase

        return KnowledgeBase(opts.cache_dir)
    except Exception as e:  # the knowledge base helps; its absence must not stop a search
        log.warning("knowledge base unavailable (%s); searching without it", e)
        return None


def _available_target(name: str, device_type: str) -> Target | None:
    """The named target if it is installed and can run on this device, else None."""
    try:
        target = get_target(name)
    except ImportError:
        return None
    return target if target.availability(device_type).ok else None


def _device_type(example_inputs) -> str | None:
    types = {t.device.type for t in example_inputs if isinstance(t, torch.Tensor)}
    return types.pop() if len(types) == 1 else None


def _whole_graph_row(graph: str, gm: torch.fx.GraphModule, reason: str, runs: str = "baseline") -> ReportRow:
    from .graph.partition import is_compute

    return ReportRow.plain(graph, "none", [op_name(n.target) for n in gm.graph.nodes if is_compute(n)], reason, runs)


def _inductor_decomposed(gm: torch.fx.GraphModule, example_inputs) -> torch.fx.GraphModule:
    """Retrace the graph with Inductor's decompositions: ours stop at core ATen (so keys and
    kernels see ops like gelu whole), but Inductor has no lowering for some core ops and expects
    them decomposed. Our kernel ops pass through opaque, via their fake implementations."""
    from torch._guards import detect_fake_mode
    from torch._inductor.decomposition import select_decomp_table
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.proxy_tensor import make_fx

    import torch._inductor.lowering  # noqa: F401  some of Inductor's decompositions look it up lazily

    fake_mode = detect_fake_mode(example_inputs) or FakeTensorMode()
    fakes = [fake_mode.from_tensor(t) if isinstance(t, torch.Tensor) and not isinstance(t, torch._subclasses.FakeTensor) else t
             for t in example_inputs]
    with fake_mode:
        return make_fx(gm, decomposition_table=select_decomp_table())(*fakes)


def _as_python(gm: torch.fx.GraphModule) -> Callable:
    """A stitched graph run as Python, boxed as AOTAutograd calls it, with its unboxed form kept
    for _DirectInference: the generated forward itself, without nn.Module's call machinery or a
    wrapper frame, each of which costs microseconds per call on a slow host."""
    forward = runtime.call_directly(gm).forward
    boxed = make_boxed_func(forward)
    boxed._llm_unboxed = forward
    return boxed


def _faster_on_gpu(gm: torch.fx.GraphModule, compiled: Callable, example_inputs) -> tuple[Callable, str]:
    """(what runs, why) for the leftover graph: eager or Inductor, by policy.eager_or_inductor."""
    choice = policy.eager_or_inductor(lambda: _as_python(gm), compiled, example_inputs)
    return choice.run, choice.reason


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0][:200] if text and text.strip() else ""
