"""The HTML viewer: server-rendered pages over the same reads as the API.

Pages: overview (``/``), articles and search (``/articles?q=``), one article
(``/article/{id}``: metadata, text with its patchwork coloured by source, boilerplate
greyed, novel sentences marked), pairs (``/pairs``), one pair (``/pair?a=&b=``: passages
side by side with edits highlighted by kind, origin with evidence, credit, the reuser's
patchwork), stories (``/stories``, ``/story/{id}``: timeline, reuse graph, facts with
conflicts first), and the check form (``/check``).

Templates are Jinja2 with autoescaping on for every template, so article text, titles,
ids and URLs are always text, never markup; links to articles' own URLs are made only
for http(s) URLs. Highlighting reuses the one-file report's pieces
(:mod:`wiretrace.report.html`: segments, edit and source colours).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from wiretrace.analyze.graph import outlet_of
from wiretrace.analyze.patchwork import Patchwork
from wiretrace.errors import IngestError
from wiretrace.models import Article, ReusePair
from wiretrace.report.html import (
    _SOURCE_COLOURS,
    EDIT_COLOURS,
    _edit_segments,
    _patchwork_segments,
    _safe_url,
)
from wiretrace.web import data
from wiretrace.web.api import MAX_OFFSET, page_window
from wiretrace.web.app import WebState
from wiretrace.web.check import INPUT_ID, run_check

__all__ = ["render_error", "router"]

router = APIRouter(include_in_schema=False)


def article_url(id: str) -> str:
    """The viewer's page of article ``id`` (any characters: slashes, #, ?)."""
    return "/article/" + quote(id, safe="")


def pair_url(a: str, b: str) -> str:
    return "/pair?" + urlencode({"a": a, "b": b})


def story_url(id: str) -> str:
    return "/story/" + quote(id, safe="")


def _share(value: float) -> str:
    return f"{round(value * 100)}%"


def _when(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    text = value.strftime("%Y-%m-%d %H:%M")
    return text if value.tzinfo is not None else f"{text} (no timezone)"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("wiretrace.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        article_url=article_url, pair_url=pair_url, story_url=story_url, share=_share,
        when=_when, safe_url=_safe_url, outlet_of=outlet_of, edit_colours=EDIT_COLOURS,
        input_id=INPUT_ID,
    )  # fmt: skip
    return env


_ENV = _environment()
for _name in _ENV.list_templates():  # compile now, not under the first requests
    _ENV.get_template(_name)


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from ``templates/<template>`` (autoescaped)."""
    html = _ENV.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status)


def render_error(status: int, code: str, message: str) -> HTMLResponse:
    """The error page: the API's code and message, for people."""
    return render("error.html", status=status, status_code=status, code=code, message=message)


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


# -- view models -------------------------------------------------------------------------


def _colours(sources: Sequence[str]) -> dict[str, int]:
    """Source article id -> colour index (``src<n>`` CSS classes)."""
    return {s: i % len(_SOURCE_COLOURS) for i, s in enumerate(sorted(sources))}


def patchwork_view(article: Article, work: Patchwork) -> dict[str, Any]:
    """What the patchwork macro draws: coloured segments, legend, novel sentences."""
    colours = _colours(list(work.by_source))
    return {
        "article": article,
        "work": work,
        "segments": _patchwork_segments(article, work, colours),
        "shares": sorted(work.source_shares().items(), key=lambda kv: (-kv[1], kv[0])),
        "colours": colours,
        "novel": list(work.novel),
    }


def pair_rows(pair: ReusePair) -> list[dict[str, Any]]:
    """Each passage side by side with its edits as segments, and its rank on each side
    (a reordered passage has different ranks)."""
    by_target = sorted(range(len(pair.passages)), key=lambda i: pair.passages[i].target_start)
    target_rank = {i: n for n, i in enumerate(by_target, start=1)}
    return [
        {
            "p": p,
            "n": i + 1,
            "target_rank": target_rank[i],
            "left": _edit_segments(p, source_side=True),
            "right": _edit_segments(p, source_side=False),
        }
        for i, p in enumerate(pair.passages)
    ]


def _edit_counts(pair: ReusePair) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in pair.passages:
        for e in p.edits:
            counts[e.kind] = counts.get(e.kind, 0) + 1
    return dict(sorted(counts.items()))


def _pager(request: Request, page: data.Page) -> dict[str, str | None]:
    def link(offset: int | None) -> str | None:
        if offset is None:
            return None
        params = dict(request.query_params)
        params["offset"] = str(offset)
        return f"{request.url.path}?{urlencode(params)}"

    previous = max(0, page.offset - page.limit) if page.offset > 0 else None
    return {"previous": link(previous), "next": link(page.next_offset)}


# -- pages -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview_page(request: Request) -> HTMLResponse:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        found: data.Overview = state.source.cached(
            cache, "overview", lambda: data.overview(coll, state.settings.serve.top)
        )
        recent: data.Page = state.source.cached(
            cache, "recent", lambda: data.pair_page(coll, 10, 0)
        )
    return render("overview.html", o=found, recent=recent.items, status_info=state.source.status())


