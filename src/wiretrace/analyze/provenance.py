"""Origin, evidence and credit for a pair of articles that share aligned passages.

:func:`attribute` takes two articles and the passages aligned between them (``a`` on the
passages' source side, as detection gave them) and returns a :class:`ReusePair` whose
``source`` is the inferred origin. Each signal below adds a weight (log-odds) for one
side; the confidence is the logistic of the summed weights, so it lies in [0.5, 1)
for the chosen side, and 0.5 means no evidence (the given order is then kept).

Signals, each named in the evidence in plain words:

- **publication times**: the earlier article is the origin. Aware times are compared
  exactly; two naive times likewise (same unknown zone assumed); a naive time against an
  aware one only counts when they differ by more than
  ``provenance.naive_time_slack_hours`` (the naive zone is unknown). An article that is
  dated against one that is not weighs little; equal or missing times weigh nothing.
- **credits and datelines**: an article with an agency dateline or byline, or crediting
  an agency, that the other lacks is closer to the origin; an article that credits the
  other's outlet or links to its URL names it as its source (strong).
- **scattering (containment asymmetry)**: where the passages form one contiguous run of
  one side's body but have other material between them on the other side, the
  contiguous side is the origin; otherwise the share of passage ends glued, inside the
  same paragraph, to material found in no passage ("scattered among other material")
  is compared: the reuser stitches the copied sentences to its own.
- **alias direction**: for alias edits ("U.S." -> "USA", "Russia" -> "Russian
  Federation") the side using the standard wire-style form is the origin and the side
  using the variant is the reuser.

A passage's own origin (``Passage.origin``) is set where the alias edits inside it point,
by at least two, the other way from the pair.

:func:`resolve_chains` then works on a collection's attributed pairs: copy chains
(A -> B -> C where C follows B's edits of A) and near-duplicate groups (each member
paired with the group's origin). :func:`check_credit` and :func:`coverage` are public
for the shells and the evaluation.
"""

from __future__ import annotations

import gc
import itertools
import logging
import math
import multiprocessing
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache, lru_cache
from itertools import pairwise
from typing import Protocol

import regex

from wiretrace.analyze.groups import open_triangles, token_starts
from wiretrace.ingest.credits import fold_name, load_agencies
from wiretrace.models import Article, CreditStatus, Edit, Passage, ReusePair, Span
from wiretrace.settings import Settings

__all__ = [
    "AliasLookup",
    "Aligner",
    "CreditCheck",
    "attribute",
    "attribute_all",
    "check_credit",
    "coverage",
    "detection_aligner",
    "form_preference",
    "resolve_chains",
]

log = logging.getLogger(__name__)


class AliasLookup(Protocol):
    """What provenance needs of ``text.aliases.AliasTable``."""

    def canonical(self, phrase: str) -> str | None: ...


# Conventional short names of entities that have common variants (wire and broadcast
# style: "U.S." or "US", "Britain" or "UK"). An alias edit from one of these to an
# official long form or an undotted "USA" is a swap from standard to variant. Forms
# neither listed here nor matched by _VARIANT_FORM ("United States", "Tony Blair",
# "Man Utd") give no direction: house styles disagree on them.
_STANDARD_FORMS = frozenset(
    fold_name(n)
    for n in (
        "U.S.", "US", "U.K.", "UK", "the UK", "Britain", "U.N.", "UN", "EU", "NATO", "BBC",
        "Russia", "China", "Iran", "Syria", "North Korea", "South Korea", "Venezuela",
        "Moscow", "Washington", "Beijing", "Kremlin", "Pentagon", "Taiwan", "Turkey",
        "Czech Republic", "Netherlands", "Vietnam", "Myanmar",
    )
)  # fmt: skip
# Official long forms, expansions and undotted abbreviations that news copy avoids.
_VARIANT_FORM = regex.compile(
    r"\b(?:federation|people'?s republic|islamic republic|republic of|kingdom of|"
    r"of america|usa|dprk|prc|u\.s\.a\.?|british broadcasting corporation|"
    r"north atlantic treaty organi[sz]ation)\b",
    regex.IGNORECASE,
)
_DATELINE_PREFIX = regex.compile(
    r"\s*[\p{Lu}][\p{Lu}\p{M}.'’ ,-]{1,40}(?:\s*,[^()\n]{1,40})?\s*(?:\([^()\n]{1,60}\))?"
    r"\s*(?:-{1,2}|–|—)\s*"
)


def form_preference(surface: str) -> int:
    """+1 for a standard wire-style name form, -1 for a known variant form, else 0."""
    key = fold_name(surface.strip(" \"'“”‘’.,;:"))
    if key in _STANDARD_FORMS or fold_name(surface.strip()) in _STANDARD_FORMS:
        return 1
    if _VARIANT_FORM.search(surface):
        return -1
    return 0


# --------------------------------------------------------------------------- coverage


def _body_token_starts(article: Article) -> list[int]:
    return _token_starts(article.text, article.excluded)


def _token_starts(text: str, excluded: tuple[Span, ...]) -> list[int]:
    """``tokenize(text, excluded).starts`` (cached, shared with open_triangles)."""
    return token_starts(text, excluded)


def _inside(starts: Sequence[int], ranges: Iterable[tuple[int, int]]) -> int:
    """How many of the sorted token ``starts`` lie inside the union of ``ranges``."""
    return sum(bisect_left(starts, hi) - bisect_left(starts, lo) for lo, hi in _merge(ranges))


