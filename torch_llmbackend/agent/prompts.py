"""What the LLM reads: the problem (a KernelBench-style reference at example shapes, which the
kernel must serve at other sizes too), the target's guide, experience from the knowledge base, and the concrete outcome of
earlier rounds (compiler error, mismatch, timing, profile).

Conversations are plain OpenAI chat messages. Earlier rounds appear as assistant/user turns so
that the model sees its own code next to what became of it; only the last few rounds are kept,
plus the best verified candidate when it has scrolled out, to bound the prompt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..records import Evaluation, Problem, TensorSpec
from ..speedup import speedup
from ..targets import get_target

HISTORY_ROUNDS = 3
MAX_ERROR_LINES = 30

SYSTEM = (
    "You are an expert performance engineer who writes {target} kernels for PyTorch subgraphs. "
    "Every module you write is built, checked against the PyTorch reference on several random "
    "inputs, and timed against PyTorch eager and torch.compile (Inductor). A wrong kernel is "
    "worthless, so be correct first; then be fast."
)

PLAN_REQUEST = (
    "Before writing code: which ONE optimisation (or fix) will you apply next, and why do you "
    "expect it to help for these dtypes and shapes like these (sizes vary at run time)? At most 8 lines, no code."
)
IMPLEMENT_REQUEST = "Now implement that plan. Answer with ONE complete module in a ```python block that defines `class ModelNew`."


# Kernels are reused at every size of the same pattern, and each is verified at sizes other than
# the prompt's before it is kept (backend.py, graph/variants.py).
SHAPE_GENERIC = (
    "The kernel serves every size of this pattern, not only the example: batch sizes and sequence "
    "lengths change between calls. Read every size from the inputs at run time (`x.shape`, "
    "`x.stride()`), pass sizes to the kernel as arguments, compute the grid from them, and mask the "
    "tails; bake no size from this prompt into the code (block sizes are yours to choose). The kernel "
    "is also verified at other sizes, and one that is right only at these is refused."
)


@dataclass
class Turn:
    """One earlier round as the conversation keeps it: the reply chosen from the round's
    samples and the feedback on it."""

    reply: str
    feedback: str


def describe_tensor(name: str, t: TensorSpec) -> str:
    return f"{name}: {t.dtype}{list(t.shape)} stride {list(t.stride)} on {t.device}"


def problem_text(problem: Problem, knowledge: str = "") -> str:
    target = get_target(problem.target)
    io = [describe_tensor(f"input {i}", t) for i, t in enumerate(problem.inputs)]
    io += [describe_tensor(f"output {i}", t) for i, t in enumerate(problem.outputs)]
    work = []
    if problem.flops:
        work.append(f"{problem.flops:,} floating-point operations")
    if problem.bytes_moved:
        work.append(f"{problem.bytes_moved:,} bytes moved at minimum")
    parts = [
        "Write a faster replacement for the PyTorch reference module below: a module that defines "
        "`ModelNew`, computes the same outputs from the same inputs, and does the work in your own kernels.",
        "## Reference (the ground truth)",
        fence(problem.reference_source),
        "Tensors at the example sizes (layout and dtypes are fixed):\n" + "\n".join(f"- {line}" for line in io),
        SHAPE_GENERIC,
    ]
    if work:
        parts.append("Work: " + ", ".join(work) + ".")
    parts += [f"## How to answer (target: {target.name})", target.guide().strip()]
    if knowledge.strip():
        parts += ["## Experience from earlier searches", knowledge.strip()]
    return "\n\n".join(parts)


def build_messages(problem: Problem, knowledge: str = "", history: list[Turn] | None = None,
                   best: tuple[str, str] | None = None) -> list[dict[str, str]]:
    """The conversation for the next request. `best` is (source, summary) of the best verified
    candidate so far; it is restated when its round is no longer in the kept history."""
    history = history or []
    messages = [
        {"role": "system", "content": SYSTEM.format(target=get_target(problem.target).name.capitalize())},
        {"role": "user", "content": problem_text(problem, knowledge)},
    ]
    kept = history[-HISTORY_ROUNDS:]
    if len(history) > len(kept):
        note = f"({len(history) - len(kept)} earlier rounds are omitted.)"
        if best is not None and all(best[0] not in t.reply for t in kept):
            note += f"\nThe best verified candidate so far ({best[1]}):\n\n{fence(best[0])}"
        messages[-1]["content"] += "\n\n" + note
    for turn in kept:
        messages.append({"role": "assistant", "content": turn.reply})
        messages.append({"role": "user", "content": turn.feedback})
    return messages


def plan_messages(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    return append_request(messages, PLAN_REQUEST)


def implement_messages(messages: list[dict[str, str]], plan: str) -> list[dict[str, str]]:
    return append_request(messages, PLAN_REQUEST) + [
        {"role": "assistant", "content": plan},
        {"role": "user", "content": IMPLEMENT_REQUEST},
    ]


def append_request(messages: list[dict[str, str]], request: str) -> list[dict[str, str]]:
    # The request joins the last user message: some servers reject two user turns in a row.
    out = [dict(m) for m in messages]
    out[-1]["content"] += "\n\n" + request
    return out


# feedback -------------------------------------------------------------------------------------

STAGE_HEADLINES = {
    "extract": "No usable code was found in your reply.",
    "static": "The static checks rejected your module before it ran.",
    "build": "Your module failed to build or import.",
    "guard": "Your module called PyTorch compute ops at run time, which is not allowed: all arithmetic must be in your kernels.",
    "verify": "Your module failed verification: its outputs do not match the reference, or it raised.",
    "timing": "Your module was correct, but timing it failed.",
    "crash": "Your module crashed or hung the worker process.",
}


def feedback_text(evaluation: Evaluation, target_speedup: float, baselines: dict | None = None) -> str:
    """Concrete text on one candidate's outcome, ending with what to do next."""
    if evaluation.ok:
        lines = ["Your module is correct (verified against the reference)."]
        timing = timing_text(evaluation, baselines)
        if timing:
            lines.append(timing)
        if evaluation.flags:
            lines.append("Flags: " + ", ".join(evaluation.flags) + ".")
        if evaluation.profile.strip():
            lines.append("Profile:\n" + evaluation.profile.strip())
        lines.append(
            f"Make it faster: the goal is {target_speedup:g}x over the faster baseline. Keep it correct; "
            "answer with the complete improved module."
        )
        return "\n\n".join(lines)
    lines = [STAGE_HEADLINES.get(evaluation.stage, f"Your module failed at stage {evaluation.stage!r}.")]
    if evaluation.stage in ("build", "crash", "static", "guard", "timing"):
        lines.append(fence(trim_error(evaluation.reason), "text"))
    else:
        lines.append(evaluation.reason.strip())
    details = verification_text(evaluation.verification) if evaluation.stage == "verify" else ""
    if details:
        lines.append(details)
    lines.append("Fix the problem and answer with the complete corrected module.")
    return "\n\n".join(lines)


