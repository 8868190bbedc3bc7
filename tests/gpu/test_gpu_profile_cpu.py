"""Profile feedback, parsed and summarised from canned Nsight Compute and torch profiler output
(the running part is exercised on the GPU in test_kernels_gpu.py)."""
from types import SimpleNamespace

import pytest

from torch_llmbackend.evaluate.gpu_profile import (
    KernelTime, NcuUnavailable, ncu_command, parse_ncu_csv, peaks_for, roofline_line, summarize_kernel_times,
    summarize_ncu, kernel_times_from_profiler,
)
from torch_llmbackend.records import Problem, TensorSpec

HEADER = '"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Block Size","Grid Size","Device","CC","Section Name","Metric Name","Metric Unit","Metric Value"'


def _row(kid, kernel, section, name, unit, value, grid="(4096, 1, 1)", block="(128, 1, 1)"):
    return f'"{kid}","4242","python3.12","127.0.0.1","{kernel}","1","7","{block}","{grid}","0","9.0","{section}","{name}","{unit}","{value}"'


NCU_OUTPUT = "\n".join([
    "==PROF== Connected to process 4242 (/usr/bin/python3.12)",
    "==PROF== Profiling \"softmax_rows\" - 0: 0%....50%....100% - 9 passes",
    HEADER,
    _row(0, "softmax_rows", "GPU Speed Of Light Throughput", "DRAM Throughput", "%", "81.52"),
    _row(0, "softmax_rows", "GPU Speed Of Light Throughput", "Duration", "usecond", "12.35"),
    _row(0, "softmax_rows", "GPU Speed Of Light Throughput", "Compute (SM) Throughput", "%", "23.10"),
    _row(0, "softmax_rows", "Launch Statistics", "Registers Per Thread", "register/thread", "32"),
    _row(0, "softmax_rows", "Occupancy", "Theoretical Occupancy", "%", "100"),
    _row(0, "softmax_rows", "Occupancy", "Achieved Occupancy", "%", "87.4"),
    _row(0, "softmax_rows", "Occupancy", "Block Limit Registers", "block", "16"),
    _row(0, "softmax_rows", "Occupancy", "Block Limit Warps", "block", "16"),
    _row(0, "softmax_rows", "Warp State Statistics", "Warp Cycles Per Issued Instruction", "cycle", "21.3"),
    _row(0, "softmax_rows", "Command line profiler metrics", "smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio", "", "14.2"),
    _row(0, "softmax_rows", "Command line profiler metrics", "smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio", "", "2.1"),
    _row(0, "softmax_rows", "Command line profiler metrics", "smsp__average_warps_issue_stalled_selected_per_issue_active.ratio", "", "1.0"),
    _row(1, "scale_kernel", "GPU Speed Of Light Throughput", "Duration", "nsecond", "2,650.00", grid="(8, 1, 1)"),
    _row(1, "scale_kernel", "GPU Speed Of Light Throughput", "DRAM Throughput", "%", "3.2", grid="(8, 1, 1)"),
    _row(1, "scale_kernel", "GPU Speed Of Light Throughput", "Compute (SM) Throughput", "%", "1.1", grid="(8, 1, 1)"),
    _row(1, "scale_kernel", "Occupancy", "Theoretical Occupancy", "%", "50"),
    _row(1, "scale_kernel", "Occupancy", "Achieved Occupancy", "%", "6.0"),
    _row(1, "scale_kernel", "Occupancy", "Block Limit Registers", "block", "4"),
    _row(1, "scale_kernel", "Occupancy", "Block Limit Shared Mem", "block", "8"),
    "==PROF== Disconnected from process 4242",
])


def softmax_problem(dtype="float32", ops=("aten._softmax.default",), flops=3 * 4096 * 1000):
    spec = TensorSpec((4096, 1000), (1000, 1), dtype, "cuda")
    nbytes = 2 * 4096 * 1000 * (4 if dtype == "float32" else 2)
    return Problem("k" * 64, "sig", "cuda", ops, (spec,), (spec,), "ref", flops=flops, bytes_moved=nbytes)


def test_ncu_csv_is_parsed_per_kernel_launch():
    kernels = parse_ncu_csv(NCU_OUTPUT)
    assert [k.name for k in kernels] == ["softmax_rows", "scale_kernel"]
    softmax, scale = kernels
    assert softmax.duration_us() == pytest.approx(12.35)
    assert scale.duration_us() == pytest.approx(2.65)  # nanoseconds with a thousands separator
    assert softmax.main_stall() == ("long_scoreboard", pytest.approx(14.2 / 16.3))
    assert scale.occupancy_limiter() == "registers"


