"""Credits and datelines: who an article names as the source of its copy."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wiretrace.ingest.credits import (
    Credits,
    analyze_credits,
    fold_name,
    load_agencies,
    may_name_agency,
    text_words,
)
from wiretrace.models import Span

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
BBC = SHARED / "data" / "bbc-news"
WIKIREF = SHARED / "data" / "wikiref" / "WikiRef220"


def test_agency_table_maps_aliases_to_canonical_names() -> None:
    table = load_agencies()
    assert table[fold_name("Agence France-Presse")] == "AFP"
    assert table[fold_name("Agence France Presse")] == "AFP"
    assert table[fold_name("The Associated Press")] == "AP"
    assert table[fold_name("Thomson Reuters")] == "Reuters"
    assert table[fold_name("Press Association")] == "PA Media"
    assert table[fold_name("Canadian Press")] == "CP"
    assert table[fold_name("Deutsche Presse-Agentur")] == "dpa"
    for canonical in (
        "Bloomberg",
        "EFE",
        "ANSA",
        "Xinhua",
        "TASS",
        "RIA Novosti",
        "Interfax",
        "Kyodo",
        "Yonhap",
        "UPI",
        "Anadolu",
        "Sputnik",
        "AAP",
        "Europa Press",
        "PTI",
        "IANS",
    ):
        assert table[fold_name(canonical)] == canonical
    table["northwire"] = "Northwire"  # a copy: callers may extend it
    assert "northwire" not in load_agencies()


@pytest.mark.parametrize(
    ("text", "credits", "dateline"),
    [
        ("CARACAS (Reuters) - Two planes landed.", ("Reuters",), "CARACAS"),
        ("PARIS (AFP) -- Police said on Friday.", ("AFP",), "PARIS"),
        ("WASHINGTON (AP) — The president said.", ("AP",), "WASHINGTON"),
        ("BEIJING, March 5 (Xinhua) -- China said.", ("Xinhua",), "BEIJING"),
        ("CARACAS, Venezuela (AP) — Two planes landed.", ("AP",), "CARACAS"),
        ("Paris (AFP) - The minister resigned.", ("AFP",), "Paris"),
        ("MOSCOW (REUTERS) - Shares fell.", ("Reuters",), "MOSCOW"),
        ("OSLO (Northwire) - A storm hit the coast.", ("Northwire",), "OSLO"),
        ("WASHINGTON - First lady Michelle Obama is travelling.", (), "WASHINGTON"),
        ("BERLIN (dpa/AFP) - Talks resumed.", ("dpa", "AFP"), "BERLIN"),
    ],
)
def test_datelines(text: str, credits: tuple[str, ...], dateline: str) -> None:
    assert analyze_credits(text) == Credits(credits, dateline)


@pytest.mark.parametrize(
    ("text", "credits"),
    [
        ("The plane landed.\n\nSource: AFP", ("AFP",)),
        ("The plane landed.\n\nSources: Reuters, AP", ("Reuters", "AP")),
        ("The plane landed.\n\nSource: Northwire", ("Northwire",)),
        ("The plane landed.\n\nReuters contributed to this report.", ("Reuters",)),
        ("The plane landed.\n\nAdditional reporting by Agence France-Presse", ("AFP",)),
        ("The plane landed on Saturday, according to Reuters.", ("Reuters",)),
        ("The plane landed, according to Russia's state news agency TASS.", ("TASS",)),
        ("The plane landed, AFP reported.", ("AFP",)),
        ("The jet landed, the Interfax news agency reported.", ("Interfax",)),
        ("Fuel prices rose, AFP said.", ("AFP",)),
        ("The minister told Reuters on Monday that talks had failed.", ("Reuters",)),
        ("The official told The Associated Press.", ("AP",)),
        ("Ten people were hurt. (AFP)", ("AFP",)),
        ("Ten people were hurt.\n\n— Reuters", ("Reuters",)),
        (
            "Ten people were hurt.\n\nCopyright 2019 The Associated Press. All rights reserved.",
            ("AP",),
        ),
    ],
)
def test_credit_lines_and_phrases(text: str, credits: tuple[str, ...]) -> None:
    assert analyze_credits(text).credits == credits


@pytest.mark.parametrize(
    "text",
    [
        "An AFP journalist early on Sunday saw one of the planes on the tarmac.",
        "A Reuters witness saw what appeared to be the passenger jet.",
        "Sputnik quoted the source as saying contracts were being fulfilled.",
        "wrote Russian governmentowned news agency Sputnik, which quoted an unnamed source",
        "Agence France-Presse (AFP) journalists were at the scene.",
        "Reuters said it would cut 500 jobs after profits fell.",
        "By the end of the day, prices had risen.",
        "The plane landed.\n\nSource: company filings",
        "Reuters beat profit forecasts, posting a rise in sales.",
    ],
)
def test_mentions_are_not_credits(text: str) -> None:
    assert analyze_credits(text).credits == ()


def test_byline_credits_an_agency() -> None:
    assert analyze_credits("Body.", byline="staff report Reuters - Reuters").credits == ("Reuters",)
    assert analyze_credits("Body.", byline="By Jane Doe, Associated Press").credits == ("AP",)
    assert analyze_credits("Body.", byline="Jane Doe").credits == ()


def test_excluded_spans_are_respected() -> None:
    caption = "Protesters in the capital on Monday (AFP)"
    text = f"Title\n\n{caption}\n\nThe march went on, police said.\n\nSource: Reuters"
    start = text.index(caption)
    source = text.index("Source")
    excluded = (
        Span(0, 5, "title"),
        Span(start, start + len(caption), "caption"),
        Span(source, len(text), "footer"),
    )
    # The caption's "(AFP)" is a photo credit, not a copy credit; the footer's credit
    # line counts even though the line is excluded from the body.
    assert analyze_credits(text, excluded).credits == ("Reuters",)


def test_seeds() -> None:
    text0 = (SEEDS / "000_a7cae44381716f60.txt").read_text(encoding="utf-8")
    text3 = (SEEDS / "003_aa80bf1ba9256955.txt").read_text(encoding="utf-8")
    assert analyze_credits(text0) == Credits(("Reuters",), "CARACAS")
    # 003 mentions an AFP journalist who saw a plane: a mention, not a credit.
    assert analyze_credits(text3) == Credits((), None)


def test_real_bbc_attributions() -> None:
    reported = (BBC / "business" / "169.txt").read_text(encoding="utf-8")
    assert "news agency Reuters reported" in reported
    assert analyze_credits(reported).credits == ("Reuters",)
    aliases: dict[str, set[str]] = {}
    for alias, canonical in load_agencies().items():
        aliases.setdefault(canonical, {fold_name(canonical)}).add(alias)
    credited = 0
    for path in sorted(BBC.glob("business/*.txt")):
        text = path.read_text(encoding="utf-8", errors="replace")
        folded = fold_name(text)
        for name in analyze_credits(text).credits:
            credited += 1
            # Every credit names an agency that the article spells out.
            assert any(alias in folded for alias in aliases[name]), (path, name)
    assert credited >= 40  # the BBC business desk leans on agency copy


@pytest.mark.parametrize(
    ("text", "possible"),
    [
        ("The figures were first reported by Reuters's correspondent.", True),
        ("PARIS (AFP) - Ministers met.", True),
        ("The minister spoke, according to reuters.", True),
        ("Agence France-Presse said on Monday.", True),
        ("‘Xinhua’ said so.", True),
        ("United Press International carried it.", True),
        # Words of a multi-word name scattered are not the name; "United" alone neither.
        ("The United team played in the International cup, the press said.", False),
        ("A quiet day in the harbour, with no wire copy at all.", False),
    ],
)
def test_agency_prefilter(text: str, possible: bool) -> None:
    assert may_name_agency(text_words(text)) is possible


def test_agency_prefilter_never_hides_a_credit_on_real_text() -> None:
    """The word prefilter only skips work: on the seeds, the BBC and wikiref articles,
    credits read with the words given are the credits read by scanning the text, and
    every article where an agency name is found passes the prefilter."""
    from wiretrace.ingest.credits import _agency_regex
    from wiretrace.ingest.decode import decode_bytes
    from wiretrace.ingest.textfile import parse_text
    from wiretrace.settings import IngestSettings

    paths = [*SEEDS.glob("*.txt"), *BBC.glob("*/*.txt"), *WIKIREF.glob("*")]
    named = 0
    for path in sorted(paths):
        text, _ = decode_bytes(path.read_bytes(), str(path))
        article = parse_text(text, path.stem, None, "text", IngestSettings())
        scanned = analyze_credits(article.text, article.excluded, article.byline)
        assert (article.credits, article.dateline) == (scanned.credits, scanned.dateline)
        if _agency_regex().search(text) is not None:  # the scan the prefilter spares
            named += 1
            assert may_name_agency(text_words(text)), path
    assert named >= 100


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(
    ["CARACAS", "New York", "WASHINGTON", ",", " ", "  ", "(Reuters)", "(AFP)", "-", "--",
     "–", "—", " - ", "Venezuela", "March 5", "*", "_", "> ", "The", "said", "x", "\t"]
), max_size=10))
@example(["CARACAS", " ", "(Reuters)", " - "])  # a dateline: the assertion runs
def test_dateline_precheck_never_skips_a_dateline(parts: list[str]) -> None:
    """Every line the dateline rule matches passes its cheap precheck."""
    from wiretrace.ingest.credits import _DATELINE, _may_be_dateline

    line = "".join(parts) + " Text follows."
    if _DATELINE.match(line):
        assert _may_be_dateline(line)


def test_credits_from_the_readers_lines_equal_those_from_the_text() -> None:
    """The text reader hands the credit rules its split lines and their kinds; the
    credits and dateline are those found by splitting the text again, on the seeds and
    on real BBC articles."""
    from wiretrace.ingest.textfile import parse_text
    from wiretrace.settings import IngestSettings

    paths = sorted(SEEDS.glob("*.txt")) + sorted(BBC.glob("*/*.txt"))[::10]
    for path in paths:
        text = path.read_text(errors="replace")
        article = parse_text(text, path.stem, None, "text", IngestSettings())
        again = analyze_credits(text, article.excluded, article.byline)
        assert (again.credits, again.dateline) == (article.credits, article.dateline), path
    assert sum(1 for p in paths if parse_text(p.read_text(errors="replace"), "x", None,
               "text", IngestSettings()).credits) >= 2  # the seeds credit agencies
