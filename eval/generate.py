"""Build a labelled reuse collection from the real BBC articles, with truth at character level.

``generate(bbc_dir, out_dir, seed, ...)`` writes ``out_dir/corpus/<id>.txt`` (one article
per file, in the seeds' layout: title line, blank line, optional header line with byline
and date, body paragraphs, optional footer lines) and ``out_dir/truth.json``, and returns
the truth as a dict. Everything is derived by script from ``bbc_dir``; nothing is typed.

Steps:

1. Load every BBC article and dedupe the bases: an article that shares a sentence of five
   words or more with an article already kept is dropped (the BBC reuses its own copy).
   The articles actually used are further chosen so that no two share an 8-word run.
2. Origins (agency copy with a byline, a date and a dateline such as ``LONDON (Reuters) -``)
   and unrelated distractors are written from the bases.
3. Derived articles are planted: verbatim copies, partial copies (a few consecutive
   paragraphs), spun copies (alias swaps from this module's own table, synonyms,
   spellings, numbers, words inserted or dropped), sentence-shuffled copies, patchworks of
   two or three sources with novel sentences taken from donor articles that are not
   written to the collection, and copy chains A -> B -> C (C copies B's spun text).
4. Truth: each planted pair with its kind, origin, credit status, passages
   ``[s_start, s_end, t_start, t_end]`` and planted edits; implied pairs (siblings, chain
   ends) that share text but were not planted; neutral spans (datelines) that scoring
   ignores; patchwork sentence labels. Every span is checked by slicing the written files.
5. Check: no 8-word run is shared by two articles that are neither a planted nor an
   implied pair (reported in ``truth["checks"]``; a violation raises).

Offsets are code point offsets into the file's text, end exclusive; files are written as
UTF-8 with ``\\n`` line ends and no translation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

import regex

__all__ = ["SUBSTITUTIONS", "generate", "load_bases", "split_sentences"]

# The generator's own substitution table (pattern, replacement, kind). It is deliberately
# independent of wiretrace's alias table (src/wiretrace/data/aliases.tsv) and includes
# swaps that table lacks (party names, titles, nicknames), applied to every occurrence in
# every spun copy so that a tool can learn them from the collection.
SUBSTITUTIONS: tuple[tuple[str, str, str], ...] = (
    # aliases: the same entity under another name
    (r"Prime Minister Tony Blair", "Mr Blair", "alias"),
    (r"Tony Blair", "Mr Blair", "alias"),
    (r"(?<![Cc]hancellor )Gordon Brown", "the chancellor", "alias"),
    (r"Gordon Brown", "Mr Brown", "alias"),
    (r"Conservatives", "Tories", "alias"),
    (r"the Labour Party", "Labour", "alias"),
    (r"(?<=for |to |by |from |against )Labour(?=[.,;:!?\"'’])", "the Labour Party", "alias"),
    (r"Liberal Democrats", "Lib Dems", "alias"),
    (r"Manchester United", "Man Utd", "alias"),
    (r"(?<=the )Federal Reserve", "Fed", "alias"),
    (r"International Monetary Fund", "IMF", "alias"),
    (r"European Union", "EU", "alias"),
    (r"United States", "US", "alias"),
    (r"US", "United States", "alias"),
    (r"the UK(?=['’]s\b|[.,;:!?])", "Britain", "alias"),
    (r"BBC", "British Broadcasting Corporation", "alias"),
    # synonyms
    (r"said", "stated", "synonym"),
    (r"rose", "climbed", "synonym"),
    (r"fell", "dropped", "synonym"),
    (r"company", "firm", "synonym"),
    (r"profits", "earnings", "synonym"),
    (r"announced", "revealed", "synonym"),
    (r"expected", "anticipated", "synonym"),
    (r"about", "around", "synonym"),
    (r"film", "movie", "synonym"),
    (r"match", "game", "synonym"),
    (r"biggest", "largest", "synonym"),
    (r"buy", "purchase", "synonym"),
    (r"help", "assist", "synonym"),
    # spellings (British to American)
    (r"organisation", "organization", "spelling"),
    (r"programme", "program", "spelling"),
    (r"centre", "center", "spelling"),
    (r"favourite", "favorite", "spelling"),
    (r"realise", "realize", "spelling"),
    (r"recognise", "recognize", "spelling"),
    (r"defence", "defense", "spelling"),
    # numbers written out as digits
    (r"two", "2", "number"),
    (r"three", "3", "number"),
    (r"four", "4", "number"),
    (r"five", "5", "number"),
    (r"(?<=\d)%", " per cent", "number"),
)
#: Swaps that a general alias table is unlikely to hold: wiretrace can only type these as
#: alias by learning them from their recurrence in the collection.
_LEARNABLE_NAMES = (
    "Tony Blair",
    "Gordon Brown",
    "Conservatives",
    "Labour",
    "Liberal Democrats",
    "Manchester United",
    "Federal Reserve",
)
LEARNABLE = frozenset(
    p for p, _, k in SUBSTITUTIONS if k == "alias" and any(n in p for n in _LEARNABLE_NAMES)
)
# ``regex`` rather than ``re``: the table uses variable-width look-behinds
_SUB_RES = tuple((regex.compile(rf"(?<![\w-]){p}(?![\w-])"), r, k) for p, r, k in SUBSTITUTIONS)
_INSERT_WORDS = ("also", "now", "reportedly", "indeed")
_DROP_WORDS = re.compile(r"(?<![\w-])(also|very|just|still|now)(?![\w-]) ")

_SENT_END = re.compile(r"[.!?][\"'”’)]*(\s+)(?=[\"'“‘(]?[A-Z0-9£$])")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")

AGENCIES = {
    "Reuters": "LONDON (Reuters) -",
    "AFP": "PARIS (AFP) -",
    "AP": "NEW YORK (AP) -",
    "PA": "LONDON (PA) -",
}
OUTLETS = (
    ("The Daily Ledger", "dailyledger.example.com"),
    ("Northern Post", "northernpost.example.org"),
    ("Market Wire Digest", "marketwiredigest.example.net"),
    ("Open Newsroom", "opennewsroom.example.org"),
    ("Citizen Bulletin", "citizenbulletin.example.com"),
    ("Metro Gazette", "metrogazette.example.co.uk"),
)
_NAMES = ("Anna Keller", "David Moss", "Priya Shah", "Tom Hale", "Sara Lind", "Owen Price")
_CET = timezone(timedelta(hours=1))
_EST = timezone(timedelta(hours=-5))
# A base that names a news agency might read as crediting it ("according to Reuters"),
# which would blur the planted credit status of its copies: such bases are not used.
_AGENCY_MENTION = re.compile(
    r"\b(?:Reuters|AFP|Agence France|Associated Press|AP|PA|Press Association|Bloomberg|"
    r"Dow Jones|Xinhua|Kyodo|Interfax|Itar-Tass|Tass|DPA|ANSA|EFE|UPI)\b"
)
_WHOLE_SENTENCE = re.compile(r"[\"'“‘(]*[A-Z0-9£$].*[.!?][\"'”’)]*$", re.S)
MIN_SENTENCE_WORDS = 5
RUN_WORDS = 8


# ---------------------------------------------------------------------------------------
# bases


@dataclass
class Base:
    """One BBC article: ``key`` is ``folder/stem``; ``paragraphs`` are lists of sentences."""

    key: str
    title: str
    paragraphs: list[list[str]]

    def sentences(self) -> list[str]:
        return [s for p in self.paragraphs for s in p]


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences at end punctuation followed by a capital or digit."""
    out: list[str] = []
    pos = 0
    for m in _SENT_END.finditer(paragraph):
        out.append(paragraph[pos : m.start(1)])
        pos = m.end(1)
    tail = paragraph[pos:].strip()
    if tail:
        out.append(tail)
    return [s for s in out if s]