def timing_text(evaluation: Evaluation, baselines: dict | None = None) -> str:
    timings = {**(baselines or {}), **evaluation.timings}
    cand = timings.get("candidate")
    if not isinstance(cand, dict) or not cand.get("median"):
        return ""
    unit = cand.get("unit", "us")
    parts = [f"Timing (median): yours {cand['median']:.4g} {unit}"]
    for name in ("eager", "inductor", "library"):
        base = timings.get(name)
        if isinstance(base, dict) and base.get("median"):
            ratio = speedup(base["median"], cand["median"])
            parts.append(f"{name} {base['median']:.4g} {unit} ({ratio:.2f}x {'faster' if ratio >= 1 else 'SLOWER'} than {name})")
    device = timings.get("device")
    return "; ".join(parts) + (f" on {device}." if device else ".") + _host_bound_note(cand)


def _host_bound_note(cand: dict) -> str:
    """Where a candidate's figure is the host time of issuing a call rather than its GPU time,
    say so: a faster kernel body cannot help it, a leaner forward can."""
    gpu, host = cand.get("gpu_median"), cand.get("steady")
    if not gpu or not host or host <= gpu:
        return ""
    return (f" Your figure is the host time of one call ({host:.4g} us to issue it; the kernels take "
            f"{gpu:.4g} us on the GPU): a faster kernel body will not help. Make forward leaner: fewer "
            "kernel launches (fuse them), no tensors allocated or copied beyond the outputs, no "
            "per-call Python work that could be done once.")


def verification_text(verification: dict) -> str:
    """The scalar facts of a failed verification (max abs/rel error, where, which input)."""
    items = [
        f"- {k}: {_short(v)}"
        for k, v in verification.items()
        if isinstance(v, (int, float, bool)) or (isinstance(v, str) and v) or (isinstance(v, (list, tuple)) and 0 < len(v) <= 8)
    ]
    return "Details:\n" + "\n".join(items[:16]) if items else ""


def summary_line(evaluation: Evaluation, baselines: dict | None = None) -> str:
    """One line per sample, for sibling samples of a round and for logs."""
    if evaluation.ok:
        return "correct; " + (timing_text(evaluation, baselines) or "not timed")
    return f"failed at {evaluation.stage}: {first_line(evaluation.reason)}"


_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line \d+')
_LIBRARY = re.compile(r"site-packages|dist-packages|/lib/python3|<frozen ")


def trim_error(text: str, max_lines: int = MAX_ERROR_LINES) -> str:
    """An error as the model can act on it: traceback frames from library internals dropped
    (they say nothing about the candidate), then the head and the tail kept when still long."""
    lines = text.strip("\n").splitlines()
    out: list[str] = []
    skip_code = False
    for line in lines:
        m = _FRAME.match(line)
        if m:
            skip_code = bool(_LIBRARY.search(m.group("path")))
            if not skip_code:
                out.append(line)
            continue
        if skip_code and line.startswith("    "):
            continue  # the code (and ^^^ marker) lines under a library frame
        skip_code = False
        out.append(line)
    if len(out) > max_lines:
        head = max_lines // 3
        out = out[:head] + [f"... ({len(out) - max_lines} lines omitted) ..."] + out[-(max_lines - head):]
    return "\n".join(out)


def first_line(text: str) -> str:
    line = next((l.strip() for l in text.strip().splitlines() if l.strip()), "")
    return line[:200]


def fence(code: str, lang: str = "python") -> str:
    # A fence longer than any backtick run inside, so the code cannot close it early.
    longest = max((len(m) for m in re.findall(r"`+", code)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{code.rstrip()}\n{ticks}"


def _short(v) -> str:
    text = repr(v) if not isinstance(v, str) else v
    return text if len(text) <= 200 else text[:200] + "..."
