"""Stories: articles about the same event, whether they copied text or not.

Each article becomes a sparse TF-IDF vector over its body words, with names (capitalised
words not at a sentence start) weighted up, truncated to its ``top_terms`` heaviest
terms. Articles are assigned online, in publication order (undated ones after, by id),
to the story whose centroid is most similar (cosine >= ``threshold``), found through an
inverted index from each story's heaviest terms, so the cost grows with the number of
articles, not with articles x stories. Reuse is a stronger link than similarity: an
article that reuses (or is reused by) an article of a story joins that story. A time
window keeps two events with the same words apart: a dated article does not join a
story whose span is more than ``window_days`` away.

Online assignment makes ids stable: adding articles later extends existing stories or
founds new ones; a story's id is derived from its founding article's id and never
changes.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from wiretrace.models import Article

__all__ = [
    "StoryAssigner",
    "StoryState",
    "bcubed",
    "story_id",
]

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")
_SENT_END = re.compile(r"[.!?][\"”’']?\s+$")
_STOP = frozenset(
    "a about above after again against all also am an and any are as at be because been "
    "before being below between both but by can could did do does doing down during each "
    "few for from further had has have having he her here hers herself him himself his "
    "how i if in into is it its itself just me more most my myself no nor not now of off "
    "on once only or other our ours out over own said same says she should so some such "
    "than that the their theirs them themselves then there these they this those through "
    "to too under until up very was we were what when where which while who whom why will "
    "with would you your yours yourself also new one two three told year years last first "
    "would could like get got make made people time just back may mr mrs ms week since ".split()
)


def story_id(founder: str) -> str:
    """A story's stable id: derived from the id of the article that founded it."""
    return "s" + hashlib.blake2b(founder.encode("utf-8"), digest_size=6).hexdigest()


@dataclass
class StoryState:
    """One story while assigning: members, centroid (term -> weight sum), time span."""

    id: str
    founder: str
    members: list[str] = field(default_factory=list)
    centroid: dict[str, float] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None

    def norm_top(self, top: int) -> dict[str, float]:
        items = sorted(self.centroid.items(), key=lambda kv: -kv[1])[:top]
        norm = math.sqrt(sum(v * v for _, v in items)) or 1.0
        return {k: v / norm for k, v in items}


def _terms(article: Article) -> Counter[str]:
    """Body words, folded, stop words out; names (mid-sentence capitals) counted twice."""
    counts: Counter[str] = Counter()
    text = article.text
    pos = 0
    ranges = []
    for span in sorted(article.excluded, key=lambda s: s.start):
        if span.start > pos:
            ranges.append((pos, span.start))
        pos = max(pos, span.end)
    ranges.append((pos, len(text)))
    for lo, hi in ranges:
        for m in _WORD.finditer(text, lo, hi):
            word = m.group()
            low = word.lower().replace("’", "'").removesuffix("'s")
            if len(low) < 3 or low in _STOP:
                continue
            counts[low] += 1
            if word[0].isupper() and not _SENT_END.search(text[max(lo, m.start() - 3) : m.start()]):
                counts[low] += 1  # a name: weighs more in telling events apart
    if article.title:
        for word in _WORD.findall(article.title):
            low = word.lower()
            if len(low) >= 3 and low not in _STOP:
                counts[low] += 2
    return counts


def _within(story: StoryState, when: datetime | None, window: timedelta) -> bool:
    if when is None or story.start is None or story.end is None:
        return True
    try:
        return story.start - window <= when <= story.end + window
    except TypeError:  # naive vs aware: compare on the calendar
        lo = story.start.replace(tzinfo=None) - window
        hi = story.end.replace(tzinfo=None) + window
        return lo <= when.replace(tzinfo=None) <= hi