@router.get("/articles", response_class=HTMLResponse)
def articles_page(
    request: Request,
    q: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    state = _state(request)
    size, start = page_window(state, None, offset)
    query = (q or "").strip()
    with state.source.collection() as (coll, cache):
        page: data.Page = state.source.cached(
            cache, ("articles", query, size, start),
            lambda: data.search_page(coll, query, size, start) if query
            else data.article_rows(coll, size, start),
        )  # fmt: skip
    return render("articles.html", page=page, q=query, pager=_pager(request, page))


@router.get("/article/{id:path}", response_class=HTMLResponse)
def article_page(request: Request, id: str) -> HTMLResponse:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        view: data.ArticleView = state.source.cached(
            cache, ("article", id), lambda: data.article_view(coll, id)
        )
    reuses = [p for p in view.pairs if p.target == id]
    reused_by = [p for p in view.pairs if p.source == id]
    return render(
        "article.html", v=view, a=view.article, reuses=reuses, reused_by=reused_by,
        pw=patchwork_view(view.article, view.patchwork),
    )  # fmt: skip


@router.get("/pairs", response_class=HTMLResponse)
def pairs_page(
    request: Request,
    credit: Annotated[str | None, Query(pattern="^(credited|uncredited|credited_elsewhere)$")]
    = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> HTMLResponse:
    state = _state(request)
    size, start = page_window(state, None, offset)
    with state.source.collection() as (coll, _):
        page = data.pair_page(coll, size, start, credit=credit)
        titles = _titles(coll, {x for p in page.items for x in (p.source, p.target)})
    return render(
        "pairs.html", page=page, credit=credit, titles=titles, pager=_pager(request, page)
    )


def _titles(coll: Any, ids: set[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    rows = coll.store.query(
        "SELECT id, title FROM articles WHERE list_contains(?, id)", [sorted(ids)]
    ).to_pylist()
    return {r["id"]: r["title"] for r in rows}


@router.get("/pair", response_class=HTMLResponse)
def pair_page(
    request: Request, a: Annotated[str, Query()], b: Annotated[str, Query()]
) -> HTMLResponse:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        view: data.PairView = state.source.cached(
            cache, ("pair", a, b), lambda: data.pair_view(coll, a, b)
        )
    pair = view.pair
    return render(
        "pair.html", pair=pair, source=view.source, target=view.target, rows=pair_rows(pair),
        edit_counts=_edit_counts(pair), pw=patchwork_view(view.target, view.target_patchwork),
    )  # fmt: skip


# -- stories -----------------------------------------------------------------------------


@router.get("/stories", response_class=HTMLResponse)
def stories_page(
    request: Request, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
) -> HTMLResponse:
    state = _state(request)
    size, start = page_window(state, None, offset)
    with state.source.collection() as (coll, cache):
        found: data.Page | None = state.source.cached(
            cache, ("stories", size, start), lambda: data.story_page(coll, size, start)
        )
    page = found or data.Page([], 0, size, start)
    return render("stories.html", page=page, none=found is None, pager=_pager(request, page))


@router.get("/story/{id}", response_class=HTMLResponse)
def story_page(request: Request, id: str) -> HTMLResponse:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        story: dict[str, Any] = state.source.cached(
            cache, ("story", id), lambda: data.story_json(coll, id)
        )
    members = [str(a) for a in story.get("articles") or []]
    with state.source.collection() as (coll, _):
        rows = coll.store.query(
            "SELECT id, title, outlet, published, published_utc_offset FROM articles "
            "WHERE list_contains(?, id)", [members],
        ).to_pylist()  # fmt: skip
        edges = coll.store.query(
            "SELECT source, target, credit FROM pairs WHERE list_contains(?, source) "
            "AND list_contains(?, target) ORDER BY source, target", [members, members],
        ).to_pylist()  # fmt: skip
    info = {r["id"]: {**r, "published": data.published_of(r)} for r in rows}
    facts = sorted(story.get("facts") or [], key=lambda f: (bool(f.get("agree")), f["fact"]))
    return render(
        "story.html", s=story, facts=facts, info=info,
        timeline=_timeline(members, info), graph=_graph(members, edges, story),
    )  # fmt: skip


def _timeline(members: Sequence[str], info: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Dated members placed on a 0..1 axis by publication time; undated listed apart."""
    dated = [(info[m]["published"], m) for m in members if m in info and info[m]["published"]]
    dated.sort(key=lambda x: (_instant(x[0]), x[1]))
    undated = [m for m in members if m not in {d[1] for d in dated}]
    if not dated:
        return {"points": [], "undated": undated, "start": None, "end": None}
    lo = _instant(dated[0][0])
    span = (_instant(dated[-1][0]) - lo).total_seconds()

    def x(t: datetime) -> float:  # labels are centred: keep them inside the 800 px
        return 90 + 620 * (_instant(t) - lo).total_seconds() / span if span else 400

    points = [{"id": m, "when": t, "x": x(t), "row": i % 3} for i, (t, m) in enumerate(dated)]
    return {"points": points, "undated": undated, "start": dated[0][0], "end": dated[-1][0]}


def _instant(t: datetime) -> datetime:
    """``t`` on one naive axis: a time with an offset as UTC (10:00+02:00 comes before
    09:00+00:00), a time without one as it stands."""
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def _graph(
    members: Sequence[str], edges: Sequence[Mapping[str, Any]], story: Mapping[str, Any]
) -> dict[str, Any]:
    """Members on a circle; reuse pairs as arrows (origin to reuser), other links of the
    story (same event, no shared text) as faint lines when there are few."""
    shown = list(members)[:60]
    n = len(shown)
    radius = 40 + 12 * n if n > 2 else 120
    size = 2 * radius + 160
    pos = {
        m: (size / 2 + radius * math.cos(2 * math.pi * i / max(n, 1) - math.pi / 2),
            size / 2 + radius * math.sin(2 * math.pi * i / max(n, 1) - math.pi / 2))
        for i, m in enumerate(shown)
    }  # fmt: skip
    arrows = [
        {"a": pos[e["source"]], "b": _short(pos[e["source"]], pos[e["target"]]),
         "credit": e["credit"], "source": e["source"], "target": e["target"]}
        for e in edges if e["source"] in pos and e["target"] in pos
    ]  # fmt: skip
    reused = {frozenset((e["source"], e["target"])) for e in edges}
    links = [
        {"a": pos[x], "b": pos[y]}
        for x, y, *_ in (story.get("links") or [])[:300]
        if x in pos and y in pos and frozenset((x, y)) not in reused
    ]
    nodes = [{"id": m, "x": x, "y": y} for m, (x, y) in pos.items()]
    return {"size": size, "nodes": nodes, "arrows": arrows, "links": links,
            "hidden": len(members) - n}  # fmt: skip


def _short(a: tuple[float, float], b: tuple[float, float], by: float = 14.0) -> tuple[float, float]:
    """``b`` moved ``by`` towards ``a`` (the arrow head stops at the node's edge)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = math.hypot(dx, dy) or 1.0
    return (b[0] - dx / d * by, b[1] - dy / d * by)


# -- check -------------------------------------------------------------------------------


@router.get("/check", response_class=HTMLResponse)
def check_form(request: Request) -> HTMLResponse:
    return render("check.html", result=None, text="", title="", error=None)


@router.post("/check", response_class=HTMLResponse)
async def check_submit(request: Request) -> HTMLResponse:
    """The form posts ``application/x-www-form-urlencoded`` (size-limited upstream)."""
    body = (await request.body()).decode("utf-8", "replace")
    try:
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=10)
    except ValueError:  # more fields than the form has: not this form
        return render("check.html", status=400, result=None, text="", title="",
                      error="form: more fields than the check form sends")  # fmt: skip
    text = (fields.get("text") or [""])[0]
    title = (fields.get("title") or [""])[0]
    state = _state(request)
    try:
        result = await run_in_threadpool(run_check, state, text, title, "text")
    except IngestError as exc:
        return render("check.html", status=400, result=None, text=text, title=title,
                      error=str(exc))  # fmt: skip
    checked = [(p, pair_rows(p)) for p in result.pairs]
    return render(
        "check.html", result=result, checked=checked, text=text, title=title, error=None,
        pw=patchwork_view(result.article, result.patchwork),
    )  # fmt: skip


@router.get("/colours.css")
def colours_css() -> Response:
    """Edit-kind and source colours, from the report's palette (one definition)."""
    lines = [f".edit.{k} {{ background: {c}; }}" for k, c in EDIT_COLOURS.items()]
    lines += [f".src{i} {{ background: {c}; }}" for i, c in enumerate(_SOURCE_COLOURS)]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/css",
                             headers={"cache-control": "max-age=3600"})  # fmt: skip

