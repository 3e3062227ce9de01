"""JSONL, CSV, TSV and Parquet tables: one article per row, streamed.

Columns are named by the ``ingest.*_column`` settings (id, text, title, url, published,
outlet); only the text column is required. A row's id is its id value, else
``"{src.id}#{n}"`` with n the row number counted from 1 (the line number for JSONL, the
data row for CSV and Parquet). The text is stored as given; offsets are into it.

Streaming: JSONL is read line by line with a bounded line length, CSV and TSV through
the ``csv`` module (TSV: tab-separated, fields quoted as CSV quotes them where they
hold a tab, a quote or a line break), Parquet batch by batch (``iter_batches``); one
batch or line is in memory at a time. A malformed line, a row without text or a text
over ``ingest.max_article_bytes`` becomes an :class:`IngestIssue` naming ``file:line N``
and the reason, and the rest goes on.

Reading is split in two so that the ingest driver can spread a large table over worker
processes: :func:`iter_rows` (in the reading process: framing, cheap) yields
:class:`RawRow` records in file order, and :func:`parse_row` (anywhere: JSON decoding,
metadata, credits, language) turns one into an article. :func:`read_table` is the two
in sequence.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from wiretrace.errors import IngestError
from wiretrace.models import Article, IngestIssue

if TYPE_CHECKING:
    from wiretrace.ingest.base import Record, SourceInput
    from wiretrace.settings import IngestSettings

__all__ = ["TABLE_KINDS", "RawRow", "iter_rows", "parse_row", "read_table", "row_article"]

log = logging.getLogger(__name__)

_BATCH_ROWS = 2048

#: The kinds this module reads.
TABLE_KINDS = ("jsonl", "csv", "tsv", "parquet")


@dataclass(frozen=True, slots=True)
class RawRow:
    """One table row as framed by :func:`iter_rows`, not yet parsed.

    ``n``: the row number from 1 (the line number for JSONL); ``where``: how messages
    name it (``file:line N``); ``data``: the JSON line (bytes) or the row's fields by
    column name (CSV, TSV, Parquet).
    """

    n: int
    where: str
    data: bytes | dict[str, Any]


def read_table(src: SourceInput, settings: IngestSettings) -> Iterator[Record]:
    """Reader for ``src.kind`` in jsonl, csv, tsv, parquet (``.gz`` JSONL, CSV, TSV too).

    Yields an :class:`Article` per good row and an :class:`IngestIssue` per bad one.
    Raises :class:`IngestError` when the file cannot be opened, is not of its kind, or
    has no text column.
    """
    for item in iter_rows(src, settings):
        yield item if isinstance(item, IngestIssue) else parse_row(item, src, settings)


def iter_rows(src: SourceInput, settings: IngestSettings) -> Iterator[RawRow | IngestIssue]:
    """The rows of a table file in order, framed but not parsed (see the module docs);
    issues for rows that cannot even be framed (over-long lines, malformed CSV).

    Raises :class:`IngestError` as :func:`read_table` does.
    """
    if src.path is None:
        raise IngestError(src.display, "a table input needs a local path")
    readers = {
        "jsonl": _jsonl_lines, "csv": _csv_rows, "tsv": _csv_rows, "parquet": _parquet_rows,
    }
    reader = readers.get(src.kind)
    if reader is None:
        raise IngestError(src.display, f"not a table kind: {src.kind}")
    try:
        yield from reader(src, src.path, settings)
    except OSError as exc:
        raise IngestError(src.display, f"cannot read: {exc.strerror or exc}") from None


def parse_row(row: RawRow, src: SourceInput, settings: IngestSettings) -> Record:
    """One framed row as an article, or an issue naming ``row.where``."""
    if isinstance(row.data, dict):
        return row_article(row.data, row.n, row.where, src, settings)
    try:
        data = json.loads(row.data)
    except UnicodeDecodeError:
        return IngestIssue(row.where, "line is not valid UTF-8 (JSON Lines must be UTF-8)")
    except json.JSONDecodeError as exc:
        return IngestIssue(row.where, f"malformed JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return IngestIssue(row.where, "malformed JSON: nested too deeply")
    if not isinstance(data, dict):
        return IngestIssue(row.where, f"a JSON {type(data).__name__}, not an object")
    return row_article(data, row.n, row.where, src, settings)


def _open_binary(path: Path) -> IO[bytes]:
    fh = path.open("rb")
    if fh.peek(2)[:2] == b"\x1f\x8b":  # type: ignore[attr-defined]
        return gzip.GzipFile(fileobj=fh)  # type: ignore[return-value]
    return fh


def _jsonl_lines(
    src: SourceInput, path: Path, settings: IngestSettings
) -> Iterator[RawRow | IngestIssue]:
    limit = settings.max_article_bytes
    # A line may hold more than the text (metadata, JSON escapes): allow some headroom,
    # and skip longer lines in chunks so one huge line never sits in memory whole.
    max_line = limit * 2 + 65536
    with _open_binary(path) as fh:
        line_no = 0
        while True:
            line = fh.readline(max_line + 1)
            if not line:
                break
            line_no += 1
            where = f"{src.display}:line {line_no}"
            if len(line) > max_line and not line.endswith(b"\n"):
                size = len(line)
                while True:
                    chunk = fh.readline(1 << 20)
                    size += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                yield IngestIssue(
                    where,
                    f"line is {size} bytes, over the limit for ingest.max_article_bytes "
                    f"({limit}); skipped",
                )
                continue
            if not line.strip():
                continue
            yield RawRow(line_no, where, line)


def _text_stream(path: Path, display: str, what: str) -> tuple[IO[str], str | None]:
    """The file as text: UTF-8 (BOM dropped), else the encoding detected on a sample
    (then the second value says so, as a warning)."""
    raw = _open_binary(path)
    sample = raw.read(1 << 16)
    encoding = "utf-8-sig"
    warning = None
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut multi-byte character at the sample's end is not a decoding failure.
        if exc.start < len(sample) - 4:
            from charset_normalizer import from_bytes

            best = from_bytes(sample).best()
            if best is None:
                raw.close()
                raise IngestError(display, f"binary data, not a {what} file") from None
            encoding = best.encoding
            warning = f"not UTF-8; encoding guessed as {encoding}"
    buffered = io.BufferedReader(_Prefixed(sample, raw))
    return io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline=""), warning


class _Prefixed(io.RawIOBase):
    """A raw stream that replays ``head`` and then reads the rest of ``rest``."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


