"""Provenance: origin with evidence, credit check, coverage, copy chains.

The seed passages are DESIGN.md section 1's ground truth (offsets into the files);
the other articles are written here and read through the real text ingest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from wiretrace.analyze.provenance import (
    attribute,
    check_credit,
    coverage,
    form_preference,
    resolve_chains,
)
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article, Edit, Passage, ReusePair
from wiretrace.settings import IngestSettings, Settings

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"
A_ID = "000_a7cae44381716f60"
B_ID = "003_aa80bf1ba9256955"


def load_seed(name: str) -> Article:
    path = SEEDS / f"{name}.txt"
    text = path.read_text(encoding="utf-8")
    return parse_text(text, name, str(path), "text", IngestSettings())


def article(id: str, text: str, **meta: object) -> Article:
    return parse_text(text, id, id, "text", IngestSettings()).with_(**meta)


def same(a: Article, b: Article, phrase: str) -> Passage:
    """An identical passage: ``phrase`` found in both texts."""
    i, j = a.text.index(phrase), b.text.index(phrase)
    return Passage(i, i + len(phrase), j, j + len(phrase), phrase, phrase, 1.0)


def edited(
    a: Article, b: Article, left: str, right: str, swaps: list[tuple[str, str, str]]
) -> Passage:
    """A passage ``left`` (in a) ~ ``right`` (in b) whose edits replace each
    ``(x, y, kind)``: x in a's passage by y in b's (first occurrences, in order)."""
    i, j = a.text.index(left), b.text.index(right)
    edits = []
    pa, pb = i, j
    for x, y, kind in swaps:
        sa = a.text.index(x, pa)
        sb = b.text.index(y, pb)
        edits.append(Edit("replace", sa, sa + len(x), sb, sb + len(y), x, y, kind))  # type: ignore[arg-type]
        pa, pb = sa + len(x), sb + len(y)
    return Passage(i, i + len(left), j, j + len(right), left, right, 0.9, tuple(edits))


@pytest.fixture(scope="module")
def seeds() -> tuple[Article, Article, list[Passage]]:
    a, b = load_seed(A_ID), load_seed(B_ID)

    def edit(x: str, y: str) -> Edit:
        i, j = a.text.index(x, 2223), b.text.index(y, 1486)
        return Edit("replace", i, i + len(x), j, j + len(y), x, y, "alias")

    def span(a0: int, a1: int, b0: int, b1: int, edits: tuple[Edit, ...] = ()) -> Passage:
        return Passage(a0, a1, b0, b1, a.text[a0:a1], b.text[b0:b1], 0.9, edits)

    passages = [
        span(577, 808, 1073, 1304),
        span(2223, 2335, 1486, 1609, (edit("U.S.", "USA"), edit("Russia", "Russian Federation"))),
        span(2724, 2987, 1904, 2167),
    ]
    return a, b, passages


@pytest.mark.parametrize("given_order", ["origin_first", "reuser_first"])
def test_seed_origin_evidence_and_credit(
    seeds: tuple[Article, Article, list[Passage]], given_order: str
) -> None:
    a, b, passages = seeds
    if given_order == "origin_first":
        pair = attribute(a, b, passages, Settings())
    else:
        pair = attribute(b, a, [p.swapped() for p in passages], Settings())
    assert (pair.source, pair.target) == (A_ID, B_ID)
    assert 0.85 <= pair.origin_confidence <= 0.95
    evidence = " | ".join(pair.evidence)
    assert "Reuters dateline (CARACAS) and byline" in evidence
    assert f"{A_ID} is dated (2019-03-24 20:22) while {B_ID} is not" in evidence
    assert f"{B_ID} scatters {A_ID}'s sentences among other material" in evidence
    assert '"U.S." -> "USA"' in evidence and '"Russia" -> "Russian Federation"' in evidence
    assert pair.credit == "uncredited" and not pair.credited and pair.credited_to == ()
    # Passages come back oriented: source offsets are 000's, in 003's order.
    assert [(p.source_start, p.target_start) for p in pair.passages] == [
        (577, 1073),
        (2223, 1486),
        (2724, 1904),
    ]
    assert pair.passages[1].edits[0].source_text == "U.S."
    assert all(p.origin is None for p in pair.passages)
    # DESIGN.md: 91 of 003's 307 body words are inside the passages.
    assert coverage(b, [(1073, 1304), (1486, 1609), (1904, 2167)]) == (91, 307)
    assert pair.target_coverage == pytest.approx(91 / 307)
    inside, total = coverage(a, [(577, 808), (2223, 2335), (2724, 2987)])
    assert inside == 90
    assert pair.source_coverage == pytest.approx(90 / total)


def test_seed_credit_check_both_ways(seeds: tuple[Article, Article, list[Passage]]) -> None:
    a, b, _ = seeds
    check = check_credit(a, b)
    assert check.status == "uncredited"
    assert "Reuters" in check.names and "Inverse Times Open Publishing" in check.names
    # Seen the other way, 000 credits Reuters, which 003 does not name: elsewhere.
    assert check_credit(b, a).status == "credited_elsewhere"


WIRE = (
    "Storm closes port\n\n"
    "By Ana Ruiz, Reuters\n\n"
    "LISBON (Reuters) - A winter storm closed the port of Lisbon on Tuesday, stranding "
    "dozens of cargo ships and forcing the cancellation of ferry services across the "
    "river, the port authority said.\n\n"
    "Officials in the U.S. and Russia said the storm had also delayed grain shipments "
    "bound for North Africa by at least three days.\n"
)


def reprint(body: str, title: str = "Port shut by storm") -> str:
    return f"{title}\n\n{body}\n"


def test_credit_statuses_with_agency_aliases() -> None:
    src = article(
        "afp-story",
        "Floods\n\nPARIS (AFP) - Heavy rain flooded the old town "
        "of Nimes overnight and rescuers evacuated two schools, officials said.\n",
    )
    assert src.credits == ("AFP",)
    credits_alias = article(
        "r1",
        reprint(
            "Heavy rain flooded the old town of Nimes overnight "
            "and rescuers evacuated two schools, according to "
            "Agence France-Presse."
        ),
    )
    assert check_credit(src, credits_alias).status == "credited"
    assert check_credit(src, credits_alias).credited_to == ("AFP",)
    other = article(
        "r2",
        reprint(
            "Heavy rain flooded the old town of Nimes overnight and "
            "rescuers evacuated two schools, according to Reuters."
        ),
    )
    result = check_credit(src, other)
    assert result.status == "credited_elsewhere" and result.credited_to == ("Reuters",)
    silent = article("r3", reprint("Heavy rain flooded the old town of Nimes overnight."))
    assert check_credit(src, silent).status == "uncredited"


def test_credit_by_link_to_origin_url_and_outlet_name() -> None:
    src = article(
        "blog",
        "Local news\n\nThe council voted to close the library on Sundays "
        "from next month to save money.\n",
        outlet="Riverside Gazette",
        url="https://www.riverside-gazette.example/a/1",
    )
    linked = article(
        "copy1",
        reprint(
            "The council voted to close the library on Sundays. "
            "Read it at https://riverside-gazette.example/a/1/"
        ),
    )
    assert check_credit(src, linked).status == "credited"
    named = article(
        "copy2",
        reprint(
            "The council voted to close the library on Sundays, according to the Riverside Gazette."
        ),
    )
    assert check_credit(src, named).status == "credited"


def test_times_decide_and_naive_vs_aware_needs_a_large_gap() -> None:
    text = reprint(
        "Engineers restored power to the northern district late on Monday after "
        "a fault at the main substation left thousands without heating."
    )
    plain = article("x", text)
    early = plain.with_(id="early", published=datetime(2021, 1, 4, 9, 0, tzinfo=UTC))
    late = plain.with_(
        id="late", published=datetime(2021, 1, 4, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    )
    p = same(early, late, "Engineers restored power to the northern district late on Monday")
    pair = attribute(late, early, [p.swapped()], Settings())
    assert (pair.source, pair.target) == ("early", "late")
    assert any("published first" in e and "1 h before" in e for e in pair.evidence)
    # A naive time against an aware one, 5 hours apart: the zone is unknown, no verdict.
    naive = plain.with_(id="naive", published=datetime(2021, 1, 4, 14, 0))
    pair = attribute(naive, early, [p], Settings())
    assert pair.origin_confidence == pytest.approx(0.5)
    assert any("about the same time" in e for e in pair.evidence)
    # ... but 3 days apart it does decide.
    old = plain.with_(id="old", published=datetime(2021, 1, 1, 9, 0))
    pair = attribute(early, old, [p], Settings())
    assert pair.source == "old" and pair.origin_confidence > 0.75
    # Missing on both sides: the given order is kept at 0.5, and the evidence says so.
    pair = attribute(plain.with_(id="u1"), plain.with_(id="u2"), [p], Settings())
    assert (pair.source, pair.origin_confidence) == ("u1", 0.5)
    assert "no evidence of direction" in pair.evidence[-1]


def test_contiguous_run_against_interleaved_material() -> None:
    wire = article("wire", WIRE)
    first = (
        "A winter storm closed the port of Lisbon on Tuesday, stranding dozens of cargo "
        "ships and forcing the cancellation of ferry services across the river, the port "
        "authority said."
    )
    second = (
        "Officials in the U.S. and Russia said the storm had also delayed grain "
        "shipments bound for North Africa by at least three days."
    )
    mixed = article(
        "mixed",
        reprint(
            f"{first}\n\nOur correspondent in the city said the waterfront was deserted and shops "
            f"had closed early because of the wind.\n\n{second}"
        ),
    )
    passages = [same(mixed, wire, first), same(mixed, wire, second)]
    pair = attribute(mixed, wire, passages, Settings())
    assert pair.source == "wire"
    assert any("one contiguous run in wire" in e for e in pair.evidence)
    assert pair.credit == "uncredited"


def test_alias_direction_alone() -> None:
    text_a = reprint(
        "Officials in the U.S. and Russia said the storm had delayed grain "
        "shipments bound for North Africa by at least three days."
    )
    text_b = reprint(
        "Officials in the USA and Russian Federation said the storm had delayed "
        "grain shipments bound for North Africa by at least three days."
    )
    a, b = article("std", text_a), article("var", text_b)
    left = a.text[a.text.index("Officials") :].strip()
    right = b.text[b.text.index("Officials") :].strip()
    p = edited(
        a, b, left, right, [("U.S.", "USA", "alias"), ("Russia", "Russian Federation", "alias")]
    )
    for x, y, ps in ((a, b, [p]), (b, a, [p.swapped()])):
        pair = attribute(x, y, ps, Settings())
        assert (pair.source, pair.target) == ("std", "var")
        assert 0.6 < pair.origin_confidence < 0.8
    assert form_preference("U.S.") == 1 and form_preference("Russian Federation") == -1
    assert form_preference("Caracas") == 0


def test_per_passage_origin_when_its_aliases_point_the_other_way() -> None:
    """A pair oriented by a strong signal (credit) keeps a passage whose own alias edits
    say the other side wrote it, and names that passage's origin."""
    a = article("a", WIRE)
    text_b = reprint(
        "Officials in the USA and Russian Federation said the storm had also "
        "delayed grain shipments bound for North Africa by at least three days. "
        "That is what Reuters reported."
    )
    b = article("b", text_b)
    rest = (
        " said the storm had also delayed grain shipments bound for North Africa"
        " by at least three days."
    )
    left = f"Officials in the U.S. and Russia{rest}"
    right = f"Officials in the USA and Russian Federation{rest}"
    # The swapped passage: b's variant text on the source side.
    p = edited(
        a, b, left, right, [("U.S.", "USA", "alias"), ("Russia", "Russian Federation", "alias")]
    )
    pair = attribute(a, b, [p], Settings())
    assert pair.source == "a"
    assert pair.passages[0].origin is None
    # Now pretend the aligned text came the other way round inside a pair that credit
    # orients a -> b: the passage on a's side has the variants.
    flipped = Passage(
        p.source_start,
        p.source_end,
        p.target_start,
        p.target_end,
        p.source_text,
        p.target_text,
        p.similarity,
        tuple(
            Edit(
                e.op,
                e.source_start,
                e.source_end,
                e.target_start,
                e.target_end,
                e.target_text,
                e.source_text,
                e.kind,
            )
            for e in p.edits
        ),
    )
    pair = attribute(a, b, [flipped], Settings())
    assert pair.source == "a"
    assert pair.passages[0].origin == "b"


