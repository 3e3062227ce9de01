"""Whether worker processes can be started from this process.

Worker pools here are spawned or served by a fork server (a process that runs
DuckDB's threads must not fork). Such a worker first imports the parent's main module;
when that is a script read from standard input (``python -``) there is no file to
import, every worker dies as it starts, and Python reports only a broken pool. The
pools then run their work in this process instead (with a warning), as with one worker.
"""

from __future__ import annotations

import logging
import multiprocessing.process
import sys
from functools import cache
from pathlib import Path

__all__ = ["workers_can_start"]

log = logging.getLogger(__name__)


def workers_can_start() -> bool:
    """False when a spawned worker could not import this process's main module."""
    ok = _main_importable()
    if not ok:
        _warn_once()
    return ok


def _main_importable() -> bool:
    main = sys.modules.get("__main__")
    if main is None or getattr(getattr(main, "__spec__", None), "name", None):
        return True  # run as a module (python -m), or no main module at all
    path = getattr(main, "__file__", None)
    if path is None:
        return True  # interactive, python -c, a notebook: nothing to import
    where = Path(path)
    start = getattr(multiprocessing.process, "ORIGINAL_DIR", None)  # where it resolves it
    if not where.is_absolute() and start is not None:
        where = Path(start) / where
    return where.is_file()


@cache
def _warn_once() -> None:
    log.warning(
        "the main module (%s) cannot be imported by worker processes; working in this "
        "process only",
        getattr(sys.modules.get("__main__"), "__file__", "?"),
    )