def _csv_rows(
    src: SourceInput, path: Path, settings: IngestSettings
) -> Iterator[RawRow | IngestIssue]:
    # The csv module refuses fields over 128 KiB by default; articles are longer.
    csv.field_size_limit(max(csv.field_size_limit(), settings.max_article_bytes * 4 + 1))
    what = src.kind.upper()
    stream, warning = _text_stream(path, src.display, what)
    if warning:
        yield IngestIssue(src.display, warning, "warning")
    with stream as fh:
        # strict: a stray quote is reported on its row instead of silently swallowing
        # the rows that follow into one field (multi-line quoted fields stay fine).
        delimiter = "\t" if src.kind == "tsv" else ","
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise IngestError(src.display, f"empty {what} file") from None
        except csv.Error as exc:
            raise IngestError(src.display, f"malformed {what} header: {exc}") from None
        header = [h.strip() for h in header]
        _require_text_column(src, header, settings)
        row_no = 0
        while True:
            start_line = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield IngestIssue(f"{src.display}:line {start_line}", f"malformed {what}: {exc}")
                continue
            if not values:
                continue
            row_no += 1
            where = f"{src.display}:line {start_line}"
            if len(values) > len(header):
                yield IngestIssue(
                    where, f"{len(values)} fields where the header has {len(header)}"
                )
                continue
            yield RawRow(row_no, where, dict(zip(header, values, strict=False)))