def test_resolve_chains_keeps_chain_and_drops_siblings() -> None:
    base = (
        "The central bank raised its main interest rate by half a point on Thursday, "
        "its third increase this year, and said inflation in the U.S. would ease slowly."
    )
    changed = base.replace("raised", "lifted")
    x = article("x", reprint(base, "Rates up"), published=datetime(2022, 5, 5, 8, tzinfo=UTC))
    y = article("y", reprint(changed, "Rates rise"), published=datetime(2022, 5, 5, 9, tzinfo=UTC))
    z = article("z", reprint(changed, "Bank rate"), published=datetime(2022, 5, 5, 10, tzinfo=UTC))
    w = article("w", reprint(base, "Bank moves"), published=datetime(2022, 5, 5, 11, tzinfo=UTC))
    swap = [("raised", "lifted", "synonym")]
    xy = attribute(x, y, [edited(x, y, base, changed, swap)], Settings())
    xz = attribute(x, z, [edited(x, z, base, changed, swap)], Settings())
    yz = attribute(y, z, [same(y, z, changed)], Settings())
    xw = attribute(x, w, [same(x, w, base)], Settings())
    yw = attribute(w, y, [edited(w, y, base, changed, swap)], Settings())
    assert [(p.source, p.target) for p in (xy, xz, yz, xw, yw)] == [
        ("x", "y"),
        ("x", "z"),
        ("y", "z"),
        ("x", "w"),
        ("y", "w"),
    ]
    kept = resolve_chains([xy, xz, yz, xw, yw])
    edges = [(p.source, p.target) for p in kept]
    # z follows y's edit of x: chain x -> y -> z; w is x's sibling copy, y and w are
    # both x's reprints: each paired with x only.
    assert edges == [("x", "y"), ("y", "z"), ("x", "w")]
    chain = next(p for p in kept if p.target == "z")
    assert "copy chain x -> y -> z" in chain.evidence[0]


