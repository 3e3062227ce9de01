"""Edit typing: alias, number, synonym, spelling, other; aliases learned from a collection."""

from __future__ import annotations

import pytest

from wiretrace.detect.edits import (
    apply_learned_aliases,
    classify,
    learn_aliases,
    name_variant,
    parse_number,
    retype_edits,
    swap_key,
)
from wiretrace.detect.synonyms import are_synonyms, load_synonyms
from wiretrace.models import Edit, Passage, ReusePair


class _Entities:
    """A two-entry entity table written for the test (the real table is text.aliases)."""

    groups = ({"u.s.", "usa", "united states"}, {"russia", "russian federation"})

    def same_entity(self, a: str, b: str) -> bool:
        fa, fb = a.casefold(), b.casefold()
        return fa != fb and any(fa in g and fb in g for g in self.groups)


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("100", 100.0),
        ("1,000", 1000.0),
        ("3.5", 3.5),
        ("one hundred", 100.0),
        ("two thousand and five", 2005.0),
        ("twenty-one", 21.0),
        ("2.5bn", 2.5e9),
        ("$1.13bn", 1.13e9),
        ("76%", 76.0),
        ("a dozen", 12.0),
        ("troops", None),
        ("a", None),
        ("", None),
    ],
)
def test_parse_number(phrase: str, value: float | None) -> None:
    assert parse_number(phrase) == value


@pytest.mark.parametrize(
    ("x", "y", "kind"),
    [
        ("U.S.", "USA", "alias"),
        ("Russia", "Russian Federation", "alias"),
        ("100", "one hundred", "number"),
        ("100", "99", "number"),
        ("1,000", "1000", "number"),
        ("5", "five", "number"),
        ("%", "per cent", "number"),
        ("BBC", "British Broadcasting Corporation", "alias"),
        ("BBC Sport", "British Broadcasting Corporation Sport", "alias"),
        ("Tony Blair", "Mr Blair", "alias"),
        ("Prime Minister Tony Blair", "Mr Blair", "alias"),
        ("Manchester United's", "Man Utd's", "alias"),
        ("the Labour Party", "Labour", "alias"),
        ("Federal Reserve", "Fed", "alias"),
        ("Liberal Democrats", "Lib Dems", "alias"),
        ("Conservatives", "Tories", "other"),
        ("Gordon Brown", "the chancellor", "other"),
        ("said", "stated", "synonym"),
        ("buys", "purchases", "synonym"),
        ("bought", "purchased", "synonym"),
        ("big", "large", "synonym"),
        ("colour", "color", "spelling"),
        ("organised", "organized", "spelling"),
        ("centre", "center", "spelling"),
        ("travelled", "traveled", "spelling"),
        ("announce", "announced", "spelling"),
        ("Guaidó", "Guaido", "spelling"),
        ("Caracas", "Moscow", "other"),
        ("said", "denied", "other"),
        ("big", "small", "other"),
    ],
)
def test_classify(x: str, y: str, kind: str) -> None:
    assert classify(x, y, _Entities()) == kind
    assert classify(y, x, _Entities()) == kind  # the kind does not depend on direction


def test_insert_and_delete_kinds() -> None:
    assert classify("", "reportedly") == "other"
    assert classify("nearly 100", "") == "other"
    assert classify("", "100") == "number"


def test_synonym_list_is_packaged_and_sane() -> None:
    index = load_synonyms()
    assert len(index) > 300
    assert are_synonyms("said", "stated")
    assert not are_synonyms("said", "said")
    # "states" is both a verb (says) and a noun (countries): groups do not leak
    assert not are_synonyms("says", "countries")
    # inflection must agree on both sides
    assert not are_synonyms("buys", "purchased")


def _pair(source: str, target: str, swaps: list[tuple[str, str, str]]) -> ReusePair:
    text_s = " ".join(s for s, _, _ in swaps)
    text_t = " ".join(t for _, t, _ in swaps)
    edits = []
    pos_s = pos_t = 0
    for s, t, kind in swaps:
        edits.append(
            Edit("replace", pos_s, pos_s + len(s), pos_t, pos_t + len(t), s, t, kind)  # type: ignore[arg-type]
        )
        pos_s += len(s) + 1
        pos_t += len(t) + 1
    passage = Passage(0, len(text_s), 0, len(text_t), text_s, text_t, 0.8, tuple(edits))
    return ReusePair(source, target, (passage,))


