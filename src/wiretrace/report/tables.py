"""``wiretrace export --format parquet|csv|jsonl``: the reuse tables as files.

The shell passes the stored ``pairs``, ``passages`` and ``edits`` tables (the store's
columns, as Arrow tables) and :func:`outlet_table`, the outlet-level summary (who copies
whom, how often uncredited); :func:`write_tables` writes each as ``<name>.<format>`` in a
folder.

Formats: Parquet keeps the Arrow types (lists stay lists); JSON Lines writes one object
per row (times as ISO 8601); CSV has no list type, so list columns (``evidence``,
``credited_to``) are written as JSON arrays in one cell.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from wiretrace.analyze.graph import OutletLink
from wiretrace.errors import WiretraceError

__all__ = ["TABLE_FORMATS", "outlet_table", "write_tables"]

TABLE_FORMATS = ("parquet", "csv", "jsonl")

_OUTLET_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("target", pa.string()),
        ("pairs", pa.int64()),
        ("credited", pa.int64()),
        ("uncredited", pa.int64()),
        ("credited_elsewhere", pa.int64()),
        ("uncredited_share", pa.float64()),
    ]
)


def outlet_table(links: Iterable[OutletLink]) -> pa.Table:
    """The outlet summary: one row per (origin outlet, reusing outlet) with pair counts
    by credit status and the share of pairs without any credit."""
    rows = [
        {
            "source": o.source,
            "target": o.target,
            "pairs": o.pairs,
            "credited": o.credited,
            "uncredited": o.uncredited,
            "credited_elsewhere": o.credited_elsewhere,
            "uncredited_share": o.uncredited / o.pairs if o.pairs else 0.0,
        }
        for o in links
    ]
    return pa.Table.from_pylist(rows, schema=_OUTLET_SCHEMA)


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _flat_for_csv(table: pa.Table) -> pa.Table:
    """List and struct columns as JSON text (CSV has no nested types)."""
    for i, fld in enumerate(table.schema):
        if pa.types.is_nested(fld.type):
            cells = [
                None if v is None else json.dumps(_jsonable(v), ensure_ascii=False)
                for v in table.column(i).to_pylist()
            ]
            table = table.set_column(
                i, pa.field(fld.name, pa.string()), pa.array(cells, pa.string())
            )
    return table


def write_tables(tables: Mapping[str, pa.Table], out_dir: str | Path, fmt: str) -> list[Path]:
    """Write each table as ``out_dir/<name>.<fmt>`` (``out_dir`` created if needed);
    returns the paths in the order of ``tables``. Raises :class:`WiretraceError` for an
    unknown format or an ``out_dir`` that is a file."""
    if fmt not in TABLE_FORMATS:
        raise WiretraceError(f"export format {fmt!r}: expected one of {', '.join(TABLE_FORMATS)}")
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise WiretraceError(f"{folder}: not a folder (table exports write one file per table)")
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, table in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path)
        elif fmt == "csv":
            pa_csv.write_csv(_flat_for_csv(table), path)
        else:
            _write_jsonl(table.to_pylist(), path)
        written.append(path)
    return written


def _write_jsonl(rows: Sequence[Mapping[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(_jsonable(dict(row)), ensure_ascii=False) + "\n")