def test_resolve_chains_keeps_what_a_sibling_took_from_the_other_own_material() -> None:
    base = (
        "The central bank raised its main interest rate by half a point on Thursday, "
        "its third increase this year, and said inflation would ease slowly."
    )
    own = (
        "Shop owners in the capital told our reporter that customers were already "
        "spending less on clothes and eating out than a year ago."
    )
    x = article("x", reprint(base, "Rates up"), published=datetime(2022, 5, 5, 8, tzinfo=UTC))
    y = article(
        "y", reprint(f"{base}\n\n{own}", "Rates"), published=datetime(2022, 5, 5, 9, tzinfo=UTC)
    )
    z = article(
        "z", reprint(f"{own}\n\n{base}", "Bank"), published=datetime(2022, 5, 5, 10, tzinfo=UTC)
    )
    xy = attribute(x, y, [same(x, y, base)], Settings())
    xz = attribute(x, z, [same(x, z, base)], Settings())
    yz = attribute(y, z, [same(y, z, base), same(y, z, own)], Settings())
    kept = resolve_chains([xy, xz, yz], {a.id: a for a in (x, y, z)})
    assert [(p.source, p.target) for p in kept] == [("x", "y"), ("x", "z"), ("y", "z")]
    trimmed = kept[2]
    assert [p.source_text for p in trimmed.passages] == [own]
    # Coverage recomputed over the kept passage: own's words of z's body words.
    assert trimmed.target_coverage == pytest.approx(
        len(own.split()) / (len(own.split()) + len(base.split()))
    )


