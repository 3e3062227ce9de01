"""The ``wiretrace`` command: one subcommand per verb; parse, call the library, print.

Every command that touches a store takes ``--db FILE`` (default ``wiretrace.duckdb``
in the current folder), ``--set section.name=value`` (repeatable; see
``wiretrace settings``) and ``--config FILE``. Expected failures (any
:class:`~wiretrace.errors.WiretraceError`) become one line ``error: <input>: <reason>``
on standard error and exit code 1; no traceback reaches the user. Other shells add their
commands to :data:`main` (``@main.command()``) and use :func:`store_options`,
:func:`open_from_options` and :func:`echo_json_lines`.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from wiretrace.collection import Collection, RunSummary, open_collection
from wiretrace.errors import ConfigError, IngestError, WiretraceError
from wiretrace.ingest import IngestSummary
from wiretrace.models import Article, IngestIssue, ReusePair
from wiretrace.progress import make_progress
from wiretrace.settings import Settings, describe, load_settings

__all__ = [
    "article_json",
    "echo_json_lines",
    "main",
    "open_from_options",
    "parse_overrides",
    "store_options",
]

F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns expected errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WiretraceError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except BrokenPipeError:
            # The reader of our output went away (``| head``): not an error of ours.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            # DuckDB failing where the store does not wrap it (out of memory in a read,
            # say): one line too; the store keeps what was committed.
            if not type(exc).__module__.startswith(("duckdb", "_duckdb")):
                raise
            click.echo(f"error: {_duckdb_message(exc)}", err=True)
            ctx.exit(1)


def _duckdb_message(exc: BaseException) -> str:
    from wiretrace.store import error_line

    return f"store: {error_line(exc)}"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wiretrace")
def main() -> None:
    """wiretrace: shows how news text travels (who reprinted, rewrote or stitched
    together whose copy)."""


# -- shared options ----------------------------------------------------------------------


def store_options(func: F) -> F:
    """Add ``--db``, ``--set`` and ``--config`` to a command."""
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Settings file (default: wiretrace.toml in the current folder).",
    )(func)
    func = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="SECTION.NAME=VALUE",
        help="Override one setting (repeatable); see `wiretrace settings`.",
    )(func)
    func = click.option(
        "--db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Store file (default: wiretrace.duckdb in the current folder).",
    )(func)
    return func


def parse_overrides(values: Iterable[str]) -> dict[str, str]:
    """``["detect.min_similarity=0.7"]`` -> ``{"detect.min_similarity": "0.7"}``."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {value!r}: expected SECTION.NAME=VALUE")
        out[key.strip()] = raw.strip()
    return out


def settings_from_options(overrides: Sequence[str], config_file: Path | None) -> Settings:
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"{config_file}: no such settings file")
    return load_settings(parse_overrides(overrides), config_file=config_file)


def open_from_options(
    db: Path | None,
    overrides: Sequence[str] = (),
    config_file: Path | None = None,
    read_only: bool = False,
) -> Collection:
    """The collection named by the common options."""
    settings = settings_from_options(overrides, config_file)
    return open_collection(db, settings, read_only=read_only)


def echo_json_lines(rows: Iterable[dict[str, Any]]) -> None:
    """One JSON object per line on standard output."""
    for row in rows:
        click.echo(json.dumps(row, ensure_ascii=False))


def _echo_issues(summary: IngestSummary) -> None:
    for issue in [*summary.errors, *summary.warnings]:
        click.echo(str(issue), err=True)


def article_json(article: Article, words: int | None = None) -> dict[str, Any]:
    """The ``wiretrace articles --json`` line of an article (DESIGN.md section 3)."""
    if words is None:
        from wiretrace.text.tokens import word_count

        words = word_count(article.text, article.excluded)
    return {
        "id": article.id,
        "title": article.title,
        "outlet": article.outlet,
        "url": article.url,
        "published": article.published.isoformat() if article.published else None,
        "byline": article.byline,
        "credits": list(article.credits),
        "language": article.language,
        "boilerplate": [[s.start, s.end] for s in article.boilerplate],
        "words": words,
        "kind": article.kind,
        "dateline": article.dateline,
        "section": article.section,
    }