def test_learn_aliases_needs_recurrence_and_names() -> None:
    pairs = [
        _pair("a", "b", [("Tony Blair", "Mr Blair", "other"), ("the", "a", "other")]),
        _pair("c", "d", [("Tony Blair", "Mr Blair", "other"), ("the", "a", "other")]),
        _pair("e", "f", [("Labour", "Labour Party", "other")]),
        # the same article pair twice counts once
        _pair("f", "e", [("Labour", "Labour Party", "other")]),
    ]
    learned = learn_aliases(pairs, min_pairs=2)
    assert learned == {swap_key("Tony Blair", "Mr Blair"): 2}
    retyped = apply_learned_aliases(pairs, learned)
    kinds = [e.kind for p in retyped for q in p.passages for e in q.edits]
    assert kinds == ["alias", "other", "alias", "other", "other", "other"]
    # direction does not matter: a reuser writing the long form is the same swap
    assert swap_key("Mr Blair", "Tony Blair") == swap_key("Tony Blair", "Mr Blair")
    assert classify("Mr Blair", "Tony Blair", None, learned) == "alias"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        ("John Smith", "Mary Smith"),  # two people: no title says it is one
        ("Labour", "Labor"),  # a spelling, not a clipped name
        ("The", "A"),
        ("He", "She"),
        ("He Mobility", "He"),  # a sentence-initial pronoun is not part of a name
        ("It", "It Group"),
        ("Shares", "Stocks"),
        ("said", "stated"),
        ("US", "UK"),
    ],
)
def test_name_variant_rejects_different_names(x: str, y: str) -> None:
    assert not name_variant(x, y)
    assert not name_variant(y, x)


def test_learned_swaps_ignore_possessives_and_shared_words() -> None:
    """ "Gordon Brown's" -> "the chancellor's" and "Gordon Brown" -> "the chancellor" are
    one swap; "the chancellor" is a description, learnable against a name."""
    assert swap_key("Gordon Brown's", "the chancellor's") == ("gordon brown", "the chancellor")
    assert swap_key("Gordon Brown", "the chancellor") == ("gordon brown", "the chancellor")
    pairs = [
        _pair("a", "b", [("Gordon Brown's", "the chancellor's", "other")]),
        _pair("c", "d", [("Gordon Brown", "The chancellor", "other")]),
        _pair("e", "f", [("the figures", "the data", "other")]),
        _pair("g", "h", [("the figures", "the data", "other")]),
        # a day changed in two reprints is a changed fact, not a name
        _pair("i", "j", [("Monday", "Tuesday", "other")]),
        _pair("k", "l", [("Monday", "Tuesday", "other")]),
    ]
    assert learn_aliases(pairs, min_pairs=2) == {("gordon brown", "the chancellor"): 2}


def test_a_swap_glued_to_an_inserted_word_is_split() -> None:
    """The word alignment gives "Manchester United" -> "Man Utd indeed" as one replace;
    the name swap is split from the inserted word, with exact offsets."""
    source, target = "Manchester United", "Man Utd indeed"
    edit = Edit("replace", 10, 10 + len(source), 20, 20 + len(target), source, target, "other")
    swap, gap = retype_edits([edit], {})
    assert (swap.op, swap.kind, swap.source_text, swap.target_text) == (
        "replace",
        "alias",
        "Manchester United",
        "Man Utd",
    )
    assert (swap.target_start, swap.target_end) == (20, 27)
    assert (gap.op, gap.kind, gap.target_text, gap.target_start, gap.target_end) == (
        "insert",
        "other",
        "indeed",
        28,
        34,
    )
    assert gap.source_start == gap.source_end == 10 + len(source)
    # a learned swap splits the same way
    learned = {swap_key("Conservatives", "Tories"): 2}
    tory = Edit("replace", 0, 13, 0, 12, "Conservatives", "also Tories", "other")
    gap, swap = retype_edits([tory], learned)
    assert (gap.op, gap.target_text, swap.kind, swap.target_text) == (
        "insert",
        "also",
        "alias",
        "Tories",
    )


def test_numerals_with_both_separators_and_dotted_groups() -> None:
    assert parse_number("1.000.000") == 1_000_000
    assert parse_number("1,000.5") == parse_number("1.000,5") == 1000.5
    assert parse_number("24.03.2019") is None  # a date
    assert parse_number("10.5.3") is None  # a version
    assert classify("1.000.000", "one million") == "number"
