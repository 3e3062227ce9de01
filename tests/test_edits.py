"""Edit typing: alias, number, synonym, spelling, other; aliases learned from a collection."""

from __future__ import annotations

import pytest

from wiretrace.detect.edits import (
    apply_learned_aliases,
    classify,
    learn_aliases,
    parse_number,
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