def test_alias_table_confirms_alias_edits(seeds: tuple[Article, Article, list[Passage]]) -> None:
    from wiretrace.text.aliases import AliasTable

    table = AliasTable.load()
    a, b, passages = seeds
    pair = attribute(b, a, [p.swapped() for p in passages], Settings(), table)
    assert pair.source == A_ID and any('"U.S." -> "USA"' in e for e in pair.evidence)
    # An edit typed alias whose two forms are different entities gives no direction.
    text_a = reprint("Officials in Russia said the storm had delayed grain shipments to Egypt.")
    text_b = reprint("Officials in the USA said the storm had delayed grain shipments to Egypt.")
    x, y = article("x", text_a), article("y", text_b)
    left = x.text[x.text.index("Officials") :].strip()
    right = y.text[y.text.index("Officials") :].strip()
    p = edited(x, y, left, right, [("Russia", "the USA", "alias")])
    assert attribute(x, y, [p], Settings()).origin_confidence > 0.5
    unconfirmed = attribute(x, y, [p], Settings(), table)
    assert unconfirmed.origin_confidence == pytest.approx(0.5)


def test_seeds_end_to_end_through_detection() -> None:
    """Real detection on the two seeds, then attribution and chain resolution."""
    from wiretrace.analyze.patchwork import patchwork
    from wiretrace.analyze.provenance import attribute_all
    from wiretrace.detect import detect_reuse
    from wiretrace.text.aliases import AliasTable

    a, b = load_seed(A_ID), load_seed(B_ID)
    settings, table = Settings(), AliasTable.load()
    # Detection orients provisionally; hand it the articles reuser first.
    raw = detect_reuse([b, a], settings, table)
    pairs = attribute_all(raw, {a.id: a, b.id: b}, settings, table)
    assert len(pairs) == 1
    pair = pairs[0]
    assert (pair.source, pair.target, pair.credit) == (A_ID, B_ID, "uncredited")
    assert 0.85 <= pair.origin_confidence <= 0.95
    assert [
        (p.source_start, p.source_end, p.target_start, p.target_end) for p in pair.passages
    ] == [
        (577, 808, 1073, 1304),
        (2223, 2335, 1486, 1609),
        (2724, 2987, 1904, 2167),
    ]
    evidence = " | ".join(pair.evidence)
    for needle in ("Reuters dateline (CARACAS) and byline", "is dated", "scatters", '"USA"'):
        assert needle in evidence
    work = patchwork(b, pairs)
    assert len(work.novel) == 10 and (work.reused_words, work.body_words) == (91, 307)