def _merge(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def coverage(article: Article, ranges: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """``(words inside, body words)``: body word tokens (outside ``article.excluded``)
    whose start lies in the union of the character ``ranges``."""
    starts = _body_token_starts(article)
    return _inside(starts, ranges), len(starts)


def _share(inside: int, total: int) -> float:
    return inside / total if total else 0.0


# --------------------------------------------------------------------------- credit


@dataclass(frozen=True, slots=True)
class CreditCheck:
    """Does ``target`` credit ``source``? ``names``: the agency/outlet names that would
    count (the source's credits and outlet); ``credited_to``: what the target credits."""

    status: CreditStatus
    credited_to: tuple[str, ...]
    matched: tuple[str, ...]
    names: tuple[str, ...]


def _canon(name: str, agencies: Mapping[str, str]) -> str:
    if agencies is _agency_names():
        return _packaged_canon(name)
    key = fold_name(name)
    return fold_name(agencies.get(key, name))


@lru_cache(maxsize=8192)
def _packaged_canon(name: str) -> str:
    agencies = _agency_names()
    return fold_name(agencies.get(fold_name(name), name))


@lru_cache(maxsize=8192)
def _casefolded(text: str) -> str:
    return text.casefold()


@cache
def _agency_names() -> Mapping[str, str]:
    return load_agencies()


def _agencies_in(text: str | None, agencies: Mapping[str, str]) -> list[str]:
    """Canonical agency names written in ``text`` (a byline), longest names first."""
    if not text:
        return []
    if agencies is _agency_names():
        return list(_packaged_agencies_in(text))
    return _find_agencies(text, agencies)


@lru_cache(maxsize=4096)
def _packaged_agencies_in(text: str) -> tuple[str, ...]:
    return tuple(_find_agencies(text, _agency_names()))


def _find_agencies(text: str, agencies: Mapping[str, str]) -> list[str]:
    words = regex.findall(r"[\p{L}\p{N}.'’&-]+", text)
    found: list[str] = []
    i = 0
    while i < len(words):
        for n in (4, 3, 2, 1):
            key = fold_name(" ".join(words[i : i + n]).strip(".,"))
            if i + n <= len(words) and key in agencies:
                # Short all-capital agency names ("AP", "PA") only count in capitals.
                raw = " ".join(words[i : i + n])
                if len(key) > 3 or raw.isupper() or raw.istitle():
                    if agencies[key] not in found:
                        found.append(agencies[key])
                    i += n - 1
                    break
        i += 1
    return found


_URL_SCHEME = regex.compile(r"^https?://(?:www\.)?")
_URL = regex.compile(r"https?://[^\s<>\"')\]]+")


@lru_cache(maxsize=8192)
def _links_in(text: str) -> tuple[str, ...]:
    return tuple(_URL.findall(text))


def _norm_url(url: str) -> str:
    url = url.strip().lower()
    url = _URL_SCHEME.sub("", url)
    return url.rstrip("/")


@lru_cache(maxsize=1024)
def _names_pattern(outlet: str) -> regex.Pattern[str]:
    name = regex.escape(outlet)
    return regex.compile(
        rf"(?:according to|source:|sources:|via|citing|courtesy of|reported by)\s+(?:the\s+)?"
        rf"{name}\b|\({name}\)|\b{name}\s+(?:reported|said|reports)\b",
        regex.IGNORECASE,
    )


def _names_source(text: str, excluded: Sequence[Span], outlet: str) -> bool:
    """``text`` attributes its copy to ``outlet`` ("according to X", "(X)", "X reported",
    "Source: X")."""
    if outlet.casefold() not in _casefolded(text):
        return False
    for m in _names_pattern(outlet).finditer(text):
        if not any(s.start <= m.start() < s.end and s.kind != "footer" for s in excluded):
            return True
    return False


def check_credit(source: Article, target: Article) -> CreditCheck:
    """Whether ``target`` credits ``source``'s agency or outlet.

    ``credited``: the target's credits (dateline, byline, credit lines, "according to",
    from ingest) include one of the source's credited agencies or its outlet (agency
    aliases folded: "Agence France-Presse" is "AFP"), the target attributes its copy to
    the source's outlet in words, or it links to the source's URL.
    ``credited_elsewhere``: the target credits someone, but not the source.
    ``uncredited``: the target credits nobody.
    """
    agencies = _agency_names()
    names: list[str] = list(source.credits)
    names.extend(a for a in _agencies_in(source.byline, agencies) if a not in names)
    if source.outlet and source.outlet not in names:
        names.append(source.outlet)
    wanted = {_canon(n, agencies): n for n in names}
    matched = [c for c in target.credits if _canon(c, agencies) in wanted]
    for agency in _agencies_in(target.byline, agencies):
        if _canon(agency, agencies) in wanted and agency not in matched:
            matched.append(agency)
    if (
        source.outlet
        and source.outlet not in matched
        and _names_source(target.text, target.excluded, source.outlet)
    ):
        matched.append(source.outlet)
    if source.url:
        want = _norm_url(source.url)
        links = [*target.links, *_links_in(target.text)]
        if any(_norm_url(link) == want for link in links):
            matched.append(source.url)
    credited_to = tuple(dict.fromkeys([*target.credits, *matched]))
    status: CreditStatus
    if matched:
        status = "credited"
    elif target.credits:
        status = "credited_elsewhere"
    else:
        status = "uncredited"
    return CreditCheck(status, credited_to, tuple(matched), tuple(names))


# --------------------------------------------------------------------------- signals


@dataclass(slots=True)
class _Signal:
    weight: float  # > 0 favours side a, < 0 side b
    text: str


def _label(article: Article) -> str:
    return article.id


def _fmt_time(t: datetime) -> str:
    return t.isoformat(sep=" ", timespec="minutes")


def _time_signal(a: Article, b: Article, slack_hours: float) -> _Signal | None:
    ta, tb = a.published, b.published
    if ta is None and tb is None:
        return None
    if ta is None or tb is None:
        dated, undated = (a, b) if ta is not None else (b, a)
        stamp = dated.published
        assert stamp is not None
        text = f"{dated.id} is dated ({_fmt_time(stamp)}) while {undated.id} is not"
        return _Signal(0.3 if dated is a else -0.3, text)
    aware_a, aware_b = ta.tzinfo is not None, tb.tzinfo is not None
    if aware_a == aware_b:
        delta = (tb - ta).total_seconds()
        tolerance = 60.0
    else:
        # One zone is unknown: only a gap larger than any UTC offset difference tells.
        delta = (tb.replace(tzinfo=None) - ta.replace(tzinfo=None)).total_seconds()
        tolerance = timedelta(hours=slack_hours).total_seconds()
    if abs(delta) <= tolerance:
        note = "" if aware_a == aware_b else " (one without a timezone)"
        return _Signal(0.0, f"{a.id} and {b.id} were published at about the same time{note}")
    first, second = (a, b) if delta > 0 else (b, a)
    assert first.published is not None and second.published is not None
    hours = abs(delta) / 3600
    gap = f"{hours:.0f} h" if hours >= 1 else f"{abs(delta) / 60:.0f} min"
    text = (
        f"{first.id} was published first ({_fmt_time(first.published)}, {gap} before {second.id})"
    )
    return _Signal(1.5 if first is a else -1.5, text)


def _marks(article: Article, agencies: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """(agency names credited, the kinds of mark: dateline, byline, credit)."""
    kinds: list[str] = []
    byline_agencies = _agencies_in(article.byline, agencies)
    names = list(dict.fromkeys([*article.credits, *byline_agencies]))
    if article.dateline and article.credits:
        kinds.append("dateline")
    if byline_agencies:
        kinds.append("byline")
    if names and not kinds:
        kinds.append("credit")
    return names, kinds


def _credit_signal(
    a: Article,
    b: Article,
    agencies: Mapping[str, str],
    checks: dict[tuple[str, str], CreditCheck],
) -> list[_Signal]:
    """Credit and dateline signals; ``checks`` receives both credit checks (keyed by
    (source id, target id)) for the caller to reuse."""
    signals: list[_Signal] = []
    for x, y, sign in ((a, b, 1.0), (b, a, -1.0)):
        checks[(x.id, y.id)] = check_credit(x, y)
        # Only names particular to x (its outlet, its URL) are directional: an agency
        # that both credit says nothing about which copied which.
        own = {_canon(x.outlet, agencies)} if x.outlet else set()
        if y.outlet:
            own.discard(_canon(y.outlet, agencies))
        named = [
            m for m in checks[(x.id, y.id)].matched if m == x.url or _canon(m, agencies) in own
        ]
        if named:
            text = f"{y.id} names {x.id}'s outlet as its source ({', '.join(named)})"
            signals.append(_Signal(2.0 * sign, text))
    if len(signals) == 1:
        return signals
    signals.clear()
    names_a, kinds_a = _marks(a, agencies)
    names_b, kinds_b = _marks(b, agencies)
    if bool(names_a) == bool(names_b) and len(kinds_a) == len(kinds_b):
        return signals
    for x, names_x, kinds_x, y, kinds_y, sign in (
        (a, names_a, kinds_a, b, kinds_b, 1.0),
        (b, names_b, kinds_b, a, kinds_a, -1.0),
    ):
        if names_x and len(kinds_x) > len(kinds_y):
            shown = [f"{k} ({x.dateline})" if k == "dateline" else k for k in kinds_x]
            lacks = "has none" if not kinds_y else f"has only a {' and '.join(kinds_y)}"
            weight = 1.2 if len(kinds_x) >= 2 else 0.8
            text = f"{x.id} carries a {'/'.join(names_x)} {' and '.join(shown)}; {y.id} {lacks}"
            signals.append(_Signal(weight * sign, text))
            break
    return signals


# Containment: a side is "entirely inside" the passages at this share of its body words;
# the other side must have at least this many (and this share) more words of its own.
_CONTAINED_SHARE = 0.95
_CONTAINED_EXTRA_WORDS = 20
_CONTAINED_EXTRA_SHARE = 0.1


def _paragraph_bounds(text: str, pos: int) -> tuple[int, int]:
    lo = text.rfind("\n", 0, pos) + 1
    hi = text.find("\n", pos)
    return lo, len(text) if hi < 0 else hi


def _glued_ends(article: Article, ranges: Sequence[tuple[int, int]], starts: Sequence[int]) -> int:
    """Passage ends (two per passage) that touch, inside the same paragraph, body words
    lying in no passage."""
    merged = _merge(ranges)

    def foreign(lo: int, hi: int) -> bool:
        # Body words in [lo, hi) outside every passage.
        return _inside(starts, [(lo, hi)]) > _inside(starts, _clip(merged, lo, hi))

    glued = 0
    for lo, hi in ranges:
        p_lo, _ = _paragraph_bounds(article.text, lo)
        _, p_hi = _paragraph_bounds(article.text, max(lo, hi - 1))
        # A dateline ("LONDON (Reuters) -") opening the paragraph is not other material.
        dateline = _DATELINE_PREFIX.fullmatch(article.text, p_lo, lo)
        if dateline is None and foreign(p_lo, lo):
            glued += 1
        if foreign(hi, p_hi):
            glued += 1
    return glued


def _clip(merged: Sequence[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    return [(max(a, lo), min(b, hi)) for a, b in merged if a < hi and b > lo]


def _gap_words(ranges: Sequence[tuple[int, int]], starts: Sequence[int]) -> list[int]:
    ordered = sorted(ranges)
    return [_inside(starts, [(hi, lo)]) if lo > hi else 0 for (_, hi), (lo, _) in pairwise(ordered)]


def _scatter_signal(a: Article, b: Article, passages: Sequence[Passage]) -> _Signal | None:
    if not passages:
        return None
    ra = [(p.source_start, p.source_end) for p in passages]
    rb = [(p.target_start, p.target_end) for p in passages]
    sa, sb = _body_token_starts(a), _body_token_starts(b)
    if len(passages) >= 2:
        ga, gb = sum(_gap_words(ra, sa)), sum(_gap_words(rb, sb))
        # One contiguous run on one side (a few words of slack for trimmed joins).
        slack = 3 * (len(passages) - 1)
        if ga <= slack < gb or gb <= slack < ga:
            x, y, gy = (a, b, gb) if ga <= slack else (b, a, ga)
            text = (
                f"the passages are one contiguous run in {x.id} but {y.id} has "
                f"{gy} words of other material between them"
            )
            return _Signal(1.0 if x is a else -1.0, text)
    glue_a, glue_b = _glued_ends(a, ra, sa), _glued_ends(b, rb, sb)
    ends = 2 * len(passages)
    diff = (glue_b - glue_a) / ends
    if abs(diff) < 1e-9:
        return None
    x, y, gx, gy = (a, b, glue_a, glue_b) if diff > 0 else (b, a, glue_b, glue_a)
    text = (
        f"{y.id} scatters {x.id}'s sentences among other material "
        f"({gy} of {ends} passage ends glued to other sentences in {y.id}'s paragraphs, "
        f"{gx} in {x.id}'s)"
    )
    # Weak: origins too have passages ending mid-paragraph (a reuser takes one sentence).
    return _Signal(max(-0.6, min(0.6, 1.2 * diff)), text)


def _contained_signal(a: Article, b: Article, passages: Sequence[Passage]) -> _Signal | None:
    """One side lies (almost) entirely inside the passages, the other has much more text:
    the contained side is an excerpt (reprints are cut, most often from the bottom)."""
    if not passages:
        return None
    sa, sb = _body_token_starts(a), _body_token_starts(b)
    in_a = _inside(sa, [(p.source_start, p.source_end) for p in passages])
    in_b = _inside(sb, [(p.target_start, p.target_end) for p in passages])
    for x, y, in_y, starts_x, starts_y, sign in (
        (a, b, in_b, sa, sb, 1.0),
        (b, a, in_a, sb, sa, -1.0),
    ):
        in_x = in_a if x is a else in_b
        extra = len(starts_x) - in_x
        if in_y < _CONTAINED_SHARE * len(starts_y) or extra < max(
            _CONTAINED_EXTRA_WORDS, _CONTAINED_EXTRA_SHARE * len(starts_x)
        ):
            continue
        ends = [p.source_end if x is a else p.target_end for p in passages]
        after = _inside(starts_x, [(max(ends), len(x.text))])
        where = "after it (cut from the bottom)" if after >= extra - 3 else "around it"
        text = (
            f"{y.id} lies entirely inside {x.id}'s text, which has {extra} more words "
            f"{where}: {y.id} is an excerpt"
        )
        return _Signal(sign * (0.7 if after >= extra - 3 else 0.5), text)
    return None


def _alias_votes(passage: Passage) -> list[tuple[int, str]]:
    """(+1 source side standard, -1 target side standard) per alias edit with a
    direction, with its description."""
    votes: list[tuple[int, str]] = []
    for e in passage.edits:
        if e.kind != "alias" or not e.source_text or not e.target_text:
            continue
        diff = form_preference(e.source_text) - form_preference(e.target_text)
        if diff:
            votes.append((1 if diff > 0 else -1, f'"{e.source_text}" -> "{e.target_text}"'))
    return votes


def _alias_signal(a: Article, b: Article, passages: Sequence[Passage]) -> _Signal | None:
    votes = [v for p in passages for v in _alias_votes(p)]
    net = sum(v for v, _ in votes)
    if net == 0:
        return None
    swaps = [d for v, d in votes if (v > 0) == (net > 0)]
    shown = ", ".join(dict.fromkeys(swaps))
    if net > 0:
        text = f"{b.id} swaps standard names for variants ({shown}); {a.id} has the standard forms"
    else:
        reversed_swaps = ", ".join(
            dict.fromkeys(
                f'"{d.split(" -> ")[1][1:-1]}" -> "{d.split(" -> ")[0][1:-1]}"' for d in swaps
            )
        )
        text = (
            f"{a.id} swaps standard names for variants ({reversed_swaps}); "
            f"{b.id} has the standard forms"
        )
    weight = max(-1.5, min(1.5, 0.3 * net))
    return _Signal(weight, text)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# --------------------------------------------------------------------------- attribute


def attribute(
    a: Article,
    b: Article,
    passages: Sequence[Passage],
    settings: Settings | None = None,
    aliases: AliasLookup | None = None,
) -> ReusePair:
    """Orient the pair, weigh the evidence, check the credit and measure coverage.

    ``passages`` have ``a`` on their source side (offsets into ``a.text``) and ``b`` on
    their target side. The result's ``source`` is the inferred origin (passages swapped
    when that is ``b``); ``origin_confidence`` is in [0.5, 1); ``evidence`` lists every
    signal found, strongest first; coverages are shares of each side's body words (outside
    ``excluded``) inside the passages. ``aliases`` (optional) confirms that an alias
    edit's two forms name the same entity; edits it does not confirm are not used for
    direction.
    """
    return _attribute(a, b, passages, settings, aliases)


def _attribute(
    a: Article,
    b: Article,
    passages: Sequence[Passage],
    settings: Settings | None = None,
    aliases: AliasLookup | None = None,
    extra: Sequence[_Signal] = (),
) -> ReusePair:
    """:func:`attribute` with ``extra`` signals from the collection (weights > 0 favour
    ``a``)."""
    settings = settings or Settings()
    slack = settings.provenance.naive_time_slack_hours
    agencies = _agency_names()
    usable = _confirmed(passages, aliases)
    signals: list[_Signal] = list(extra)
    time_signal = _time_signal(a, b, slack)
    if time_signal is not None:
        signals.append(time_signal)
    checks: dict[tuple[str, str], CreditCheck] = {}
    signals.extend(_credit_signal(a, b, agencies, checks))
    for make in (_scatter_signal, _contained_signal, _alias_signal):
        found = make(a, b, usable)
        if found is not None:
            signals.append(found)
    score = sum(s.weight for s in signals)
    source, target = (a, b) if score >= 0 else (b, a)
    oriented = list(passages) if source is a else [p.swapped() for p in passages]
    oriented = [_passage_origin(p, source, target) for p in oriented]
    oriented.sort(key=lambda p: (p.target_start, p.source_start))
    evidence = [s.text for s in sorted(signals, key=lambda s: -abs(s.weight)) if s.text]
    if not any(s.weight for s in signals):
        evidence.append(f"no evidence of direction; {a.id} is taken as the source as given")
    credit = checks.get((source.id, target.id)) or check_credit(source, target)
    s_in, s_total = coverage(source, [(p.source_start, p.source_end) for p in oriented])
    t_in, t_total = coverage(target, [(p.target_start, p.target_end) for p in oriented])
    return ReusePair(
        source=source.id,
        target=target.id,
        passages=tuple(oriented),
        source_coverage=_share(s_in, s_total),
        target_coverage=_share(t_in, t_total),
        origin_confidence=_logistic(abs(score)),
        evidence=tuple(evidence),
        credited=credit.status == "credited",
        credit=credit.status,
        credited_to=credit.credited_to,
    )


def _confirmed(passages: Sequence[Passage], aliases: AliasLookup | None) -> list[Passage]:
    if aliases is None:
        return list(passages)
    out: list[Passage] = []
    for p in passages:
        edits = tuple(
            e
            for e in p.edits
            if e.kind != "alias" or _same_entity(aliases, e.source_text, e.target_text)
        )
        out.append(p if len(edits) == len(p.edits) else replace(p, edits=edits))
    return out


def _same_entity(aliases: AliasLookup, x: str, y: str) -> bool:
    cx, cy = aliases.canonical(x), aliases.canonical(y)
    return cx is not None and cx == cy


def _passage_origin(p: Passage, source: Article, target: Article) -> Passage:
    net = sum(v for v, _ in _alias_votes(p))
    if net <= -2 and p.origin is None:
        return replace(p, origin=target.id)
    return p


# --------------------------------------------------------------------------- chains


def _edit_points(pair: ReusePair) -> list[tuple[int, int, str, str]]:
    """(source_start, source_end, source_text, target_text) of every edit that can show
    a copy chain. Alias edits cannot: outlets swap names to their house style ("US" ->
    "United States") independently, so two siblings often make the same alias swaps;
    synonyms, spellings, numbers and inserted or dropped words are the reuser's own."""
    return [
        (e.source_start, e.source_end, e.source_text, e.target_text)
        for p in pair.passages
        for e in p.edits
        if e.kind != "alias"
    ]


def _text_at(pair: ReusePair, start: int, end: int) -> str | None:
    """The target's text aligned to source ``[start, end)`` in ``pair``, if covered:
    the edit's target text where an edit covers it exactly, the same text where the
    range lies in an equal stretch."""
    for p in pair.passages:
        if p.source_start <= start and end <= p.source_end:
            for e in p.edits:
                if e.source_start <= start and end <= e.source_end:
                    return (
                        e.target_text
                        if (e.source_start, e.source_end)
                        == (
                            start,
                            end,
                        )
                        else None
                    )
                if start <= e.source_start < end or start < e.source_end <= end:
                    return None
            return p.source_text[start - p.source_start : end - p.source_start]
    return None


def _covered(lo: int, hi: int, ranges: Sequence[tuple[int, int]]) -> bool:
    """Most of ``[lo, hi)`` lies inside the union of ``ranges``."""
    inside = sum(max(0, min(hi, b) - max(lo, a)) for a, b in _merge(ranges))
    return inside * 2 > hi - lo


def _without(
    pair: ReusePair,
    ranges: Sequence[tuple[int, int]],
    on_source: bool,
    articles: Mapping[str, Article] | None,
) -> ReusePair | None:
    """``pair`` without its passages lying (mostly) inside ``ranges`` on the given side;
    None when nothing is left. Coverages are recomputed when ``articles`` has both."""
    kept = tuple(
        p
        for p in pair.passages
        if not _covered(
            p.source_start if on_source else p.target_start,
            p.source_end if on_source else p.target_end,
            ranges,
        )
    )
    if not kept:
        return None
    if len(kept) == len(pair.passages):
        return pair
    changed = replace(pair, passages=kept)
    if articles and pair.source in articles and pair.target in articles:
        s_in, s_total = coverage(
            articles[pair.source], [(p.source_start, p.source_end) for p in kept]
        )
        t_in, t_total = coverage(
            articles[pair.target], [(p.target_start, p.target_end) for p in kept]
        )
        changed = replace(
            changed, source_coverage=_share(s_in, s_total), target_coverage=_share(t_in, t_total)
        )
    return changed


# A copy chain's intermediate must hold this many more of the origin's words than the end.
_CHAIN_MARGIN_WORDS = 5


def _x_words(pair: ReusePair, articles: Mapping[str, Article] | None) -> int:
    """How much of the source's text ``pair`` holds: body words when the source is in
    ``articles``, else characters."""
    ranges = [(p.source_start, p.source_end) for p in pair.passages]
    if articles and pair.source in articles:
        return coverage(articles[pair.source], ranges)[0]
    return sum(hi - lo for lo, hi in _merge(ranges))


def _flipped(
    pair: ReusePair,
    note: str,
    articles: Mapping[str, Article] | None,
    confidence: float = 0.8,
) -> ReusePair:
    """``pair`` the other way round (target as origin), ``note`` first in its evidence,
    confidence at least ``confidence``; the credit is checked again when both articles
    are in ``articles``."""
    flipped = replace(
        pair,
        source=pair.target,
        target=pair.source,
        passages=tuple(sorted((p.swapped() for p in pair.passages), key=lambda p: p.target_start)),
        source_coverage=pair.target_coverage,
        target_coverage=pair.source_coverage,
        origin_confidence=confidence,
        evidence=(note, *(e for e in pair.evidence if not e.startswith("no evidence"))),
    )
    if articles and pair.source in articles and pair.target in articles:
        credit = check_credit(articles[pair.target], articles[pair.source])
        flipped = replace(
            flipped,
            credit=credit.status,
            credited=credit.status == "credited",
            credited_to=credit.credited_to,
        )
    return flipped


def _follows(xy: ReusePair, xz: ReusePair) -> tuple[int, int]:
    """(points where Z has Y's edit of X, points where Z has X's text there)."""
    follows, differs = 0, 0
    for start, end, x_text, y_text in _edit_points(xy):
        z_text = _text_at(xz, start, end)
        if z_text is None:
            continue
        if z_text == y_text and z_text != x_text:
            follows += 1
        elif z_text == x_text:
            differs += 1
    return follows, differs


def _same_order(xy: ReusePair, xz: ReusePair, yz: ReusePair) -> bool:
    """Y and Z have X's text in one order that is not X's: Y moved X's text around (a
    shuffled or restructured copy), Z has it moved the same way at every point where Y
    moved it (at least :data:`_ORDER_POINTS` such points) and the Y - Z pair keeps its
    order. A reordering is an edit no sibling repeats by chance (copies shuffled
    independently disagree somewhere), so one of Y and Z copied the other. A point is
    two passages of X -> Y, next to each other in X, that Y has the other way round."""
    if _inversions(yz):
        return False
    agree = 0
    by_source = sorted(xy.passages, key=lambda p: p.source_start)
    for p, q in itertools.pairwise(by_source):
        if p.target_start < q.target_start:
            continue  # Y keeps X's order here
        zp = _target_position(xz, (p.source_start + p.source_end) // 2)
        zq = _target_position(xz, (q.source_start + q.source_end) // 2)
        if zp is None or zq is None:
            continue
        if zp < zq:
            return False  # Z keeps X's order where Y changed it
        agree += 1
    return agree >= _ORDER_POINTS


# Points of a reordering two copies must share before it tells a chain: one could agree
# by chance (a patchwork placing two paragraphs of its source the other way round).
_ORDER_POINTS = 2


def _chain_backwards(xy: ReusePair, xz: ReusePair, follows: int, differs: int) -> bool:
    """In a chain told by the order (:func:`_same_order`), whether it runs X -> Z -> Y:
    Y has Z's word edits of X and Z lacks Y's (``follows``/``differs``: Z at Y's edit
    points, from :func:`_follows`) more than the other way round."""
    back_follows, back_differs = _follows(xz, xy)
    return differs + back_follows > follows + back_differs


def _inversions(pair: ReusePair) -> int:
    """Passages next to each other in the source that the target has the other way
    round."""
    by_source = sorted(pair.passages, key=lambda p: p.source_start)
    return sum(p.target_start > q.target_start for p, q in itertools.pairwise(by_source))


def _target_position(pair: ReusePair, at: int) -> int | None:
    """Where (about) the target of ``pair`` has its source's character ``at``."""
    for p in pair.passages:
        if p.source_start <= at < p.source_end:
            return p.target_start + (at - p.source_start)
    return None


def resolve_chains(
    pairs: Sequence[ReusePair], articles: Mapping[str, Article] | None = None
) -> list[ReusePair]:
    """Keep, among attributed pairs, only the edges the evidence supports.

    Every triangle of pairs among three articles is one small group sharing text. Its
    **root** is the article oriented as the source of both its pairs (of most pairs);
    in a group of three near-duplicates, the article with the most evidence of being
    the others' origin (each pair's log-odds summed over its two pairs), and pairs
    pointing at it are turned round, so one weakly oriented pair does not make a reprint
    the origin of the story it reprints. With X the root, the text Z shares with X and Y
    is then examined at the points where Y edited X (Y, Z: the other two):

    - Z has Y's edits (Z's text there is Y's, not X's): one copied the other, a **copy
      chain**. The intermediate is the one holding more of X's text (the other cannot
      have got X's text that the intermediate lacks through it); when the Y - Z pair was
      attributed the other way, it is turned round with that evidence. The pair
      intermediate -> end is kept with the chain first in its evidence; X -> end loses
      the passages whose X side the intermediate also took (what the end got through
      it), and is dropped if none remain.
    - otherwise (Z has X's text, or there are no edits, as in a reprint flood) Y and Z
      are **siblings** copying X: a near-duplicate group in which each member is paired
      with the group's origin. Y - Z loses the passages whose Y side came from X, and is
      dropped if none remain (what Z took from Y's own material stays).

    Pairs outside triangles are kept unchanged. When ``articles`` (id -> Article) is
    given, the coverages of trimmed pairs and the credit of turned pairs are recomputed.
    Output: the kept pairs in input order. Cost: for each pair, the common neighbours of
    its two articles.

    Detection that gives a near-duplicate group as a star around its origin leaves no
    triangles: the star is kept as attributed (``attribute_all`` closes the triangles
    that a star around another member leaves open).
    """
    out: dict[int, ReusePair] = dict(enumerate(pairs))
    index: dict[frozenset[str], int] = {}
    near: dict[str, set[str]] = {}
    for i, p in enumerate(pairs):
        index[frozenset((p.source, p.target))] = i
        near.setdefault(p.source, set()).add(p.target)
        near.setdefault(p.target, set()).add(p.source)
    done: set[frozenset[str]] = set()
    for k in range(len(pairs)):
        if k not in out:
            continue
        u, v = out[k].source, out[k].target
        for w in sorted(near[u] & near[v]):
            trio = frozenset((u, v, w))
            if trio in done or k not in out:
                continue
            done.add(trio)
            ks = [index[frozenset(e)] for e in ((u, v), (u, w), (v, w))]
            if all(i in out for i in ks):
                _resolve_triangle(out, index, sorted(trio), articles)
    return [out[i] for i in sorted(out)]


# A triangle whose three pairs each cover at least this share of both articles is a
# near-duplicate group: its root is chosen on the evidence summed over the three pairs.
_NEAR_DUPLICATE = 0.8


def _logit(pair: ReusePair) -> float:
    c = min(max(pair.origin_confidence, 0.5), 0.999)
    return math.log(c / (1 - c))


def _resolve_triangle(
    out: dict[int, ReusePair],
    index: Mapping[frozenset[str], int],
    trio: Sequence[str],
    articles: Mapping[str, Article] | None,
) -> None:
    """Root the triangle ``trio`` and apply the chain or sibling rule (see
    :func:`resolve_chains`), editing ``out`` in place."""

    def key(a: str, b: str) -> int:
        return index[frozenset((a, b))]

    edges = [
        out[key(a, b)] for a, b in ((trio[0], trio[1]), (trio[0], trio[2]), (trio[1], trio[2]))
    ]
    score = dict.fromkeys(trio, 0.0)
    for p in edges:
        score[p.source] += _logit(p)
        score[p.target] -= _logit(p)
    wins = {n: sum(p.source == n for p in edges) for n in trio}
    x_id = max(trio, key=lambda n: (wins[n], score[n], n))
    if all(min(p.source_coverage, p.target_coverage) >= _NEAR_DUPLICATE for p in edges):
        # three near-duplicates: the pairs between reprints say as much about the group's
        # origin as the others, so the evidence is summed (one weak pair cannot make a
        # reprint the origin of the story it reprints)
        x_id = max(trio, key=lambda n: (score[n], wins[n], n))
    y_id, z_id = (n for n in trio if n != x_id)
    for other in (y_id, z_id):
        i = key(x_id, other)
        if out[i].source != x_id:
            note = (
                f"{x_id}, {y_id} and {z_id} share text; weighing the evidence of all three "
                f"pairs, {x_id} is the likelier origin of the group"
            )
            out[i] = _flipped(out[i], note, articles, confidence=_logistic(score[x_id] / 2))
    i, j, k = key(x_id, y_id), key(x_id, z_id), key(y_id, z_id)
    yz = out[k]
    y_id, z_id = yz.source, yz.target
    i, j = key(x_id, y_id), key(x_id, z_id)
    xy, xz = out[i], out[j]
    follows, differs = _follows(xy, xz)
    reordered = follows <= differs and _same_order(xy, xz, yz)
    if follows > differs or reordered:
        flip = (
            _chain_backwards(xy, xz, follows, differs)
            if reordered
            else _x_words(xz, articles) > _x_words(xy, articles) + _CHAIN_MARGIN_WORDS
        )
        if flip:
            # Z holds X's text that Y lacks (or, by the order, Z lacks Y's edits): Z is
            # the intermediate, Y copied Z
            note = (
                f"{y_id} and {z_id} have {x_id}'s text in the same new order; {y_id} has "
                f"{z_id}'s word edits of it, not the other way round: {y_id} copied {z_id}"
                if reordered
                else f"{y_id} follows {z_id}'s edits of {x_id} and {z_id} holds more of "
                f"{x_id}'s text: {y_id} copied {z_id}"
            )
            yz = _flipped(yz, note, articles)
            y_id, z_id, i, j, xy, xz = z_id, y_id, j, i, xz, xy
        note = (
            f"{z_id} has {x_id}'s text in the order {y_id} moved it to: a copy chain "
            f"{x_id} -> {y_id} -> {z_id}"
            if reordered
            else f"{z_id} follows {y_id}'s edits of {x_id} ({follows} of "
            f"{follows + differs}): a copy chain {x_id} -> {y_id} -> {z_id}"
        )
        out[k] = replace(yz, evidence=(note, *yz.evidence))
        taken = [(p.source_start, p.source_end) for p in xy.passages]
        trimmed = _without(xz, taken, on_source=True, articles=articles)
        log.debug("copy chain %s -> %s -> %s", x_id, y_id, z_id)
        if trimmed is None:
            del out[j]
        else:
            out[j] = trimmed
    else:
        from_x = [(p.target_start, p.target_end) for p in xy.passages]
        trimmed = _without(yz, from_x, on_source=True, articles=articles)
        if trimmed is None:
            del out[k]
        else:
            out[k] = trimmed


# A pair oriented with at least this confidence counts as known reuse when the
# collection-level signals are drawn; weaker pairs are the ones those signals decide.
_SURE = 0.8


def _compilation_signals(
    pairs: Sequence[ReusePair],
) -> dict[int, tuple[_Signal, tuple[str, str], Sequence[Passage]]]:
    """Weakly oriented pairs whose one side is, with confidence, the target of another
    pair for a different part of its body: that side stitches other articles' text
    together (a compilation), so it is the likelier reuser here too. Returns, per pair
    index, the signal (``a`` = the pair's source as given) with the pair's ends and
    passages in that order."""
    sure_targets: dict[str, list[ReusePair]] = {}
    for p in pairs:
        if p.origin_confidence >= _SURE:
            sure_targets.setdefault(p.target, []).append(p)
    out: dict[int, tuple[_Signal, tuple[str, str], Sequence[Passage]]] = {}
    for i, p in enumerate(pairs):
        if p.origin_confidence >= _SURE:
            continue
        found: list[tuple[str, str, str]] = []  # (compiler, other side, its source)
        for side, other in ((p.source, p.target), (p.target, p.source)):
            mine = _side_of(p, side)
            for q in sure_targets.get(side, ()):
                if q.source == other or q is p:
                    continue
                theirs = [(x.target_start, x.target_end) for x in q.passages]
                if not _ranges_overlap(mine, theirs):
                    found.append((side, other, q.source))
                    break
        if len(found) != 1:
            continue
        side, other, elsewhere = found[0]
        text = (
            f"{side} also takes text from {elsewhere} elsewhere in its body: it stitches "
            f"other articles' text together, so {other} is the likelier origin"
        )
        weight = _COMPILATION_WEIGHT if other == p.source else -_COMPILATION_WEIGHT
        out[i] = (_Signal(weight, text), (p.source, p.target), p.passages)
    return out


_COMPILATION_WEIGHT = 0.6
# Triangles are closed from R's best-oriented source however weak: a threshold loses the
# group origins that only a dateline tells (measured on the gate: 0.6 costs 0.01-0.04).
_CLOSE_MIN = 0.0


def _side_of(pair: ReusePair, article_id: str) -> list[tuple[int, int]]:
    if pair.source == article_id:
        return [(x.source_start, x.source_end) for x in pair.passages]
    return [(x.target_start, x.target_end) for x in pair.passages]


def _ranges_overlap(xs: Sequence[tuple[int, int]], ys: Sequence[tuple[int, int]]) -> bool:
    return any(x0 < y1 and y0 < x1 for x0, x1 in xs for y0, y1 in ys)


#: Aligns two articles (``a`` on the passages' source side), as detection does.
Aligner = Callable[[Article, Article], Sequence[Passage]]


def alias_swaps(pairs: Iterable[ReusePair]) -> dict[tuple[str, str], int]:
    """The name swaps ``pairs`` type as aliases (their replace edits of kind ``alias``),
    by :func:`wiretrace.detect.edits.swap_key`: what :func:`detection_aligner` types as
    aliases in the pairs it aligns."""
    from wiretrace.detect.edits import swap_key

    return {
        swap_key(e.source_text, e.target_text): 2
        for pair in pairs
        for p in pair.passages
        for e in p.edits
        if e.kind == "alias" and e.op == "replace"
    }


def detection_aligner(
    pairs: Sequence[ReusePair],
    settings: Settings,
    aliases: AliasLookup | None,
    learned: Mapping[tuple[str, str], int] | None = None,
) -> Aligner:
    """Detection's alignment kernel (``detect.align.align_pair``, as
    ``detect.align_articles`` calls it) with the name swaps that ``pairs`` already type
    as aliases (table or learned from the collection) typed the same way in the new
    pairs (or the swaps ``learned``, when given: :func:`alias_swaps` of pairs too many
    to hold at once). Each article is normalised once (a group's origin is aligned with
    every member)."""
    from wiretrace.detect.align import align_pair
    from wiretrace.text.aliases import AliasTable
    from wiretrace.text.normalize import normalize

    if learned is None:
        learned = alias_swaps(pairs)

    table = aliases if aliases is not None else AliasTable.load(tuple(settings.text.alias_files))
    seqs: dict[str, object] = {}

    def seq(article: Article) -> object:
        if article.id not in seqs:
            if len(seqs) >= 4096:
                seqs.clear()
            seqs[article.id] = normalize(article, table, settings)  # type: ignore[arg-type]
        return seqs[article.id]

    def align(a: Article, b: Article) -> Sequence[Passage]:
        return align_pair(a, b, seq(a), seq(b), settings, table, learned)  # type: ignore[arg-type]

    return align


def attribute_all(
    pairs: Iterable[ReusePair],
    articles: Mapping[str, Article],
    settings: Settings | None = None,
    aliases: AliasLookup | None = None,
    align: Aligner | None = None,
    *,
    pool_min_pairs: int | None = None,
) -> list[ReusePair]:
    """Attribute every provisionally oriented pair from detection, close the triangles a
    star-shaped detection leaves open, then :func:`resolve_chains`.

    Closing triangles (:func:`wiretrace.analyze.groups.open_triangles`): where R took
    text from S and shares it with M, but S and M were never aligned (detection paired a
    near-duplicate group's members with a representative that is not the group's
    origin), S and M are aligned with ``align`` (default: :func:`detection_aligner`) and
    attributed, so that M is paired with the group's origin, or found to be the end of
    a copy chain. ``provenance.close_triangle_words`` = 0 turns this off. Pairs naming an
    article missing from ``articles`` are kept as given (logged). Output sorted by
    (source, target).

    Every step looks only at pairs that share an article, so connected groups of pairs
    are independent: with ``provenance.workers`` > 1 (0: one per core) and at least
    ``pool_min_pairs`` pairs (default :data:`POOL_MIN_PAIRS`; below it a pool costs more
    than it saves) in more than one group, the groups are attributed by forked worker
    processes. The result is the same list, in the same order, as in-process."""
    settings = settings or Settings()
    given = list(pairs)
    workers = _worker_count(settings)
    least = POOL_MIN_PAIRS if pool_min_pairs is None else pool_min_pairs
    if workers > 1 and len(given) >= least and _can_fork():
        groups = _components(given)
        if len(groups) > 1:
            return _attribute_pooled(given, groups, articles, settings, aliases, align, workers)
    return _attribute_group(given, articles, settings, aliases, align, given)


def _attribute_group(
    given: Sequence[ReusePair],
    articles: Mapping[str, Article],
    settings: Settings,
    aliases: AliasLookup | None,
    align: Aligner | None,
    everything: Sequence[ReusePair],
) -> list[ReusePair]:
    """:func:`attribute_all` in this process over ``given`` (all pairs, or one connected
    group of them); ``everything``: all the pairs, whose alias edits the default aligner
    learns (so that a group's result does not depend on how the pairs were split)."""
    attributed: list[ReusePair] = []
    for pair in given:
        a, b = articles.get(pair.source), articles.get(pair.target)
        if a is None or b is None:
            log.warning("pair %s -> %s: article missing, kept as given", pair.source, pair.target)
            attributed.append(pair)
            continue
        attributed.append(attribute(a, b, pair.passages, settings, aliases))
    attributed += _close_triangles(attributed, articles, settings, aliases, align, everything)
    for i, (signal, (a_id, b_id), passages) in _compilation_signals(attributed).items():
        attributed[i] = _attribute(
            articles[a_id], articles[b_id], passages, settings, aliases, extra=(signal,)
        )
    resolved = resolve_chains(attributed, articles)
    return sorted(resolved, key=lambda p: (p.source, p.target))


# --------------------------------------------------------------------------- worker pool

#: Fewer pairs than this are attributed in-process whatever ``provenance.workers`` says.
POOL_MIN_PAIRS = 2000
# Pairs per pool task (whole groups are packed together up to about this many).
_TASK_PAIRS = 500
# What forked workers read (set by the parent just before forking, so that articles,
# pairs and aligners reach the workers without pickling).
_PoolState = tuple[
    Sequence[ReusePair], Mapping[str, Article], Settings, AliasLookup | None, Aligner | None
]
_POOL_STATE: list[_PoolState] = []


def _worker_count(settings: Settings) -> int:
    """``provenance.workers``, or one per available core when 0."""
    if settings.provenance.workers > 0:
        return settings.provenance.workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _can_fork() -> bool:
    """Workers are forked (they share the parent's articles); where fork is missing, or
    inside a daemonic worker (which may not have children), attribution stays here."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def _components(pairs: Sequence[ReusePair]) -> list[list[int]]:
    """Indices of ``pairs`` by connected group (pairs linked through shared articles),
    each in the given order; groups in order of their first pair."""
    return connected_groups([(p.source, p.target) for p in pairs])


def connected_groups(keys: Sequence[tuple[str, str]]) -> list[list[int]]:
    """Indices of ``keys`` (pairs of article ids) by connected group (keys linked
    through a shared article), each in the given order; groups in order of their first
    key. Union-find over the ids."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for x, y in keys:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[ry] = rx
    groups: dict[str, list[int]] = {}
    for i, (x, _) in enumerate(keys):
        groups.setdefault(find(x), []).append(i)
    return list(groups.values())


def _pack(groups: Sequence[list[int]], workers: int) -> list[list[list[int]]]:
    """Pool tasks: the groups, largest first (so the long ones start early), packed
    into tasks of at most :data:`_TASK_PAIRS` pairs (a larger group is one task), and
    at least four tasks per worker (so that none waits on another's last task)."""
    most = max(1, min(_TASK_PAIRS, sum(map(len, groups)) // (4 * workers)))
    tasks: list[list[list[int]]] = []
    size = 0
    for group in sorted(groups, key=len, reverse=True):
        if not tasks or size + len(group) > most:
            tasks.append([])
            size = 0
        tasks[-1].append(group)
        size += len(group)
    return tasks


def _attribute_task(task: list[list[int]]) -> list[ReusePair]:
    """One pool task, in a forked worker: each group attributed on its own."""
    assert _POOL_STATE, "provenance pool worker started without its state"
    given, articles, settings, aliases, align = _POOL_STATE[0]
    out: list[ReusePair] = []
    for group in task:
        mine = [given[i] for i in group]
        out += _attribute_group(mine, articles, settings, aliases, align, given)
    return out


def _lazy_aligner(
    given: Sequence[ReusePair], settings: Settings, aliases: AliasLookup | None
) -> Aligner:
    """:func:`detection_aligner` over all ``given`` pairs, built on first use (in each
    worker that closes a triangle by aligning, once)."""
    built: list[Aligner] = []

    def align(a: Article, b: Article) -> Sequence[Passage]:
        if not built:
            built.append(detection_aligner(given, settings, aliases))
        return built[0](a, b)

    return align


def _attribute_pooled(
    given: Sequence[ReusePair],
    groups: Sequence[list[int]],
    articles: Mapping[str, Article],
    settings: Settings,
    aliases: AliasLookup | None,
    align: Aligner | None,
    workers: int,
) -> list[ReusePair]:
    """The connected groups attributed by ``workers`` forked processes, merged in the
    in-process order ((source, target); a key's pairs all come from one group, in that
    group's order). A broken pool (a worker killed, e.g. out of memory) falls back to
    in-process, logged."""
    tasks = _pack(groups, workers)
    if align is None:  # one aligner per worker, not one per group needing it
        align = _lazy_aligner(given, settings, aliases)
    _POOL_STATE[:] = [(given, articles, settings, aliases, align)]
    gc.freeze()  # the workers' garbage collector then leaves the shared pages alone
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=ctx) as pool:
            done = [p for part in pool.map(_attribute_task, tasks) for p in part]
    except BrokenProcessPool as exc:
        log.warning("provenance worker pool failed (%s); attributing in-process", exc)
        done = _attribute_group(given, articles, settings, aliases, align, given)
    finally:
        _POOL_STATE.clear()
        gc.unfreeze()
    return sorted(done, key=lambda p: (p.source, p.target))


def _close_triangles(
    attributed: Sequence[ReusePair],
    articles: Mapping[str, Article],
    settings: Settings,
    aliases: AliasLookup | None,
    align: Aligner | None,
    given: Sequence[ReusePair],
) -> list[ReusePair]:
    """Pairs aligned to close open triangles (a few rounds: a closed triangle may open
    another one further along a chain)."""
    min_words = settings.provenance.close_triangle_words
    added: list[ReusePair] = []
    tried: set[frozenset[str]] = set()
    for _round in range(3):
        current = [*attributed, *added]
        index = {frozenset((p.source, p.target)): p for p in current}
        todo = [
            t
            for t in open_triangles(current, articles, min_words, _CLOSE_MIN)
            if frozenset(t[:2]) not in tried
        ]
        if not todo:
            break
        for s_id, m_id, r_id in todo:
            tried.add(frozenset((s_id, m_id)))
            s, m = articles[s_id], articles[m_id]
            passages = _composed(
                index[frozenset((s_id, r_id))], index[frozenset((r_id, m_id))], s, m
            )
            if passages is None:
                if align is None:
                    align = detection_aligner(given, settings, aliases)
                passages = list(align(s, m))
            if passages:
                log.debug("closed triangle: %s and %s (through %s)", s_id, m_id, r_id)
                added.append(attribute(s, m, passages, settings, aliases))
    return added


# S is "inside" R when at most this many of its body words lie outside their passages.
_INSIDE_SLACK_WORDS = 5


def _composed(sr: ReusePair, rm: ReusePair, s: Article, m: Article) -> list[Passage] | None:
    """The passages between S and M read through R, without aligning, when that is
    exact: S -> R holds all of S's text (so whatever M shares with S, it shares with R)
    and each R - M passage lies in an S -> R passage, and either no edit of that passage
    touches it (its S text is R's, shifted: R's edits towards M are S's), or its S text,
    read through the S -> R edits, has M's words (two reprints of one copy: a passage
    without edits), or the S -> R and R -> M edits touch different words (S -> M makes
    both). Reading through R costs far less than aligning (most of the time of closing
    triangles at scale). ``None`` when not: the caller aligns S and M."""
    if sr.source != s.id:
        return None
    r_id = sr.target
    s_words, s_total = coverage(s, [(p.source_start, p.source_end) for p in sr.passages])
    if s_total - s_words > _INSIDE_SLACK_WORDS:
        return None
    out: list[Passage] = []
    for given in rm.passages:
        q = given if rm.source == r_id else given.swapped()  # R on q's source side
        mapped = _through(sr, q.source_start, q.source_end)
        if mapped is None:
            return None
        lo, hi, touched = mapped
        if not touched and s.text[lo:hi] == q.source_text:
            shift = lo - q.source_start
            edits = tuple(
                replace(e, source_start=e.source_start + shift, source_end=e.source_end + shift)
                for e in q.edits
            )
            out.append(replace(q, source_start=lo, source_end=hi, edits=edits, origin=None))
        elif _same_words(s.text[lo:hi], m.text[q.target_start : q.target_end]):
            out.append(
                replace(
                    q,
                    source_start=lo,
                    source_end=hi,
                    source_text=s.text[lo:hi],
                    similarity=1.0,
                    edits=(),
                    origin=None,
                    source_words=q.target_words,
                )
            )
        else:
            both = _both_edits(sr, q, s, m, lo, hi)
            if both is None:
                return None
            out.append(both)
    return out


def _both_edits(
    sr: ReusePair, q: Passage, s: Article, m: Article, lo: int, hi: int
) -> Passage | None:
    """The S - M passage over S's ``[lo, hi)`` and q's M side when the S -> R edits and
    q's R -> M edits touch different words of R: S -> M then makes both sets of edits
    (each at its place in the other article), checked against both texts. ``None``
    when edits meet or the check fails."""
    holder = next(
        p for p in sr.passages if p.target_start <= q.source_start and q.source_end <= p.target_end
    )
    ours = [
        e for e in holder.edits if e.target_end > q.source_start and e.target_start < q.source_end
    ]
    ours += [
        e
        for e in holder.edits
        if e.target_start == e.target_end
        and q.source_start <= e.target_start <= q.source_end
        and e not in ours
    ]
    theirs = list(q.edits)
    for e in ours:
        if e.target_start < q.source_start or e.target_end > q.source_end:
            return None
        if any(e.target_start <= f.source_end and f.source_start <= e.target_end for f in theirs):
            return None
    edits = _merged_edits(ours, theirs, q, s.text, m.text, lo)
    if not _consistent(edits, s.text, m.text, (lo, hi), (q.target_start, q.target_end)):
        return None
    return replace(
        q,
        source_start=lo,
        source_end=hi,
        source_text=s.text[lo:hi],
        similarity=min(q.similarity, holder.similarity),
        edits=tuple(edits),
        origin=None,
        source_words=len(_token_starts(s.text[lo:hi], ())),
    )


def _merged_edits(
    ours: Sequence[Edit], theirs: Sequence[Edit], q: Passage, s_text: str, m_text: str, lo: int
) -> list[Edit]:
    """Both edit sets in S - M offsets, walking R's text (q's source side) in order:
    between edits the three articles have the same words (whitespace may differ), so an
    edit's place in the other article is found by walking from the previous edit's end."""
    r_text, r0 = q.source_text, q.source_start
    anchor = (q.source_start, lo, q.target_start)  # the same point in R, S and M
    events = [(e.target_start, e.target_end, 0, e) for e in ours]
    events += [(f.source_start, f.source_end, 1, f) for f in theirs]
    out: list[Edit] = []
    for start, end, side, e in sorted(events, key=lambda x: (x[0], x[1], x[2])):
        width = end - start
        if side == 0:  # S text -> R text, and M has R's text there
            at = _walk(r_text, anchor[0] - r0, start - r0, m_text, anchor[2])
            out.append(replace(e, target_start=at, target_end=at + width))
            anchor = (end, e.source_end, at + width)
        else:  # R text (S's there) -> M text
            at = _walk(r_text, anchor[0] - r0, start - r0, s_text, anchor[1])
            out.append(replace(e, source_start=at, source_end=at + width))
            anchor = (end, at + width, e.target_end)
    return out


def _walk(src: str, a0: int, x: int, dst: str, b0: int) -> int:
    """The offset in ``dst`` reached from ``b0`` by reading ``src[a0:x]``, whose words
    ``dst`` repeats from ``b0`` (whitespace may differ)."""
    need = sum(1 for c in src[a0:x] if not c.isspace())
    y = b0
    while need and y < len(dst):
        if not dst[y].isspace():
            need -= 1
        y += 1
    if x > a0 and src[x - 1].isspace():
        while y < len(dst) and dst[y].isspace():
            y += 1
    return y


def _consistent(
    edits: Sequence[Edit], a: str, b: str, span_a: tuple[int, int], span_b: tuple[int, int]
) -> bool:
    """The edits turn ``a[span_a]`` into ``b[span_b]``: each edit's texts are at its
    offsets and the stretches between edits are equal (whitespace aside)."""
    pa, pb = span_a[0], span_b[0]
    for e in edits:
        if e.source_start < pa or e.target_start < pb:
            return False
        if not _same_words(a[pa : e.source_start], b[pb : e.target_start]):
            return False
        if a[e.source_start : e.source_end] != e.source_text:
            return False
        if b[e.target_start : e.target_end] != e.target_text:
            return False
        pa, pb = e.source_end, e.target_end
    if pa > span_a[1] or pb > span_b[1]:
        return False
    return _same_words(a[pa : span_a[1]], b[pb : span_b[1]])


def _same_words(x: str, y: str) -> bool:
    """Equal but for whitespace (a paragraph break one side, a space the other), as
    the aligner compares them."""
    return x == y or x.split() == y.split()


def _through(sr: ReusePair, lo: int, hi: int) -> tuple[int, int, bool] | None:
    """R's ``[lo, hi)`` read in S through the S -> R passage holding it: the S range and
    whether an edit of that passage touches it (an end inside an edit maps to the
    edit's end on S's side). ``None`` when no passage holds the range."""
    for p in sr.passages:
        if p.target_start <= lo and hi <= p.target_end:
            s_lo = s_hi = None
            shift = p.source_start - p.target_start
            touched = False
            for e in sorted(p.edits, key=lambda e: (e.target_start, e.target_end)):
                grow = (e.source_end - e.source_start) - (e.target_end - e.target_start)
                if e.target_end <= lo and not (e.target_start == e.target_end == lo):
                    shift += grow
                    continue
                if e.target_start >= hi and not (e.target_start == e.target_end == hi):
                    break
                touched = True
                if s_lo is None and e.target_start <= lo:
                    s_lo = e.source_start
                if e.target_end >= hi:
                    s_hi = e.source_end
                    break
                if s_lo is None:
                    s_lo = lo + shift
                shift += grow
            return (
                (lo + shift if s_lo is None else s_lo),
                (hi + shift if s_hi is None else s_hi),
                touched,
            )
    return None
