"""This machine's identity as far as a kernel's verification is concerned."""
from __future__ import annotations

import torch

from .targets import Target


def this_machine(target: Target, device_type: str) -> dict[str, str]:
    """A kernel verified under another device or other exact versions is verified again on
    first use."""
    on_gpu = device_type == "cuda" and torch.cuda.is_available()
    machine = {"device": torch.cuda.get_device_name() if on_gpu else target.capability(device_type),
               "torch": torch.__version__}
    if "triton" in target.key_versions():
        import triton

        machine["triton"] = triton.__version__
    return machine
