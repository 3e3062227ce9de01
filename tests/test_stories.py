"""Stories on WikiRef220 (real articles labelled by topic) and on the seeds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wiretrace.analyze.stories import StoryAssigner, StoryState, bcubed
from wiretrace.models import Article, Span

WIKIREF = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikiref" / "WikiRef220"
MAIN = {"ParisAttacks", "malaysia.airlines.flight", "premier.league", "samsung.galaxy.s",
        "michelle.obama"}  # fmt: skip
SINGLE_EVENT = ("ParisAttacks", "malaysia.airlines.flight")


def label(stem: str) -> str:
    """The file name without its trailing digits, spaces, parentheses and dots."""
    return re.sub(r"[\d\s().]+$", "", stem)


def load_wikiref() -> list[Article]:
    articles = []
    for path in sorted(WIKIREF.glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
        first = text.split("\n", 1)[0]
        articles.append(
            Article(id=path.stem, text=text, title=first.strip(),
                    excluded=(Span(0, len(first), "title"),))
        )  # fmt: skip
    return articles


def cluster(articles: list[Article]) -> dict[str, str]:
    assigner = StoryAssigner()
    assigner.assign(articles)
    assigner.merge()
    return dict(assigner.of_article)


Corpus = tuple[list[Article], dict[str, str], dict[str, str]]


@pytest.fixture(scope="module")
def wikiref() -> Corpus:
    articles = load_wikiref()
    labels = {a.id: label(a.id) for a in articles}
    return articles, labels, cluster(articles)


def test_labels_as_documented(
    wikiref: Corpus,
) -> None:
    articles, labels, _ = wikiref
    assert len(articles) == 220
    counts = {t: sum(1 for v in labels.values() if v == t) for t in MAIN}
    assert counts == {"ParisAttacks": 36, "premier.league": 37, "malaysia.airlines.flight": 39,
                      "samsung.galaxy.s": 35, "michelle.obama": 38}  # fmt: skip


def test_stories_seldom_mix_main_topics(
    wikiref: Corpus,
) -> None:
    _, labels, assignment = wikiref
    main = {a: s for a, s in assignment.items() if labels[a] in MAIN}
    precision, recall, f1 = bcubed(main, labels)
    print(f"WikiRef220 main topics: B-cubed P {precision:.3f} R {recall:.3f} F1 {f1:.3f}")
    print("all articles: P {:.3f} R {:.3f} F1 {:.3f}".format(*bcubed(assignment, labels)))
    assert precision >= 0.95


@pytest.mark.parametrize("topic", SINGLE_EVENT)
def test_single_event_lands_in_one_story(wikiref: Corpus, topic: str) -> None:
    _, labels, assignment = wikiref
    within = {a: s for a, s in assignment.items() if labels[a] == topic}
    _, recall, _ = bcubed(within, labels)
    print(f"{topic}: B-cubed recall within the topic {recall:.3f}")
    assert recall >= 0.8


def test_incremental_keeps_story_ids(
    wikiref: Corpus,
) -> None:
    articles, _, _ = wikiref
    first, later = articles[::2], articles[1::2]
    assigner = StoryAssigner()
    assigner.assign(first)
    assigner.merge()
    before = {a: assigner.of_article[a] for a in (x.id for x in first)}
    states = [StoryState(id=s.id, founder=s.founder, members=list(s.members),
                         centroid=dict(s.centroid), start=s.start, end=s.end)
              for s in assigner.stories.values()]  # fmt: skip
    resumed = StoryAssigner(stories=states, df=assigner.df, n_docs=assigner.n_docs)
    resumed.assign(later)
    resumed.merge()
    after = {a: resumed.of_article[a] for a in before}
    assert after == before, "articles already in a story keep their story id"
    joined = sum(1 for a in later if resumed.of_article[a.id] in set(before.values()))
    assert joined >= len(later) // 2, "most later articles join existing stories"
