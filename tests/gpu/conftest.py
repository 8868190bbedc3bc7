"""Fixtures for the GPU tests (the root conftest leaves Triton's interpreter off on a GPU)."""
import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _compiled_triton_on_gpu(request):
    if request.node.get_closest_marker("gpu") and torch.cuda.is_available() and os.environ.get("TRITON_INTERPRET") == "1":
        pytest.fail("GPU tests time compiled Triton kernels: run them with TRITON_INTERPRET=0 in the environment")


@pytest.fixture(scope="session")
def gpu_cache(tmp_path_factory) -> str:
    """One kernel/NVRTC cache for the session, so CUDA sources build once."""
    path = str(tmp_path_factory.mktemp("gpu-cache"))
    os.environ["LLMBACKEND_CACHE_DIR"] = path  # inherited by evaluator workers
    return path


@pytest.fixture(scope="session")
def evaluator(gpu_cache):
    from torch_llmbackend.evaluate import Evaluator
    from torch_llmbackend.options import Options

    ev = Evaluator(Options.resolve({"cache_dir": gpu_cache}))
    yield ev
    ev.close()