def _parquet_rows(
    src: SourceInput, path: Path, settings: IngestSettings
) -> Iterator[RawRow | IngestIssue]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, ValueError) as exc:
        raise IngestError(src.display, f"not a readable Parquet file: {exc}") from None
    names = list(pf.schema_arrow.names)
    _require_text_column(src, names, settings)
    wanted = {
        settings.id_column, settings.text_column, settings.title_column, settings.url_column,
        settings.published_column, settings.outlet_column,
    }
    columns = [name for name in names if name in wanted]
    row_no = 0
    try:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
            for row in batch.to_pylist():
                row_no += 1
                yield RawRow(row_no, f"{src.display}:row {row_no}", row)
    except (pa.ArrowException, ValueError) as exc:
        yield IngestIssue(src.display, f"damaged Parquet file after {row_no} rows: {exc}")


def _require_text_column(src: SourceInput, names: list[str], settings: IngestSettings) -> None:
    if settings.text_column not in names:
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        raise IngestError(
            src.display,
            f"no text column {settings.text_column!r} (columns: {shown}); "
            "set ingest.text_column",
        )


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _as_datetime(value: object, settings: IngestSettings, where: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        # ISO 8601 is what tables nearly always hold; fromisoformat is ~50x faster
        # than the general parser, which handles everything else below.
        with contextlib.suppress(ValueError):
            value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime):
        if value.tzinfo is None and settings.default_timezone:
            from zoneinfo import ZoneInfo

            return value.replace(tzinfo=ZoneInfo(settings.default_timezone))
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Epoch seconds (milliseconds when the number is too large for seconds).
        seconds = value / 1000 if abs(value) > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            log.debug("%s: unusable timestamp %r", where, value)
            return None
    from wiretrace.ingest.dates import parse_date

    return parse_date(str(value), settings.default_timezone)


def row_article(
    row: Mapping[str, Any], n: int, where: str, src: SourceInput, settings: IngestSettings
) -> Article | IngestIssue:
    """One table row as an article, or an issue naming ``where`` (``file:line N``).

    ``n`` is the row's number (from 1), used for the id when the row has none.
    """
    text = row.get(settings.text_column)
    if text is None or (isinstance(text, str) and (not text or text.isspace())):
        return IngestIssue(where, f"no text in column {settings.text_column!r}; skipped", "warning")
    if not isinstance(text, str):
        return IngestIssue(
            where, f"column {settings.text_column!r} holds a {type(text).__name__}, not text"
        )
    limit = settings.max_article_bytes
    if len(text) * 4 > limit:  # else it fits: UTF-8 takes at most 4 bytes a character
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > limit:
            return IngestIssue(
                where, f"text is {size} bytes, over ingest.max_article_bytes ({limit})"
            )
    from wiretrace.ingest.credits import analyze_credits
    from wiretrace.ingest.language import detect_language

    id = _as_str(row.get(settings.id_column)) or f"{src.id}#{n}"
    title = _as_str(row.get(settings.title_column))
    outlet = _as_str(row.get(settings.outlet_column))
    url = _as_str(row.get(settings.url_column))
    if not _encodable(text, id, title, outlet, url):
        # JSON may escape half of a UTF-16 pair ("\\ud800"): no UTF-8 text has it.
        return IngestIssue(where, "unpaired surrogate (invalid Unicode) in a text value")
    credits = analyze_credits(text)
    return Article(
        id=id,
        text=text,
        title=title,
        source=where,
        kind=src.kind,
        outlet=outlet,
        url=url,
        published=_as_datetime(row.get(settings.published_column), settings, where),
        credits=tuple(credits.credits),
        dateline=credits.dateline,
        language=detect_language(text),
    )


def _encodable(*values: str | None) -> bool:
    """True when every value can be written as UTF-8 (no unpaired surrogate)."""
    for value in values:
        if value is None or value.isascii():
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
    return True