def _norm_words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def load_bases(bbc_dir: Path) -> list[Base]:
    """Every article under ``bbc_dir/<folder>/*.txt``, sorted by key."""
    bases: list[Base] = []
    for path in sorted(bbc_dir.glob("*/*.txt")):
        data = path.read_bytes()
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:  # one BBC file is in cp1252 ("£" as 0xa3)
            raw = data.decode("cp1252")
        raw = raw.replace("\r\n", "\n")
        lines = raw.split("\n")
        title = lines[0].strip()
        body = "\n".join(lines[1:])
        paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body)]
        paragraphs = [split_sentences(p) for p in paras if p]
        paragraphs = [p for p in paragraphs if p]
        if title and len(paragraphs) >= 3:
            bases.append(Base(f"{path.parent.name}/{path.stem}", title, paragraphs))
    return bases


def dedupe_bases(bases: list[Base]) -> tuple[list[Base], int]:
    """Keep articles (in the given order) that share no sentence of 5+ words with a kept one.

    Returns the kept list and the number dropped.
    """
    seen: set[str] = set()
    kept: list[Base] = []
    for base in bases:
        keys = {
            " ".join(w) for s in base.sentences() if len(w := _norm_words(s)) >= MIN_SENTENCE_WORDS
        }
        if keys & seen:
            continue
        seen |= keys
        kept.append(base)
    return kept, len(bases) - len(kept)


def _runs(words: list[str], n: int = RUN_WORDS) -> set[str]:
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


# ---------------------------------------------------------------------------------------
# pieces and articles


@dataclass
class Piece:
    """A run of text in an article under construction.

    ``src`` is ``(article id, start, end)`` of the text it copies (None for own text);
    ``edits`` are ``(s_start, s_end, t_start, t_end, kind)`` with source offsets absolute
    and target offsets relative to the piece; ``root`` is ``(article id, start, end)`` of
    the origin text it ultimately derives from; ``neutral`` marks credit lines (datelines)
    that scoring ignores.
    """

    text: str
    src: tuple[str, int, int] | None = None
    edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    root: tuple[str, int, int] | None = None
    neutral: bool = False
    label: str | None = None  # patchwork sentence label: source id or None (novel)
    # absolute offsets, set when the article is laid out
    start: int = 0


