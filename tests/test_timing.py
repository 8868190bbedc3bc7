"""Back-to-back timing, as used to choose between a CUDA-graph replay and a plain call (here on
the CPU, where the synchronize is a no-op)."""
import time

from torch_llmbackend.evaluate import timing


def test_back_to_back_figures_are_per_call_and_taken_in_turns():
    order = []

    def quick():
        order.append("quick")

    def slow():
        order.append("slow")
        time.sleep(0.001)

    quick, slow = timing.back_to_back_alternating([quick, slow], "cpu", calls=5, rounds=2)
    assert slow.per_call_us >= 1000.0 > quick.per_call_us
    # on the CPU nothing runs after the host is done: all of a call is the host's
    assert slow.host_us >= 1000.0 and slow.host_us <= slow.per_call_us
    assert order[:2] == ["quick", "slow"]  # one warm-up call each, then turns of `calls` each
    assert order[2:7] == ["quick"] * 5 and order[7:12] == ["slow"] * 5 and order[12:17] == ["quick"] * 5


def test_long_calls_are_counted_fewer_times():
    calls = []

    def long_call():
        calls.append(1)
        time.sleep(timing.LONG_CALL_US * 1e-6)

    timing.back_to_back_alternating([long_call], "cpu", calls=20, rounds=1)
    timed = len(calls) - 1  # after the warm-up
    assert 1 <= timed <= timing.BACK_TO_BACK_ROUND_US / timing.LONG_CALL_US
