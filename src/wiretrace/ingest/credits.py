"""Who an article credits: news agencies and outlets named as the source of its copy.

A credit is one of these forms (agency names and their aliases come from
``wiretrace/data/agencies.tsv``; the result uses the canonical name, e.g. "AFP" for
"Agence France-Presse"):

- a **dateline** at the start of the body: ``CARACAS (Reuters) -``, ``PARIS (AFP) --``,
  ``WASHINGTON (AP) —``, ``BEIJING, March 5 (Xinhua) --``, ``Paris (AFP) -``; the place
  becomes ``Credits.dateline`` (also when no credit follows it: ``WASHINGTON - ...``),
  and a name in the parentheses is a credit even if it is not a known agency;
- a **byline** naming an agency: ``By Jane Doe, Reuters``, ``staff report Reuters``;
- a **credit line**: ``Source: AFP``, ``Sources: Reuters, AP``, ``Via Bloomberg``,
  ``(AFP)`` after a paragraph, a line that is only ``— Reuters``, a copyright line
  naming an agency (``© 2019 Reuters``); after ``Source:`` an unknown outlet name
  written like a name (``Source: Northwire``) counts too;
- a **phrase** attributing the copy: ``according to Reuters``, ``AFP reported``,
  ``..., AFP said.`` (a reporting clause after the statement),
  ``citing Interfax``, ``told Reuters`` (an interview given to the agency: its own
  reporting), ``Reuters contributed to this report``, ``additional reporting by AFP``.

A mere mention of an agency's reporter or witness ("An AFP journalist saw ...", "A
Reuters witness saw ...") is not a credit on its own, nor is "Sputnik quoted ..." or an
agency named in a caption or a related headline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import regex

from wiretrace.models import Span

__all__ = [
    "Credits",
    "analyze_credits",
    "fold_name",
    "load_agencies",
    "may_name_agency",
    "text_words",
]

#: Excluded spans of these kinds are not searched at all.
_IGNORED_KINDS = frozenset({"title", "caption", "related", "navigation", "link", "boilerplate"})
#: Excluded spans of these kinds are searched for credit lines and bylines only.
_METADATA_KINDS = frozenset({"header", "footer", "copyright"})
#: Datelines are looked for in this many first body lines.
_DATELINE_LINES = 5

_Adder = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Credits:
    """``credits``: canonical names in order of first appearance; ``dateline``: the
    place of the body's dateline ("CARACAS"), or None."""

    credits: tuple[str, ...] = ()
    dateline: str | None = None


