"""What a story shows: label, time span, entities, reuse inside it, and its facts table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import combinations

from wiretrace.analyze.facts import Fact, compare_facts, entity_names, extract_facts
from wiretrace.analyze.stories import StoryState
from wiretrace.models import Article, ReusePair

__all__ = ["Story", "summarize_story"]


@dataclass(frozen=True, slots=True)
class Story:
    """One story: articles about one event, with what they state.

    ``links`` lists every pair of its articles as ``(a, b, "reuse")`` where they share
    text (a reuse pair exists) or ``(a, b, "independent")`` otherwise.
    """

    id: str
    title: str
    articles: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    entities: Mapping[str, Sequence[str]]
    facts: tuple[Fact, ...]
    links: tuple[tuple[str, str, str], ...]

    def to_json(self) -> dict[str, object]:
        """The ``wiretrace stories --json`` line (DESIGN.md section 3)."""
        return {
            "story": self.id,
            "title": self.title,
            "articles": list(self.articles),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "entities": {k: list(v) for k, v in self.entities.items()},
            "facts": [f.to_json() for f in self.facts],
            "links": [list(link) for link in self.links],
        }


def _label(state: StoryState, articles: Mapping[str, Article]) -> str:
    """The title of the member closest to the story's centroid, else its top terms."""
    top = state.norm_top(30)
    best, best_score = None, -1.0
    for aid in state.members:
        art = articles.get(aid)
        if art is None or not art.title:
            continue
        words = {w.lower().strip(".,:;'\"") for w in art.title.split()}
        score = sum(top.get(w, 0.0) for w in words) / (1 + 0.05 * len(words))
        if score > best_score:
            best, best_score = art.title, score
    return best or " ".join(list(top)[:5])


def summarize_story(
    state: StoryState,
    articles: Mapping[str, Article],
    pairs: Sequence[ReusePair],
    max_links: int = 2000,
) -> Story:
    """Build the :class:`Story` of ``state`` from its articles and the reuse pairs.

    Facts are extracted from each member (boilerplate excluded) with relative and
    year-less dates resolved against the article's own date, else the story's dates.
    """
    members = [articles[a] for a in state.members if a in articles]
    members.sort(key=lambda a: (a.published is None, _naive(a.published), a.id))
    story_dates = [a.published.date() for a in members if a.published is not None]
    mentions = []
    for art in members:
        mentions.extend(extract_facts(art, story_dates=_dates(story_dates)))
    reused = {frozenset((p.source, p.target)) for p in pairs}
    ids = [a.id for a in members]
    links = tuple(
        (a, b, "reuse" if frozenset((a, b)) in reused else "independent")
        for a, b in list(combinations(ids, 2))[:max_links]
    )
    return Story(
        id=state.id,
        title=_label(state, articles),
        articles=tuple(ids),
        start=state.start,
        end=state.end,
        entities=entity_names(mentions),
        facts=tuple(compare_facts(mentions)),
        links=links,
    )


def _naive(dt: datetime | None) -> str:
    return dt.replace(tzinfo=None).isoformat() if dt else ""


def _dates(values: Sequence[date]) -> list[date]:
    return sorted(set(values))
