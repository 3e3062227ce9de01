"""JSONL, CSV and Parquet tables: column mapping, bad rows, limits, encodings."""

from __future__ import annotations

import csv
import gzip
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from wiretrace.errors import IngestError
from wiretrace.ingest.base import SourceInput
from wiretrace.ingest.tables import read_table
from wiretrace.models import Article, IngestIssue
from wiretrace.settings import IngestSettings

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc-news"


def _bbc(n: int) -> list[tuple[str, str, str]]:
    """(id, title, body) of n real BBC articles."""
    out = []
    for path in sorted((BBC / "sport").glob("*.txt"))[:n]:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        out.append((f"sport/{path.stem}", lines[0].strip(), "\n".join(lines[2:]).strip()))
    return out


def _read(
    path: Path, kind: str, settings: IngestSettings | None = None
) -> list[Article | IngestIssue]:
    src = SourceInput(id=path.stem, kind=kind, display=str(path), path=path)
    return list(read_table(src, settings or IngestSettings()))


def test_jsonl_rows_bad_lines_and_limits(tmp_path: Path) -> None:
    rows = _bbc(3)
    lines = [
        json.dumps(
            {
                "id": rows[0][0],
                "title": rows[0][1],
                "text": rows[0][2],
                "url": "https://bbc.example/1",
                "outlet": "BBC",
                "published": "2005-02-01T09:30:00+00:00",
            }
        ),
        "{this is not json",
        json.dumps({"id": "no-text", "title": "Empty", "text": "   "}),
        "",
        json.dumps(["a", "list"]),
        json.dumps({"title": rows[1][1], "text": rows[1][2]}),
        json.dumps({"id": "huge", "text": "word " * 3000}),
        json.dumps({"id": rows[2][0], "text": rows[2][2], "published": 1107250200}),
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    results = _read(path, "jsonl", IngestSettings(max_article_bytes=10_000))
    articles = [r for r in results if isinstance(r, Article)]
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert [a.id for a in articles] == [rows[0][0], "batch#6", rows[2][0]]
    first = articles[0]
    assert first.text == rows[0][2]
    assert first.title == rows[0][1]
    assert first.outlet == "BBC" and first.url == "https://bbc.example/1"
    assert first.published == datetime(2005, 2, 1, 9, 30, tzinfo=UTC)
    assert first.kind == "jsonl" and first.language == "en"
    assert articles[2].published == datetime.fromtimestamp(1107250200, tz=UTC)
    by_line = {i.input: i for i in issues}
    assert set(by_line) == {f"{path}:line {n}" for n in (2, 3, 5, 7)}
    assert by_line[f"{path}:line 2"].severity == "error"
    assert "malformed JSON" in by_line[f"{path}:line 2"].reason
    assert by_line[f"{path}:line 3"].severity == "warning"
    assert "no text" in by_line[f"{path}:line 3"].reason
    assert "not an object" in by_line[f"{path}:line 5"].reason
    assert "max_article_bytes" in by_line[f"{path}:line 7"].reason


def test_jsonl_overlong_line_is_skipped_without_loading_it(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "a", "text": "First article text."}) + "\n")
        fh.write(json.dumps({"id": "big", "text": "x" * 300_000}) + "\n")
        fh.write(json.dumps({"id": "b", "text": "Third article text."}) + "\n")
    results = _read(path, "jsonl", IngestSettings(max_article_bytes=1000))
    assert [r.id for r in results if isinstance(r, Article)] == ["a", "b"]
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert len(issues) == 1 and issues[0].input == f"{path}:line 2"


def test_csv_with_mapping_multiline_fields_and_short_rows(tmp_path: Path) -> None:
    rows = _bbc(2)
    path = tmp_path / "stories.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["story_id", "headline", "body", "link", "when", "paper"])
        writer.writerow(
            [
                rows[0][0],
                rows[0][1],
                rows[0][2],
                "https://x.example/1",
                "2005-03-01 10:00:00+02:00",
                "Sport Daily",
            ]
        )
        writer.writerow(["empty-one", "Nothing", "", "", "", ""])
        writer.writerow([rows[1][0], rows[1][1], rows[1][2]])
    settings = IngestSettings(
        id_column="story_id",
        text_column="body",
        title_column="headline",
        url_column="link",
        published_column="when",
        outlet_column="paper",
    )
    results = _read(path, "csv", settings)
    articles = [r for r in results if isinstance(r, Article)]
    assert [a.id for a in articles] == [rows[0][0], rows[1][0]]
    assert articles[0].text == rows[0][2]  # paragraphs (newlines) inside a quoted field
    assert "\n" in articles[0].text
    assert articles[0].outlet == "Sport Daily"
    assert articles[0].published == datetime(2005, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))
    assert articles[1].outlet is None and articles[1].published is None
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert len(issues) == 1 and issues[0].severity == "warning"
    # The empty row starts on the line after the first article's multi-line record.
    first_record_lines = 1 + rows[0][2].count("\n") + 1
    assert issues[0].input == f"{path}:line {1 + first_record_lines}"


