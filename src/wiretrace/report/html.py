"""``wiretrace report --html FILE``: one self-contained HTML report of a collection.

The file has inline CSS, no script and no external reference (nothing is fetched when it
is viewed): a collection summary (articles, pairs, credit counts, outlet-level reuse),
the pairs, the patchwork of each reusing article (its text with each sentence coloured
by the article it comes from, novel sentences plain, boilerplate greyed), and each pair
side by side with edits highlighted by kind.

Everything taken from articles (ids, titles, text, URLs, outlet names) goes through
Jinja2's autoescaping; URLs become links only when they are http(s). Hostile HTML in an
article (``<script>``, ``onerror=``, ``javascript:`` links) is therefore shown as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2

from wiretrace.analyze.graph import build_graph, outlet_of
from wiretrace.models import Article, Passage, ReusePair

if TYPE_CHECKING:
    from wiretrace.analyze.patchwork import Patchwork

__all__ = ["Segment", "render_html_report", "write_html_report"]

#: Edit kind -> background colour (the same meaning as the terminal view).
EDIT_COLOURS: dict[str, str] = {
    "alias": "#7fdbff",
    "synonym": "#ffe066",
    "spelling": "#e599f7",
    "number": "#ff8787",
    "other": "#8ce99a",
}
_SOURCE_COLOURS = (
    "#ffd8a8", "#a5d8ff", "#b2f2bb", "#fcc2d7", "#d0bfff",
    "#ffec99", "#99e9f2", "#c0eb75", "#eebefa", "#ffc9c9",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text to show with a CSS class (``""``: plain) and a tooltip."""

    text: str
    css: str = ""
    title: str = ""


def _edit_segments(p: Passage, source_side: bool) -> list[Segment]:
    base = p.source_start if source_side else p.target_start
    body = p.source_text if source_side else p.target_text
    marks: list[tuple[int, int, str, str]] = []
    for e in p.edits:
        lo, hi = (e.source_start, e.source_end) if source_side else (e.target_start, e.target_end)
        if hi > lo:
            other = e.target_text if source_side else e.source_text
            tip = f"{e.kind} {e.op}: " + (f"{other!r}" if other else "(nothing)")
            marks.append((lo - base, hi - base, f"edit {e.kind} {e.op}", tip))
    return _fill(body, sorted(marks))


def _fill(text: str, marks: Sequence[tuple[int, int, str, str]]) -> list[Segment]:
    segments: list[Segment] = []
    pos = 0
    for mark_lo, hi, css, tip in marks:
        lo = max(mark_lo, pos)
        if hi <= lo:
            continue
        if lo > pos:
            segments.append(Segment(text[pos:lo]))
        segments.append(Segment(text[lo:hi], css, tip))
        pos = hi
    if pos < len(text):
        segments.append(Segment(text[pos:]))
    return segments


def _patchwork_segments(
    article: Article, work: Patchwork, colours: Mapping[str, int]
) -> list[Segment]:
    marks: list[tuple[int, int, str, str]] = []
    for span in article.excluded:
        marks.append((span.start, span.end, "boiler", span.kind))
    for s in work.sentences:
        if s.source is None:
            marks.append((s.start, s.end, "novel", "own material"))
        else:
            marks.append((s.start, s.end, f"src{colours[s.source]}", f"from {s.source}"))
    return _fill(article.text, sorted(marks))


def _safe_url(url: str | None) -> str | None:
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("wiretrace.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html_report(
    articles: Iterable[Article],
    pairs: Sequence[ReusePair],
    patchworks: Iterable[Patchwork] = (),
    title: str = "wiretrace report",
) -> str:
    """The report as one HTML string (see the module docstring)."""
    by_id = {a.id: a for a in articles}
    works = [w for w in patchworks if w.by_source and w.article in by_id]
    sources = sorted({s for w in works for s in w.by_source})
    colours = {s: i % len(_SOURCE_COLOURS) for i, s in enumerate(sources)}
    graph = build_graph(by_id.values(), pairs)
    pair_views = []
    for n, pair in enumerate(pairs, start=1):
        pair_views.append(
            {
                "n": n,
                "pair": pair,
                "source": by_id.get(pair.source),
                "target": by_id.get(pair.target),
                "passages": [
                    {
                        "p": p,
                        "left": _edit_segments(p, source_side=True),
                        "right": _edit_segments(p, source_side=False),
                        "edits": list(p.edits),
                    }
                    for p in pair.passages
                ],
            }
        )
    work_views = [
        {
            "work": w,
            "article": by_id[w.article],
            "segments": _patchwork_segments(by_id[w.article], w, colours),
            "shares": sorted(w.source_shares().items(), key=lambda kv: -kv[1]),
        }
        for w in works
    ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=title,
        generated=datetime.now(UTC).isoformat(timespec="seconds"),
        articles=list(by_id.values()),
        outlet_of=outlet_of,
        safe_url=_safe_url,
        pairs=pair_views,
        works=work_views,
        outlets=graph.outlets,
        counts={
            "credited": sum(p.credit == "credited" for p in pairs),
            "uncredited": sum(p.credit == "uncredited" for p in pairs),
            "credited_elsewhere": sum(p.credit == "credited_elsewhere" for p in pairs),
        },
        colours=colours,
        source_colours=_SOURCE_COLOURS,
        edit_colours=EDIT_COLOURS,
    )


def write_html_report(
    path: str | Path,
    articles: Iterable[Article],
    pairs: Sequence[ReusePair],
    patchworks: Iterable[Patchwork] = (),
) -> Path:
    """Write the report to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(render_html_report(articles, pairs, patchworks), encoding="utf-8")
    return out
