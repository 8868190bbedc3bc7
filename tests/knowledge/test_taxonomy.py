from torch_llmbackend.store.knowledge.taxonomy import TECHNIQUES, classify_techniques


def test_triton_plan_is_tagged():
    plan = ("I will fuse the bias add and ReLU into the matmul epilogue, use tl.dot for tensor cores, tile with "
            "BLOCK_M=128, BLOCK_N=128 and set num_stages=3 to pipeline the loads; grouped ordering "
            "(GROUP_SIZE_M=8) for L2 reuse; num_warps=8.")
    tags = classify_techniques(plan, target="triton")
    for t in ("tiling", "fusion", "tensor_cores", "double_buffering", "launch_configuration", "swizzling"):
        assert t in tags
    assert tags == [t for t in TECHNIQUES if t in tags]  # taxonomy order


def test_cuda_source_is_tagged():
    src = "__shared__ float tile[32][33];\nfloat4 v = reinterpret_cast<const float4*>(x)[i];\n" \
          "for (int o = 16; o > 0; o >>= 1) v.x += __shfl_down_sync(0xffffffff, v.x, o);\n#pragma unroll\n"
    tags = classify_techniques(src, target="cuda")
    assert {"shared_memory_staging", "vectorized_loads", "warp_reductions", "loop_unrolling"} <= set(tags)


def test_gemmini_names_are_mapped_and_gpu_only_ones_dropped():
    text = "Use gemmini_loop_ws in weight-stationary mode, tile the matmul, keep weights in the scratchpad, " \
           "and apply ReLU on mvout; hoist the config_ex out of the loop. No tensor cores here."
    tags = classify_techniques(text, target="gemmini")
    assert {"loop_ws", "dataflow_choice", "loop_tiling", "scratchpad_reuse", "epilogue_fusion",
            "config_hoisting"} <= set(tags)
    assert "tensor_cores" not in tags and "tiling" not in tags


def test_plain_python_does_not_trigger_dataflow():
    assert "dataflow_choice" not in classify_techniques("import os\nimport torch\n")
    assert classify_techniques("") == []