@dataclass
class Doc:
    """An article under construction and its metadata."""

    id: str
    role: str
    base: str | None
    title: str
    paragraphs: list[list[Piece]]
    header: str | None = None
    footer: list[str] = field(default_factory=list)
    outlet: str | None = None
    agency: str | None = None
    published: datetime | None = None
    byline: str | None = None
    credits: list[str] = field(default_factory=list)
    dateline: str | None = None
    text: str = ""
    body: tuple[int, int] = (0, 0)
    header_span: tuple[int, int] | None = None
    footer_spans: list[tuple[int, int]] = field(default_factory=list)

    def identity(self) -> set[str]:
        """Names that credit this article: its agency and its outlet."""
        return {n for n in (self.agency, self.outlet) if n}

    def pieces(self) -> list[Piece]:
        return [p for para in self.paragraphs for p in para]

    def layout(self) -> None:
        """Join the parts into ``text`` and set every piece's absolute offset."""
        parts: list[str] = [self.title, "\n\n"]
        pos = len(self.title) + 2
        if self.header:
            self.header_span = (pos, pos + len(self.header))
            parts += [self.header, "\n\n"]
            pos += len(self.header) + 2
        body_start = pos
        for i, para in enumerate(self.paragraphs):
            if i:
                parts.append("\n\n")
                pos += 2
            for j, piece in enumerate(para):
                if j:
                    sep = "" if para[j - 1].neutral else " "
                    parts.append(sep)
                    pos += len(sep)
                piece.start = pos
                parts.append(piece.text)
                pos += len(piece.text)
        self.body = (body_start, pos)
        self.footer_spans = []
        for line in self.footer:
            parts.append("\n\n")
            pos += 2
            self.footer_spans.append((pos, pos + len(line)))
            parts.append(line)
            pos += len(line)
        parts.append("\n")
        self.text = "".join(parts)


# ---------------------------------------------------------------------------------------
# spinning


def spin(
    text: str,
    rng: random.Random,
    synonym_rate: float = 0.5,
    insert_drop: bool = True,
    only_alias: bool = False,
) -> tuple[str, list[tuple[int, int, int, int, str]]]:
    """Rewrite one sentence with this module's substitutions.

    Aliases, spellings and numbers are applied to every occurrence (consistent swaps that
    a tool can learn); synonyms with ``synonym_rate``; with ``insert_drop`` one word may
    be inserted or dropped. Returns the new text and edits
    ``(s_start, s_end, t_start, t_end, kind)`` relative to the two strings.
    """
    taken: list[tuple[int, int, str, str]] = []  # (start, end, replacement, kind)
    for rx, repl, kind in _SUB_RES:
        if only_alias and kind != "alias":
            continue
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e, _, _ in taken):
                continue
            if kind == "synonym" and rng.random() > synonym_rate:
                continue
            out = repl
            if m.start() == 0 and repl[:1].islower():
                out = repl[:1].upper() + repl[1:]
            taken.append((m.start(), m.end(), out, kind))
    if insert_drop and not only_alias and rng.random() < 0.5:
        drops = [
            m
            for m in _DROP_WORDS.finditer(text)
            if m.start() > 0 and not any(m.start() < e and s < m.end() for s, e, _, _ in taken)
        ]
        if drops and rng.random() < 0.5:
            m = rng.choice(drops)
            taken.append((m.start(1), m.end(), "", "other"))
        else:
            spaces = [
                m.start()
                for m in re.finditer(r" (?=[a-z])", text)
                if 0 < m.start() < len(text) - 1
                and not any(s <= m.start() < e for s, e, _, _ in taken)
            ]
            if spaces:
                at = rng.choice(spaces) + 1
                taken.append((at, at, rng.choice(_INSERT_WORDS) + " ", "other"))
    taken.sort()
    out_parts: list[str] = []
    edits: list[tuple[int, int, int, int, str]] = []
    pos = 0
    tpos = 0
    for s, e, repl, kind in taken:
        out_parts.append(text[pos:s])
        tpos += s - pos
        if repl == "":  # dropped word: its trailing space goes with it
            edits.append((s, e - 1, tpos, tpos, kind))
        elif s == e:  # inserted word plus a space
            edits.append((s, s, tpos, tpos + len(repl) - 1, kind))
        else:
            edits.append((s, e, tpos, tpos + len(repl), kind))
        out_parts.append(repl)
        tpos += len(repl)
        pos = e
    out_parts.append(text[pos:])
    return "".join(out_parts), edits


def _alias_rank(base: Base) -> tuple[int, int, int]:
    """(distinct learnable swaps, distinct swaps, all alias matches) found in ``base``.

    Spun roles go to the richest bases; counting distinct swaps first keeps one frequent
    name (Manchester United in the sport folder) from filling every spun role.
    """
    text = " ".join(base.sentences())
    found = [
        (pattern in LEARNABLE, len(sub[0].findall(text)))
        for sub, (pattern, _, kind) in zip(_SUB_RES, SUBSTITUTIONS, strict=True)
        if kind == "alias"
    ]
    learn = sum(1 for learnable, n in found if learnable and n)
    distinct = sum(1 for _, n in found if n)
    return learn, distinct, sum(n for _, n in found)


