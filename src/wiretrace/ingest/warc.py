"""WARC and WARC.gz crawls through fastwarc, streamed.

Only HTTP ``response`` records with status 200 and an HTML content type become
articles, through the same path as HTML pages (:mod:`wiretrace.ingest.html`), in
parallel over ``ingest.workers`` processes. Article ids are the ``WARC-Target-URI``
(else ``"{src.id}#{n}"``, n counting records from 1); ``source`` is
``"{file}#offset {stream position}"``.

Publication time comes from the page only. The record's ``WARC-Date`` is when the page
was crawled, not when it was published, so it is never put in ``published`` (a page
without a date stays undated).

The file is streamed: one record's payload is in memory at a time (plus the pages in
flight to the workers), so a multi-gigabyte crawl needs no more memory than a small one.
A truncated or damaged file keeps every complete record read before the damage and adds
one error issue naming the file and the reason. fastwarc stops quietly at a damaged
tail, so after the iteration the reader walks the bytes after the last record it saw
and says whether they end cleanly.
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from wiretrace.errors import IngestError
from wiretrace.ingest.html import HtmlItem, parse_html_many
from wiretrace.models import IngestIssue

if TYPE_CHECKING:
    from fastwarc.warc import ArchiveIterator, WarcRecord

    from wiretrace.ingest.base import Record, SourceInput
    from wiretrace.settings import IngestSettings

__all__ = ["read_warc"]

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_MAX_HEADER = 1 << 20  # a WARC header block longer than this is not a header
_GZIP_MAGIC = b"\x1f\x8b"


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def readline(self, size: int = ..., /) -> bytes: ...


class _Damage(Exception):
    """The bytes after the last record seen do not end the file cleanly."""


def read_warc(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Reader for a ``.warc`` or ``.warc.gz`` file (``src.path``).

    Yields one :class:`Article` per HTML response with status 200, in file order; a page
    without article text is a warning issue, a page over ``max_article_bytes`` an error
    issue. A truncated or damaged file yields, after what was read, one error issue
    naming the file and the damage. Raises :class:`IngestError` when the file cannot be
    opened or is not a WARC file at all.
    """
    if src.path is None:
        raise IngestError(src.display, "a WARC input needs a local path")
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    try:
        fh = src.path.open("rb")
    except OSError as exc:
        raise IngestError(src.display, f"cannot read: {exc.strerror or exc}") from None
    state = _State()
    with fh:
        state.compressed = fh.read(2) == _GZIP_MAGIC
        fh.seek(0)
        records = ArchiveIterator(
            fh,
            record_types=WarcRecordType.any_type,
            parse_http=False,
            auto_decode="none",
            quirks_mode=True,
        )
        yield from parse_html_many(_pages(records, src, settings, state), settings)
    damage = state.error or state.tail
    if damage and state.records == 0:
        raise IngestError(src.display, f"not a readable WARC file: {damage}")
    yield from state.issues
    if damage:
        yield IngestIssue(
            src.display, f"damaged WARC, {state.whole} whole records read before: {damage}"
        )
    elif state.pages == 0:
        yield IngestIssue(
            src.display, f"no HTML page with status 200 in {state.records} records", "warning"
        )


class _State:
    """What the record generator learns while it streams (read after it ends)."""

    def __init__(self) -> None:
        self.compressed = False
        self.records = 0  # records fastwarc gave, of any type
        self.last_pos = 0  # byte offset of the last of them (compressed offset for .gz)
        self.error: str | None = None  # fastwarc failed
        self.tail: str | None = None  # the bytes from the last record on are damaged
        self.whole = 0  # records known to be whole before the damage
        self.pages = 0  # HTML 200 responses found
        self.issues: list[IngestIssue] = []


def _pages(
    records: ArchiveIterator, src: SourceInput, settings: IngestSettings, state: _State
) -> Iterator[HtmlItem]:
    """The HTML pages of the crawl, as items for the parser.

    Each page is held back until fastwarc has found the next record header, or the tail
    check has shown that the record is whole, so a record cut short by truncation never
    becomes an article.
    """
    from fastwarc.warc import WarcRecordType

    held: HtmlItem | None = None
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            break
        except (OSError, ValueError) as exc:
            state.error = f"record {state.records + 1} unreadable ({exc})"
            break
        state.records += 1
        state.last_pos = int(record.stream_pos)
        if held is not None:
            yield held
            held = None
        if record.record_type != WarcRecordType.response:
            continue
        try:
            held = _page_of(record, state.records, src, settings, state)
            state.pages += held is not None
        except (OSError, ValueError) as exc:
            state.error = f"record {state.records} unreadable ({exc})"
            held = None
            break
    if state.records == 0 and state.error is not None:
        return
    assert src.path is not None
    # Also after a fastwarc error: the walk says whether the held record itself is whole.
    whole, tail = _check_tail(src.path, state.last_pos, state.compressed)
    state.whole = state.records - 1 + whole if state.records else 0
    if state.error is None:
        state.tail = tail
    if held is not None and whole >= 1:
        yield held


