"""The JSON API under ``/api``: overview, articles, search, pairs, passages, stories, check.

Listings are paged: ``limit`` (default ``serve.page_size``, at most
``serve.max_page_size``) and ``offset``; the answer is ``{"items", "total", "limit",
"offset", "next"}`` (``next``: the offset of the next page, or null). Objects use the
field names of the CLI's JSON (DESIGN.md section 3): a pair is a ``wiretrace pairs
--json`` line, an article a ``wiretrace articles --json`` line plus its text. Errors:
``{"error": {"code", "message"}}`` with the matching status (400, 401, 404, 413, 503).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from wiretrace.cli import article_json
from wiretrace.errors import ConfigError
from wiretrace.web import data
from wiretrace.web.app import WebState
from wiretrace.web.check import run_check

__all__ = ["router"]


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable: bad_request, not_found, too_large, ...")
    message: str = Field(description="One line for people.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class CheckRequest(BaseModel):
    """An article to compare with the collection (never stored)."""

    text: str = Field(
        description="The article as a .txt file holds it: the first line is its title, "
        "unless `title` is given. Offsets on the input's side of the answer count "
        "characters of the answer's `input.text` (`text` itself, or the title line, a "
        "blank line and `text`)."
    )
    title: str | None = Field(
        default=None, description="Its title, when `text` is the body only."
    )
    kind: Literal["text", "markdown"] = "text"


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad parameter"},
    404: {"model": ErrorBody, "description": "No such article, pair or story"},
    503: {"model": ErrorBody, "description": "No snapshot yet, or too busy"},
}

router = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)

Limit = Annotated[int | None, Query(ge=1, description="Items per page.")]
#: Largest offset accepted (the store counts in signed 64-bit integers).
MAX_OFFSET = 2**62
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def _state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def page_window(state: WebState, limit: int | None, offset: int) -> tuple[int, int]:
    """``(limit, offset)`` with the default page size; :class:`ConfigError` (400) for a
    limit over ``serve.max_page_size``."""
    serve = state.settings.serve
    if limit is None:
        return serve.page_size, offset
    if limit > serve.max_page_size:
        raise ConfigError(f"limit: at most {serve.max_page_size} (serve.max_page_size)")
    return limit, offset


def _page_json(page: data.Page, items: list[Any]) -> dict[str, Any]:
    return {
        "items": items,
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next": page.next_offset,
    }


@router.get("/health", summary="Liveness and the age of the snapshot served")
def health(request: Request) -> dict[str, Any]:
    return {"ok": True, **_state(request).source.status()}


@router.get("/overview", summary="Counts, credit, top sources, reusers and outlets")
def overview(request: Request) -> dict[str, Any]:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        found: data.Overview = state.source.cached(
            cache, "overview", lambda: data.overview(coll, state.settings.serve.top)
        )
        return found.to_json()


@router.get("/articles", summary="Articles by id, or those matching a search")
def articles(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="Search titles and text.")]
    = None,
    limit: Limit = None,
    offset: Offset = 0,
) -> dict[str, Any]:
    state = _state(request)
    size, start = page_window(state, limit, offset)
    query = (q or "").strip()
    with state.source.collection() as (coll, cache):
        page: data.Page = state.source.cached(
            cache, ("articles", query, size, start),
            lambda: data.search_page(coll, query, size, start) if query
            else data.article_rows(coll, size, start),
        )  # fmt: skip
    return _page_json(page, [r.to_json() for r in page.items])


@router.get("/articles/{id:path}", summary="One article: metadata, text, pairs, patchwork")
def article(request: Request, id: str) -> dict[str, Any]:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        view: data.ArticleView = state.source.cached(
            cache, ("article", id), lambda: data.article_view(coll, id)
        )
    # a wire story reprinted by hundreds: the first page of each list here, every pair
    # through /api/pairs?article=ID (paged)
    size = state.settings.serve.page_size
    reuses = [p for p in view.pairs if p.target == id]
    reused_by = [p for p in view.pairs if p.source == id]
    return {
        **article_json(view.article, view.words),
        "text": view.article.text,
        "versions": view.versions,
        "reuses": [_pair_summary(p) for p in reuses[:size]],
        "reuses_total": len(reuses),
        "reused_by": [_pair_summary(p) for p in reused_by[:size]],
        "reused_by_total": len(reused_by),
        "pairs_url": f"/api/pairs?article={quote(id, safe='')}",
        "patchwork": view.patchwork.to_json(),
    }


def _pair_summary(pair: Any) -> dict[str, Any]:
    out = pair.to_json()
    out["passages"] = len(pair.passages)
    return dict(out)


@router.get("/pairs", summary="Reuse pairs with passages and edits, most reused first")
def pairs(
    request: Request,
    article: Annotated[str | None, Query(description="Only this article's pairs.")] = None,
    credit: Annotated[
        Literal["credited", "uncredited", "credited_elsewhere"] | None,
        Query(description="Only pairs with this credit status."),
    ] = None,
    limit: Limit = None,
    offset: Offset = 0,
) -> dict[str, Any]:
    state = _state(request)
    size, start = page_window(state, limit, offset)
    with state.source.collection() as (coll, _):
        page = data.pair_page(coll, size, start, article=article, credit=credit)
    return _page_json(page, [p.to_json() for p in page.items])


@router.get("/pair", summary="The pair between articles a and b (either order)")
def pair(
    request: Request,
    a: Annotated[str, Query(description="One article id.")],
    b: Annotated[str, Query(description="The other article id.")],
) -> dict[str, Any]:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        view: data.PairView = state.source.cached(
            cache, ("pair", a, b), lambda: data.pair_view(coll, a, b)
        )
    return {**view.pair.to_json(), "target_patchwork": view.target_patchwork.to_json()}


@router.get("/passages", summary="Aligned passages of every pair (or one article's)")
def passages(
    request: Request,
    article: Annotated[str | None, Query(description="Only this article's passages.")] = None,
    limit: Limit = None,
    offset: Offset = 0,
) -> dict[str, Any]:
    state = _state(request)
    size, start = page_window(state, limit, offset)
    with state.source.collection() as (coll, _):
        page = data.passage_page(coll, size, start, article=article)
    return _page_json(page, page.items)


@router.get("/stories", summary="Stories: articles about one event, largest first")
def stories(request: Request, limit: Limit = None, offset: Offset = 0) -> dict[str, Any]:
    state = _state(request)
    size, start = page_window(state, limit, offset)
    with state.source.collection() as (coll, cache):
        page: data.Page | None = state.source.cached(
            cache, ("stories", size, start), lambda: data.story_page(coll, size, start)
        )
    if page is None:
        page = data.Page([], 0, size, start)
    return _page_json(page, page.items)


@router.get("/stories/{id}", summary="One story: articles, span, entities, facts")
def story(request: Request, id: str) -> dict[str, Any]:
    state = _state(request)
    with state.source.collection() as (coll, cache):
        found: dict[str, Any] = state.source.cached(
            cache, ("story", id), lambda: data.story_json(coll, id)
        )
    return found


@router.post(
    "/check",
    summary="Compare a pasted article with the collection (nothing is stored)",
    responses={413: {"model": ErrorBody, "description": "Body over serve.max_request_bytes"}},
)
def check(request: Request, body: CheckRequest) -> dict[str, Any]:
    state = _state(request)
    result = run_check(state, body.text, body.title, body.kind)
    return result.to_json()
