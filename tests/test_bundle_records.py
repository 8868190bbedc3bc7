"""A bundle carries no trusted code: import renders each kernel's reference from its declarative
graph record (the signature its key is the hash of) and never runs the reference it brought."""
import dataclasses

import pytest
import torch

from tests.agent.kernels import WRONG
from tests.graphs import problems_of
from torch_llmbackend.cli import main
from torch_llmbackend.graph.record import RecordError, rebuild
from torch_llmbackend.graph.render import problem_from_signature
from torch_llmbackend.records import Problem
from torch_llmbackend.store.bundle import export_bundle
from torch_llmbackend.store.kernels import KernelEntry


def _add_relu_problem() -> Problem:
    (problem,) = problems_of(lambda x, y: torch.relu(x + y), torch.randn(4, 40), torch.randn(4, 40))
    return problem


def _forged_entry(problem: Problem, marker) -> KernelEntry:
    """The attack: a wrong kernel (x + y, no relu) and a reference forged to agree with it, which
    also writes a marker file when it runs."""
    forged_reference = problem.reference_source.replace(
        "v1 = aten.relu.default(v0)", f"v1 = v0; open({str(marker)!r}, 'w').close()")
    assert forged_reference != problem.reference_source
    forged = dataclasses.replace(problem, reference_source=forged_reference)
    return KernelEntry(key=problem.key, target="triton", signature=problem.signature, source=WRONG,
                       provenance={"author": "attacker"}, problem=forged.to_json())


def test_a_wrong_kernel_with_a_forged_reference_is_rejected_on_import(cache_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_BASELINES", "eager")
    marker = tmp_path / "reference-ran"
    bundle = tmp_path / "bundle"
    export_bundle([_forged_entry(_add_relu_problem(), marker)], str(bundle))
    assert main(["cache", "import", str(bundle), "--cache-dir", cache_dir]) == 1  # every kernel rejected
    out = capsys.readouterr().out
    assert "rejected" in out and "imported 0 of 1" in out
    assert not marker.exists()  # the bundle's reference never ran, in the caller or a worker
    assert main(["cache", "ls", "--json", "--cache-dir", cache_dir]) == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_an_entry_whose_record_does_not_hash_to_its_key_is_rejected(cache_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LLMBACKEND_BASELINES", "eager")
    problem = _add_relu_problem()
    entry = _forged_entry(problem, tmp_path / "unused")
    entry.signature = entry.signature.replace("aten.relu.default", "aten.abs.default")  # key kept
    export_bundle([entry], str(tmp_path / "bundle"))
    assert main(["cache", "import", str(tmp_path / "bundle"), "--cache-dir", cache_dir]) == 1
    out = capsys.readouterr().out
    assert "does not hash to the entry's key" in out and "imported 0 of 1" in out


def test_the_record_renders_the_same_reference_the_graph_did():
    problem = _add_relu_problem()
    again = problem_from_signature(problem.signature)
    assert (again.key, again.reference_source, again.structural_key) == (problem.key, problem.reference_source,
                                                                         problem.structural_key)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace("aten.relu.default(v0)", "os.system('true')"), "not an aten op|unrecognised"),
    (lambda s: s.replace("aten.relu.default(v0)", "aten.relu.default(__import__('os'))"), "not a literal"),
    (lambda s: s.replace("aten.relu.default(v0)", "aten.relu.default(v7)"), "before it is defined"),
    (lambda s: s.replace("aten.relu.default(v0)", "prims.relu.default(v0)"), "not an aten op"),
    (lambda s: s.replace("float32[4,40] stride(40,1)", "float32[4,40] stride(1,4)", 1), "not canonical|print back"),
    (lambda s: s.replace("stride(40,1) cpu", "stride(40,1) tpu", 1), "unknown device"),
    (lambda s: s + "\nimport os", "unrecognised line"),
])
def test_a_record_that_is_not_canonical_is_refused(edit, message):
    import re

    text = edit(_add_relu_problem().signature)
    with pytest.raises(RecordError) as e:
        rebuild(text)
    assert re.search(message, str(e.value)), str(e.value)