# -- ingest and run ----------------------------------------------------------------------


def _ingest_lines(summary: IngestSummary, db: Path) -> list[str]:
    parts = [
        f"{summary.articles} article{'s' if summary.articles != 1 else ''} ingested",
        f"{len(summary.errors)} failed",
    ]
    reread = f"{summary.refreshed} re-read, " if summary.refreshed else ""
    warnings = len(summary.warnings)
    detail = (
        f"({summary.articles_added} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {reread}{summary.skipped} skipped, "
        f"{warnings} warning{'s' if warnings != 1 else ''})"
    )
    inputs = f"{summary.files} inputs"
    if summary.files_unchanged:  # skipped without reading: unchanged since last ingest
        inputs += f" ({summary.files_unchanged} unchanged, not read again)"
    lines = [f"{', '.join(parts)} -> {db}", f"  {detail} from {inputs}"]
    lines.extend(f"  updated: {id} (version {v})" for id, v in summary.versions)
    return lines


def _share(value: float) -> str:
    return f"{round(value * 100)}%"


def _describe_source(article: Article | None) -> str:
    if article is None:
        return ""
    names = [*article.credits]
    if article.outlet and article.outlet not in names:
        names.append(f"via {article.outlet}" if names else article.outlet)
    return f" ({', '.join(names)})" if names else ""


#: Pairs a run shows (most reused first); `wiretrace pairs` lists them all.
_TOP_PAIRS = 20


def _pair_lines(
    pairs: Sequence[ReusePair], coll: Collection | None = None, limit: int = _TOP_PAIRS
) -> list[str]:
    """The human view of pairs, most reused first (ties by id: deterministic)."""

    def lookup(id: str) -> Article | None:
        if coll is None:
            return None
        try:
            return coll.article(id)
        except WiretraceError:
            return None

    lines: list[str] = []
    for pair in sorted(pairs, key=lambda p: (-p.target_coverage, p.target, p.source))[:limit]:
        target, source = lookup(pair.target), lookup(pair.source)
        title = f'  "{target.title}"' if target is not None and target.title else ""
        lines.append(f"{pair.target}{title}")
        credit = pair.credit.upper().replace("_", " ")
        lines.append(
            f"  reuses {_share(pair.target_coverage)} of its words from "
            f"{pair.source}{_describe_source(source)}: {credit}"
        )
        edits = [e for p in pair.passages for e in p.edits if e.op == "replace"]
        shown = ", ".join(
            f'"{e.source_text}" -> "{e.target_text}" ({e.kind})' for e in edits[:4]
        )
        extra = f"; edits: {shown}" if shown else ""
        n = len(pair.passages)
        lines.append(f"  {n} passage{'s' if n != 1 else ''}{extra}")
        if pair.evidence:
            head = f"  origin {pair.source} ({pair.origin_confidence:.2f}): "
            lines.append(head + pair.evidence[0])
            lines.extend(" " * len(head) + e for e in pair.evidence[1:])
    if len(pairs) > limit:
        lines.append(f"... and {len(pairs) - limit} more pairs (`wiretrace pairs`)")
    return lines


def _exit_for(summary: IngestSummary) -> None:
    if summary.failed:
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local",
              show_default=True, help="Where the pipeline runs (spark: the spark extra).")
@click.option("--master", default=None, metavar="URL",
              help="Spark master URL (spark engine; default local[*]).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Checkpoint folder (spark engine; default: beside the store file).")
@click.option("--stop-after", default=None, metavar="STAGE",
              help="Stop after this stage: ingest, normalize, fingerprint, candidates, "
              "align, attribute.")
