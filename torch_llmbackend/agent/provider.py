"""The LLM endpoint: any OpenAI-compatible chat-completions server (OpenAI, vLLM, Ollama,
llama.cpp server, SGLang) through the `openai` client.

The client's own retries are switched off (max_retries=0) and its 10-minute default timeout
replaced by Options.request_timeout_s, so that what happens on a slow or failing endpoint is
decided here, in one place:

- Options.request_timeout_s bounds each attempt as a whole (connect, send, every read), not
  each read: the client's own timeout is per read, so a server that sends a byte a second
  would never time out. Each attempt runs in a helper thread on a client of its own that is
  closed at the deadline; the caller has its answer (a timeout) at the deadline either way;
- 429, 408, 409 and 5xx answers and timeouts are retried with exponential backoff and jitter,
  up to Options.retries times, honouring the server's Retry-After;
- a connection that cannot be made (refused, DNS), a key or model the server rejects, or
  failures that outlast the retries raise `EndpointUnavailable`: every later request would
  fail the same way, so the caller stops asking and falls back;
- an answer the server sends but that carries no usable reply (truncated JSON, no choices,
  no content, an HTML page) is warned about once, naming the cause, and raises
  `MalformedResponse`, which costs the caller one round, not the compile.
"""
from __future__ import annotations

import email.utils
import logging
import queue
import random
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

import openai

from ..options import Options

log = logging.getLogger(__name__)

# Some servers send Retry-After in minutes; never sleep longer than this for one retry.
MAX_RETRY_AFTER_S = 60.0
MAX_BACKOFF_S = 30.0
RETRYABLE_STATUS = frozenset({408, 409, 429})


class EndpointUnavailable(RuntimeError):
    """The endpoint cannot serve requests now; the search falls back for every subgraph."""


class MalformedResponse(RuntimeError):
    """The endpoint answered, but not with a usable chat completion."""


class DeadlineExceeded(RuntimeError):
    """The caller's wall-time budget ran out while waiting for (or between tries of) a request."""


class RequestRejected(RuntimeError):
    """The endpoint refused this request (e.g. 400: prompt too long); other requests may work."""


class _AttemptTimedOut(Exception):
    """One attempt did not complete within its whole-request time limit."""


