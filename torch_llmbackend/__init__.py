"""torch-llmbackend: `torch.compile(model, backend="llm")`.

The backend is registered through the `torch_dynamo_backends` entry point, so no import is
needed to use it. This package exposes `report()` (the decisions of the most recent compile)
and `Options`.
"""
from .options import Options, OptionsError

__version__ = "0.1.0"


def report():
    """One dict per subgraph of the most recent compile: key, target, ops, source ("cache", "llm"
    or "fallback"), reason, verified, and timings against the baselines when known."""
    from .backend import report as _report

    return _report()


__all__ = ["Options", "OptionsError", "report", "__version__"]