def run(
    paths: tuple[str, ...],
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
    as_json: bool,
    engine: str = "local",
    master: str | None = None,
    out: Path | None = None,
    stop_after: str | None = None,
) -> None:
    """Ingest PATH... (files, folders, URLs) and find reuse over the whole store."""
    if engine != "local" or stop_after is not None:
        _run_engine(paths, db, overrides, config_file, as_json, engine, master, out, stop_after)
        return
    with open_from_options(db, overrides, config_file) as coll:
        result: RunSummary = coll.run(paths, progress=make_progress(), top=_TOP_PAIRS)
        _echo_issues(result.ingest)
        if as_json:
            payload = {
                **result.ingest.to_json(),
                "db": str(coll.path),
                "detected": result.detected,
                "pairs": result.pair_count,
                "stories": result.stories,
            }
            click.echo(json.dumps(payload, ensure_ascii=False))
        else:
            for line in _ingest_lines(result.ingest, coll.path):
                click.echo(line)
            if not result.detected:
                click.echo("reuse detection is not available in this installation")
            else:
                n, m = result.pair_count, result.stories
                click.echo(
                    f"{n} reuse pair{'s' if n != 1 else ''}, {m} stor{'ies' if m != 1 else 'y'}"
                )
                for line in _pair_lines(result.pairs, coll):
                    click.echo(line)
    _exit_for(result.ingest)