# ---------------------------------------------------------------------------------------
# metadata


def _fmt_date(when: datetime, style: int) -> str:
    if style == 0:
        return when.strftime("%A %d %B %Y %H:%M") + " GMT"
    if style == 1:
        return when.isoformat(timespec="minutes")
    if style == 2:  # naive, seed-like "Sunday, Mar 24 2019, 8:22pm"
        hour = when.hour % 12 or 12
        ampm = "am" if when.hour < 12 else "pm"
        return f"{when:%A}, {when:%b} {when.day} {when.year}, {hour}:{when:%M}{ampm}"
    return when.strftime("%d %b %Y %H:%M %z")  # RFC 2822 style: "14 Feb 2005 04:30 -0500"


def _origin_meta(doc: Doc, rng: random.Random, when: datetime | None) -> None:
    """Agency byline, date, dateline and copyright footer for an origin or a distractor."""
    agency = rng.choice(sorted(AGENCIES))
    doc.agency = agency
    doc.credits = [agency]
    name = rng.choice(_NAMES)
    doc.byline = f"{name}, {agency}"
    if when is None:
        doc.header = f"By {name}, {agency}"
    else:
        style = rng.randrange(3)
        if style == 0:
            when = when.astimezone(UTC)
        elif style == 1:
            when = when.astimezone(_CET)
        doc.published = when if style != 2 else when.replace(tzinfo=None)
        doc.header = f"By {name}, {agency} | {_fmt_date(when, style)}"
    doc.dateline = AGENCIES[agency].split(" ")[0]
    doc.footer = [f"© {agency} 2005. All rights reserved."]


def _copy_meta(
    doc: Doc,
    rng: random.Random,
    outlet: tuple[str, str],
    when: datetime | None,
    credit_to: str | None,
    credit_style: str,
) -> None:
    """Outlet header and footer for a derived article, and its credit line."""
    name, domain = outlet
    doc.outlet = name
    slug = hashlib.blake2b(doc.id.encode(), digest_size=4).hexdigest()
    parts: list[str] = []
    if credit_to and credit_style == "byline":
        parts.append(f"By {credit_to}")
        doc.byline = credit_to
    elif rng.random() < 0.5:
        parts.append(f"By {name} staff")
        doc.byline = f"{name} staff"
    if when is not None:
        tz_style = rng.randrange(4)
        if tz_style == 0:
            doc.published = when.astimezone(UTC)
            parts.append(_fmt_date(doc.published, 0))
        elif tz_style == 1:
            doc.published = when.astimezone(_CET)
            parts.append(_fmt_date(doc.published, 1))
        elif tz_style == 2:
            doc.published = when.astimezone(UTC).replace(tzinfo=None)
            parts.append(_fmt_date(doc.published, 2))
        else:
            doc.published = when.astimezone(_EST)
            parts.append(_fmt_date(doc.published, 3))
    doc.header = " | ".join(parts) if parts else None
    doc.footer = []
    if credit_to and credit_style == "source":
        doc.footer.append(f"Source: {credit_to}")
    doc.footer.append(f"{name}. http://{domain}/news/{slug}.html")
    if credit_to:
        doc.credits = [credit_to]


# ---------------------------------------------------------------------------------------
# generation


def _id(seed: int, n: int) -> str:
    h = hashlib.blake2b(f"{seed}:{n}".encode(), digest_size=8).hexdigest()
    return f"{n:03d}_{h}"


def _origin_doc(doc_id: str, role: str, base: Base) -> Doc:
    paragraphs = [[Piece(s) for s in para] for para in base.paragraphs]
    return Doc(id=doc_id, role=role, base=base.key, title=base.title, paragraphs=paragraphs)


def _copy_piece(
    src: Doc,
    piece: Piece,
    text: str | None = None,
    edits: list[tuple[int, int, int, int, str]] | None = None,
) -> Piece:
    """A piece copying ``piece`` of article ``src`` (laid out), optionally spun."""
    s = piece.start
    e = s + len(piece.text)
    return Piece(
        text=piece.text if text is None else text,
        src=(src.id, s, e),
        edits=[(s + a, s + b, c, d, k) for a, b, c, d, k in (edits or [])],
        root=piece.root,
    )