# --------------------------------------------------------------------------- groups

PARAS = (
    "The harbour authority closed the northern port on Monday after a storm surge "
    "flooded the container terminal and knocked out power to three of its cranes.",
    "Engineers expect the terminal to stay shut for at least four days while pumps "
    "drain the quay and electricians check every cable running under the yard.",
    "Shipping lines have diverted eleven vessels to the southern port, where workers "
    "are unloading around the clock to clear a backlog of refrigerated cargo.",
    "The regional government said it would pay for emergency repairs and promised a "
    "review of the sea wall, which was last raised more than thirty years ago.",
    "Local traders warned that fresh fruit and fish could run short in the city's "
    "markets by the weekend if the cranes are not working again soon.",
)


def wire(id: str, paras: tuple[str, ...], when: datetime) -> Article:
    """A Reuters origin: byline, date, dateline."""
    body = "\n\n".join(paras)
    text = (
        f"Port shut by storm\n\nBy Anna Keller, Reuters | {when:%d %b %Y %H:%M} GMT\n\n"
        f"LONDON (Reuters) - {body}\n"
    )
    return article(id, text)


def outlet_copy(id: str, paras: tuple[str, ...], outlet: str, when: datetime | None) -> Article:
    """A copy by an outlet, no credit line."""
    head = f"By {outlet} staff" + (f" | {when:%d %b %Y %H:%M} GMT" if when else "")
    return article(id, f"Storm closes port\n\n{head}\n\n" + "\n\n".join(paras) + "\n")


def test_star_around_a_reprint_is_re_centred_on_the_origin() -> None:
    """Detection gave a near-duplicate group as a star around a reprint (R): the origin
    X paired with R, and the partial copy M paired with R only. Provenance aligns X with
    M and pairs each member with the origin; the sibling pair R - M goes."""
    from wiretrace.analyze.provenance import attribute_all
    from wiretrace.detect import align_articles
    from wiretrace.text.aliases import AliasTable

    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    x = wire("x", PARAS, t0)
    r = outlet_copy("r", PARAS, "Daily Ledger", t0 + timedelta(hours=2))
    m = outlet_copy("m", PARAS[:3], "Northern Post", t0 + timedelta(hours=5))
    settings, table = Settings(), AliasTable.load()
    star = []
    for a, b in ((r, x), (r, m)):
        passages = align_articles(a, b, settings, table)
        assert passages
        star.append(ReusePair(a.id, b.id, tuple(passages)))
    pairs = attribute_all(star, {z.id: z for z in (x, r, m)}, settings, table)
    assert [(p.source, p.target) for p in pairs] == [("x", "m"), ("x", "r")]
    assert all(p.credit == "uncredited" for p in pairs)
    no_closing = attribute_all(
        star,
        {z.id: z for z in (x, r, m)},
        Settings().with_overrides({"provenance.close_triangle_words": 0}),
        table,
    )
    assert {(p.source, p.target) for p in no_closing} == {("x", "r"), ("r", "m")}


