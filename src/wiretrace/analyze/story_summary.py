"""What a story shows: label, time span, entities, reuse inside it, and its facts table."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import combinations

from wiretrace.analyze.entities import entity_kinds
from wiretrace.analyze.facts import Fact, compare_facts, extract_facts
from wiretrace.analyze.stories import StoryState
from wiretrace.analyze.story_vectors import STOP_WORDS
from wiretrace.models import Article, ReusePair
from wiretrace.text.aliases import AliasTable

__all__ = ["Story", "story_label", "summarize_story"]

_TITLE_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]")


@dataclass(frozen=True, slots=True)
class Story:
    """One story: articles about one event, with what they state.

    ``links`` lists every pair of its articles as ``(a, b, "reuse")`` where they share
    text (a stored reuse pair exists; ``reuse`` holds those pairs) or
    ``(a, b, "independent")`` otherwise (independent reporting).
    """

    id: str
    title: str
    articles: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    entities: Mapping[str, Sequence[str]]
    facts: tuple[Fact, ...]
    links: tuple[tuple[str, str, str], ...]
    reuse: tuple[ReusePair, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """The ``wiretrace stories --json`` line (DESIGN.md section 3), plus ``links``
        and ``reuse`` (the stored pairs inside the story, without passages)."""
        return {
            "story": self.id,
            "title": self.title,
            "articles": list(self.articles),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "entities": {k: list(v) for k, v in self.entities.items()},
            "facts": [f.to_json() for f in self.facts],
            "links": [list(link) for link in self.links],
            "reuse": [
                {
                    "source": p.source,
                    "target": p.target,
                    "target_coverage": round(p.target_coverage, 4),
                    "credit": p.credit,
                    "passages": len(p.passages),
                }
                for p in self.reuse
            ],
        }


def story_label(titles: Sequence[str | None]) -> str:
    """A short title for a story: the member title whose words the other members'
    titles share most (the most central one); the first title on ties; "" if none."""
    named = [t for t in titles[:50] if t]
    if len(named) <= 2:
        return named[0] if named else ""
    words = [{w for w in _TITLE_WORD.findall(t.lower()) if w not in STOP_WORDS} for t in named]
    freq: Counter[str] = Counter(w for ws in words for w in ws)
    best, best_score = named[0], -1.0
    for title, ws in zip(named, words, strict=True):
        score = sum(freq[w] - 1 for w in ws) / (1 + 0.05 * len(ws))
        if score > best_score:
            best, best_score = title, score
    return best


def summarize_story(
    state: StoryState,
    articles: Mapping[str, Article],
    pairs: Sequence[ReusePair],
    max_links: int = 2000,
    aliases: AliasTable | None = None,
    title: str | None = None,
) -> Story:
    """Build the :class:`Story` of ``state`` from its articles and the reuse pairs.

    Facts are extracted from each member (boilerplate excluded) with relative and
    year-less dates resolved against the article's own date, else the story's dates.
    Entities merge alias forms and take their kinds from the alias and agency tables
    (``aliases``: the collection's alias table; the built-in one when None).
    """
    members = [articles[a] for a in state.members if a in articles]
    members.sort(key=lambda a: (a.published is None, _naive(a.published), a.id))
    story_dates = sorted({a.published.date() for a in members if a.published is not None})
    mentions = []
    for art in members:
        mentions.extend(extract_facts(art, story_dates=_dates(story_dates)))
    ids = [a.id for a in members]
    inside = set(ids)
    reuse = tuple(p for p in pairs if p.source in inside and p.target in inside)
    reused = {frozenset((p.source, p.target)) for p in reuse}
    links = tuple(
        (a, b, "reuse" if frozenset((a, b)) in reused else "independent")
        for a, b in list(combinations(ids, 2))[:max_links]
    )
    return Story(
        id=state.id,
        title=title or story_label([a.title for a in members]),
        articles=tuple(ids),
        start=state.start,
        end=state.end,
        entities=entity_kinds(mentions, aliases if aliases is not None else AliasTable.load()),
        facts=tuple(compare_facts(mentions)),
        links=links,
        reuse=reuse,
    )


def _naive(dt: datetime | None) -> str:
    return dt.replace(tzinfo=None).isoformat() if dt else ""


def _dates(values: Sequence[date]) -> list[date]:
    return sorted(set(values))