class StoryAssigner:
    """Online story assignment with document frequencies and an inverted index.

    ``df`` and ``n_docs`` are the collection's document frequencies (IDF weights); they
    are updated as articles arrive, so an incremental run continues where the last left.
    """

    def __init__(
        self,
        threshold: float = 0.12,
        merge_threshold: float = 0.1,
        window_days: float = 7.0,
        top_terms: int = 60,
        index_terms: int = 12,
        stories: Iterable[StoryState] = (),
        df: Mapping[str, int] | None = None,
        n_docs: int = 0,
    ) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError("stories threshold must be in (0, 1)")
        self.threshold = threshold
        self.merge_threshold = merge_threshold
        self.window = timedelta(days=window_days)
        self.top_terms = top_terms
        self.index_terms = index_terms
        self.stories: dict[str, StoryState] = {s.id: s for s in stories}
        self.of_article: dict[str, str] = {
            a: s.id for s in self.stories.values() for a in s.members
        }
        self.df: Counter[str] = Counter(df or {})
        self.n_docs = n_docs
        self.index: dict[str, set[str]] = defaultdict(set)
        self._founded: dict[str, int] = {sid: i for i, sid in enumerate(self.stories)}
        self._settled = frozenset(self.stories)
        for s in self.stories.values():
            self._index(s)

    def _index(self, story: StoryState) -> None:
        for term in story.norm_top(self.index_terms):
            self.index[term].add(story.id)

    def _vector(self, counts: Counter[str]) -> dict[str, float]:
        n = max(self.n_docs, 1)
        weights = {
            t: (1 + math.log(c)) * (math.log((1 + n) / (1 + self.df.get(t, 0))) + 1)
            for t, c in counts.items()
        }
        top = sorted(weights.items(), key=lambda kv: -kv[1])[: self.top_terms]
        norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
        return {t: v / norm for t, v in top}

    def prime(self, articles: Iterable[Article]) -> list[tuple[Article, Counter[str]]]:
        """Count document frequencies of a batch before assigning it (better IDF)."""
        batch = [(a, _terms(a)) for a in articles]
        for _, counts in batch:
            self.df.update(counts.keys())
        self.n_docs += len(batch)
        return batch

    def assign(
        self,
        articles: Sequence[Article],
        reuse: Mapping[str, Iterable[str]] | None = None,
    ) -> dict[str, str]:
        """Assign new articles to stories; returns article id -> story id for them.

        ``reuse`` maps an article id to the ids it shares text with (either direction).
        """
        reuse = reuse or {}
        ordered = sorted(
            (a for a in articles if a.id not in self.of_article),
            key=lambda a: (a.published is None, _sort_time(a.published), a.id),
        )
        batch = self.prime(ordered)
        assigned: dict[str, str] = {}
        for article, counts in batch:
            vec = self._vector(counts)
            story = self._by_reuse(article, reuse) or self._by_similarity(article, vec)
            if story is None:
                story = StoryState(id=story_id(article.id), founder=article.id)
                self.stories[story.id] = story
                self._founded[story.id] = len(self._founded)
            self._add(story, article, vec)
            assigned[article.id] = story.id
        return assigned

    def _by_reuse(self, article: Article, reuse: Mapping[str, Iterable[str]]) -> StoryState | None:
        found = [self.of_article[o] for o in reuse.get(article.id, ()) if o in self.of_article]
        if not found:
            return None
        return self.stories[Counter(found).most_common(1)[0][0]]

    def _by_similarity(self, article: Article, vec: dict[str, float]) -> StoryState | None:
        query = sorted(vec.items(), key=lambda kv: -kv[1])[: self.index_terms * 2]
        candidates: set[str] = set()
        for term, _ in query:
            candidates.update(self.index.get(term, ()))
        best: StoryState | None = None
        best_sim = self.threshold
        for sid in candidates:
            story = self.stories[sid]
            if not _within(story, article.published, self.window):
                continue
            centroid = story.norm_top(self.top_terms * 2)
            sim = sum(w * centroid.get(t, 0.0) for t, w in vec.items())
            if sim >= best_sim:
                best, best_sim = story, sim
        return best

    def merge(self, threshold: float | None = None) -> dict[str, str]:
        """Merge stories whose centroids are similar; returns merged id -> kept id.

        Online assignment splits an event whose first articles happened to differ; this
        pass joins such parts. The older story (founded first) keeps its id, and two
        stories that existed before this assigner was built (loaded from the store) are
        never merged with each other, so an incremental run keeps existing ids.
        """
        threshold = self.merge_threshold if threshold is None else threshold
        merged: dict[str, str] = {}
        changed = True
        while changed:
            changed = False
            order = sorted(self.stories.values(), key=lambda s: -len(s.members))
            for story in order:
                if story.id not in self.stories:
                    continue
                mine = story.norm_top(self.top_terms * 2)
                candidates: set[str] = set()
                for term in list(mine)[: self.index_terms * 2]:
                    candidates.update(self.index.get(term, ()))
                candidates.discard(story.id)
                best, best_sim = None, threshold
                for sid in candidates:
                    other = self.stories.get(sid)
                    if other is None or not _spans_close(story, other, self.window):
                        continue
                    if story.id in self._settled and sid in self._settled:
                        continue
                    theirs = other.norm_top(self.top_terms * 2)
                    sim = sum(w * theirs.get(t, 0.0) for t, w in mine.items())
                    if sim >= best_sim:
                        best, best_sim = other, sim
                if best is not None:
                    keep, gone = sorted((story, best), key=lambda s: self._founded[s.id])
                    self._absorb(keep, gone)
                    merged[gone.id] = keep.id
                    changed = True
        return {k: _follow(merged, v) for k, v in merged.items()}

    def _absorb(self, keep: StoryState, gone: StoryState) -> None:
        for t, w in gone.centroid.items():
            keep.centroid[t] = keep.centroid.get(t, 0.0) + w
        keep.members.extend(gone.members)
        for a in gone.members:
            self.of_article[a] = keep.id
        for when in (gone.start, gone.end):
            if when is not None:
                keep.start = when if keep.start is None or _lt(when, keep.start) else keep.start
                keep.end = when if keep.end is None or _lt(keep.end, when) else keep.end
        del self.stories[gone.id]
        for ids in self.index.values():
            ids.discard(gone.id)
        self._index(keep)

    def _add(self, story: StoryState, article: Article, vec: dict[str, float]) -> None:
        story.members.append(article.id)
        for t, w in vec.items():
            story.centroid[t] = story.centroid.get(t, 0.0) + w
        if len(story.centroid) > self.top_terms * 8:  # keep centroids small
            story.centroid = dict(
                sorted(story.centroid.items(), key=lambda kv: -kv[1])[: self.top_terms * 4]
            )
        when = article.published
        if when is not None:
            story.start = when if story.start is None or _lt(when, story.start) else story.start
            story.end = when if story.end is None or _lt(story.end, when) else story.end
        self.of_article[article.id] = story.id
        self._index(story)


