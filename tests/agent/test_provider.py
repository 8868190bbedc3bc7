"""The provider against a real HTTP server: retries, timeouts, malformed answers, dead endpoints,
token and cost accounting."""
import logging
import re
import socket
import time

import pytest

from tests.agent.llm_server import delayed, dribbled, empty_choices, html_page, no_content, reply, status, truncated
from torch_llmbackend.agent.provider import DeadlineExceeded, EndpointUnavailable, MalformedResponse, Provider, RequestRejected
from torch_llmbackend.options import Options

HELLO = [{"role": "user", "content": "Say hello."}]


def provider_for(server, **options) -> Provider:
    opts = Options(base_url=server.base_url, model="scripted", **{"retries": 2, "request_timeout_s": 5.0, **options})
    return Provider(opts, backoff_base_s=0.05)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def test_a_reply_carries_text_model_and_token_usage(llm_server):
    llm_server.add(reply("hello", prompt_tokens=12, completion_tokens=3, model="qwen-coder"))
    p = provider_for(llm_server, price_prompt_per_mtok=1.0, price_completion_per_mtok=4.0)
    r = p.chat(HELLO)
    assert (r.text, r.model, r.finish_reason) == ("hello", "qwen-coder", "stop")
    assert (r.usage.requests, r.usage.prompt_tokens, r.usage.completion_tokens) == (1, 12, 3)
    assert r.usage.cost == pytest.approx((12 * 1.0 + 3 * 4.0) / 1e6)
    sent = llm_server.requests[0]
    assert sent["model"] == "scripted" and sent["messages"] == HELLO and sent["max_tokens"] == 8192


def test_a_local_server_needs_no_key(llm_server):
    llm_server.add("hi")
    provider_for(llm_server, api_key="").chat(HELLO)
    assert llm_server.headers[0]["authorization"] == "Bearer none"


def test_429_honours_retry_after_and_500_is_retried(llm_server):
    llm_server.add(status(429, headers={"Retry-After": "0.4"}), status(500), status(503), "finally")
    start = time.monotonic()
    r = provider_for(llm_server, retries=3).chat(HELLO)
    assert r.text == "finally" and len(llm_server.requests) == 4
    assert time.monotonic() - start >= 0.4  # waited as long as the server asked


def test_a_timeout_is_retried(llm_server):
    llm_server.add(delayed(1.5, "too late"), "in time")
    r = provider_for(llm_server, request_timeout_s=0.5).chat(HELLO)
    assert r.text == "in time" and len(llm_server.requests) == 2


def test_failures_past_the_retries_make_the_endpoint_unavailable(llm_server):
    llm_server.add(status(500), status(502), status(500), "never asked")
    with pytest.raises(EndpointUnavailable, match=r"kept failing \(3 attempts, last: .*500"):
        provider_for(llm_server, retries=2).chat(HELLO)
    assert len(llm_server.requests) == 3


def test_the_timeout_bounds_the_whole_request_not_each_read(llm_server):
    """A server that sends a byte every 0.1 s never lets a single read time out; the request as
    a whole must still end at request_timeout_s."""
    llm_server.add(dribbled(0.1, "a reply far too slow to wait for"), "in time")
    start = time.monotonic()
    r = provider_for(llm_server, request_timeout_s=1.0, retries=1).chat(HELLO)
    assert r.text == "in time" and len(llm_server.requests) == 2
    assert time.monotonic() - start < 3.0  # the dribbled body alone would take about 25 s


def test_a_dribbling_server_exhausts_the_retries_in_bounded_time(llm_server):
    llm_server.add(dribbled(0.1), dribbled(0.1))
    start = time.monotonic()
    with pytest.raises(EndpointUnavailable, match=r"kept failing \(2 attempts, last: .*within 0.5s"):
        provider_for(llm_server, request_timeout_s=0.5, retries=1).chat(HELLO)
    assert time.monotonic() - start < 3.0


def test_the_search_deadline_bounds_a_dribbled_request(llm_server):
    llm_server.add(dribbled(0.1))
    start = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        provider_for(llm_server, request_timeout_s=60.0).chat(HELLO, deadline=time.monotonic() + 0.8)
    assert time.monotonic() - start < 3.0


@pytest.mark.parametrize("answer, message", [
    (truncated(), "unreadable response"),
    (empty_choices(), "no choices"),
    (no_content(), "no content"),
    (html_page(), r"not a chat completion .*text/html.*Sign in"),
])
def test_malformed_answers_are_a_clear_error_and_one_warning(llm_server, caplog, answer, message):
    llm_server.add(answer)
    with caplog.at_level(logging.WARNING, logger="torch_llmbackend"), pytest.raises(MalformedResponse, match=message):
        provider_for(llm_server).chat(HELLO)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and re.search(message, warnings[0].getMessage())
    assert len(llm_server.requests) == 1  # a garbled answer is not retried


def test_a_rejected_request_is_not_retried(llm_server):
    llm_server.add(status(400, "prompt is too long"), "never asked")
    with pytest.raises(RequestRejected, match=r"HTTP 400\): prompt is too long"):
        provider_for(llm_server).chat(HELLO)
    assert len(llm_server.requests) == 1


@pytest.mark.parametrize("code, message", [(401, "refused the API key"), (404, "has no model 'scripted'")])
def test_a_bad_key_or_model_makes_the_endpoint_unavailable(llm_server, code, message):
    llm_server.add(status(code))
    with pytest.raises(EndpointUnavailable, match=message):
        provider_for(llm_server).chat(HELLO)


def test_a_closed_port_fails_at_once_and_clearly():
    p = Provider(Options(base_url=f"http://127.0.0.1:{closed_port()}/v1", model="m", retries=3), backoff_base_s=5.0)
    start = time.monotonic()
    with pytest.raises(EndpointUnavailable, match="cannot connect to the LLM endpoint .*(refused|Connect)"):
        p.chat(HELLO)
    assert time.monotonic() - start < 2.0  # no backoff on a refused connection


def test_no_model_configured_is_reported_as_unavailable():
    with pytest.raises(EndpointUnavailable, match="no model configured"):
        Provider(Options(base_url="http://127.0.0.1:1/v1"))
