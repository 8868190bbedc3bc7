"""The LLM side: an OpenAI-compatible provider, prompts, code extraction, the search loop with
feedback and budgets, and batch export/import. Kernels are judged by evaluate/, never here."""
from .batch import export_batch, import_batch
from .provider import EndpointUnavailable, MalformedResponse, Usage
from .search import Searcher, SearchResult

__all__ = ["EndpointUnavailable", "MalformedResponse", "Searcher", "SearchResult", "Usage", "export_batch", "import_batch"]
