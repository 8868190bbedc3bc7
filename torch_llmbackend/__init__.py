"""torch-llmbackend: `torch.compile(model, backend="llm")`.

The backend is registered through the `torch_dynamo_backends` entry point, so no import is
needed to use it. This package exposes `report()` (the decisions of the most recent compile,
or `report(compiled_model)` of that model's compile) and `Options`.
"""
from .options import Options, OptionsError

__version__ = "0.1.0"


def report(compiled=None):
    """One dict per subgraph of a compile: key, target, ops, source ("cache", "llm" or
    "fallback"), reason, verified, and timings against the baselines when known. Of the compile
    behind `compiled` (what torch.compile returned, once called), else of the most recent one."""
    from .reports import report as _report

    return _report(compiled)


__all__ = ["Options", "OptionsError", "report", "__version__"]