def fold_name(name: str) -> str:
    """The lookup key of a name: accents stripped, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().replace("’", "'").split())


@cache
def _agency_rows() -> tuple[tuple[str, tuple[str, ...]], ...]:
    data = resources.files("wiretrace").joinpath("data/agencies.tsv").read_text("utf-8")
    rows: list[tuple[str, tuple[str, ...]]] = []
    for raw in data.splitlines():
        line = raw.strip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        names = tuple(n.strip() for n in line.split("\t") if n.strip())
        rows.append((names[0], names))
    return tuple(rows)


def load_agencies() -> dict[str, str]:
    """Folded alias (see :func:`fold_name`) -> canonical agency name, canonical names
    included, from the packaged ``data/agencies.tsv`` (TSV: canonical<TAB>alias...).
    A fresh dict each call (callers may extend it)."""
    return dict(_agency_table())


@cache
def _agency_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, names in _agency_rows():
        for name in names:
            table.setdefault(fold_name(name), canonical)
    return table


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex matching exactly ``words``, as a trie: with ~200 names this is several
    times faster than a flat alternation (each position tries one branch per letter)."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


@cache
def _agency_forms() -> frozenset[str]:
    """Every spelling the agency regex matches."""
    forms: set[str] = set()
    for _canonical, names in _agency_rows():
        for name in names:
            forms.add(name)
            forms.add(name.upper())  # datelines and wire copy in capitals
            if len(name) > 5:  # long names also in any case ("reuters"), not "ap"
                forms.add(name.lower())
    return frozenset(forms)


@cache
def _agency_regex() -> re.Pattern[str]:
    forms = _agency_forms()
    # Greedy trie branches may overshoot a word end ("APA" for "AP"): the lookahead
    # then fails and the regex backtracks into the shorter name.
    # The standard library's engine runs this large pattern about three times faster.
    return re.compile(rf"(?<![\w-])(?:{_trie_pattern(forms)})(?![\w-])")


_DATELINE = regex.compile(
    r"^[\s*_>#]*"
    r"(?:"
    # CARACAS (Reuters) -   CARACAS, Venezuela (AP) —   WASHINGTON -
    r"(?P<place>\p{Lu}[\p{Lu}\p{M}.'’ -]{1,30}?\p{Lu}\.?)"
    r"|(?P<mixed>\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+){0,2})(?=\s*(?:,[^()\n]{1,40})?\s*\()"
    r")"
    r"(?:\s*,\s*[\p{L}\p{M}.'’ -]{2,30}?)?"  # , Venezuela
    r"(?:\s*,\s*(?:\p{L}+\.?\s+\d{1,2}|\d{1,2}\s+\p{L}+))?"  # , March 5
    r"\s*(?:\((?P<credit>[^()\n]{1,60})\))?"
    r"\s*(?:-{1,2}|–|—)\s+\S",
)


def _may_be_dateline(line: str) -> bool:
    """A cheap necessary condition for ``_DATELINE`` matching ``line``: every match
    holds a dash. Three substring scans cost a tenth of one call of the regex, and about
    half of the lead lines of news text have no dash."""
    return "-" in line or "–" in line or "—" in line


_NAME_LIKE = regex.compile(
    r"^(?:The )?\p{Lu}[\p{L}\p{M}'’.&-]*(?: (?:of |de |the )?\p{Lu}[\p{L}\p{M}'’.&-]*){0,4}$"
)
_CREDIT_LINE = regex.compile(
    r"^[\s*_>-]*(?:Sources|Source|Credits|Credit|Via|Courtesy(?: of)?)\s*[:\-–—]?\s*"
    r"(?P<names>[^\n]{1,120}?)[\s.*_]*$",
    regex.IGNORECASE,
)
_COPYRIGHT = regex.compile(r"^[\s*_(]*(?:©|\(c\)|copyright\b)", regex.IGNORECASE)
_BYLINE = regex.compile(r"^[\s*_]*by\s", regex.IGNORECASE)
_URL = regex.compile(r"https?://|www\.", regex.IGNORECASE)

# Context of an agency name inside a body line that makes it a credit.
_BEFORE = regex.compile(
    r"(?:"
    r"\baccording to(?:\s+[\w'’-]+){0,4}?"
    r"|\b(?:citing|told|cited by|reported by|quoted by|interview with|reporting (?:by|from))"
    r"(?:\s+the)?(?:\s+[\w'’-]+){0,2}?"
    r")\s+$",
    regex.IGNORECASE,
)
# "..., AFP said." : an attribution clause after the reported statement.
_CLAUSE_BEFORE = regex.compile(r"[,\"”]\s*(?:the\s+)?$")
_CLAUSE_AFTER = regex.compile(r"^(?:\s+news\s+agency)?\s+(?:said|says|added)\b")
_AFTER = regex.compile(
    r"^(?:\s+(?:news\s+)?(?:agency|newswire|wire service))?\s+"
    r"(?:reported|reports|has reported|had reported|was reporting|is reporting"
    r"|contributed|reporters? contributed)\b",
)


def analyze_credits(
    text: str,
    excluded: Sequence[Span] | Iterable[Span] = (),
    byline: str | None = None,
    words: Iterable[str] | None = None,
    lines: Iterable[tuple[str, str | None]] | None = None,
) -> Credits:
    """Agencies and outlets ``text`` credits, and its dateline.

    ``excluded`` are the article's excluded spans (offsets into ``text``): title,
    caption, related, navigation, link and generic boilerplate spans are not searched;
    header, footer and copyright spans are searched for credit lines and bylines only
    (not for phrases). ``byline`` (the article's byline, if known) is searched for
    agency names. ``words``: the words of the body lines as ``text_words`` finds them,
    when the caller has them: it saves a scan of the text. ``lines``: the non-blank
    lines of ``text`` (stripped), each with the kind of the excluded span covering it
    (None for body lines), when the caller has split them (the text reader does): the
    same answer without splitting the text again (a line's surrounding blanks never
    change what the rules find).
    Pure; no I/O after the first call loads the agency table.
    """
    agencies = _agency_table()
    found: list[str] = []

    def add(name: str) -> None:
        canonical = agencies.get(fold_name(name), name.strip())
        if canonical and canonical not in found:
            found.append(canonical)

    if byline:
        for m in _agency_regex().finditer(byline):
            add(m.group())
    dateline: str | None = None
    body_lines_seen = 0
    # Most articles name no agency, and then no line needs the phrase rules (the costly
    # part): a set lookup of the words decides.
    mentions = may_name_agency(words) if words is not None else may_mention_agency(text)
    for line, kind in _lines(text, tuple(excluded)) if lines is None else lines:
        stripped = line.strip()
        if not stripped or kind in _IGNORED_KINDS:
            continue
        if kind in _METADATA_KINDS:
            _credit_line(stripped, add, metadata=True)
            continue
        if body_lines_seen < _DATELINE_LINES:
            body_lines_seen += 1
            if dateline is None and _may_be_dateline(line):
                m = _DATELINE.match(line)
                if m is not None:
                    dateline = (m.group("place") or m.group("mixed") or "").strip(" .")
                    if m.group("credit"):
                        for name in regex.split(r"\s*[/,;&]\s*|\s+and\s+", m.group("credit")):
                            if _is_agency(name) or _NAME_LIKE.match(name):
                                add(name)
        if _credit_line(stripped, add, metadata=False, mentions=mentions):
            continue
        if mentions:
            _phrases(line, add)
    return Credits(credits=tuple(found), dateline=dateline or None)


_WORD = regex.compile(r"\p{L}[\p{L}\p{M}'’-]*")
_ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def text_words(text: str) -> list[str]:
    """The words of ``text``: runs of letters (with marks, apostrophes and hyphens)."""
    words: list[str] = (_ASCII_WORD if text.isascii() else _WORD).findall(text)
    return words


#: Words that name no agency on their own: a name is looked up by its other words.
_GENERIC = frozenset(
    {"the", "of", "news", "agency", "press", "service", "international", "media",
     "association", "agence", "agencia", "agenzia", "national"}
)


@cache
def _key_words() -> dict[str, tuple[frozenset[str], ...]]:
    """Every form the agency regex matches, as its set of words, filed under one of
    them (its least common looking one)."""
    keys: dict[str, list[frozenset[str]]] = {}
    for form in sorted(_agency_forms()):
        parts = [p for w in _WORD.findall(form) for p in regex.split("['’]", w) if p]
        if not parts:
            continue
        specific = [p for p in parts if p.casefold() not in _GENERIC] or parts
        keys.setdefault(max(specific, key=len), []).append(frozenset(parts))
    return {k: tuple(v) for k, v in keys.items()}


def may_name_agency(words: Iterable[str]) -> bool:
    """False when ``words`` (as :func:`text_words` gives them) cannot contain an agency
    name that the agency regex would match; True otherwise (then the regex decides).

    Sound because the regex matches a name only between non-word characters, so every
    word of the name is a word of the text, or part of one cut at an apostrophe
    ("Reuters's"): a name is possible only when all its words are there.
    """
    words = words if isinstance(words, list) else list(words)
    # The parts of words cut at apostrophes; few words have one.
    cut = [p for w in words if "'" in w or "’" in w for p in w.replace("’", "'").split("'")]
    key_set = _key_set()
    if key_set.isdisjoint(words) and key_set.isdisjoint(cut):
        return False  # the common case: no word files a name (no set of the words built)
    present = set(words)
    present.update(cut)
    keys = _key_words()
    return any(forms <= present for key in key_set & present for forms in keys[key])


@cache
def _key_set() -> frozenset[str]:
    return frozenset(_key_words())


#: For ASCII text (as bytes): letters and hyphens kept, every other byte a space.
_SPACES = bytes(
    b if b < 128 and (chr(b).isalpha() or chr(b) == "-") else ord(" ") for b in range(256)
)


def may_mention_agency(text: str) -> bool:
    """``may_name_agency(text_words(text))``, or True where that is False only when no
    agency can be named (so it is as sound): the test, without a regex match per word.

    In ASCII text (and in text whose other characters are all the typographic
    apostrophe or neither letters nor marks) every word :func:`text_words` finds, and
    every part of one cut at an apostrophe, is a piece of the text split at everything
    but letters and hyphens, leading hyphens dropped; no name part starts with one. So
    the key words are looked up among those pieces, made by C-level passes over the
    text's bytes. Other text takes the word path.
    """
    plain = _ascii_letters(text)
    if plain is None:
        return may_name_agency(text_words(text))
    spaced = b" " + plain.encode("ascii").translate(_SPACES)
    while b" -" in spaced:
        spaced = spaced.replace(b" -", b" ")
    pieces = spaced.split()
    key_set = _byte_key_set()
    if key_set.isdisjoint(pieces):
        return False
    present = set(pieces)
    keys = _byte_key_words()
    return any(forms <= present for key in key_set & present for forms in keys[key])


@cache
def _byte_key_words() -> dict[bytes, tuple[frozenset[bytes], ...]]:
    """``_key_words`` in ASCII bytes (names with other characters left out: ASCII
    text cannot hold them)."""
    out: dict[bytes, tuple[frozenset[bytes], ...]] = {}
    for key, forms in _key_words().items():
        if not key.isascii():
            continue
        ascii_forms = tuple(
            frozenset(p.encode("ascii") for p in form)
            for form in forms
            if all(p.isascii() for p in form)
        )
        if ascii_forms:
            out[key.encode("ascii")] = ascii_forms
    return out


@cache
def _byte_key_set() -> frozenset[bytes]:
    return frozenset(_byte_key_words())


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _ascii_letters(text: str) -> str | None:
    """``text`` in ASCII for :func:`may_mention_agency` (typographic apostrophes as
    "'", other non-ASCII characters that are neither letters nor marks as spaces), or
    None when it has a non-ASCII letter or mark."""
    if text.isascii():
        return text
    for ch in set(_NON_ASCII.findall(text)):
        if ch == "’":
            text = text.replace(ch, "'")
        elif unicodedata.category(ch)[0] in "LM":
            return None
        else:
            text = text.replace(ch, " ")
    return text


def _is_agency(name: str) -> bool:
    return _agency_regex().fullmatch(name) is not None


def _credit_line(line: str, add: _Adder, metadata: bool, mentions: bool = True) -> bool:
    """Handle a whole-line credit form; True if the line was one. ``mentions``: False
    when the line cannot hold a known agency name (only "Source: Name" lines remain)."""
    m = _CREDIT_LINE.match(line) if _may_be_credit_line(line) else None
    if m is not None and not _URL.search(m.group("names")):
        names = [n for n in regex.split(r"\s*[/,;&]\s*|\s+and\s+", m.group("names")) if n]
        good = [n for n in names if _is_agency(n) or _NAME_LIKE.match(n)]
        if good and len(good) == len(names):
            for name in good:
                add(name)
            return True
    if not mentions:
        return False
    if _COPYRIGHT.match(line) or (metadata and _BYLINE.match(line)):
        hits = list(_agency_regex().finditer(line))
        for hit in hits:
            add(hit.group())
        return bool(hits)
    bare = line.strip(" -–—*_()[].")
    if bare and _is_agency(bare):
        add(bare)
        return True
    return False


#: What ``_CREDIT_LINE`` skips before its cue word (a superset, for ASCII lines), and
#: the cue words' beginnings, lowered.
_CREDIT_LEAD = " \t\n\r\f\v\x1c\x1d\x1e\x1f*_>-"
_CREDIT_CUES = ("source", "credit", "via", "courtesy")


def _may_be_credit_line(line: str) -> bool:
    """A cheap necessary condition for ``_CREDIT_LINE`` matching ``line``: most lines
    start with none of its cue words, and two string methods tell. Lines with non-ASCII
    characters always go to the regex (case-insensitive matching folds some of them)."""
    if not line.isascii():
        return True
    return line.lstrip(_CREDIT_LEAD)[:8].lower().startswith(_CREDIT_CUES)


def _phrases(line: str, add: _Adder) -> None:
    for m in _agency_regex().finditer(line):
        before, after = line[: m.start()], line[m.end() :]
        name = m.group()
        parenthesised = before.endswith(("(", "/")) and after.startswith((")", "/"))
        if (
            _BEFORE.search(before)
            or _AFTER.match(after)
            or (_CLAUSE_BEFORE.search(before) and _CLAUSE_AFTER.match(after))
            or (parenthesised and not _expansion(before, name))
        ):
            add(name)


def _expansion(before: str, name: str) -> bool:
    """"Agence France-Presse (AFP)": the parenthesis spells out a name, not a credit."""
    head = before.rstrip("(/ ")
    agencies = _agency_table()
    target = agencies.get(fold_name(name))
    for m in _agency_regex().finditer(head[-60:]):
        if m.end() == len(head[-60:]) and agencies.get(fold_name(m.group())) == target:
            return True
    return False


def _lines(text: str, excluded: tuple[Span, ...]) -> Iterable[tuple[str, str | None]]:
    """Each ``\\n``-separated line of ``text`` with the kind of the excluded span that
    covers its first non-blank character (None for body lines)."""
    spans = sorted(excluded, key=lambda s: s.start)
    i = 0
    pos = 0
    for line in text.split("\n"):
        first = pos + (len(line) - len(line.lstrip()))
        while i < len(spans) and spans[i].end <= first:
            i += 1
        kind = spans[i].kind if i < len(spans) and spans[i].start <= first < spans[i].end else None
        yield line, kind
        pos += len(line) + 1
