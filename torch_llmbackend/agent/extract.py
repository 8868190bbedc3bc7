"""Code out of an LLM reply.

Replies come in every shape: one fenced block, several (a kernel, then the full module, then a
usage example), a fence the model never closed because it ran out of tokens, or bare code with
no fence at all; reasoning models wrap drafts in <think> sections. The rule: the module is the
last Python block that defines `class ModelNew`; Python blocks before it are prepended when
that block alone does not import anything (the model split one module across blocks). A reply
with no such code yields a feedback message instead, which is a round's result like any other.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

THINK = re.compile(r"<think>.*?(</think>|\Z)", re.DOTALL)
FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+.#-]*)[^\n]*$")
MODELNEW = re.compile(r"^\s*class\s+ModelNew\b", re.MULTILINE)
PY_LANGS = {"", "python", "py", "python3", "py3"}
FORMAT_HINT = "Answer with ONE complete module in a ```python fenced block that defines `class ModelNew`."


@dataclass
class Block:
    lang: str
    code: str
    closed: bool


@dataclass
class Extraction:
    source: str | None  # the candidate module, or None when the reply has none
    feedback: str = ""  # why there is no source, in words fit for the next prompt
    truncated: bool = False  # the chosen block's fence was never closed


def fenced_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            stripped = lines[i].strip()
            # A closing fence is the same character, at least as long, and nothing after it.
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                closed = True
                i += 1
                break
            body.append(lines[i])
            i += 1
        blocks.append(Block(lang, "\n".join(body).strip("\n") + "\n", closed))
    return blocks


def extract_code(reply: str) -> Extraction:
    text = THINK.sub("", reply)
    blocks = [b for b in fenced_blocks(text) if b.lang in PY_LANGS]
    with_model = [i for i, b in enumerate(blocks) if MODELNEW.search(b.code)]
    if with_model:
        chosen = blocks[with_model[-1]]
        source = chosen.code
        earlier = [b.code for b in blocks[: with_model[-1]] if not MODELNEW.search(b.code)]
        if earlier and not _imports_anything(source):
            source = "\n\n".join(earlier + [source])
        return Extraction(source, truncated=not chosen.closed)
    if not blocks and MODELNEW.search(text):
        bare = _bare_module(text)
        if bare is not None:
            return Extraction(bare)
    if blocks:
        return Extraction(None, "Your reply has code, but no block defines `class ModelNew`. " + FORMAT_HINT)
    if not reply.strip() or not text.strip():
        return Extraction(None, "Your reply was empty (or only reasoning). " + FORMAT_HINT)
    return Extraction(None, "Your reply has no code block. " + FORMAT_HINT)


def _imports_anything(source: str) -> bool:
    return re.search(r"^\s*(import|from)\s+\w", source, re.MULTILINE) is not None


def _bare_module(text: str) -> str | None:
    """Unfenced code: from the first import line to the end, trimmed of trailing prose until
    it parses."""
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if re.match(r"(import|from)\s+\w", l)), None)
    if start is None:
        start = next(i for i, l in enumerate(lines) if MODELNEW.match(l))
    body = lines[start:]
    while body:
        source = "\n".join(body).strip("\n") + "\n"
        try:
            ast.parse(source)
            return source if MODELNEW.search(source) else None
        except SyntaxError:
            body.pop()
    return None