def generate(
    bbc_dir: Path | str,
    out_dir: Path | str,
    seed: int = 2005,
    n_sources: int = 12,
    n_patchworks: int = 4,
    n_chains: int = 3,
    n_distractors: int = 12,
) -> dict[str, Any]:
    """Write the labelled collection under ``out_dir`` and return its truth (see module doc).

    ``n_sources`` origins each get two derived copies (kinds in rotation: verbatim,
    partial, spun, shuffled); ``n_patchworks`` patchworks each stitch two or three origins
    with novel sentences; ``n_chains`` chains A -> B -> C use their own origins;
    ``n_distractors`` unrelated articles are added. The same arguments give the same files.
    """
    rng = random.Random(seed)
    bbc_dir = Path(bbc_dir)
    out = Path(out_dir)
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)

    all_bases = load_bases(bbc_dir)
    order = list(all_bases)
    rng.shuffle(order)
    kept, dropped = dedupe_bases(order)

    # Choose the bases actually used so that no two share an 8-word run.
    n_donors = n_patchworks
    need = n_sources + n_chains + n_distractors + n_donors
    alias_rich = sorted(kept, key=_alias_rank, reverse=True)
    pool = alias_rich[: need * 2] + [b for b in kept if b not in alias_rich[: need * 2]]
    chosen: list[Base] = []
    runs_seen: set[str] = set()
    for base in pool:
        words = _norm_words(" ".join(base.sentences()))
        r = _runs(words)
        # an article that repeats its own 8-word run (a BBC editing slip) would make two
        # copies of different parts of it share text that the truth does not plant
        if (
            _AGENCY_MENTION.search(base.title + " " + " ".join(base.sentences()))
            or r & runs_seen
            or len(r) < len(words) - RUN_WORDS + 1
            or sum(len(p) for p in base.paragraphs) < 6
        ):
            continue
        chosen.append(base)
        runs_seen |= r
        if len(chosen) == need:
            break
    if len(chosen) < need:
        raise ValueError(f"only {len(chosen)} usable bases for {need} needed")
    # Alias-rich bases go to spun roles (chains, then sources); the rest are shuffled.
    n_rich = n_chains + n_sources
    rich, rest = chosen[:n_rich], chosen[n_rich:]
    rng.shuffle(rest)
    chain_bases = rich[:n_chains]
    source_bases = rich[n_chains:]
    rng.shuffle(source_bases)
    distractor_bases = rest[:n_distractors]
    donor_bases = rest[n_distractors : n_distractors + n_donors]

    counter = iter(range(1, 10_000))
    new_ids = [_id(seed, i) for i in range(1, 1000)]
    rng.shuffle(new_ids)  # ids carry no hint of role or order

    def next_id() -> str:
        return new_ids[next(counter)]

    docs: list[Doc] = []
    pairs: list[dict[str, Any]] = []
    t0 = datetime(2005, 1, 10, 8, 0, tzinfo=UTC)

    def when_origin() -> datetime | None:
        if rng.random() < 0.2:
            return None
        return t0 + timedelta(days=rng.randrange(60), minutes=rng.randrange(0, 600, 5))

    def when_copy(*sources: Doc) -> datetime | None:
        """A time after every source's publication (missing one time in five)."""
        if rng.random() < 0.2:
            return None
        times = [
            s.published if s.published.tzinfo else s.published.replace(tzinfo=UTC)
            for s in sources
            if s.published is not None
        ]
        if not times:
            return t0 + timedelta(days=rng.randrange(60, 70), minutes=rng.randrange(600))
        # a third of copies follow within four hours, where a copy at -0500 (or a source at
        # +01:00) has an earlier wall clock than its source: only the timezone orders them
        lag = rng.randrange(20, 240, 5) if rng.random() < 0.35 else rng.randrange(240, 1800, 5)
        return max(times) + timedelta(minutes=lag)

    origins: list[Doc] = []
    for base in source_bases:
        origins.append(_make_origin(next_id(), base, rng, when_origin()))
    chain_as = [_make_origin(next_id(), b, rng, when_origin()) for b in chain_bases]
    distractors = [
        _make_origin(next_id(), b, rng, when_origin(), "distractor") for b in distractor_bases
    ]
    for d in (*origins, *chain_as, *distractors):
        d.layout()
        for p in d.pieces():
            if not p.neutral:
                p.root = (d.id, p.start, p.start + len(p.text))
    docs += [*origins, *chain_as, *distractors]

    def credit_plan(src: Doc) -> tuple[str | None, str, str]:
        """(name credited, style, status) for a copy of ``src``."""
        r = rng.random()
        ident = sorted(src.identity())
        if r < 0.4:
            name = src.agency or ident[0]
            style = rng.choice(("dateline", "byline", "source")) if src.agency else "source"
            return name, style, "credited"
        if r < 0.7:
            return None, "", "uncredited"
        others = sorted(set(AGENCIES) - src.identity())
        return rng.choice(others), rng.choice(("byline", "source")), "credited_elsewhere"

    def finish_copy(doc: Doc, src: Doc, kind: str, credit: tuple[str | None, str, str]) -> None:
        name, style, status = credit
        outlet = rng.choice(OUTLETS)
        if outlet[0] == src.outlet:
            # a chain's end is another outlet than the one it copies (its credit names
            # that outlet); the next outlet keeps the random stream unchanged
            outlet = OUTLETS[(OUTLETS.index(outlet) + 1) % len(OUTLETS)]
        _copy_meta(doc, rng, outlet, when_copy(src), name, style if style != "dateline" else "none")
        if name and style == "dateline":
            dl = f"{(src.dateline or 'LONDON')} ({name}) - "
            doc.paragraphs[0].insert(0, Piece(dl, neutral=True))
            doc.dateline = src.dateline
        doc.layout()
        docs.append(doc)
        pairs.append({"source": src.id, "target": doc.id, "kind": kind, "credit": status})

    def body_pieces(src: Doc) -> list[list[Piece]]:
        return [[p for p in para if not p.neutral] for para in src.paragraphs]

    kinds = ("verbatim", "partial", "spun", "shuffled")
    k = 0
    for src in origins:
        for _ in range(2):
            kind = kinds[k % len(kinds)]
            k += 1
            doc = Doc(id=next_id(), role="copy", base=None, title=src.title, paragraphs=[])
            paras = body_pieces(src)
            if kind == "verbatim":
                doc.paragraphs = [[_copy_piece(src, p) for p in para] for para in paras]
            elif kind == "partial":
                n = len(paras)
                size = min(n, rng.randint(2, 3))
                first = rng.randrange(0, n - size + 1)
                doc.paragraphs = [
                    [_copy_piece(src, p) for p in para] for para in paras[first : first + size]
                ]
            elif kind == "spun":
                new_paras = []
                for para in paras:
                    row = []
                    for p in para:
                        text, edits = spin(p.text, rng)
                        row.append(_copy_piece(src, p, text, edits))
                    new_paras.append(row)
                doc.paragraphs = new_paras
                doc.title, _ = spin(src.title, rng, insert_drop=False)
            else:  # shuffled: the sentences of the first paragraphs in a new order
                flat = [p for para in paras[: max(3, len(paras) // 2)] for p in para]
                # units of consecutive sentences of 12 words or more move together: a moved
                # 4-word sentence is below any sensible shortest passage
                units: list[list[Piece]] = [[]]
                for p in flat:
                    if len(_norm_words(" ".join(x.text for x in units[-1]))) >= 12:
                        units.append([])
                    units[-1].append(p)
                if len(units) > 1 and len(_norm_words(" ".join(x.text for x in units[-1]))) < 12:
                    units[-2] += units.pop()
                perm = list(range(len(units)))
                while len(perm) > 1 and perm == sorted(perm):
                    rng.shuffle(perm)
                chosen_p = [_copy_piece(src, p) for i in perm for p in units[i]]
                doc.paragraphs = [chosen_p[i : i + 3] for i in range(0, len(chosen_p), 3)]
            finish_copy(doc, src, kind, credit_plan(src))

    # copy chains: A (agency) -> B (outlet, spun) -> C (another outlet copies B's text)
    for a in chain_as:
        b = Doc(id=next_id(), role="copy", base=None, title=a.title, paragraphs=[])
        new_paras = []
        for para in body_pieces(a):
            row = []
            for p in para:
                text, edits = spin(p.text, rng, synonym_rate=0.3)
                row.append(_copy_piece(a, p, text, edits))
            new_paras.append(row)
        b.paragraphs = new_paras
        finish_copy(b, a, "chain_spun", credit_plan(a))
        c = Doc(id=next_id(), role="copy", base=None, title=b.title, paragraphs=[])
        b_paras = body_pieces(b)
        # C is B cut from the bottom (one or two paragraphs), as reprints are: with B's
        # whole text and no time or credit, nothing could tell B from C
        keep = max(2, len(b_paras) - max(1, rng.randrange(0, 3)))
        c.paragraphs = [[_copy_piece(b, p) for p in para] for para in b_paras[:keep]]
        c_credit: tuple[str | None, str, str] = (
            (b.outlet, "source", "credited") if rng.random() < 0.5 else (None, "", "uncredited")
        )
        finish_copy(c, b, "chain_copy", c_credit)

    # patchworks: chunks of two or three origins, some alias-spun, and novel sentences
    donor_sents = [
        s for b in donor_bases for s in b.sentences() if len(_norm_words(s)) >= MIN_SENTENCE_WORDS
    ]
    rng.shuffle(donor_sents)
    # novel sentences are whole sentences (a capital, a digit or a quote first, final
    # punctuation last): a BBC list line or heading run into the next sentence would hide
    # the sentence break from any reader; filtered after the shuffle, so the random
    # stream is unchanged
    donor_sents = [s for s in donor_sents if _WHOLE_SENTENCE.match(s)]
    patch_sources = list(origins)
    for _i in range(n_patchworks):
        srcs = rng.sample(patch_sources, rng.choice((2, 3)))
        chunks: list[list[Piece]] = []
        for src in srcs:
            flat = [p for para in body_pieces(src) for p in para]
            used: set[int] = set()
            for _c in range(rng.randint(1, 2)):
                size = rng.randint(1, 3)
                at = rng.randrange(0, len(flat) - size + 1)
                # a chunk of 15 words or more: short phrases are not reuse
                while len(_norm_words(" ".join(x.text for x in flat[at : at + size]))) < 15:
                    if at + size < len(flat):
                        size += 1
                    elif at > 0:
                        at -= 1
                        size += 1
                    else:
                        break
                if used & set(range(at - 1, at + size + 1)):
                    continue  # chunks of one source neither overlap nor touch
                used |= set(range(at, at + size))
                chunk = []
                for p in flat[at : at + size]:
                    if rng.random() < 0.5:
                        text, edits = spin(p.text, rng, only_alias=True)
                        piece = _copy_piece(src, p, text, edits)
                    else:
                        piece = _copy_piece(src, p)
                    piece.label = src.id
                    chunk.append(piece)
                chunks.append(chunk)
        rng.shuffle(chunks)
        patch_paras: list[list[Piece]] = []
        for chunk in chunks:
            para = list(chunk)
            for _n in range(rng.randint(1, 2)):
                novel = Piece(donor_sents.pop())
                # before or after a chunk, never inside it: the chunk stays one passage
                para.insert(rng.choice((0, len(para))), novel)
            patch_paras.append(para)
        doc = Doc(
            id=next_id(),
            role="patchwork",
            base=None,
            title=spin(srcs[0].title, rng, only_alias=True)[0],
            paragraphs=patch_paras,
        )
        # one credit line for the whole patchwork: to one of its sources, someone else or none
        draw = rng.random()
        named: str | None = None
        if draw < 0.3:
            named = srcs[0].agency
        elif draw < 0.5:
            named = rng.choice(sorted(set(AGENCIES) - {s.agency for s in srcs if s.agency}))
        _copy_meta(doc, rng, rng.choice(OUTLETS), when_copy(*srcs), named, "source")
        doc.layout()
        docs.append(doc)
        for src in srcs:
            status = (
                "uncredited"
                if named is None
                else "credited"
                if named in src.identity()
                else "credited_elsewhere"
            )
            pairs.append(
                {"source": src.id, "target": doc.id, "kind": "patchwork", "credit": status}
            )

    by_id = {d.id: d for d in docs}
    truth = _build_truth(docs, pairs, by_id)
    truth["seed"] = seed
    truth["params"] = {
        "n_sources": n_sources,
        "n_patchworks": n_patchworks,
        "n_chains": n_chains,
        "n_distractors": n_distractors,
    }
    truth["checks"]["dedupe"] = {
        "bbc_articles": len(all_bases),
        "dropped": dropped,
        "kept": len(kept),
        "used": len(chosen),
    }
    for d in docs:
        (corpus / f"{d.id}.txt").write_text(d.text, encoding="utf-8", newline="")
    _verify(truth, corpus)
    (out / "truth.json").write_text(
        json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8"
    )
    return truth


def _make_origin(
    doc_id: str, base: Base, rng: random.Random, when: datetime | None, role: str = "origin"
) -> Doc:
    doc = _origin_doc(doc_id, role, base)
    _origin_meta(doc, rng, when)
    dl = AGENCIES[doc.agency or "Reuters"] + " "
    doc.paragraphs[0].insert(0, Piece(dl, neutral=True))
    return doc


def _build_truth(
    docs: list[Doc], pairs: list[dict[str, Any]], by_id: dict[str, Doc]
) -> dict[str, Any]:
    articles: dict[str, Any] = {}
    for d in docs:
        rec: dict[str, Any] = {
            "file": f"corpus/{d.id}.txt",
            "role": d.role,
            "base": d.base,
            "title": d.title,
            "outlet": d.outlet,
            "agency": d.agency,
            "published": d.published.isoformat() if d.published else None,
            "timezone": bool(d.published and d.published.tzinfo),
            "byline": d.byline,
            "credits": d.credits,
            "dateline": d.dateline,
            "body": list(d.body),
            "header": list(d.header_span) if d.header_span else None,
            "footer": [list(s) for s in d.footer_spans],
            "neutral": [[p.start, p.start + len(p.text.rstrip())] for p in d.pieces() if p.neutral],
        }
        if d.role == "patchwork":
            rec["sentences"] = [
                [p.start, p.start + len(p.text), p.label] for p in d.pieces() if not p.neutral
            ]
        articles[d.id] = rec

    out_pairs = []
    for pr in pairs:
        tgt = by_id[pr["target"]]
        src_id = pr["source"]
        passages: list[list[int]] = []
        edits: list[dict[str, Any]] = []
        src_text = by_id[src_id].text
        last: Piece | None = None
        for p in tgt.pieces():
            if p.neutral or p.src is None or p.src[0] != src_id:
                if not p.neutral:
                    last = None
                continue
            s0, s1 = p.src[1], p.src[2]
            t0, t1 = p.start, p.start + len(p.text)
            if (
                last is not None
                and passages
                and src_text[passages[-1][1] : s0].isspace()
                and tgt.text[passages[-1][3] : t0].isspace()
            ):
                passages[-1][1] = s1
                passages[-1][3] = t1
            else:
                passages.append([s0, s1, t0, t1])
            last = p
            for es0, es1, et0, et1, kind in p.edits:
                edits.append(
                    {
                        "source": [es0, es1],
                        "target": [t0 + et0, t0 + et1],
                        "kind": kind,
                        "source_text": src_text[es0:es1],
                        "target_text": tgt.text[t0 + et0 : t0 + et1],
                    }
                )
        out_pairs.append({**pr, "origin": src_id, "passages": passages, "edits": edits})

    planted = {frozenset((p["source"], p["target"])) for p in out_pairs}
    roots: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for d in docs:
        for p in d.pieces():
            if p.root is not None:
                roots[d.id].append(p.root)
    implied = []
    ids = sorted(by_id)
    for a, b in combinations(ids, 2):
        if frozenset((a, b)) in planted:
            continue
        if any(
            ra == rb2 and s < e2 and s2 < e for ra, s, e in roots[a] for rb2, s2, e2 in roots[b]
        ):
            implied.append({"a": a, "b": b, "reason": _implied_reason(a, b, out_pairs)})

    implied_set = {frozenset((x["a"], x["b"])) for x in implied}
    body_runs = {d.id: _runs(_norm_words(d.text[d.body[0] : d.body[1]])) for d in docs}
    checked = 0
    violations = []
    for a, b in combinations(ids, 2):
        key = frozenset((a, b))
        if key in planted or key in implied_set:
            continue
        checked += 1
        shared = body_runs[a] & body_runs[b]
        if shared:
            violations.append({"a": a, "b": b, "runs": sorted(shared)[:3]})
    # pairs whose order needs the timezone: the wall clocks alone put the copy first
    traps = 0
    for pr in out_pairs:
        ta, tb = by_id[pr["source"]].published, by_id[pr["target"]].published
        if (
            ta
            and tb
            and ta.tzinfo
            and tb.tzinfo
            and ta.replace(tzinfo=None) > tb.replace(tzinfo=None)
        ):
            traps += 1
    return {
        "articles": articles,
        "pairs": out_pairs,
        "implied": implied,
        "checks": {
            "accidental_8word_runs": {"pairs_checked": checked, "violations": violations},
            "timezone_traps": traps,
        },
    }


def _implied_reason(a: str, b: str, pairs: list[dict[str, Any]]) -> str:
    src_of = defaultdict(set)
    for p in pairs:
        src_of[p["target"]].add(p["source"])
    if src_of[a] & src_of[b]:
        return "siblings"
    return "chain or shared ancestor"


def _verify(truth: dict[str, Any], corpus: Path) -> None:
    """Assert every truth span slices the written files to the planted text."""
    texts = {aid: (corpus / f"{aid}.txt").read_bytes().decode("utf-8") for aid in truth["articles"]}
    for pr in truth["pairs"]:
        s_text, t_text = texts[pr["source"]], texts[pr["target"]]
        assert pr["passages"], f"planted pair without passages: {pr['source']} {pr['target']}"
        for s0, s1, t0, t1 in pr["passages"]:
            assert 0 <= s0 < s1 <= len(s_text) and 0 <= t0 < t1 <= len(t_text)
            a, b = s_text[s0:s1], t_text[t0:t1]
            if pr["kind"] in ("verbatim", "partial", "chain_copy"):
                assert a == b, (pr["kind"], a[:60], b[:60])
            assert a[0].strip() and a[-1].strip() and b[0].strip() and b[-1].strip()
        for e in pr["edits"]:
            assert s_text[e["source"][0] : e["source"][1]] == e["source_text"]
            assert t_text[e["target"][0] : e["target"][1]] == e["target_text"]
            assert e["source_text"] != e["target_text"]
        if pr["kind"] in ("spun", "chain_spun", "patchwork"):
            _verify_edits(pr, s_text, t_text)
    for aid, rec in truth["articles"].items():
        for s, e in rec["neutral"]:
            assert "(" in texts[aid][s:e], texts[aid][s:e]
    if truth["checks"]["accidental_8word_runs"]["violations"]:
        raise AssertionError(f"accidental sharing: {truth['checks']}")


def _verify_edits(pr: dict[str, Any], s_text: str, t_text: str) -> None:
    """Replaying the planted edits on each source passage gives the target passage."""
    for s0, s1, t0, t1 in pr["passages"]:
        inside = sorted(
            (e for e in pr["edits"] if s0 <= e["source"][0] <= s1 and t0 <= e["target"][0] <= t1),
            key=lambda e: e["source"][0],
        )
        parts, pos = [], s0
        for e in inside:
            parts.append(s_text[pos : e["source"][0]])
            parts.append(e["target_text"])
            pos = e["source"][1]
        parts.append(s_text[pos:s1])
        rebuilt = "".join(parts)
        target = t_text[t0:t1]
        # inserted/dropped words carry one space that the edit span leaves out
        assert re.sub(r"\s+", " ", rebuilt) == re.sub(r"\s+", " ", target) or rebuilt.replace(
            " ", ""
        ) == target.replace(" ", ""), (rebuilt[:80], target[:80])


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    baseline = json.loads((here / "baseline.json").read_text(encoding="utf-8"))
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--bbc", type=Path, default=here.parents[1] / "shared" / "data" / "bbc-news")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=baseline["seed"])
    for name, value in baseline["size"].items():
        ap.add_argument(f"--{name.removeprefix('n_')}", type=int, default=value, dest=name)
    args = ap.parse_args(argv)
    size = {name: getattr(args, name) for name in baseline["size"]}
    truth = generate(args.bbc, args.out, args.seed, **size)
    print(
        f"{len(truth['articles'])} articles, {len(truth['pairs'])} planted pairs, "
        f"{len(truth['implied'])} implied pairs -> {args.out}"
    )
    print(json.dumps(truth["checks"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