@dataclass
class Usage:
    """Requests made and tokens spent; cost in the currency of the user's prices."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    estimated: bool = False  # some token counts were guessed: the server reported no usage

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: "Usage") -> None:
        self.requests += other.requests
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost += other.cost
        self.estimated = self.estimated or other.estimated

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass
class Reply:
    text: str
    model: str
    finish_reason: str
    usage: Usage


def estimate_tokens(text: str) -> int:
    # About four characters per token for English and code; only used when the server is silent.
    return max(1, len(text) // 4)


def request_cost(prompt_tokens: int, completion_tokens: int, options: Options) -> float:
    return (prompt_tokens * options.price_prompt_per_mtok + completion_tokens * options.price_completion_per_mtok) / 1e6


class Provider:
    """Chat requests against one endpoint; thread-safe, with at most Options.max_concurrency
    requests in flight across all threads that share it."""

    def __init__(
        self,
        options: Options,
        *,
        backoff_base_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not options.model:
            raise EndpointUnavailable("no model configured: set LLMBACKEND_MODEL or options={'model': ...}")
        self.options = options
        self.backoff_base_s = backoff_base_s
        self._sleep = sleep
        self._in_flight = threading.BoundedSemaphore(options.max_concurrency)
        self.endpoint = str(self._new_client().base_url)

    def _new_client(self) -> openai.OpenAI:
        # Local servers (vLLM, Ollama, llama.cpp) need no key, but the client insists on one.
        return openai.OpenAI(
            base_url=self.options.base_url or None,
            api_key=self.options.api_key or "none",
            timeout=self.options.request_timeout_s,
            max_retries=0,
        )

    def chat(self, messages: list[dict[str, str]], *, max_tokens: int | None = None, deadline: float | None = None) -> Reply:
        """One chat completion, retried on transient failures. `deadline` (time.monotonic())
        caps the attempts and the waits between them: the search passes the end of its
        wall-time budget."""
        last: Exception | None = None
        for attempt in range(self.options.retries + 1):
            timeout = self.options.request_timeout_s
            if deadline is not None:
                timeout = min(timeout, deadline - time.monotonic())
                if timeout <= 0:
                    raise DeadlineExceeded("the time budget ran out before the LLM answered") from last
            request = {"model": self.options.model, "messages": messages, "temperature": self.options.temperature,
                       "max_tokens": max_tokens or self.options.max_tokens}
            try:
                with self._in_flight:
                    completion = self._attempt(request, timeout)
                return self._reply(completion, messages)
            except (openai.APITimeoutError, _AttemptTimedOut) as e:
                last, delay = e, self._backoff(attempt, None)
                what = f"timed out after {timeout:.3g}s"
            except openai.APIConnectionError as e:
                raise EndpointUnavailable(f"cannot connect to the LLM endpoint {self.endpoint}: {_cause(e)}") from e
            except openai.APIStatusError as e:
                status = e.status_code
                if status in (401, 403):
                    raise EndpointUnavailable(f"the LLM endpoint {self.endpoint} refused the API key (HTTP {status}): {_message(e)}") from e
                if status == 404:
                    raise EndpointUnavailable(
                        f"the LLM endpoint {self.endpoint} has no model {self.options.model!r} or no chat-completions route (HTTP 404): {_message(e)}"
                    ) from e
                if status not in RETRYABLE_STATUS and status < 500:
                    raise RequestRejected(f"the LLM endpoint rejected the request (HTTP {status}): {_message(e)}") from e
                last, delay = e, self._backoff(attempt, e.response.headers)
                what = f"HTTP {status}"
            except (openai.APIResponseValidationError, ValueError) as e:
                # The client could not decode the body (truncated or not JSON).
                raise _warned(MalformedResponse(f"the LLM endpoint sent an unreadable response: {_cause(e)}")) from e
            except MalformedResponse as e:
                raise _warned(e) from None
            if deadline is not None and time.monotonic() + delay >= deadline:
                raise DeadlineExceeded(f"the time budget ran out while the LLM request {what}") from last
            if attempt < self.options.retries:
                log.info("LLM request %s; retry %d/%d in %.1fs", what, attempt + 1, self.options.retries, delay)
                self._sleep(delay)
        raise EndpointUnavailable(
            f"the LLM endpoint {self.endpoint} kept failing ({self.options.retries + 1} attempts, last: {_cause(last)})"
        ) from last

    def _attempt(self, request: dict[str, Any], timeout: float) -> Any:
        """One chat-completions call that returns or raises within `timeout` seconds in all.
        The call runs in a daemon thread on a client of its own; past the deadline that client
        is closed (which ends the abandoned call at its next read) and the caller goes on."""
        client = self._new_client()
        outcome: queue.Queue = queue.Queue(maxsize=1)

        def call() -> None:
            try:
                outcome.put((True, client.chat.completions.create(**request, timeout=timeout)))
            except BaseException as e:  # handed to the caller, raised there
                outcome.put((False, e))

        threading.Thread(target=call, name="llm-request", daemon=True).start()
        try:
            ok, value = outcome.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            threading.Thread(target=client.close, name="llm-request-close", daemon=True).start()
            raise _AttemptTimedOut(f"no complete answer within {timeout:.3g}s") from None
        client.close()
        if not ok:
            raise value
        return value

    def _backoff(self, attempt: int, headers: Any) -> float:
        server = _retry_after(headers) if headers is not None else None
        if server is not None:
            return min(server, MAX_RETRY_AFTER_S)
        # Full jitter keeps concurrent searches from retrying in lock-step.
        return min(MAX_BACKOFF_S, self.backoff_base_s * 2**attempt) * random.uniform(0.5, 1.0)

    def _reply(self, completion: Any, messages: list[dict[str, str]]) -> Reply:
        if isinstance(completion, (str, bytes)):
            # the client hands back the raw text of a body that is not JSON (a proxy's or a
            # login wall's HTML page with status 200)
            text = completion.decode("utf-8", "replace") if isinstance(completion, bytes) else completion
            raise MalformedResponse(f"the LLM endpoint answered with something that is not a chat completion "
                                    f"({_body_kind(text)}): {' '.join(text.split())[:160]!r}")
        choices = getattr(completion, "choices", None)
        if not choices:
            raise MalformedResponse("the LLM endpoint answered with no choices")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        if not isinstance(text, str) or not text.strip():
            reason = getattr(choices[0], "finish_reason", None)
            raise MalformedResponse(f"the LLM endpoint answered with no content (finish_reason={reason!r})")
        usage = Usage(requests=1)
        reported = getattr(completion, "usage", None)
        if reported is not None and reported.prompt_tokens is not None and reported.completion_tokens is not None:
            usage.prompt_tokens, usage.completion_tokens = int(reported.prompt_tokens), int(reported.completion_tokens)
        else:
            usage.prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
            usage.completion_tokens = estimate_tokens(text)
            usage.estimated = True
        usage.cost = request_cost(usage.prompt_tokens, usage.completion_tokens, self.options)
        return Reply(text=text, model=getattr(completion, "model", None) or self.options.model,
                     finish_reason=str(choices[0].finish_reason or ""), usage=usage)


def _warned(e: MalformedResponse) -> MalformedResponse:
    """The one warning a garbled answer gets (the search only notes it in its transcript)."""
    log.warning("%s; this request counts as a failed sample", e)
    return e


def _body_kind(text: str) -> str:
    """What a body that is not a chat completion looks like, for the warning."""
    return "text/html" if "<html" in text.lstrip()[:200].lower() else "not JSON"


def _retry_after(headers: Any) -> float | None:
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            pass
        if name == "retry-after":  # an HTTP date
            try:
                return max(0.0, email.utils.parsedate_to_datetime(raw).timestamp() - time.time())
            except (TypeError, ValueError):
                pass
    return None


def _message(e: openai.APIStatusError) -> str:
    body = e.body
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])[:300]
    return str(e.message)[:300]


def _cause(e: BaseException | None) -> str:
    # The client's "Connection error." hides the useful part (refused, DNS) in __cause__.
    parts = []
    while e is not None and len(parts) < 4:
        text = str(e).strip()
        if text and text not in parts and text != "Connection error.":
            parts.append(text)
        e = e.__cause__ or e.__context__
    return ": ".join(parts)[:300] or "unknown error"