def test_chain_found_through_a_star_and_turned_round() -> None:
    """A -> B (B rewords A) -> C (C copies B, cut from the bottom); B and C are undated,
    so no time says who copied whom between them. Detection paired A and B with C only.
    C follows B's rewording, and B holds A's text that C lacks: the chain is
    A -> B -> C, whatever the attribution of B - C said."""
    from wiretrace.analyze.provenance import attribute_all
    from wiretrace.detect import align_articles
    from wiretrace.text.aliases import AliasTable

    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    a = wire("a", PARAS, t0)
    spun = tuple(
        p.replace("closed", "shut")
        .replace("expect", "anticipate")
        .replace("diverted", "redirected")
        .replace("promised", "pledged")
        .replace("warned", "cautioned")
        for p in PARAS
    )
    b = outlet_copy("b", spun, "Daily Ledger", None)
    c = outlet_copy("c", spun[:3], "Northern Post", None)
    settings, table = Settings(), AliasTable.load()
    star = []
    for x, y in ((c, a), (c, b)):
        passages = align_articles(x, y, settings, table)
        assert passages
        star.append(ReusePair(x.id, y.id, tuple(passages)))
    pairs = attribute_all(star, {z.id: z for z in (a, b, c)}, settings, table)
    assert [(p.source, p.target) for p in pairs] == [("a", "b"), ("b", "c")]
    chain = pairs[1]
    assert "a copy chain a -> b -> c" in " | ".join(chain.evidence)


def _attributed_triangle(*arts: Article) -> list[ReusePair]:
    """Every pair of ``arts`` aligned by detection's kernel, then ``attribute_all``."""
    from wiretrace.analyze.provenance import attribute_all
    from wiretrace.detect import align_articles
    from wiretrace.text.aliases import AliasTable

    settings, table = Settings(), AliasTable.load()
    raw = []
    for i, x in enumerate(arts):
        for y in arts[i + 1 :]:
            passages = align_articles(x, y, settings, table)
            assert passages
            raw.append(ReusePair(x.id, y.id, tuple(passages)))
    return attribute_all(raw, {z.id: z for z in arts}, settings, table)


SHUFFLED = (PARAS[2], PARAS[0], PARAS[4], PARAS[1], PARAS[3])


def test_chain_told_by_the_order_a_copy_moved_paragraphs_to() -> None:
    """B moves A's paragraphs around without changing a word; C rewords B and keeps B's
    order. Only the order shows that C copied B, not A: the chain A -> B -> C is kept
    and A -> C dropped."""
    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    a = wire("a", PARAS, t0)
    b = outlet_copy("b", SHUFFLED, "Daily Ledger", t0 + timedelta(hours=3))
    spun = tuple(
        p.replace("closed", "shut").replace("expect", "anticipate").replace("warned", "cautioned")
        for p in SHUFFLED
    )
    c = outlet_copy("c", spun, "Northern Post", t0 + timedelta(hours=9))
    pairs = _attributed_triangle(a, b, c)
    assert [(p.source, p.target) for p in pairs] == [("a", "b"), ("b", "c")]
    assert "order b moved it to: a copy chain a -> b -> c" in " | ".join(pairs[1].evidence)


def test_two_copies_reordered_each_their_own_way_are_siblings() -> None:
    """B and C both move A's paragraphs, differently: no chain between them; each is
    paired with A."""
    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    a = wire("a", PARAS, t0)
    b = outlet_copy("b", SHUFFLED, "Daily Ledger", t0 + timedelta(hours=3))
    other = (PARAS[4], PARAS[3], PARAS[0], PARAS[2], PARAS[1])
    c = outlet_copy("c", other, "Northern Post", t0 + timedelta(hours=9))
    pairs = _attributed_triangle(a, b, c)
    assert [(p.source, p.target) for p in pairs] == [("a", "b"), ("a", "c")]