def _run_engine(
    paths: tuple[str, ...],
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
    as_json: bool,
    engine: str,
    master: str | None,
    out: Path | None,
    stop_after: str | None,
) -> None:
    """``run`` on a chosen engine (see :mod:`wiretrace.engines`). The Spark engine loads
    its results into the store when ``--db`` is given or ``--out`` is not."""
    from wiretrace.engines import RunRequest, get_engine

    settings = settings_from_options(overrides, config_file)
    target = db
    if target is None and (engine == "local" or out is None):
        target = Path("wiretrace.duckdb")
    request = RunRequest(tuple(paths), settings, db=target, out=out, stop_after=stop_after,
                         master=master)
    result = get_engine(engine).run(request, progress=make_progress())
    _echo_issues(result.ingest)
    if as_json:
        click.echo(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        for line in _ingest_lines(result.ingest, result.db or result.out or Path()):
            click.echo(line)
        ran = [s for s, fate in result.stages.items() if fate == "ran"]
        kept = [s for s, fate in result.stages.items() if fate == "skipped"]
        if result.out is not None and engine != "local":
            click.echo(f"  checkpoints in {result.out}: ran {', '.join(ran) or 'none'}; "
                       f"skipped {', '.join(kept) or 'none'} (already done)")
        if result.pairs is not None:
            n = result.pairs
            click.echo(f"{n} reuse pair{'s' if n != 1 else ''}")
            if result.db is not None:
                with open_collection(result.db, settings, read_only=True) as coll:
                    for line in _pair_lines(coll.store.top_pairs(_TOP_PAIRS), coll):
                        click.echo(line)
    _exit_for(result.ingest)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def ingest(
    paths: tuple[str, ...],
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Ingest PATH... (files, folders, URLs) into the store; the detection index and the
    pairs are then updated incrementally (only new or changed articles are aligned)."""
    with open_from_options(db, overrides, config_file) as coll:
        progress = make_progress()
        summary = coll.ingest(paths, progress=progress)
        if coll.can_detect and not coll.pairs_current:
            coll.update(progress)
        _echo_issues(summary)
        if as_json:
            click.echo(json.dumps({**summary.to_json(), "db": str(coll.path)}, ensure_ascii=False))
        else:
            for line in _ingest_lines(summary, coll.path):
                click.echo(line)
    _exit_for(summary)


# -- reading -----------------------------------------------------------------------------


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one article per line.")
def articles(
    db: Path | None, overrides: tuple[str, ...], config_file: Path | None, as_json: bool
) -> None:
    """List the stored articles (sorted by id)."""
    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        for row in coll.store.iter_article_rows(_LISTING_COLUMNS):
            article = _listing_article(row)
            if as_json:
                echo_json_lines([article_json(article, row["words"])])
            else:
                date = article.published.date().isoformat() if article.published else "-"
                click.echo(f"{article.id}\t{date}\t{row['words']}\t{article.title or ''}")


_LISTING_COLUMNS = (
    "id", "title", "outlet", "url", "published", "published_utc_offset", "byline",
    "credits", "language", "excluded", "words", "kind", "dateline", "section",
)


def _listing_article(row: dict[str, Any]) -> Article:
    from wiretrace.store import article_from_row

    return article_from_row({**row, "text": "", "source": None, "links": None,
                             "warnings": None})


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one pair per line.")
def check(
    path: str,
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Compare the article(s) of PATH with the stored collection, without storing
    anything: the pairs each forms, as `pairs` prints them. PATH is any input `ingest`
    reads (a text or Markdown file, an HTML page, a feed, a table, a WARC crawl, an
    http(s) URL), or - for a text on standard input."""
    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        articles = _articles_to_check(path, coll.settings)
        for article in articles:
            found = coll.check(article)
            name = article.id
            if as_json:
                echo_json_lines(p.to_json() for p in found)
            elif not found:
                click.echo(f"{name}: no reuse found in {coll.path}")
            else:
                for p in found:
                    share = p.target_coverage if p.target == name else p.source_coverage
                    other = p.source if p.target == name else p.target
                    role = "reuses" if p.target == name else "is reused by"
                    click.echo(f"{name} {role} {other}: {len(p.passages)} passages, "
                               f"{_share(share)} of its words ({p.credit})")


def _articles_to_check(path: str, settings: Settings) -> list[Article]:
    """The non-empty articles of ``path`` read as ``ingest`` reads it (standard input:
    one text); warnings go to standard error; IngestError when it holds none."""
    from wiretrace.ingest import discover
    from wiretrace.ingest.decode import decode_bytes
    from wiretrace.ingest.textfile import is_empty, parse_text
    from wiretrace.ingest.work import read_one

    if path == "-":
        data = click.get_binary_stream("stdin").read()
        text, _ = decode_bytes(data, path)
        records: list[Article | IngestIssue] = [
            parse_text(text, "-", None, "text", settings.ingest)
        ]
    else:
        records = []
        for src in discover([path], settings.ingest):
            if isinstance(src, IngestIssue):
                raise IngestError(src.input, src.reason)
            records.extend(read_one(src, settings.ingest))
    articles = [r for r in records if isinstance(r, Article) and not is_empty(r)]
    for issue in (r for r in records if isinstance(r, IngestIssue)):
        if issue.severity == "error" and not articles:
            raise IngestError(issue.input, issue.reason)
        click.echo(str(issue), err=True)
    if not articles:
        raise IngestError(path, "no article text to compare")
    return articles


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one pair per line.")
def pairs(
    db: Path | None, overrides: tuple[str, ...], config_file: Path | None, as_json: bool
) -> None:
    """List the stored reuse pairs (sorted by source, target)."""
    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        found = list(coll.pairs())
        if as_json:
            echo_json_lines(p.to_json() for p in found)
        else:
            for line in _pair_lines(found, coll, limit=len(found) or 1):
                click.echo(line)


@main.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one story per line.")
def stories(
    db: Path | None, overrides: tuple[str, ...], config_file: Path | None, as_json: bool
) -> None:
    """List the stored stories (earliest first): articles about one event."""
    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        if as_json:
            echo_json_lines(s.to_json() for s in coll.stories())
            return
        from wiretrace.story_store import story_states

        for state, title in story_states(coll.store):
            span = state.start.date().isoformat() if state.start else "-"
            n = len(state.members)
            click.echo(f"{state.id}\t{span}\t{n} article{'s' if n != 1 else ''}\t{title}")


@main.command()
@click.argument("id")
@store_options
def story(id: str, db: Path | None, overrides: tuple[str, ...], config_file: Path | None) -> None:
    """Show story ID: timeline of its articles, reuse inside it, facts (conflicts first)."""
    from rich.console import Console

    from wiretrace.report.story_view import render_story

    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        found = coll.story(id)
        members = {a: coll.article(a) for a in found.articles}
        render_story(found, members, Console())


@main.command()
@click.argument("ids", nargs=-1, required=True)
@store_options
def remove(
    ids: tuple[str, ...], db: Path | None, overrides: tuple[str, ...], config_file: Path | None
) -> None:
    """Delete articles (by id) and every pair and passage derived from them."""
    with open_from_options(db, overrides, config_file) as coll:
        for id in ids:
            coll.remove(id)
            click.echo(f"removed {id}")


@main.command("settings")
@click.option("--markdown", is_flag=True, help="A Markdown table (for the README).")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: name, default, value, help.")
@click.option("--set", "overrides", multiple=True, metavar="SECTION.NAME=VALUE",
              help="Show the values with these overrides applied.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Settings file (default: wiretrace.toml).")
def settings_command(
    markdown: bool, as_json: bool, overrides: tuple[str, ...], config_file: Path | None
) -> None:
    """List every setting with its default and what it does.

    Set them in wiretrace.toml ([section] name = value), as WIRETRACE_SECTION_NAME
    environment variables, or with --set section.name=value (in rising precedence).
    """
    current = {name: value for name, value, _ in describe(
        settings_from_options(overrides, config_file))}
    rows = describe()
    if markdown:
        click.echo("| Setting | Default | What it does |")
        click.echo("|---|---|---|")
        for name, default, help_text in rows:
            click.echo(f"| `{name}` | `{_show(default)}` | {help_text} |")
    elif as_json:
        echo_json_lines(
            {"name": n, "default": d, "value": current[n], "help": h} for n, d, h in rows
        )
    else:
        for name, default, help_text in rows:
            value = current[name]
            now = "" if value == default else f"  (now {_show(value)})"
            click.echo(f"{name} = {_show(default)}{now}\n    {help_text}")


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- provenance views (show, report, export of the reuse graph) -------------------------


@main.command()
@click.argument("a")
@click.argument("b")
@store_options
def show(
    a: str, b: str, db: Path | None, overrides: tuple[str, ...], config_file: Path | None
) -> None:
    """Show the reuse pair of articles A and B side by side (either order)."""
    from rich.console import Console

    from wiretrace.analyze.patchwork import patchwork
    from wiretrace.errors import NotFound
    from wiretrace.report.terminal import render_pair

    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        article_a, article_b = coll.article(a), coll.article(b)
        every = list(coll.pairs())
        found = [p for p in every if {p.source, p.target} == {a, b}]
        if not found:
            raise NotFound(f"{a} and {b}: no reuse pair between them")
        target = article_b if found[0].target == b else article_a
        work = patchwork(target, every, settings=coll.settings)
        render_pair(found[0], article_a, article_b, Console(), work)


@main.command()
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Write one self-contained HTML report to this file.",
)
@store_options
def report(
    html_path: Path, db: Path | None, overrides: tuple[str, ...], config_file: Path | None
) -> None:
    """Write the collection's reuse report (summary, pairs, patchworks, side by side)."""
    from wiretrace.analyze.patchwork import patchwork
    from wiretrace.report.html import write_html_report

    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        articles = list(coll.articles())
        found = list(coll.pairs())
        targets = {p.target for p in found} | {
            p.source for p in found for x in p.passages if x.origin == p.target
        }
        works = [
            patchwork(art, found, settings=coll.settings) for art in articles if art.id in targets
        ]
        write_html_report(html_path, articles, found, works)
    click.echo(f"report: {len(articles)} articles, {len(found)} pairs -> {html_path}")


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["graphml", "json", "parquet", "csv", "jsonl"]),
    required=True,
    help="graphml (Gephi, networkx) or json (node-link, with the outlet summary): the "
    "reuse graph in one file; parquet, csv or jsonl: the tables pairs, passages, edits "
    "and outlets, one file each in the --out folder.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    required=True,
    help="File to write (graphml, json) or folder (parquet, csv, jsonl; created if needed).",
)
@store_options
def export(
    fmt: str,
    out_path: Path,
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
) -> None:
    """Export the reuse graph (articles and outlets as nodes, reuse as directed edges) or
    the reuse tables."""
    from wiretrace.analyze.graph import build_graph
    from wiretrace.report.tables import TABLE_FORMATS, outlet_table, write_tables

    with open_from_options(db, overrides, config_file, read_only=True) as coll:
        graph = build_graph(coll.articles(), list(coll.pairs()))
        if fmt in TABLE_FORMATS:
            tables = {
                name: coll.store.query(f"SELECT * FROM {name} ORDER BY {order}")  # noqa: S608
                for name, order in (
                    ("pairs", "source, target"),
                    ("passages", "source, target, passage"),
                    ("edits", "source, target, passage, edit"),
                )
            }
    if fmt in TABLE_FORMATS:
        tables["outlets"] = outlet_table(graph.outlets)
        written = write_tables(tables, out_path, fmt)
        counts = ", ".join(f"{t.num_rows} {name}" for name, t in tables.items())
        click.echo(f"reuse tables: {counts} -> {', '.join(str(p) for p in written)}")
        return
    if out_path.is_dir():
        raise WiretraceError(f"{out_path}: a folder; --format {fmt} writes one file")
    if fmt == "graphml":
        graph.to_graphml(out_path)
    else:
        out_path.write_text(json.dumps(graph.to_json(), ensure_ascii=False, indent=1), "utf-8")
    click.echo(f"reuse graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges -> {out_path}")