def _page_of(
    record: WarcRecord, n: int, src: SourceInput, settings: IngestSettings, state: _State
) -> HtmlItem | None:
    """The page of one response record, or ``None`` when it is not an HTML 200."""
    # Transfer decoding only: fastwarc 2.0's content decoding loses its place in the
    # stream after a gzip-encoded page, so Content-Encoding is undone here instead.
    record.parse_http(auto_decode="transfer", quirks_mode=True)
    http = record.http_headers
    if http is None or http.status_code != 200:
        return None
    ctype = (record.http_content_type or "").lower()
    if not ctype.startswith(_HTML_TYPES):
        return None
    uri = record.headers.get("WARC-Target-URI")
    uri = uri.strip("<> ") if uri else None
    record_id = uri or f"{src.id}#{n}"
    declared = int(record.content_length or 0)
    if declared > settings.max_article_bytes:
        state.issues.append(
            IngestIssue(
                f"{src.display}: {record_id}",
                f"page is {declared} bytes, over ingest.max_article_bytes "
                f"({settings.max_article_bytes}); skipped",
            )
        )
        return None
    body = bytes(record.reader.read())
    encoding = (http.get("Content-Encoding") or "identity").strip().lower()
    try:
        body = _undo_content_encoding(body, encoding, settings.max_article_bytes)
    except _Damage as exc:
        state.issues.append(IngestIssue(f"{src.display}: {record_id}", str(exc)))
        return None
    return HtmlItem(
        html=body,
        id=record_id,
        source=f"{src.display}#offset {record.stream_pos}",
        url=uri,
        kind="warc",
        charset=record.http_charset,
    )


def _undo_content_encoding(body: bytes, encoding: str, limit: int) -> bytes:
    """Decompress an HTTP body (gzip, x-gzip, deflate) to at most ``limit`` bytes."""
    if encoding in ("identity", ""):
        return body
    if encoding in ("gzip", "x-gzip", "deflate"):
        # wbits 47 reads gzip or zlib headers; raw deflate (seen in the wild) needs -15.
        for wbits in ((47,) if encoding != "deflate" else (47, -15)):
            inflater = zlib.decompressobj(wbits)
            try:
                data = inflater.decompress(body, limit + 1)
            except zlib.error:
                continue
            if len(data) > limit:
                raise _Damage(f"page inflates past ingest.max_article_bytes ({limit}); skipped")
            return data
        raise _Damage(f"page body is not valid {encoding} data; skipped")
    raise _Damage(f"page uses the unsupported content encoding {encoding!r}; skipped")


def _check_tail(path: Path, start: int, compressed: bool) -> tuple[int, str | None]:
    """Walk the records from byte ``start`` (a record boundary) to the end of the file.

    Returns ``(whole, damage)``: how many whole records were walked, and ``None`` when
    the file ends cleanly after them, else the damage in a few words. Streams: at most
    one header line and one 1 MiB chunk are held in memory.
    """
    walked = [0]
    try:
        with path.open("rb") as raw:
            raw.seek(start)
            if compressed and raw.read(2) != _GZIP_MAGIC:
                start = 0  # not one gzip member per record: walk the whole stream
            raw.seek(start)
            if compressed:
                with gzip.GzipFile(fileobj=raw) as stream:
                    _walk(stream, walked)
            else:
                _walk(raw, walked)
    except _Damage as exc:
        return walked[0], str(exc)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        return walked[0], f"compressed stream cut short ({exc})"
    except OSError as exc:
        return walked[0], f"cannot read the tail ({exc.strerror or exc})"
    return walked[0], None


def _walk(stream: _Readable, walked: list[int]) -> None:
    """Skip through WARC records by their Content-Length; ``walked[0]`` counts whole ones."""
    while True:
        line = stream.readline(_MAX_HEADER)
        while line in (b"\r\n", b"\n"):
            line = stream.readline(_MAX_HEADER)
        if not line:
            return
        if not line.startswith(b"WARC/"):
            raise _Damage("bytes that are not a WARC record header")
        length: int | None = None
        while True:
            line = stream.readline(_MAX_HEADER)
            if not line:
                raise _Damage("the file ends inside a record header")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise _Damage("a record with an invalid Content-Length") from None
        if length is None:
            raise _Damage("a record without Content-Length")
        remaining = length
        while remaining:
            chunk = stream.read(min(remaining, 1 << 20))
            if not chunk:
                raise _Damage(
                    f"the file ends inside a record ({length - remaining} of {length} bytes)"
                )
            remaining -= len(chunk)
        walked[0] += 1