def _follow(merged: Mapping[str, str], sid: str) -> str:
    while sid in merged:
        sid = merged[sid]
    return sid


def _spans_close(a: StoryState, b: StoryState, window: timedelta) -> bool:
    if a.start is None or b.start is None or a.end is None or b.end is None:
        return True
    return _within(a, b.start, window) or _within(a, b.end, window) or _within(b, a.start, window)


def _lt(a: datetime, b: datetime) -> bool:
    try:
        return a < b
    except TypeError:
        return a.replace(tzinfo=None) < b.replace(tzinfo=None)


def _sort_time(dt: datetime | None) -> str:
    return dt.replace(tzinfo=None).isoformat() if dt else ""


def bcubed(assignment: Mapping[str, str], labels: Mapping[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of a clustering against labels (same keys)."""
    clusters: dict[str, list[str]] = defaultdict(list)
    classes: dict[str, list[str]] = defaultdict(list)
    for item, cluster in assignment.items():
        clusters[cluster].append(item)
        classes[labels[item]].append(item)
    p = r = 0.0
    for item, cluster in assignment.items():
        members = clusters[cluster]
        same = sum(1 for m in members if labels[m] == labels[item])
        p += same / len(members)
        r += same / len(classes[labels[item]])
    n = len(assignment) or 1
    p, r = p / n, r / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