def test_alias_swaps_alone_do_not_make_a_chain() -> None:
    """Two reprints that make the same house-style name swap ("US" -> "United States")
    are siblings: alias swaps are made independently by many outlets."""
    base = (
        "The central bank raised its main interest rate by half a point on Thursday, "
        "its third increase this year, and said inflation in the US would ease slowly."
    )
    changed = base.replace("US", "United States")
    x = article("x", reprint(base, "Rates up"), published=datetime(2022, 5, 5, 8, tzinfo=UTC))
    y = article("y", reprint(changed, "Rates rise"), published=datetime(2022, 5, 5, 9, tzinfo=UTC))
    z = article("z", reprint(changed, "Bank rate"), published=datetime(2022, 5, 5, 10, tzinfo=UTC))
    swap = [("US", "United States", "alias")]
    xy = attribute(x, y, [edited(x, y, base, changed, swap)], Settings())
    xz = attribute(x, z, [edited(x, z, base, changed, swap)], Settings())
    yz = attribute(y, z, [same(y, z, changed)], Settings())
    kept = resolve_chains([xy, xz, yz])
    assert [(p.source, p.target) for p in kept] == [("x", "y"), ("x", "z")]


def test_excerpt_cut_from_the_bottom_points_to_the_longer_article() -> None:
    """No time, no credit: the article that is entirely inside the other, which goes
    on for two more paragraphs, is the excerpt."""
    full = outlet_copy("full", PARAS, "Daily Ledger", None)
    cut = outlet_copy("cut", PARAS[:3], "Northern Post", None)
    text = "\n\n".join(PARAS[:3])
    pair = attribute(cut, full, [same(cut, full, text)], Settings())
    assert (pair.source, pair.target) == ("full", "cut")
    assert any("cut from the bottom" in e for e in pair.evidence)


def test_a_compilation_is_the_reuser_of_its_weakly_oriented_pairs() -> None:
    """S stitches a paragraph of X (dated: clearly the origin) and one of W (no
    evidence either way between W and S): S is a compilation, so W is the origin."""
    from wiretrace.analyze.provenance import attribute_all

    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    x = outlet_copy("x", PARAS[:2], "Daily Ledger", t0)
    other = (
        "Rail services between the two cities were suspended after a landslide blocked "
        "the line near the river crossing, the operator said on its website.",
        "Crews worked through the night to clear the rocks, and the operator hopes to "
        "run a reduced timetable from Wednesday morning.",
    )
    w = outlet_copy("w", other, "Metro Gazette", None)
    s = outlet_copy("s", (PARAS[0], other[0]), "Open Newsroom", None)
    s = s.with_(published=t0 + timedelta(hours=3))
    raw = [
        ReusePair("x", "s", (same(x, s, PARAS[0]),)),
        ReusePair("s", "w", (same(s, w, other[0]),)),
    ]
    pairs = attribute_all(raw, {z.id: z for z in (x, w, s)}, Settings())
    assert [(p.source, p.target) for p in pairs] == [("w", "s"), ("x", "s")]
    assert any("stitches other articles' text" in e for e in pairs[0].evidence)


