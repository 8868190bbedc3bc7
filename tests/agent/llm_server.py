"""A real HTTP server speaking the chat-completions protocol, answering from a script.

Tests point the real `openai` client at it (base_url=server.base_url). Each POST to
/v1/chat/completions takes the next item of the script; an item is a `Scripted` answer, a plain
string (a normal reply with that content), or a callable that gets the request body and
returns either. Faults are scripted answers too: `delayed`, `dribbled`, `status`, `truncated`,
`empty_choices`, `no_content`, `html_page`. Every request body is recorded in `server.requests`.

    with ScriptedLLMServer(["```python\\n...\\n```"]) as server:
        options = Options(base_url=server.base_url, model="scripted", ...)
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union


@dataclass
class Scripted:
    content: str | None = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    body: bytes | None = None  # raw body, sent as is (for malformed answers)
    choices: bool = True
    prompt_tokens: int | None = None  # None: counted from the request (4 characters a token)
    completion_tokens: int | None = None
    model: str = "scripted-model"
    finish_reason: str = "stop"
    content_type: str = "application/json"
    byte_interval_s: float = 0.0  # > 0: the body goes out one byte at a time, this far apart


Item = Union[Scripted, str, Callable[[dict], Union[Scripted, str]]]


def reply(content: str, **kw: Any) -> Scripted:
    return Scripted(content=content, **kw)


def delayed(seconds: float, then: str | Scripted = "") -> Scripted:
    item = then if isinstance(then, Scripted) else Scripted(content=then)
    item.delay_s = seconds
    return item


def dribbled(interval_s: float, then: str | Scripted = "") -> Scripted:
    """An answer sent one byte every `interval_s` seconds: each read returns in time, the
    whole answer takes far longer than any sensible timeout."""
    item = then if isinstance(then, Scripted) else Scripted(content=then)
    item.byte_interval_s = interval_s
    return item


def html_page() -> Scripted:
    """What a proxy or a login wall sends: an HTML page with status 200."""
    return Scripted(body=b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in.</body></html>",
                    content_type="text/html; charset=utf-8")


def status(code: int, message: str = "scripted failure", headers: dict[str, str] | None = None) -> Scripted:
    body = json.dumps({"error": {"message": message, "type": "scripted", "code": code}}).encode()
    return Scripted(status=code, headers=headers or {}, body=body)


def truncated() -> Scripted:
    whole = json.dumps(_completion("```python\nclass ModelNew: pass\n```", 10, 10, "scripted-model", "stop"))
    return Scripted(body=whole[: len(whole) // 2].encode())


def empty_choices() -> Scripted:
    return Scripted(choices=False)


def no_content() -> Scripted:
    return Scripted(content=None)


def _completion(content: str | None, prompt_tokens: int, completion_tokens: int, model: str, finish: str, choices: bool = True) -> dict:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}
        ] if choices else [],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class ScriptedLLMServer:
    def __init__(self, script: list[Item] | None = None, default: Item | None = None) -> None:
        self.script: list[Item] = list(script or [])
        self.default = default  # answered once the script is used up
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests the server held at once
        self.overruns = 0  # requests that found the script empty and no default
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def add(self, *items: Item) -> None:
        with self._lock:
            self.script.extend(items)

    def prompts(self) -> list[str]:
        """The last user message of each request, in arrival order."""
        return [r["messages"][-1]["content"] for r in self.requests]

    def start(self) -> "ScriptedLLMServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedLLMServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _next(self, body: dict, headers: dict[str, str]) -> Scripted:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
            if self.script:
                item = self.script.pop(0)
            elif self.default is not None:
                item = self.default
            else:
                self.overruns += 1
                item = Scripted(content="(the test script has no more answers)")
        if callable(item):
            item = item(body)
        return Scripted(content=item) if isinstance(item, str) else item

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {}, json.dumps({"error": {"message": f"no route {self.path}"}}).encode())
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                item = server._next(body, {k.lower(): v for k, v in self.headers.items()})
                with server._lock:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(body, item)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, body: dict, item: Scripted) -> None:
                if item.delay_s:
                    time.sleep(item.delay_s)
                if item.body is not None:
                    self._send(item.status, item.headers, item.body, item.content_type, item.byte_interval_s)
                    return
                prompt = "".join(m.get("content") or "" for m in body.get("messages", []))
                completion = _completion(
                    item.content,
                    item.prompt_tokens if item.prompt_tokens is not None else count_tokens(prompt),
                    item.completion_tokens if item.completion_tokens is not None else count_tokens(item.content or ""),
                    item.model, item.finish_reason, item.choices,
                )
                self._send(item.status, item.headers, json.dumps(completion).encode(), item.content_type, item.byte_interval_s)

            def _send(self, code: int, headers: dict[str, str], payload: bytes,
                      content_type: str = "application/json", byte_interval_s: float = 0.0) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if byte_interval_s <= 0:
                        self.wfile.write(payload)
                        return
                    self.wfile.flush()
                    for i in range(len(payload)):
                        time.sleep(byte_interval_s)
                        self.wfile.write(payload[i:i + 1])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout tests)

        return Handler