@main.group("eval")
def eval_group() -> None:
    """Score wiretrace on external benchmarks."""


@eval_group.command("pan")
@click.argument("corpus_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the detection XML files (one per pair; created if needed).",
)
@click.option("--set", "overrides", multiple=True, metavar="SECTION.NAME=VALUE",
              help="Override one setting (repeatable); see `wiretrace settings`.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Settings file (default: wiretrace.toml in the current folder).")
def eval_pan(
    corpus_dir: Path, out_dir: Path, overrides: tuple[str, ...], config_file: Path | None
) -> None:
    """Align every pair of a PAN text-alignment corpus (src/, susp/, pairs, truth folders),
    write PAN detection XML into --out, and print precision, recall, granularity and
    plagdet per obfuscation folder and overall."""
    from wiretrace.evaluation.pan import format_scores, run_pan

    settings = settings_from_options(overrides, config_file)
    click.echo(format_scores(run_pan(corpus_dir, out_dir, settings, make_progress())))


# -- the web viewer and HTTP API -------------------------------------------------------


@main.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on; anything but loopback needs --token.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--token", envvar="WIRETRACE_TOKEN", default=None,
              help="Every request must carry it (Authorization: Bearer TOKEN, or ?token= "
                   "once in a browser); required off loopback. Env: WIRETRACE_TOKEN.")
def serve(
    db: Path | None,
    overrides: tuple[str, ...],
    config_file: Path | None,
    host: str,
    port: int,
    token: str | None,
) -> None:
    """Serve the web viewer and the JSON API (under /api) over the store, read-only.

    Keeps answering while `wiretrace ingest` or `run` writes the store: it reads a
    snapshot that writers refresh after each commit (see docs/architecture.md).
    """
    from wiretrace.store import DEFAULT_DB
    from wiretrace.web.app import serve as run_server

    settings = settings_from_options(overrides, config_file)
    path = db if db is not None else Path(DEFAULT_DB)
    click.echo(f"wiretrace: serving {path} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(path, settings, host=host, port=port, token=token or None)
