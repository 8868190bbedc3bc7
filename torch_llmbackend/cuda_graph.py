"""A compiled inference graph replayed as a CUDA graph, where that is faster and a replay is,
to the user, the same as a call.

Why: on the GPU machines here a call is often bound by its host time, not its GPU time (the
level-3 bf16 BERT layer's compiled graph took about three times its GPU work to launch:
bench/results/2026-12-02-h200-dynamo-level3.json); a CUDA-graph replay launches all of a graph's
kernels in one call.

What a replay must keep the same as a call:
- Inputs. A graph reads its inputs where they lay at capture. Each input is read either in place
  (the address checked on every call) or copied first into a buffer of ours. All start in place;
  an input found at another address is copied from then on, which takes a new capture (at most
  MAX_CAPTURES sets; after that every call runs plainly), kept only if a replay, copies
  included, is still timed faster than a plain call. Inputs are never written: only graphs
  that mutate no input get here (see whole_graph).
- Outputs. A replay writes its outputs where the capture put them, so outputs a user still holds
  must not be written again. There are two captures, replayed in turn; one is replayed only once
  no tensor outside this object shares storage with its outputs (storage use counts back to
  what they were right after capture). A caller that keeps both sets alive gets a plain call.
- Streams. Replays run only on the device and stream current at capture: memory the user may
  still be reading on another stream is never overwritten (the caching allocator's own rule).
- Nothing else is observable: graphs that draw random numbers never get here, and every input
  and output is a CUDA tensor of one device.
Each capture is checked once: a replay over outputs filled with NaN must give what a plain call
gives. Any failure to capture leaves the plain callable in place (GraphUnavailable says why).
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

log = logging.getLogger(__name__)

DEVICE_TYPES = ("cuda",)  # where a capture can be made (tests let a simulated one onto the CPU)
MAX_CAPTURES = 3  # sets of captures per graph: the first, and two for inputs that moved
BUFFERS = 2  # captures per set, replayed in turn, so the last call's outputs may stay alive
MAX_POOL_SHARE = 0.125  # of the free GPU memory, per capture
REPLAY_MARGIN = 0.95  # what a replay must save, of a plain call's time or host time (see replay_pays)
NOISE = 1.02  # back-to-back figures of the same kernels differ by up to this much from turn to turn
# The least host time Dynamo adds to a compiled call: its frame entry, guards and the calls around
# the backend's callable, measured with bench_problems' `dynamo` backend (a backend returning
# Dynamo's graph untouched) and with replays against their per-forward times in the model: every
# machine here added more than this (bench/results/README.md: the H100 runs, and
# 2026-12-02-h200-dynamo-level3.json and -hostrule-level1.json on the H200).
CALLER_HOST_US = 30.0


class GraphUnavailable(Exception):
    """The callable cannot be replayed as a CUDA graph; the message says why, in words."""


def replay_pays(replay, plain) -> bool:
    """Is a replay worth what it holds (two captures' memory pools), given both callables'
    back-to-back figures (timing.BackToBack)? Yes where it is REPLAY_MARGIN faster per call.
    Also where it is no slower (within NOISE), issued in REPLAY_MARGIN less host time, and the
    plain call would be host-bound in the model: the caller adds host time of its own to every
    call (Dynamo's frame entry and guards, at least CALLER_HOST_US), so a graph GPU-bound when
    timed here can be host-bound there, where the host time a replay saves is the model's
    (level1/08 log_softmax: bench/results/2026-12-02-h200-replaychoice-level1.json).
    A graph whose GPU time exceeds its host time and the caller's keeps the first rule only."""
    if replay.per_call_us < REPLAY_MARGIN * plain.per_call_us:
        return True
    host_bound_in_model = plain.host_us + CALLER_HOST_US >= plain.per_call_us
    return (host_bound_in_model and replay.per_call_us <= NOISE * plain.per_call_us
            and replay.host_us < REPLAY_MARGIN * plain.host_us)


def describe(replay, plain) -> str:
    """How a replay compared with a plain call, for the report's rows."""
    return (f"{replay.per_call_us:.1f} us vs plain {plain.per_call_us:.1f} us, "
            f"host {replay.host_us:.1f} us vs {plain.host_us:.1f} us")


def _use_count(ref) -> int:
    return torch._C._storage_Use_Count(ref.cdata)


@dataclass
class _Replay:
    """One capture: the graph, the buffers of its copied inputs and its outputs."""

    graph: Any
    copied: dict[int, torch.Tensor]  # input index -> our buffer the graph reads it from
    outputs: list[torch.Tensor]
    storages: list[tuple[Any, int]]  # (weak ref, use count at capture) per distinct output storage

    def free(self) -> bool:
        """No tensor outside this object still shares the outputs' storage."""
        # at most: a count can only fall below it (a storage object Python dropped), never a risk
        return all(_use_count(ref) <= count for ref, count in self.storages)


class CudaGraphCall:
    """`fn(*inputs)` replayed as CUDA graphs; called the same way, returns the same kind of
    sequence. `capture(fn, args, stream) -> (graph, outputs)` makes one capture; tests without
    a GPU pass a simulated one (tests/test_cuda_graph.py)."""

    def __init__(self, fn: Callable, example_inputs: Sequence[torch.Tensor], capture: Callable | None = None):
        inputs = list(example_inputs)
        devices = {t.device for t in inputs if isinstance(t, torch.Tensor)}
        if not inputs or len(devices) != 1 or not all(isinstance(t, torch.Tensor) for t in inputs):
            raise GraphUnavailable("inputs are not all tensors of one device")
        self.device = devices.pop()
        if self.device.type not in DEVICE_TYPES:
            raise GraphUnavailable(f"inputs are on {self.device}, not a CUDA device")
        self.fn, self._capture = fn, capture or capture_cuda
        self.stream = torch.cuda.current_stream(self.device) if self.device.type == "cuda" else None
        self.launch_point = _launch_point(self.device)
        if self.launch_point is not None and self.launch_point[0] != self.device.index:
            raise GraphUnavailable(f"the current device is not the inputs' ({self.device})")
        self.copied_idx: list[int] = []
        self.captures = 0
        self.plain_calls = 0  # calls that ran fn itself (both buffers held, input moved too often...)
        self._lock = threading.Lock()
        self._recapture(inputs, [])

    def _recapture(self, inputs: list[torch.Tensor], moved: list[int]) -> None:
        self.replays: list[_Replay] = []  # the old captures' memory goes with them
        self.copied_idx = sorted(set(self.copied_idx) | set(moved))
        in_place = [i for i in range(len(inputs)) if i not in self.copied_idx]
        self.in_place_idx = in_place
        self.in_place_ptrs = [inputs[i].data_ptr() for i in in_place]
        self.captures += 1
        expected = self.fn(*inputs)  # what each capture's checking replay must give
        replays = []
        for _ in range(BUFFERS):
            copied = {i: _buffer_like(inputs[i]) for i in self.copied_idx}
            args = [copied.get(i, t) for i, t in enumerate(inputs)]
            for i, buf in copied.items():
                buf.copy_(inputs[i])
            graph, outputs = self._capture(self.fn, args, self.stream)
            if type(outputs) not in (list, tuple):
                raise GraphUnavailable(f"the graph returns a {type(outputs).__name__}, not a list or tuple")
            self.kind = type(outputs)
            outputs = list(outputs)
            if not all(isinstance(o, torch.Tensor) and o.device == self.device for o in outputs):
                raise GraphUnavailable("an output is not a tensor on the inputs' device")
            _check_replay(graph, outputs, expected)
            replays.append(_Replay(graph, copied, outputs, _storage_refs(outputs)))
        self.replays, self.turn = replays, 0

    def __call__(self, *args):
        if not self._lock.acquire(blocking=False):  # another thread is replaying: run plainly
            return self._plain(args)
        try:
            return self._replay(args)
        finally:
            self._lock.release()

    def _replay(self, args):
        if _launch_point(self.device) != self.launch_point or _capturing(self.device):
            return self._plain(args)
        if [args[i].data_ptr() for i in self.in_place_idx] != self.in_place_ptrs:
            moved = [i for i, p in zip(self.in_place_idx, self.in_place_ptrs) if args[i].data_ptr() != p]
            if self.captures >= MAX_CAPTURES:
                return self._plain(args)
            try:
                self._recapture(list(args), moved)
                faster = self._copies_pay(args)
            except Exception as e:  # out of memory, say: plain calls from now on
                log.warning("could not capture the graph again (%s: %s); it runs without CUDA graphs", type(e).__name__, e)
                faster = False
            if not faster:
                self.captures, self.replays = MAX_CAPTURES, []
                return self._plain(args)
        return self._replay_into_free_buffer(args)

    def _replay_into_free_buffer(self, args):
        for k in range(len(self.replays)):
            r = self.replays[(self.turn + k) % len(self.replays)]
            if r.free():
                self.turn = (self.turn + k + 1) % len(self.replays)
                for i, buf in r.copied.items():
                    buf.copy_(args[i])
                r.graph.replay()
                return self.kind(o.detach() for o in r.outputs)  # new tensors on the same storage
        return self._plain(args)  # the caller holds every set of outputs

    def _copies_pay(self, args) -> bool:
        """After a capture that copies moved inputs in: does a replay, copies included, still
        pay against a plain call (replay_pays)? The choice to replay was timed with every input
        in place, and copying a large input costs GPU time a plain call does not pay. Timed
        once, here, on the caller's inputs (a few milliseconds, once)."""
        from .evaluate import timing

        plain, replay = timing.back_to_back_alternating(
            [lambda: self.fn(*args), lambda: self._replay_into_free_buffer(args)], self.device.type)
        if replay_pays(replay, plain):
            return True
        log.info("inputs now move between calls; with the copies in, a replay does not pay (%s): the graph runs "
                 "without CUDA graphs", describe(replay, plain))
        return False

    def _plain(self, args):
        self.plain_calls += 1
        return self.fn(*args)


def capture_cuda(fn: Callable, args: list[torch.Tensor], stream) -> tuple[Any, Sequence[torch.Tensor]]:
    """Capture `fn(*args)` into a CUDA graph with a private memory pool, after one warm-up run on
    the capture's side stream (lazy set-up such as cuBLAS workspaces must not happen inside it).
    Returns the graph and the outputs of the captured call. A pool larger than MAX_POOL_SHARE of
    the memory free before it is given back (GraphUnavailable): a replay's memory is held for as
    long as the compiled model lives, and must not crowd out the user's own."""
    device = args[0].device
    with torch.cuda.device(device):
        return _capture_on(device, fn, args, stream)


def _capture_on(device: torch.device, fn: Callable, args: list[torch.Tensor], stream) -> tuple[Any, Sequence[torch.Tensor]]:
    side = torch.cuda.Stream(device=device)
    side.wait_stream(stream)
    with torch.cuda.stream(side):
        fn(*args)
    torch.cuda.synchronize(device)  # the warm-up done on every stream, before memory is read
    torch.cuda.empty_cache()  # so the growth of reserved memory below is the pool's alone
    free, reserved = torch.cuda.mem_get_info(device)[0], torch.cuda.memory_reserved(device)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph, pool=torch.cuda.graph_pool_handle(), stream=side, capture_error_mode="thread_local"):
        outputs = fn(*args)
    stream.wait_stream(side)
    pool = torch.cuda.memory_reserved(device) - reserved
    if pool > MAX_POOL_SHARE * free:
        raise GraphUnavailable(f"a capture would hold {pool / 2**20:.0f} MiB of the {free / 2**20:.0f} MiB free")
    return graph, outputs


def _check_replay(graph, outputs: list[torch.Tensor], expected) -> None:
    """One replay over outputs first filled with NaN (floating) or -1 must give what a plain call
    gives. Catches work that escaped the capture, such as a kernel launched on a stream of its
    own (it ran once during the capture, so its results would otherwise look right for these
    inputs and go stale for the next). A model whose outputs hold NaN gets no replay."""
    for o in outputs:
        o.fill_(float("nan") if o.is_floating_point() or o.is_complex() else -1)
    graph.replay()
    for i, (got, want) in enumerate(zip(outputs, expected)):
        if got.shape != want.shape or got.dtype != want.dtype:
            same = False
        elif not got.is_floating_point():
            same = torch.equal(got, want)
        else:  # loose: kernels with atomics may round differently from run to run; NaN never passes
            tol = 1e-3 if got.element_size() >= 4 else 1e-2
            scale = float(want.abs().max()) if want.numel() else 0.0
            same = torch.allclose(got, want, rtol=tol, atol=tol * max(scale, 1e-6))
        if not same:
            raise RuntimeError(f"output {i} of a replay differs from a plain call's (work outside the capture?)")


def _launch_point(device: torch.device) -> tuple[int, int] | None:
    """Where a replay would launch: the current device and its current stream's handle (cheaper
    per call than a Stream object and its comparison)."""
    if device.type != "cuda":
        return None
    index = torch._C._cuda_getDevice()
    return index, torch._C._cuda_getCurrentRawStream(index)


def _capturing(device: torch.device) -> bool:
    """The user is capturing a CUDA graph of their own (their capture records plain calls).
    timing.capturing asks the same through torch.cuda's public call, which also checks CUDA is
    available; this one runs on every call of a replay, so it asks the C function directly."""
    return device.type == "cuda" and torch._C._cuda_isCurrentStreamCapturing()


def _buffer_like(t: torch.Tensor) -> torch.Tensor:
    return torch.empty_strided(t.shape, t.stride(), dtype=t.dtype, device=t.device)


def _storage_refs(outputs: list[torch.Tensor]) -> list[tuple[Any, int]]:
    from torch.multiprocessing.reductions import StorageWeakRef

    refs: dict[int, Any] = {}
    for o in outputs:
        ref = StorageWeakRef(o.untyped_storage())
        refs.setdefault(ref.cdata, ref)
    return [(ref, _use_count(ref)) for ref in refs.values()]
