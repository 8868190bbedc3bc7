import pytest
import torch

from torch_llmbackend import Options, OptionsError


def test_defaults_are_offline_without_an_endpoint():
    opts = Options.resolve({}, env={})
    assert opts.mode == "offline" and opts.target == "auto"


def test_an_endpoint_turns_search_on():
    assert Options.resolve({}, env={"LLMBACKEND_BASE_URL": "http://127.0.0.1:8000/v1"}).mode == "search"
    assert Options.resolve({}, env={"OPENAI_API_KEY": "sk-test"}).mode == "search"
    assert Options.resolve({"mode": "offline"}, env={"OPENAI_API_KEY": "sk-test"}).mode == "offline"


def test_environment_then_compile_options():
    env = {"LLMBACKEND_TARGET": "triton", "LLMBACKEND_MAX_ROUNDS": "7", "LLMBACKEND_CACHE_DIR": "/tmp/x"}
    opts = Options.resolve({"max_rounds": 2}, env=env)
    assert (opts.target, opts.max_rounds, opts.cache_dir) == ("triton", 2, "/tmp/x")


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(OptionsError) as e:
        Options.resolve({"targte": "cuda"}, env={})
    assert "targte" in str(e.value) and "target" in str(e.value) and "max_rounds" in str(e.value)


@pytest.mark.parametrize("bad", [{"target": "tpu"}, {"max_rounds": "three"}, {"mode": "online"},
                                 {"plan_first": 1}, {"max_rounds": 0}])
def test_ill_typed_or_out_of_range_options_are_errors(bad):
    with pytest.raises(OptionsError):
        Options.resolve(bad, env={})


def test_bad_env_value_names_the_variable():
    with pytest.raises(OptionsError, match="LLMBACKEND_MAX_ROUNDS"):
        Options.resolve({}, env={"LLMBACKEND_MAX_ROUNDS": "many"})


def test_the_api_key_is_masked_in_public_settings():
    assert Options.resolve({}, env={"OPENAI_API_KEY": "sk-secret"}).public()["api_key"] == "***"


def test_bad_option_through_torch_compile(cache_dir):
    model = torch.nn.Linear(4, 4)
    compiled = torch.compile(model, backend="llm", options={"no_such_option": True})
    with pytest.raises(Exception, match="no_such_option"):
        compiled(torch.randn(2, 4))


@pytest.mark.parametrize("name, value", [
    ("request_timeout_s", -1), ("request_timeout_s", 0), ("max_search_seconds", float("nan")),
    ("max_search_seconds", float("inf")), ("worker_timeout_s", 0), ("worker_timeout_s", float("-inf")),
    ("temperature", -0.1), ("temperature", 2.5), ("max_tokens", 0), ("retries", -1), ("max_concurrency", 0),
    ("price_prompt_per_mtok", -1.0), ("price_completion_per_mtok", float("nan")), ("max_search_tokens", 0),
    ("target_speedup", 0.5), ("samples_per_round", 0), ("worker_memory_mb", -1), ("min_subgraph_ops", 0),
])
def test_a_number_out_of_its_range_names_the_option_the_value_and_the_range(name, value):
    with pytest.raises(OptionsError) as e:
        Options.resolve({name: value}, env={})
    message = str(e.value)  # e.g. "option worker_timeout_s=0.0 is out of range: it must be a finite number above 0"
    assert f"{name}={value!r}" in message or f"{name}={float(value)!r}" in message
    assert "out of range: it must be" in message and ("at least" in message or "above" in message)


def test_an_out_of_range_environment_value_is_refused_too():
    with pytest.raises(OptionsError, match=r"max_search_seconds=nan .* a finite number above 0"):
        Options.resolve({}, env={"LLMBACKEND_MAX_SEARCH_SECONDS": "nan"})


@pytest.mark.parametrize("name, value", [("retries", 0), ("worker_memory_mb", 0), ("temperature", 0.0),
                                         ("temperature", 2), ("target_speedup", 1), ("request_timeout_s", 0.5)])
def test_the_edges_of_the_ranges_are_valid(name, value):
    assert getattr(Options.resolve({name: value}, env={}), name) == value


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_cache_dir_is_refused(value):
    with pytest.raises(OptionsError, match="cache_dir=.* must name a folder"):
        Options.resolve({"cache_dir": value}, env={})
