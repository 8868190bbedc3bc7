"""Each module logs under its own name, a child of "torch_llmbackend": TORCH_LOGS="+torch_llmbackend"
and a caplog on "torch_llmbackend" see all of it, and a user can quiet one part."""
import importlib
import logging
import pkgutil

import torch_llmbackend


def _modules():
    for info in pkgutil.walk_packages(torch_llmbackend.__path__, "torch_llmbackend."):
        if ".shipped" in info.name:  # the shipped bundle's kernel files, not package code
            continue
        yield importlib.import_module(info.name)


def test_every_module_logger_is_named_after_its_module():
    loggers = {m.__name__: m.log for m in _modules() if isinstance(getattr(m, "log", None), logging.Logger)}
    assert len(loggers) > 20
    assert {name: log.name for name, log in loggers.items() if log.name != name} == {}


def test_a_module_warning_reaches_a_capture_on_the_package_logger(caplog):
    from torch_llmbackend.store import kernels

    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"):
        kernels.log.warning("from the store")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("torch_llmbackend.store.kernels", "from the store")]
