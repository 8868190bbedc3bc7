"""The backend's choices (policy.py), each a Choice(run, reason, timings): our kernel runs only
where it beats every baseline known, else the target's library or the fallback, with the reason."""
from torch_llmbackend import policy
from torch_llmbackend.store.kernels import KernelEntry


def us(median):
    return {"median": median, "unit": "us"}


def kernel(**timings):
    return KernelEntry(key="k" * 64, target="triton", signature="", source="", timings=timings)


def library(median):
    return KernelEntry(key="k" * 64 + ".library", target="gemmini", signature="", source="",
                       provenance={"author": "library"}, timings={"candidate": us(median)})


def test_a_kernel_faster_than_both_baselines_runs():
    entry = kernel(candidate=us(5.0), eager=us(10.0), inductor=us(8.0))
    choice = policy.kernel_or_baseline(entry, entry.timings, None, "fastest", "triton")
    assert choice.run is entry and choice.reason == "" and choice.timings == entry.timings


def test_a_kernel_slower_than_inductor_gives_way_to_the_baseline():
    entry = kernel(candidate=us(9.0), eager=us(10.0), inductor=us(8.0))
    choice = policy.kernel_or_baseline(entry, entry.timings, None, "fastest", "triton")
    assert choice.run is None
    assert choice.reason == "verified but not faster than the better baseline (0.89x); the baseline runs"
    # unless the user prefers kernels
    assert policy.kernel_or_baseline(entry, entry.timings, None, "kernel", "triton").run is entry


def test_against_a_target_library_only_the_library_counts():
    base = library(100.0)
    fast = kernel(candidate=us(50.0), eager=us(10.0))
    choice = policy.kernel_or_baseline(fast, fast.timings, base, "fastest", "gemmini")
    assert choice.run is fast and choice.timings["library"] == us(100.0)

    slow = kernel(candidate=us(200.0))
    choice = policy.kernel_or_baseline(slow, slow.timings, base, "fastest", "gemmini")
    assert choice.run is base and choice.timings == {"candidate": us(100.0), "library": us(100.0)}
    assert choice.reason == "verified but not faster than the library (0.50x); the gemmini library baseline runs"


def test_without_a_kernel_the_library_runs_or_nothing_does():
    base = library(100.0)
    assert policy.kernel_or_baseline(None, {}, base, "fastest", "gemmini").run is base
    none = policy.kernel_or_baseline(None, {}, None, "fastest", "triton")
    assert none.run is None and none.reason == ""


def test_a_kernel_with_no_baseline_timing_is_not_run():
    entry = kernel(candidate=us(5.0))
    choice = policy.kernel_or_baseline(entry, entry.timings, None, "fastest", "triton")
    assert choice.run is None and choice.reason == "no baseline timing to compare; the baseline runs"


def test_triton_kernels_count_as_hits_only_for_target_auto_on_a_gpu():
    available = lambda name, device: f"<{name} on {device}>"  # noqa: E731
    assert policy.alternate_targets("auto", "cuda", available).run == ["<triton on cuda>"]
    assert policy.alternate_targets("cuda", "cuda", available).run == []
    assert policy.alternate_targets("auto", "cpu", available).run == []
    assert policy.alternate_targets("auto", "cuda", lambda name, device: None).run == []
