"""wiretrace: shows how news text travels (who reprinted, rewrote or stitched whose copy)."""

from wiretrace.errors import (
    ConfigError,
    EngineError,
    IngestError,
    NotFound,
    StoreError,
    WiretraceError,
)
from wiretrace.models import Article, Edit, IngestIssue, Passage, ReusePair, Span

__all__ = [
    "Article",
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
]

__version__ = "0.1.0"
