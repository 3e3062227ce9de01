"""Progress reporting for long jobs (ingest, detection).

The library reports through the small :class:`Progress` interface and never draws
anything itself; :class:`NullProgress` (the default) does nothing. Shells pick
:func:`make_progress`, which draws rich progress bars on standard error when it is a
terminal and stays silent when it is piped or redirected.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Protocol, TextIO

__all__ = ["NullProgress", "Progress", "RichProgress", "make_progress"]


class Progress(Protocol):
    """What a job reports: one task at a time.

    ``begin(task, total, total_bytes)`` starts a task (``total`` units, e.g. files, or
    ``None`` when unknown); ``advance(n, nbytes, articles)`` reports ``n`` units done,
    ``nbytes`` input bytes read and ``articles`` articles produced; ``set_total(total)``
    gives a total learnt on the way (an ingest that reads while it walks the folders);
    ``end()`` closes it.
    """

    def begin(self, task: str, total: int | None = None, total_bytes: int | None = None) -> None:
        ...

    def advance(self, n: int = 1, nbytes: int = 0, articles: int = 0) -> None: ...

    def set_total(self, total: int) -> None: ...

    def end(self) -> None: ...


class NullProgress:
    """Reports nothing."""

    def begin(self, task: str, total: int | None = None, total_bytes: int | None = None) -> None:
        pass

    def advance(self, n: int = 1, nbytes: int = 0, articles: int = 0) -> None:
        pass

    def set_total(self, total: int) -> None:
        pass

    def end(self) -> None:
        pass


class RichProgress:
    """Rich progress bars on ``stream`` (standard error by default): units done of the
    total, bytes read, articles produced and the rate in articles per second."""

    def __init__(self, stream: TextIO | None = None, force_terminal: bool | None = None) -> None:
        from rich.console import Console

        self._console = Console(file=stream or sys.stderr, force_terminal=force_terminal)
        self._bar: Any = None
        self._task: Any = None
        self._articles = 0
        self._bytes = 0
        self._started = 0.0

    def begin(self, task: str, total: int | None = None, total_bytes: int | None = None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bars

        self.end()
        self._articles = 0
        self._bytes = 0
        self._started = time.monotonic()
        self._bar = Bars(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self._console,
            transient=False,
        )
        self._bar.start()
        self._task = self._bar.add_task(task, total=total, detail="")
        self._total_bytes = total_bytes

    def advance(self, n: int = 1, nbytes: int = 0, articles: int = 0) -> None:
        if self._bar is None:
            return
        self._articles += articles
        self._bytes += nbytes
        elapsed = max(time.monotonic() - self._started, 1e-6)
        detail = f"{self._articles:,} articles ({self._articles / elapsed:,.0f}/s)"
        if self._bytes:
            detail += f" {self._bytes / 1e6:,.1f} MB"
            if self._total_bytes:
                detail += f" of {self._total_bytes / 1e6:,.1f}"
        self._bar.update(self._task, advance=n, detail=detail)

    def set_total(self, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end()


def make_progress(stream: TextIO | None = None, enabled: bool | None = None) -> Progress:
    """Rich bars when ``stream`` (default standard error) is a terminal, else silence.

    ``enabled`` forces the choice either way.
    """
    stream = stream or sys.stderr
    if enabled is None:
        enabled = stream.isatty()
    return RichProgress(stream, force_terminal=True) if enabled else NullProgress()
