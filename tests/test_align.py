"""The alignment kernel on real text: spun copies of BBC articles, reordering, unrelated
pairs, stock phrases, and property tests (offsets, slices, edits inside passages)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from wiretrace.detect.align import align_pair, align_sequences
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article, Passage
from wiretrace.settings import Settings
from wiretrace.text.aliases import AliasTable
from wiretrace.text.normalize import normalize
from wiretrace.text.sentences import split_sentences
from wiretrace.text.tokens import tokenize

SHARED = Path(__file__).resolve().parents[2] / "shared"
BBC = SHARED / "data" / "bbc-news"
SETTINGS = Settings()
ALIASES = AliasTable.load()


def _article(rel: str) -> Article:
    path = BBC / rel
    return parse_text(path.read_text(encoding="utf-8"), rel, str(path), "text", SETTINGS.ingest)


def _align(a: Article, b: Article) -> list[Passage]:
    seq_a = normalize(a, ALIASES, SETTINGS)
    seq_b = normalize(b, ALIASES, SETTINGS)
    return align_pair(a, b, seq_a, seq_b, SETTINGS, ALIASES)


def _sentences(a: Article) -> list[str]:
    return [a.text[s.start : s.end] for s in split_sentences(a.text, a.excluded)]


def _words(text: str) -> int:
    return len(tokenize(text).norms)


@dataclass
class _Built:
    """A target written from pieces, with the truth: (source span, target span) pairs."""

    article: Article
    truth: list[tuple[tuple[int, int], tuple[int, int]]]


def _build(
    source: Article,
    pieces: list[tuple[str, int | None]],
    paragraph_every: int = 2,
) -> _Built:
    """Target text = a title line and ``pieces`` (text, index of the source sentence it
    copies or None), joined by spaces and paragraph breaks."""
    spans = split_sentences(source.text, source.excluded)
    text = "A spun headline for the test\n\n"
    truth = []
    for k, (piece, src_index) in enumerate(pieces):
        start = len(text)
        text += piece
        if src_index is not None:
            s = spans[src_index]
            truth.append(((s.start, s.end), (start, len(text))))
        text += "\n\n" if (k + 1) % paragraph_every == 0 else " "
    art = parse_text(text, "spun", None, "text", SETTINGS.ingest)
    return _Built(art, truth)


def _sub(word: str, new: str) -> Callable[[str], str]:
    def apply(sentence: str) -> str:
        out, n = re.subn(rf"\b{re.escape(word)}\b", new, sentence, count=1)
        assert n == 1, (word, sentence)
        return out

    return apply


def _chars(ranges: list[tuple[int, int]], text: str) -> set[int]:
    """Non-blank character positions inside ``ranges``."""
    return {i for lo, hi in ranges for i in range(lo, hi) if not text[i].isspace()}


def _assert_exact(passages: list[Passage], source: Article, built: _Built) -> None:
    """Passages cover exactly the copied sentences on both sides (blanks aside)."""
    target = built.article
    got_t = _chars([(p.target_start, p.target_end) for p in passages], target.text)
    want_t = _chars([t for _, t in built.truth], target.text)
    got_s = _chars([(p.source_start, p.source_end) for p in passages], source.text)
    want_s = _chars([s for s, _ in built.truth], source.text)
    assert got_t == want_t
    assert got_s == want_s
    for p in passages:
        assert source.text[p.source_start : p.source_end] == p.source_text
        assert target.text[p.target_start : p.target_end] == p.target_text


def _long_sentences(a: Article, n: int) -> list[int]:
    spans = split_sentences(a.text, a.excluded)
    return [k for k, s in enumerate(spans) if _words(a.text[s.start : s.end]) >= 14][:n]


def test_spun_copy_with_swaps_inserts_drops_and_filler() -> None:
    source = _article("business/010.txt")
    filler = _sentences(_article("sport/050.txt"))[1:]
    sents = _sentences(source)
    picks = _long_sentences(source, 4)
    assert len(picks) == 4
    edits = [
        lambda s: s,  # verbatim
        _sub("rejected", "turned down"),  # a phrase for a word
        lambda s: s.replace(" the ", " the entire ", 1),  # one word inserted
        lambda s: re.sub(r"\b(which|that|has|was) ", "", s, count=1),  # one dropped
    ]
    pieces: list[tuple[str, int | None]] = []
    for k, (pick, edit) in enumerate(zip(picks, edits, strict=True)):
        pieces.append((edit(sents[pick]), pick))
        pieces.append((filler[k], None))
    built = _build(source, pieces)
    passages = _align(source, built.article)
    _assert_exact(passages, source, built)
    swap = [e for p in passages for e in p.edits if e.source_text == "rejected"]
    if swap:  # the swap lies inside a passage: typed, with exact offsets
        (e,) = swap
        assert e.op == "replace"
        assert built.article.text[e.target_start : e.target_end] == "turned down"


def test_synonym_swaps_are_typed() -> None:
    source = _article("tech/020.txt")
    sents = _sentences(source)
    k = next(i for i, s in enumerate(sents) if re.search(r"\bsaid\b", s) and _words(s) >= 12)
    spun = _sub("said", "stated")(sents[k])
    built = _build(source, [(spun, k)])
    passages = _align(source, built.article)
    _assert_exact(passages, source, built)
    (edit,) = [e for p in passages for e in p.edits]
    assert (edit.op, edit.kind, edit.source_text, edit.target_text) == (
        "replace",
        "synonym",
        "said",
        "stated",
    )
    assert source.text[edit.source_start : edit.source_end] == "said"
    assert built.article.text[edit.target_start : edit.target_end] == "stated"


def test_reordered_sentences_give_passages_in_another_order() -> None:
    source = _article("tech/020.txt")
    sents = _sentences(source)
    picks = _long_sentences(source, 3)
    filler = _sentences(_article("entertainment/030.txt"))[1:]
    order = [picks[2], picks[0], picks[1]]
    pieces: list[tuple[str, int | None]] = []
    for k, pick in enumerate(order):
        pieces.append((sents[pick], pick))
        pieces.append((filler[k], None))
    built = _build(source, pieces)
    passages = _align(source, built.article)
    _assert_exact(passages, source, built)
    assert len(passages) == 3
    targets = [p.target_start for p in passages]  # passages come sorted by source
    assert targets != sorted(targets)


def test_light_paraphrase_found_by_sentence_similarity() -> None:
    """Swaps every few words leave no 4-word anchor; the sentence pass still finds it."""
    source = _article("business/010.txt")
    sents = _sentences(source)
    k = _long_sentences(source, 1)[0]
    words = sents[k].split(" ")
    # a swap every fourth word: about 75% of the words stay
    spun = " ".join(w.upper() if i % 4 == 2 and w.isalpha() else w for i, w in enumerate(words))
    spun = " ".join(
        ("xq" + w) if i % 4 == 2 and w.isalpha() else w for i, w in enumerate(spun.split(" "))
    )
    built = _build(source, [(spun, k)])
    passages = _align(source, built.article)
    _assert_exact(passages, source, built)
    assert passages[0].similarity < 0.9


def test_unrelated_articles_share_nothing() -> None:
    assert _align(_article("business/010.txt"), _article("sport/050.txt")) == []
    assert _align(_article("tech/020.txt"), _article("entertainment/030.txt")) == []


def test_short_stock_phrases_are_not_passages() -> None:
    text_a = (
        "Heading one\n\nTwo Russian air force planes landed at the main airport on Saturday "
        "carrying a defence official and nearly 100 troops. The ministry did not immediately "
        "reply to a request for comment. Prices rose sharply in the capital last week."
    )
    text_b = (
        "Heading two\n\nTwo Russian air force planes landed at Caracas airport on Saturday, "
        "flight tracking showed. A spokesman did not immediately reply to a request for "
        "comment. Farmers said the harvest was the worst in a decade."
    )
    a = parse_text(text_a, "a", None, "text", SETTINGS.ingest)
    b = parse_text(text_b, "b", None, "text", SETTINGS.ingest)
    assert _align(a, b) == []


# -- properties ---------------------------------------------------------------------------

_VOCAB = (
    "the minister said on Monday that prices rose sharply in the capital while officials "
    "denied reports of troops near border talks continued after a meeting with leaders "
    "from both countries about trade energy and security analysts expect more"
).split()


@st.composite
def _texts(draw: st.DrawFn) -> tuple[str, str]:
    rng = random.Random(draw(st.integers(0, 10_000)))
    n = draw(st.integers(1, 8))
    sentences = [
        " ".join(rng.choice(_VOCAB) for _ in range(rng.randint(3, 25))).capitalize() + "."
        for _ in range(n)
    ]
    copied = []
    for s in sentences:
        op = draw(st.sampled_from(["keep", "drop", "swap", "insert", "shuffle-word"]))
        words = s.split(" ")
        if op == "drop":
            continue
        if op == "swap":
            words[rng.randrange(len(words))] = rng.choice(_VOCAB)
        elif op == "insert":
            words.insert(rng.randrange(len(words)), rng.choice(_VOCAB))
        elif op == "shuffle-word":
            rng.shuffle(words)
        copied.append(" ".join(words))
    rng.shuffle(copied)
    sep = draw(st.sampled_from([" ", "\n\n", "  \n"]))
    return "Title a\n\n" + sep.join(sentences), "Title b\n\n" + sep.join(copied)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_texts(), st.integers(2, 12), st.sampled_from([0.5, 0.7, 1.1]))
def test_kernel_properties(texts: tuple[str, str], min_words: int, sent_sim: float) -> None:
    settings = Settings().with_overrides(
        {"detect.min_passage_words": min_words, "detect.sentence_similarity": sent_sim}
    )
    a = parse_text(texts[0], "a", None, "text", settings.ingest)
    b = parse_text(texts[1], "b", None, "text", settings.ingest)
    seq_a, seq_b = normalize(a, ALIASES, settings), normalize(b, ALIASES, settings)
    passages = align_sequences(
        a.text,
        seq_a,
        split_sentences(a.text, a.excluded),
        b.text,
        seq_b,
        split_sentences(b.text, b.excluded),
        settings,
        ALIASES,
    )
    assert passages == sorted(passages, key=lambda p: (p.source_start, p.target_start))
    for p in passages:
        assert 0 <= p.source_start < p.source_end <= len(a.text)
        assert 0 <= p.target_start < p.target_end <= len(b.text)
        assert p.source_text == a.text[p.source_start : p.source_end]
        assert p.target_text == b.text[p.target_start : p.target_end]
        assert settings.detect.min_similarity <= p.similarity <= 1.0
        assert min(p.source_words, p.target_words) >= min_words
        # boundaries are whole words: no letter right outside either side
        for text, lo, hi in (
            (a.text, p.source_start, p.source_end),
            (b.text, p.target_start, p.target_end),
        ):
            assert lo == 0 or not text[lo - 1].isalnum()
            assert hi == len(text) or not text[hi].isalnum()
        last = (-1, -1)
        for e in p.edits:
            assert p.source_start <= e.source_start <= e.source_end <= p.source_end
            assert p.target_start <= e.target_start <= e.target_end <= p.target_end
            assert e.source_text == a.text[e.source_start : e.source_end]
            assert e.target_text == b.text[e.target_start : e.target_end]
            assert (e.op == "insert") == (e.source_start == e.source_end)
            assert (e.op == "delete") == (e.target_start == e.target_end)
            assert (e.source_start, e.target_start) >= last
            assert e.source_start >= last[0] and e.target_start >= last[1]
            last = (e.source_end, e.target_end)
    # no two passages overlap on both sides
    for i, p in enumerate(passages):
        for q in passages[i + 1 :]:
            assert not (
                p.source_start < q.source_end
                and q.source_start < p.source_end
                and p.target_start < q.target_end
                and q.target_start < p.target_end
            )


@pytest.mark.parametrize("rel", ["business/010.txt", "tech/020.txt"])
def test_self_alignment_is_one_identical_passage(rel: str) -> None:
    a = _article(rel)
    b = a.with_(id="copy")
    (p,) = _align(a, b)
    assert p.similarity == 1.0
    assert p.edits == ()
    words = tokenize(a.text, a.excluded)
    assert (p.source_start, p.source_end) == (words.starts[0], len(a.text.rstrip()))


# -- passage boundaries and edits, exact to the word ---------------------------------------


def _text_article(id: str, body: str) -> Article:
    return parse_text(f"Headline of {id}\n\n{body}", id, None, "text", SETTINGS.ingest)


def _one(passages: list[Passage]) -> Passage:
    assert len(passages) == 1, [p.source_text for p in passages]
    return passages[0]


def test_a_dateline_on_one_side_stays_out_of_the_passage() -> None:
    """A reuser's "LONDON (Reuters) - " is a credit line, not a swapped first word: the
    passage starts at the first reused word on both sides and has no edit."""
    sents = _sentences(_article("business/014.txt"))
    filler = _sentences(_article("sport/050.txt"))
    copied = f"{sents[0]} {sents[1]}"
    source = _text_article("src", f"{copied}\n\n{filler[2]}")
    target = _text_article("tgt", f"LONDON (Reuters) - {copied}\n\n{filler[4]}")
    p = _one(_align(source, target))
    assert p.source_text == copied
    assert p.target_text == copied
    assert p.edits == ()
    # and the other way round: the source has the dateline
    q = _one(_align(target, source))
    assert (q.source_text, q.target_text, q.edits) == (copied, copied, ())


def test_a_passage_stops_at_the_full_stop() -> None:
    """Both next sentences start with "The": the passage still ends at "said."."""
    source_art = _article("business/014.txt")
    sents = _sentences(source_art)
    k = next(
        i
        for i in range(len(sents) - 1)
        if sents[i + 1].startswith("The ") and _words(sents[i]) > 12
    )
    other = _sentences(_article("tech/020.txt"))
    own = next(s for s in other if not s.startswith("The ") and _words(s) > 8)
    source = _text_article("src", f"{sents[k]}\n\n{sents[k + 1]}")
    target = _text_article("tgt", f"{own}\n\n{sents[k]}\n\nThe {own[0].lower()}{own[1:]}")
    p = _one(_align(source, target))
    assert p.source_text == sents[k]
    assert p.target_text == sents[k]


def test_an_opening_quote_and_a_list_dash_belong_to_the_passage() -> None:
    sents = _sentences(_article("business/030.txt"))
    # the first sentence of a quote that runs on: its closing quote is further on
    quoted = next(s for s in sents if s.startswith('"') and s.count('"') == 1)
    plain = next(s for s in sents if s[0].isalpha() and _words(s) > 12)
    filler = _sentences(_article("sport/050.txt"))
    source = _text_article("src", f"{filler[1]}\n\n{quoted}\n\n- {plain}")
    target = _text_article("tgt", f"- {plain}\n\n{filler[3]}\n\n{quoted}")
    passages = _align(source, target)
    assert sorted(p.source_text for p in passages) == sorted([quoted, f"- {plain}"])
    assert all(p.source_text == p.target_text for p in passages)


def test_the_tail_after_an_inserted_word_is_kept() -> None:
    """A word inserted three words before the end leaves a tail too short to anchor:
    the sentence is still reported whole, with the insertion as its edit."""
    sents = _sentences(_article("business/014.txt"))
    k = next(i for i, s in enumerate(sents) if _words(s) > 15 and s.endswith("."))
    words = sents[k].split(" ")
    spun = " ".join([*words[:-3], "reportedly", *words[-3:]])
    source = _text_article("src", sents[k])
    target = _text_article("tgt", spun)
    p = _one(_align(source, target))
    assert (p.source_text, p.target_text) == (sents[k], spun)
    ((op, kind, text),) = [(e.op, e.kind, e.target_text) for e in p.edits]
    assert (op, kind, text) == ("insert", "other", "reportedly")


def test_swaps_across_a_sentence_end_are_typed_one_by_one() -> None:
    """ "said. Prime Minister Tony Blair" -> "stated. Mr Blair": a synonym and a name
    under a title, not one "other" edit across the full stop."""
    sents = _sentences(_article("business/106.txt"))
    k = next(i for i, s in enumerate(sents) if s.startswith("Prime Minister Tony Blair"))
    assert sents[k - 1].endswith("said.")
    original = f"{sents[k - 1]} {sents[k]}"
    spun = original.replace("said. Prime Minister Tony Blair", "stated. Mr Blair")
    p = _one(_align(_text_article("src", original), _text_article("tgt", spun)))
    got = [(e.op, e.kind, e.source_text, e.target_text) for e in p.edits]
    assert got == [
        ("replace", "synonym", "said", "stated"),
        ("replace", "alias", "Prime Minister Tony Blair", "Mr Blair"),
    ]


def test_numbers_written_another_way_are_typed_number() -> None:
    """ "464,000" / "464000" and "8%" / "8 per cent" normalise (or align) equal; "three"
    / "3" differ: all are ``number`` edits, never ``alias``."""
    sents = _sentences(_article("business/001.txt"))
    first = next(s for s in sents if "464,000" in s)
    second = next(s for s in sents if "8%" in s and _words(s) > 12)
    third = next(s for s in sents if "three months" in s)
    original = f"{first} {second} {third}"
    spun = (
        original.replace("464,000", "464000")
        .replace("8%", "8 per cent")
        .replace("three months", "3 months")
    )
    p = _one(_align(_text_article("src", original), _text_article("tgt", spun)))
    got = {(e.source_text, e.target_text): e.kind for e in p.edits}
    assert got == {
        ("464,000", "464000"): "number",
        ("%", "per cent"): "number",
        ("three", "3"): "number",
    }
    for e in p.edits:
        assert p.source_text[e.source_start - p.source_start : e.source_end - p.source_start] == (
            e.source_text
        )


def test_changed_dotted_date_and_figures_are_edits_not_a_crash() -> None:
    # European dates and thousands ("24.03.2019", "1.000.000") changed in a reprint.
    source = _article("business/001.txt")
    lead = "The contract worth 1.000.000 euros was signed on 24.03.2019 by both firms.\n\n"
    title, _, body = source.text.partition("\n")
    a = parse_text(f"{title}\n\n{lead}{body}", "a", None, "text", SETTINGS.ingest)
    spun = lead.replace("24.03.2019", "25.03.2019").replace("1.000.000", "2.000.000")
    b = parse_text(f"{title}\n\n{spun}{body}", "b", None, "text", SETTINGS.ingest)
    passages = _align(a, b)
    assert passages and passages[0].source_text.startswith("The contract worth")
    edits = {(e.source_text, e.target_text): e.kind for p in passages for e in p.edits}
    assert edits[("1.000.000", "2.000.000")] == "number"
    assert edits[("24.03.2019", "25.03.2019")] == "other"  # a date is not one number
