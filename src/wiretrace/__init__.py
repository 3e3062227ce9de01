"""wiretrace: shows how news text travels (who reprinted, rewrote or stitched whose copy)."""

from typing import TYPE_CHECKING, Any

from wiretrace.errors import (
    ConfigError,
    EngineError,
    IngestError,
    NotFound,
    StoreError,
    WiretraceError,
)
from wiretrace.models import Article, Edit, IngestIssue, Passage, ReusePair, Span

if TYPE_CHECKING:
    from wiretrace.collection import Collection, open_collection

__all__ = [
    "Article",
    "Collection",
    "ConfigError",
    "Edit",
    "EngineError",
    "IngestError",
    "IngestIssue",
    "NotFound",
    "Passage",
    "ReusePair",
    "Span",
    "StoreError",
    "WiretraceError",
    "open_collection",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Collection pulls in DuckDB and Arrow: imported on first use, so that worker
    # processes and light imports (wiretrace.models) stay cheap.
    if name in ("Collection", "open_collection"):
        from wiretrace import collection

        return getattr(collection, name)
    raise AttributeError(f"module 'wiretrace' has no attribute {name!r}")