def test_csv_missing_text_column_and_legacy_encoding(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,content\n1,hello\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        _read(path, "csv")
    assert "'text'" in info.value.reason and "content" in info.value.reason
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes(
        'id,text\n1,"Le caf\u00e9 du march\u00e9 a rouvert ses portes apr\u00e8s '
        'des travaux d\u2019\u00e9t\u00e9."\n'.encode("cp1252")
    )
    results = _read(legacy, "csv")
    articles = [r for r in results if isinstance(r, Article)]
    assert articles and "caf\u00e9 du march\u00e9" in articles[0].text
    warnings = [r for r in results if isinstance(r, IngestIssue)]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert "encoding" in warnings[0].reason


def test_parquet_in_batches_with_timestamps(tmp_path: Path) -> None:
    rows = _bbc(5)
    zone = timezone(timedelta(hours=-5))
    table = pa.table(
        {
            "id": [r[0] for r in rows],
            "title": [r[1] for r in rows],
            "text": [r[2] if i != 3 else None for i, r in enumerate(rows)],
            "published": pa.array(
                [datetime(2005, 1, i + 1, 12, 0, tzinfo=zone) for i in range(5)],
                type=pa.timestamp("us", tz="America/New_York"),
            ),
            "extra": list(range(5)),
        }
    )
    path = tmp_path / "articles.parquet"
    pq.write_table(table, path, row_group_size=2)
    results = _read(path, "parquet")
    articles = [r for r in results if isinstance(r, Article)]
    assert [a.id for a in articles] == [r[0] for i, r in enumerate(rows) if i != 3]
    assert articles[0].text == rows[0][2]
    assert articles[0].published is not None
    assert articles[0].published == datetime(2005, 1, 1, 17, 0, tzinfo=UTC)
    issues = [r for r in results if isinstance(r, IngestIssue)]
    assert [i.input for i in issues] == [f"{path}:row 4"]


def test_not_parquet_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_text("id,text\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        _read(path, "parquet")
    assert str(path) in str(info.value)


@pytest.mark.parametrize("gz", [False, True])
def test_tsv_like_csv_with_tabs(tmp_path: Path, gz: bool) -> None:
    from wiretrace.ingest import kind_of

    rows = _bbc(3)
    path = tmp_path / ("stories.tsv.gz" if gz else "stories.tsv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    writer.writerow(["id", "title", "text", "outlet"])
    # A plain one-line text, a text with a tab and paragraphs (quoted, as CSV quotes),
    # and a row with a stray extra field.
    writer.writerow([rows[0][0], rows[0][1], rows[0][2].replace("\n", " "), "BBC Sport"])
    writer.writerow([rows[1][0], rows[1][1], rows[1][2] + "\tEnd.", "BBC Sport"])
    writer.writerow([rows[2][0], rows[2][1], rows[2][2].replace("\n", " "), "BBC", "extra"])
    data = buffer.getvalue().encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    assert kind_of(path) == "tsv"
    results = _read(path, "tsv")
    articles = [r for r in results if isinstance(r, Article)]
    assert [a.id for a in articles] == [rows[0][0], rows[1][0]]
    assert articles[0].title == rows[0][1] and articles[0].outlet == "BBC Sport"
    assert articles[1].text == rows[1][2] + "\tEnd." and articles[1].kind == "tsv"
    (issue,) = [r for r in results if isinstance(r, IngestIssue)]
    assert issue.severity == "error" and issue.input.startswith(f"{path}:line ")
    assert "5 fields where the header has 4" in issue.reason


def test_tsv_without_text_column_names_the_kind(tmp_path: Path) -> None:
    path = tmp_path / "wrong.tsv"
    path.write_text("id\tbody\n1\thello\n", encoding="utf-8")
    with pytest.raises(IngestError) as info:
        _read(path, "tsv")
    assert "no text column 'text'" in info.value.reason and "body" in info.value.reason


def test_csv_stray_quote_is_reported_not_merged_into_one_row(tmp_path: Path) -> None:
    body = [" ".join(r[2].replace('"', "'").split())[:200] for r in _bbc(3)]
    path = tmp_path / "quotes.csv"
    path.write_text(
        "id,text\n"
        f'a,"{body[0]}\n'  # the closing quote is missing
        f'b,"{body[1]}"\n'
        f'c,"{body[2]}"\n'
        'd,"unterminated at the end\n',
        encoding="utf-8",
    )
    out = _read(path, "csv")
    articles = [x for x in out if isinstance(x, Article)]
    issues = [x for x in out if isinstance(x, IngestIssue)]
    assert [a.id for a in articles] == ["c"]
    assert articles[0].text == body[2]
    assert [i.input for i in issues] == [f"{path}:line 2", f"{path}:line 5"]
    assert all("malformed CSV" in i.reason for i in issues)