def test_triangle_filled_through_the_edits_of_two_reprints_of_one_copy() -> None:
    """S and M reprint the same rewording of R. Read through R, S - M needs no alignment:
    the S text under the R - M passage, mapped through S -> R's edits, is M's text
    exactly, so the filled passage has no edits. When M's rewording differs from S's,
    composition declines (the caller aligns)."""
    from wiretrace.analyze.provenance import _composed

    base = (
        "The harbour authority closed the northern port on Monday after a storm surge "
        "flooded the container terminal and knocked out power to three of its cranes."
    )
    spun = base.replace("closed", "shut").replace("flooded", "swamped")
    swaps = [("closed", "shut", "synonym"), ("flooded", "swamped", "synonym")]
    back = [(y, x, kind) for x, y, kind in swaps]
    r = article("r", reprint(base, "Port shut"))
    s = article("s", reprint(spun, "Storm hits port"))
    m = article("m", reprint(spun, "Port closed"))
    sr = ReusePair("s", "r", (edited(s, r, spun, base, back),))
    rm = ReusePair("r", "m", (edited(r, m, base, spun, swaps),))
    filled = _composed(sr, rm, s, m)
    assert filled is not None and len(filled) == 1
    p = filled[0]
    assert p.source_text == p.target_text == spun and not p.edits
    assert s.text[p.source_start : p.source_end] == m.text[p.target_start : p.target_end]
    other = spun.replace("northern", "north")
    m2 = article("m2", reprint(other, "Port closed"))
    swaps2 = [*swaps[:1], ("northern", "north", "other"), *swaps[1:]]
    rm2 = ReusePair("r", "m2", (edited(r, m2, base, other, swaps2),))
    assert _composed(sr, rm2, s, m2) is None


def test_triangle_filled_through_edits_that_touch_different_words() -> None:
    """S rewords one word of R, M another: S - M makes both edits, each at its place in
    the other article, with its kind, and the texts between them agree."""
    from wiretrace.analyze.provenance import _composed

    base = (
        "The harbour authority closed the northern port on Monday after a storm surge\n\n"
        "flooded the container terminal and knocked out power to three of its cranes."
    )
    s_body = base.replace("closed", "shut")
    m_body = base.replace("northern", "north").replace("surge\n\n", "surge ")
    r = article("r", reprint(base, "Port shut"))
    s = article("s", reprint(s_body, "Storm hits port"))
    m = article("m", reprint(m_body, "Port closed"))
    sr = ReusePair("s", "r", (edited(s, r, s_body, base, [("shut", "closed", "synonym")]),))
    rm = ReusePair("r", "m", (edited(r, m, base, m_body, [("northern", "north", "other")]),))
    filled = _composed(sr, rm, s, m)
    assert filled is not None and len(filled) == 1
    p = filled[0]
    assert (p.source_text, p.target_text) == (s_body, m_body)
    assert [(e.source_text, e.target_text, e.kind) for e in p.edits] == [
        ("shut", "closed", "synonym"),
        ("northern", "north", "other"),
    ]
    for e in p.edits:
        assert s.text[e.source_start : e.source_end] == e.source_text
        assert m.text[e.target_start : e.target_end] == e.target_text


# --------------------------------------------------------------------------- worker pool


def test_worker_pool_gives_the_in_process_result() -> None:
    """Attribution over forked workers, one connected group of pairs at a time, gives
    the list one in-process run gives, in the same order: real detection on the BBC
    collection with planted reuse (reprints, a partial copy, a chain, a patchwork) and a
    reprint flood, plus a star around a reprint whose open triangle is closed."""
    from reuse_corpus import flood, planted
    from wiretrace.analyze.provenance import _components, attribute_all
    from wiretrace.detect import align_articles, detect_reuse
    from wiretrace.text.aliases import AliasTable

    articles = {
        r["id"]: article(r["id"], r["text"]).with_(
            outlet=r["outlet"], published=datetime.fromisoformat(r["published"])
        )
        for r in [*planted(), *flood(8)]
    }
    table = AliasTable.load()
    raw = detect_reuse(list(articles.values()), Settings(), table)
    t0 = datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
    x = wire("x", PARAS, t0)
    r = outlet_copy("r", PARAS, "Daily Ledger", t0 + timedelta(hours=2))
    m = outlet_copy("m", PARAS[:3], "Northern Post", t0 + timedelta(hours=5))
    articles.update({z.id: z for z in (x, r, m)})
    raw += [ReusePair("r", b.id, tuple(align_articles(r, b, Settings(), table))) for b in (x, m)]
    assert len(_components(raw)) >= 4
    alone = attribute_all(raw, articles, Settings().with_overrides({"provenance.workers": 1}))
    pooled = attribute_all(
        raw,
        articles,
        Settings().with_overrides({"provenance.workers": 2}),
        pool_min_pairs=1,
    )
    assert ("x", "m") in {(p.source, p.target) for p in alone}  # the triangle closed
    assert pooled == alone
    assert [(p.source, p.target) for p in pooled] == sorted((p.source, p.target) for p in alone)
