"""Getting the module out of replies in the shapes models actually write."""
from torch_llmbackend.agent.extract import extract_code

MODULE = "import torch\n\n\nclass ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return x\n"


def test_one_python_block():
    e = extract_code(f"Sure.\n\n```python\n{MODULE}```\nThis is fast.")
    assert e.source == MODULE and not e.truncated


def test_the_last_block_defining_modelnew_wins_over_examples_and_drafts():
    draft = MODULE.replace("return x", "return x  # draft")
    reply = f"Draft:\n```python\n{draft}```\nUsage:\n```python\nm = ModelNew()\n```\nFinal:\n```py\n{MODULE}```\n"
    assert extract_code(reply).source == MODULE


def test_non_python_blocks_are_ignored():
    reply = f"```bash\npip install triton\n```\n```cpp\nclass ModelNew {{}};\n```\n```\n{MODULE}```"
    assert extract_code(reply).source == MODULE


def test_a_module_split_over_blocks_is_joined():
    kernel = "import torch\nimport triton\n\ndef helper(x):\n    return x\n"
    model = "class ModelNew(torch.nn.Module):\n    def forward(self, x):\n        return helper(x)\n"
    source = extract_code(f"Kernel:\n```python\n{kernel}```\nModule:\n```python\n{model}```").source
    assert source.index("def helper") < source.index("class ModelNew")
    compile(source, "<candidate>", "exec")


def test_an_unterminated_fence_still_yields_the_code_marked_truncated():
    e = extract_code(f"```python\n{MODULE}")
    assert e.source == MODULE and e.truncated


def test_unfenced_code_is_found_and_trailing_prose_dropped():
    e = extract_code(f"Here you go:\n{MODULE}\nThis should be faster than eager.")
    assert e.source == MODULE


def test_reasoning_sections_are_skipped():
    reply = f"<think>\n```python\nclass ModelNew: pass  # a draft\n```\n</think>\n```python\n{MODULE}```"
    assert extract_code(reply).source == MODULE


def test_longer_fences_can_hold_triple_backticks():
    module = MODULE.replace("return x", 'return x  # see ```docs```')
    assert extract_code(f"````python\n{module}````").source == module


def test_replies_without_usable_code_become_feedback():
    no_code = extract_code("I would tile the loop and use shared memory.")
    assert no_code.source is None and "no code block" in no_code.feedback and "class ModelNew" in no_code.feedback
    no_model = extract_code("```python\ndef kernel(x):\n    return x\n```")
    assert no_model.source is None and "no block defines `class ModelNew`" in no_model.feedback
    assert "empty" in extract_code("  \n").feedback