def test_ncu_summary_gives_roofline_occupancy_and_the_main_stall():
    text = summarize_ncu(parse_ncu_csv(NCU_OUTPUT), softmax_problem(), "NVIDIA H100 80GB HBM3")
    lines = text.splitlines()
    assert len(lines) <= 10
    assert "2 kernel launch(es) per call, 15.0 us" in lines[0]
    # 32.8 MB in 15.0 us = 2.18 TB/s = 65% of the H100's 3.35 TB/s
    assert "2.18 TB/s = 65% of 3.35 TB/s HBM" in text
    assert "of 67 TFLOP/s fp32 CUDA-core" in text
    assert "DRAM 82% / SM 23% of peak" in text and "memory-bound" in text
    assert "main stall long_scoreboard (87% of stalls)" in text and "loads in flight" in text
    assert "occupancy 6% of 50% theoretical (limited by registers)" in text
    assert "fusing them" in text
    assert "==PROF==" not in text and "smsp__" not in text


@pytest.mark.parametrize("output, message", [
    ("==ERROR== ERR_NVGPUCTRPERM - The user does not have permission to access NVIDIA GPU Performance Counters", "ERR_NVGPUCTRPERM"),
    ("==ERROR== Failed to profile kernel", "printed no metrics: ==ERROR== Failed"),
    (HEADER + "\n", "profiled no kernel"),
])
def test_unusable_ncu_output_says_why(output, message):
    with pytest.raises(NcuUnavailable, match=message):
        parse_ncu_csv(output)


def test_ncu_command_profiles_only_the_nvtx_range_with_the_sections():
    cmd = ncu_command("/usr/local/cuda/bin/ncu", "run.py", "inputs.json", "cand.py")
    joined = " ".join(cmd)
    for part in ("--csv", "--section SpeedOfLight", "--section Occupancy", "--section WarpStateStats", "--nvtx-include llmk_profile/"):
        assert part in joined
    assert cmd[-3:] == ["run.py", "inputs.json", "cand.py"]


def test_roofline_uses_tensor_core_peak_for_half_precision_matmuls():
    mm = softmax_problem("float16", ops=("aten.permute.default", "aten.addmm.default"), flops=2 * 1024 * 768 * 1000)
    line = roofline_line(mm, 20e-6, "NVIDIA H100 80GB HBM3")
    assert "of 989 TFLOP/s fp16/bf16 tensor-core" in line
    assert "TF32" in roofline_line(softmax_problem(ops=("aten.mm.default",)), 20e-6, "NVIDIA H100", tf32=True)
    assert peaks_for("NVIDIA H200").hbm_bytes_per_s == 4.8e12
    assert "no peak figures" in roofline_line(mm, 20e-6, "Some Other GPU")


def test_profiler_kernel_times_are_summarised_per_call():
    kernels = [KernelTime("void softmax_rows<float>(float const*, float*, int)", 125.0, 5), KernelTime("scale_kernel", 25.0, 5)]
    text = summarize_kernel_times(kernels, 5, softmax_problem(), "NVIDIA H100 80GB HBM3", reason="ncu not found")
    assert text.splitlines()[0].startswith("profile (torch profiler kernel times, NVIDIA H100 80GB HBM3; ncu not found): 2 kernel launch(es) per call, 30.0 us")
    assert "- softmax_rows<float>: 25.0 us per call (83%), 1 launch(es)" in text
    assert "1.09 TB/s = 33% of 3.35 TB/s" in text


def test_no_kernel_at_all_is_pointed_out():
    text = summarize_kernel_times([], 5, softmax_problem(), "NVIDIA H100")
    assert "no GPU kernel ran" in text


def test_profiler_events_keep_device_kernels_only():
    cuda = SimpleNamespace(key="softmax_rows", device_type="DeviceType.CUDA", device_time_total=50.0, self_device_time_total=50.0, count=5, cpu_time_total=0)
    cpu_op = SimpleNamespace(key="aten::empty", device_type="DeviceType.CPU", device_time_total=0.0, self_device_time_total=0.0, count=5, cpu_time_total=12.0)
    launcher = SimpleNamespace(key="my_op", device_type="DeviceType.CPU", device_time_total=50.0, self_device_time_total=50.0, count=5, cpu_time_total=30.0)
    prof = SimpleNamespace(key_averages=lambda: [cuda, cpu_op, launcher])
    assert kernel_times_from_profiler(prof) == [KernelTime("softmax_rows", 50.0, 5)]
