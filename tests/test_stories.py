"""Stories on WikiRef220 (real articles labelled by topic) and on the seeds."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import pytest

from wiretrace.analyze.stories import StoryAssigner, bcubed, story_id
from wiretrace.models import Article

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.stories_gate import MAIN_TOPICS as MAIN  # noqa: E402
from eval.stories_gate import label, load_wikiref  # noqa: E402

SINGLE_EVENT = ("ParisAttacks", "malaysia.airlines.flight")


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
    resumed = StoryAssigner.from_tables(assigner.tables())
    assert resumed.of_article == assigner.of_article, "the state round-trips"
    resumed.assign(later)
    resumed.merge()
    after = {a: resumed.of_article[a] for a in before}
    assert after == before, "articles already in a story keep their story id"
    joined = sum(1 for a in later if resumed.of_article[a.id] in set(before.values()))
    assert joined >= len(later) // 2, "most later articles join existing stories"


@pytest.mark.parametrize("lead", [0, 600])
def test_chunk_counting_matches_the_per_article_definition(wikiref: Corpus, lead: int) -> None:
    """The vectorised chunk counter gives every article the terms, counts and term
    order of the plain per-article definition (names twice, titles three times)."""
    from wiretrace.analyze.story_vectors import (
        _article_counts,
        _count_chunk,
        _lead,
        body_text,
        term_hash,
    )

    articles, _, _ = wikiref
    extra = Article(id="x", text="Mr. Smith met eBay's chief.\n  Caracas fell. O'Neill's team won.",
                    title="Smith’s eBay deal")  # fmt: skip
    items = [(body_text(a), a.title) for a in [*articles, extra]]
    counted = _count_chunk(items, lead)
    for i, (body, title) in enumerate(items):
        want = _article_counts(_lead(body, lead) if lead else body, title)
        lo, hi = counted.indptr[i], counted.indptr[i + 1]
        got = list(zip(counted.hashes[counted.local[lo:hi]].tolist(),
                       counted.counts[lo:hi].tolist(), strict=True))  # fmt: skip
        assert got == [(term_hash(t), n) for t, n in want.items()], f"article {i}"


def test_reuse_links_articles_that_words_alone_would_not() -> None:
    text = "Police said the bridge over the river closed for repairs on Monday."
    a = Article(id="a", text=text, published=datetime(2024, 5, 6, 9))
    b = Article(id="b", text="A football club signed a new striker for a record fee.",
                published=datetime(2024, 5, 6, 10))  # fmt: skip
    apart = StoryAssigner()
    apart.assign([a, b])
    assert apart.of_article["a"] != apart.of_article["b"]
    linked = StoryAssigner()
    linked.assign([a, b], reuse={"b": {"a"}})
    assert linked.of_article["a"] == linked.of_article["b"]


def test_time_window_keeps_two_events_with_the_same_words_apart() -> None:
    text = "Storm Ciara hit the coast of Cornwall with winds of 90mph, flooding Penzance."
    early = Article(id="early", text=text, published=datetime(2020, 2, 9))
    late = Article(id="late", text=text, published=datetime(2020, 11, 9))
    near = Article(id="near", text=text, published=datetime(2020, 2, 11))
    assigner = StoryAssigner(window_days=7)
    assigner.assign([early, late, near])
    assert assigner.of_article["early"] == assigner.of_article["near"]
    assert assigner.of_article["late"] != assigner.of_article["early"]
    state = assigner.stories[assigner.of_article["early"]]
    assert (state.start, state.end) == (datetime(2020, 2, 9), datetime(2020, 2, 11))


def test_story_ids_come_from_founders() -> None:
    texts = ["Storm Ciara hit the coast of Cornwall, flooding Penzance and Newlyn.",
             "Storm Ciara flooded Penzance and Newlyn on the coast of Cornwall."]  # fmt: skip
    arts = [Article(id=f"x{i}", text=t, published=datetime(2020, 2, 9, i)) for i, t in
            enumerate(texts)]  # fmt: skip
    assigner = StoryAssigner()
    assigner.assign(arts)
    assert set(assigner.of_article.values()) == {story_id("x0")}


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold must be in"):
        StoryAssigner(threshold=1.5)


def test_readme_shows_the_gate_figures() -> None:
    """The README's stories section is the gate's output, regenerated, never typed."""
    from eval.stories_gate import fact_scores, floors, render_markdown, story_scores

    scores = {**story_scores(), **fact_scores()}
    assert all(scores[k] >= f["min"] for k, f in floors().items())
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("<!-- stories:start -->\n", 1)[1].split("<!-- stories:end -->", 1)[0]
    assert section == render_markdown(scores), (
        "run `python eval/stories_gate.py --update-readme README.md`"
    )
