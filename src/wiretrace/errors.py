"""Exceptions raised by wiretrace.

The tree::

    WiretraceError                 base of everything wiretrace raises on purpose
    ├── ConfigError                a setting or option has a bad value
    ├── IngestError                one input could not be read (names the input and the reason)
    │   └── InputTooLarge          an input is over the configured size limit
    ├── StoreError                 the store could not be opened, migrated or written
    ├── EngineError                an engine (local or spark) failed to run a stage
    └── NotFound                   an article, pair or story id is not in the store

The library raises these and logs; it never prints or exits. The CLI turns them into
one-line messages and exit codes; the web layer into ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EngineError",
    "IngestError",
    "InputTooLarge",
    "NotFound",
    "StoreError",
    "WiretraceError",
]


class WiretraceError(Exception):
    """Base class of every error wiretrace raises on purpose."""


class ConfigError(WiretraceError):
    """A setting or option has a bad value; the message says which and what is allowed."""


class IngestError(WiretraceError):
    """One input could not be read.

    ``input`` names the file, URL or record (``path#line 12``); ``reason`` is one line.
    """

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason


class InputTooLarge(IngestError):
    """An input is larger than ``ingest.max_article_bytes`` (or the fetch limit)."""


class StoreError(WiretraceError):
    """The store could not be opened, migrated or written."""


class EngineError(WiretraceError):
    """An engine failed to run a stage."""


class NotFound(WiretraceError):
    """An id is not in the store."""
