"""The alias table: names that refer to one entity ("U.S.", "USA", "United States").

The built-in table is ``data/aliases.tsv`` (countries, regions, organisations, people)
plus the news agencies of ``data/agencies.tsv``; users extend it with their own files in
the same format (``canonical<TAB>alias<TAB>alias...``, ``#`` comments, ``[section]``
lines). A user's line whose canonical name is already known adds aliases to that
entity; a user's alias that the table gives to another entity moves to the user's one.

Matching is on folded tokens (``text.tokens.tokenize``/``fold``: case and, by default,
accents ignored), longest phrase first, with two guards for one-word aliases: one
written in capitals ("US", "WHO") matches only a word written in capitals, and a
capitalised one ("China", "Fed") only a capitalised word; a phrase whose first word is
written in capitals ("US Federal Reserve") needs that word in capitals. A possessive
("Russia's") matches its entity and keeps the possessive (key ``§russia's``).

Each entity has a *key*, ``"§"`` plus its folded canonical name with ``_`` between
words (``§united_states``): ``text.normalize`` gives a matched phrase that key as its
norm. ``§`` never occurs inside a token, so keys never collide with words.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import compress, count
from pathlib import Path

from wiretrace.errors import ConfigError
from wiretrace.text.tokens import TokenSeq, tokenize

__all__ = ["AliasIndex", "AliasTable", "Match"]

log = logging.getLogger(__name__)

#: Case guards: a one-word alias in capitals, capitalised, or a phrase that starts with
#: a word in capitals ("US Federal Reserve": not "told us federal reserve ...").
ANY_CASE, INITIAL_CAPITAL, ALL_CAPITALS, FIRST_WORD_CAPITALS = 0, 1, 2, 3

_BUILTIN_FILES = ("aliases.tsv", "agencies.tsv")
_POSSESSIVES = ("'s", "'")
# Punctuation that cannot sit between the words of one name.
_GAP_BREAK = re.compile(r"[!?;:()\[\]{}\"“”«»|/]")


def _read_rows(text: str, name: str) -> list[tuple[str, tuple[str, ...]]]:
    rows: list[tuple[str, tuple[str, ...]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or (line.startswith("[") and line.endswith("]")):
            continue
        cells = [c.strip() for c in raw.split("\t")]
        cells = [c for c in cells if c]
        if not cells:
            continue
        if not tokenize(cells[0]).norms:
            raise ConfigError(f"{name}:{number}: canonical name {cells[0]!r} has no words")
        rows.append((cells[0], tuple(cells[1:])))
    return rows


@cache
def _builtin_rows() -> tuple[tuple[str, tuple[str, ...]], ...]:
    rows: list[tuple[str, tuple[str, ...]]] = []
    data = resources.files("wiretrace") / "data"
    for filename in _BUILTIN_FILES:
        resource = data / filename
        if not resource.is_file():
            # agencies.tsv belongs to ingest.credits; the table works without it
            log.warning("alias data file %s is missing; its names are not aliases", filename)
            continue
        rows.extend(_read_rows(resource.read_text(encoding="utf-8"), filename))
    return tuple(rows)


def _in_capitals(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _case_guard(alias: str, seq: TokenSeq) -> int:
    first = alias[seq.starts[0] : seq.ends[0]]
    if len(seq) > 1:
        # otherwise a phrase of several words is specific enough in any case
        return FIRST_WORD_CAPITALS if _in_capitals(first) else ANY_CASE
    if _in_capitals(first):
        return ALL_CAPITALS
    return INITIAL_CAPITAL if first[:1].isupper() else ANY_CASE


def _passes(guard: int, surface: str) -> bool:
    if guard == ANY_CASE:
        return True
    if guard in (ALL_CAPITALS, FIRST_WORD_CAPITALS):
        return not any(c.islower() for c in surface)
    return surface[:1].isupper()


@dataclass(frozen=True, slots=True)
class _Entry:
    canonical: str
    key: str
    guard: int


@dataclass(frozen=True, slots=True)
class Match:
    """An alias occurrence: tokens ``[start, start + length)`` of a sequence."""

    start: int
    length: int
    canonical: str
    key: str  # the norm the merged token gets (with "'s" when possessive)


class AliasIndex:
    """Folded token phrases -> entity, for one folding mode; scans token sequences.

    ``first`` maps a phrase's first folded token to the longest phrase length starting
    with it, so a scan costs one set lookup per token; only the few tokens that can
    begin an alias look further.
    """

    def __init__(self, accents: bool) -> None:
        self.accents = accents
        self.phrases: dict[tuple[str, ...], _Entry] = {}
        self.first: dict[str, int] = {}

    def add(self, canonical: str, key: str, alias: str) -> None:
        seq = tokenize(alias, accents=self.accents)
        if not seq.norms:
            return
        phrase = tuple(seq.norms)
        guard = _case_guard(alias, seq)
        old = self.phrases.get(phrase)
        if old is not None and old.canonical == canonical:
            guard = min(guard, old.guard)  # "NATO" and "Nato": any capitalised form
        self.phrases[phrase] = _Entry(canonical, key, guard)

    def finish(self) -> None:
        """Build ``first`` once every alias is in.

        "The Gambia" is dropped when "Gambia" is the same entity: "the" would otherwise
        make the commonest word a candidate at every occurrence (the scan's cost), and
        "the" + "§gambia" matches just as well.
        """
        for phrase, entry in list(self.phrases.items()):
            if len(phrase) > 1 and phrase[0] == "the":
                rest = self.phrases.get(phrase[1:])
                if rest is not None and rest.canonical == entry.canonical:
                    del self.phrases[phrase]
        self.first = {}
        for phrase in self.phrases:
            self.first[phrase[0]] = max(self.first.get(phrase[0], 0), len(phrase))
            if len(phrase) == 1:  # possessives of one-word aliases start a match too
                for suffix in _POSSESSIVES:
                    self.first.setdefault(phrase[0] + suffix, 1)

    def match_at(
        self, seq: TokenSeq, i: int, text: str | None, blocked: Sequence[int] = ()
    ) -> Match | None:
        """The longest alias starting at token ``i``.

        With ``text``, the case guards apply and the words of a phrase must be separated
        by spaces or joining punctuation only (not a sentence end, not a bracket).
        ``blocked`` (sorted offsets, e.g. excluded span starts) may not fall inside a
        matched phrase.
        """
        norms = seq.norms
        first = norms[i]
        longest = self.first.get(first, 0)
        for length in range(min(longest, len(norms) - i), 0, -1):
            phrase = tuple(norms[i : i + length])
            entry = self.phrases.get(phrase)
            suffix = ""
            if entry is None and phrase[-1].endswith(_POSSESSIVES):
                last = phrase[-1]
                entry = self.phrases.get((*phrase[:-1], _strip_possessive(last)))
                suffix = last[len(_strip_possessive(last)) :]
            if entry is None:
                continue
            if text is not None and entry.guard != ANY_CASE:
                if entry.guard == FIRST_WORD_CAPITALS:
                    surface = text[seq.starts[i] : seq.ends[i]]
                else:  # the possessive's "s" is not part of "US's" capitals
                    surface = text[seq.starts[i] : seq.ends[i + length - 1] - len(suffix)]
                if not _passes(entry.guard, surface):
                    continue
            if length > 1 and not _contiguous(seq, i, length, text, blocked):
                continue
            return Match(i, length, entry.canonical, entry.key + suffix)
        return None

    def scan(
        self, seq: TokenSeq, text: str | None = None, blocked: Sequence[int] = ()
    ) -> Iterator[Match]:
        """Non-overlapping longest matches, left to right."""
        # the tokens that can start an alias, found without a Python-level loop
        candidates = compress(count(), map(self.first.__contains__, seq.norms))
        covered = 0
        for i in candidates:
            if i < covered:
                continue
            m = self.match_at(seq, i, text, blocked)
            if m is not None:
                covered = i + m.length
                yield m


def _contiguous(
    seq: TokenSeq, i: int, length: int, text: str | None, blocked: Sequence[int]
) -> bool:
    lo, hi = seq.ends[i], seq.starts[i + length - 1]
    if blocked:
        k = bisect.bisect_left(blocked, lo)
        if k < len(blocked) and blocked[k] < hi:
            return False
    if text is None:
        return True
    for j in range(i, i + length - 1):
        gap = text[seq.ends[j] : seq.starts[j + 1]]
        if gap.strip() == "":
            if gap.count("\n") > 1:
                return False  # a paragraph break
            continue
        if "\n\n" in gap or _GAP_BREAK.search(gap):
            return False
        # "St. Lucia": the dot of a short abbreviation may sit inside a name
        if "." in gap and (seq.ends[j] - seq.starts[j] > 3 or gap.count(".") > 1):
            return False
    return True


def _strip_possessive(norm: str) -> str:
    if norm.endswith("'s"):
        return norm[:-2]
    if norm.endswith("'"):
        return norm[:-1]
    return norm


class AliasTable:
    """Entities and their names; see the module docstring for the matching rules."""

    def __init__(self, rows: Iterable[tuple[str, Sequence[str]]] = ()) -> None:
        self._names: dict[str, list[str]] = {}  # canonical -> names (canonical first)
        self._order: list[tuple[str, str]] = []  # (canonical, name) as added: later wins
        self._indexes: dict[bool, AliasIndex] = {}
        for canonical, aliases in rows:
            self.add(canonical, aliases)

    @classmethod
    def load(cls, extra_files: Iterable[str | Path] = ()) -> AliasTable:
        """The built-in table extended by the user's TSV files, in order.

        Raises ``ConfigError`` when a user's file cannot be read or a line has no name.
        """
        table = cls(_builtin_rows())
        for path in extra_files:
            p = Path(path)
            try:
                text = p.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"alias file {p}: cannot read: {exc}") from None
            for canonical, aliases in _read_rows(text, str(p)):
                table.add(canonical, aliases)
        return table

    def add(self, canonical: str, aliases: Sequence[str] = ()) -> None:
        """Add an entity or more names for it."""
        names = self._names.get(canonical)
        if names is None:
            names = self._names[canonical] = [canonical]
            self._order.append((canonical, canonical))
        for alias in aliases:
            if alias not in names:
                names.append(alias)
            self._order.append((canonical, alias))
        self._indexes = {}

    @property
    def entities(self) -> dict[str, tuple[str, ...]]:
        """Canonical name -> every name of it (canonical first)."""
        return {c: tuple(n) for c, n in self._names.items()}

    def __len__(self) -> int:
        return len(self._names)

    def index(self, accents: bool = True) -> AliasIndex:
        """The compiled matcher for one folding mode (built once, then cached)."""
        idx = self._indexes.get(accents)
        if idx is None:
            idx = AliasIndex(accents)
            keys = {c: self.key_of(c) for c in self._names}
            for canonical, name in self._order:
                idx.add(canonical, keys[canonical], name)
            idx.finish()
            self._indexes[accents] = idx
        return idx

    @staticmethod
    def key_of(canonical: str) -> str:
        """The norm key of an entity: ``"United States"`` -> ``"§united_states"``."""
        return "§" + "_".join(tokenize(canonical).norms)

    def _whole(self, phrase: str) -> Match | None:
        seq = tokenize(phrase)
        if not seq.norms:
            return None
        m = self.index(True).match_at(seq, 0, phrase)
        return m if m is not None and m.length == len(seq) else None

    def canonical(self, phrase: str) -> str | None:
        """The canonical name of ``phrase`` when the whole phrase is an alias, else None.

        Same rules as in text ("US" -> "United States", "us" -> None; a possessive
        "Russia's" -> "Russia").
        """
        m = self._whole(phrase)
        return m.canonical if m else None

    def key(self, phrase: str) -> str | None:
        """The norm key ``normalize`` gives ``phrase`` ("USA" -> "§united_states")."""
        m = self._whole(phrase)
        return m.key if m else None

    def same_entity(self, a: str, b: str) -> bool:
        """True when both phrases are aliases of one entity ("U.S.", "USA")."""
        ca = self.canonical(a)
        return ca is not None and ca == self.canonical(b)
