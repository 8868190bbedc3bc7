"""Targets are named in one table: the option's choices, the lookup and its error all read it."""
import pytest

from torch_llmbackend.options import TARGETS, Options, OptionsError
from torch_llmbackend.targets import TARGET_CLASSES, Target, get_target


@pytest.mark.parametrize("name", list(TARGET_CLASSES))
def test_every_named_target_is_an_option_and_looks_up_to_its_class(name):
    assert name in TARGETS and Options(target=name).target == name
    target = get_target(name)
    assert isinstance(target, Target) and target.name == name


def test_an_unknown_target_is_refused_with_the_names_from_the_table():
    with pytest.raises(ValueError, match="unknown target 'tpu'; targets: cuda, triton, gemmini"):
        get_target("tpu")
    with pytest.raises(OptionsError, match="auto, cuda, triton, gemmini"):
        Options(target="tpu")
