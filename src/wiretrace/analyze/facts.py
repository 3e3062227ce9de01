"""Facts stated by an article, and their agreement across the articles of a story.

Extraction is rule-based and offline (no model is loaded): it reads what a fact-checker
compares first.

- quantities: a number (digits, "1,000", "1.5", "$1.13bn", "76%", or number words such as
  "one hundred", "a dozen") with its hedge ("nearly", "almost", "about", "more than", ...)
  and what it counts ("troops", "tonnes of material");
- dates: absolute ("March 23", "24 March 2019", "2019-03-24", "Mar 24 2019") and relative
  ("on Saturday", "yesterday"), resolved against the article's publication date, or the
  story's dates when the article has none; keyed by the event they date ("landed" ->
  "land");
- names: people, places, organisations and things (model codes such as "IL-62");
- quotes with their speaker.

Offsets are character offsets into ``Article.text``; excluded spans (title, boilerplate)
are skipped, so captions and navigation lines state no facts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from wiretrace.models import Article, Span

__all__ = [
    "Fact",
    "FactMention",
    "compare_facts",
    "extract_facts",
    "resolve_dates",
]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


FactKind = Literal["quantity", "date", "person", "place", "organization", "thing", "quote"]

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}
_WEEKDAYS = {
    d: i
    for i, d in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    )
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "dozen": 12,
    "hundred": 100,
}
_SCALES = {
    "hundred": 100,
    "thousand": 1_000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    "trillion": 10**12,
    "m": 1_000_000,
    "mn": 1_000_000,
    "bn": 10**9,
    "k": 1_000,
    "tn": 10**12,
}
_HEDGES = {
    "nearly": "approx",
    "almost": "approx",
    "about": "approx",
    "around": "approx",
    "roughly": "approx",
    "some": "approx",
    "approximately": "approx",
    "close to": "approx",
    "more than": "over",
    "over": "over",
    "at least": "over",
    "upwards of": "over",
    "less than": "under",
    "fewer than": "under",
    "under": "under",
    "up to": "under",
    "at most": "under",
}
_MONTH_RE = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE_PATTERNS = (
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("mdy", re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})(?:,?\s+(\d{{4}}))?\b")),
    ("weekday", re.compile(rf"\b(?:(last|next|this|on)\s+)?({_WEEKDAY_RE})\b")),
    ("relative", re.compile(r"\b(yesterday|today|tomorrow)\b", re.IGNORECASE)),
    ("month", re.compile(rf"\b(?:in|since|until|by)\s+({_MONTH_RE})(?:\s+(\d{{4}}))?\b")),
    (
        "month",
        re.compile(
            r"\b(January|February|March|April|June|July|August|September|October"
            r"|November|December)()(?!\w)"
        ),
    ),
    (
        "year",
        re.compile(r"(?<![\d$£€.,-])(1[89]\d{2}|20\d{2})(?![\d%]|-\d|,\d|\.\d|\s?(?:bn|m)\b)"),
    ),
)
_NUMBER = re.compile(
    r"(?P<cur>[$£€])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<scale>\s?(?:bn|mn|m|k|tn)\b|\s(?:hundred|thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%|\s(?:per\s?cent|percent)\b)?",
    re.IGNORECASE,
)
_NUMBER_WORD_RE = re.compile(
    r"\b(?:a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety)(?:[\s-](?:hundred|thousand|million|billion|"
    r"dozen|one|two|three|four|five|six|seven|eight|nine))*\b|\bdozens?\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_QUOTE = re.compile(r"[\"“]([^\"“”]{12,600}?)[,.!?]?[\"”]")
_SAY = r"(?:said|says|told|wrote|added|stated|quoted|according to|asked|declared)"
_STOP = _words(
    "a an the and or but if of in on at to for from by with as is are was were be been "
    "has have had it its this that these those he she they we you i his her their our not "
    "no than then there here which who whom what when where while after before over under "
    "into about some any all more most other such only also very can could will would may "
    "might must shall should do does did so up out down off just now new said says "
)
_UNIT_SKIP = frozenset({"of", "the", "a", "an", "more", "new", "other", "additional", "extra"})
_PERSON_TITLES = _words(
    "president prime minister mr mrs ms dr sir lord lady king queen prince princess pope "
    "chancellor senator governor mayor general gen col colonel captain judge reporter "
    "leader spokesman spokeswoman spokesperson chief secretary ambassador commissioner "
    "minister deputy chairman ceo director "
)
_ORG_WORDS = _words(
    "ministry department agency committee council commission company corp corporation inc "
    "ltd plc group bank party union association organisation organization office embassy "
    "army navy force forces parliament congress senate court university institute "
    "foundation federation league club news times post journal network service services "
    "administration kremlin "
)
_PLACE_WORDS = _words(
    "airport city province state county street river sea ocean island islands mountains "
    "valley region republic kingdom square border "
)
_PLACE_CUES = ("in", "at", "from", "to", "near", "via", "across", "into")


@dataclass(frozen=True, slots=True)
class FactMention:
    """One fact as one article states it.

    ``key`` says what the fact is about (the counted thing, the dated event, the
    entity's name, the quote's speaker); ``value`` is its normalised value (a number as
    text, an ISO date, a name, the quote); ``number`` is the numeric value of a
    quantity; ``hedge`` is ``approx``, ``over`` or ``under`` where the text hedges.
    """

    article: str
    kind: FactKind
    key: str
    value: str
    text: str
    start: int
    end: int
    number: float | None = None
    hedge: str | None = None
    resolved_from: str | None = None  # dates: "article", "story" or None (absolute)


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact across a story's articles: agreeing or conflicting mentions."""

    fact: str  # e.g. "quantity: troops", "date: land", "quote: Maduro"
    kind: FactKind
    value: str  # the value most mentions give
    mentions: tuple[FactMention, ...]
    agree: bool
    values: tuple[str, ...] = field(default=())  # distinct values, most frequent first

    def to_json(self) -> dict[str, object]:
        return {
            "fact": self.fact,
            "value": self.value,
            "agree": self.agree,
            "values": list(self.values),
            "mentions": [
                {
                    "article": m.article,
                    "text": m.text,
                    "start": m.start,
                    "end": m.end,
                    "value": m.value,
                }
                for m in self.mentions
            ],
        }


def _body_ranges(article: Article) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    pos = 0
    for span in sorted(article.excluded, key=lambda s: s.start):
        if span.start > pos:
            ranges.append((pos, span.start))
        pos = max(pos, span.end)
    if pos < len(article.text):
        ranges.append((pos, len(article.text)))
    return ranges


def _stem(word: str) -> str:
    w = word.lower()
    irregular = {
        "said": "say",
        "says": "say",
        "told": "tell",
        "left": "leave",
        "flew": "fly",
        "flown": "fly",
        "sent": "send",
        "saw": "see",
        "took": "take",
        "came": "come",
        "went": "go",
        "won": "win",
        "held": "hold",
        "met": "meet",
        "arrived": "arrive",
    }
    if w in irregular:
        return irregular[w]
    for suffix, repl in (("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)] + repl
    return w


def _singular(word: str) -> str:
    w = word.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def _parse_number_words(text: str) -> float | None:
    total = 0.0
    current = 0.0
    seen = False
    for part in re.split(r"[\s-]+", text.lower()):
        if part in {"a", "an"}:
            current = max(current, 1)
            seen = True
        elif part in {"dozens"}:
            return None  # "dozens of" is not a number to compare
        elif part in _NUMBER_WORDS and part not in {"hundred", "dozen"}:
            current += _NUMBER_WORDS[part]
            seen = True
        elif part == "dozen":
            current = max(current, 1) * 12
            seen = True
        elif part in _SCALES and part.isalpha():
            scale = _SCALES[part]
            current = max(current, 1) * scale
            if scale >= 1000:
                total += current
                current = 0
            seen = True
    value = total + current
    return value if seen and value > 0 else None


def _hedge_before(text: str, start: int) -> tuple[str | None, int]:
    before = text[max(0, start - 24) : start].lower()
    for phrase, hedge in _HEDGES.items():
        if re.search(rf"\b{phrase}\s+$", before):
            return hedge, start - len(before) + before.rfind(phrase)
    return None, start


_AUX = _words(
    "is are was were be been has have had will would could can may might must should do does did "
)
_VERBS = _words(
    "left held came went took made saw flew sent won met told said got gave ran began "
    "kept led lost paid put set stood brought bought built caught fell felt found hit "
    "heard knew meant read rose sold spent spoke struck thought wore wrote is are was "
    "were be been has have had will would could can may might must should do does did "
)


def _unit_after(text: str, end: int, limit: int) -> tuple[str, int]:
    """The counted thing after a number: its noun phrase's head, with an "of" complement.

    "nearly 100 troops" -> "troop"; "Two Russian air force planes landed" -> "plane";
    "35 tonnes of material" -> "tonne of material".
    """
    phrase: list[tuple[str, int]] = []
    complement: list[tuple[str, int]] = []
    target = phrase
    pos = end
    for m in _WORD.finditer(text, end, min(limit, end + 100)):
        gap = text[pos : m.start()]
        if any(c in gap for c in '.;:!?\n()"“”,'):
            break
        lw = m.group().lower()
        if lw == "of" and target is phrase and phrase and not complement:
            target = complement
            pos = m.end()
            continue
        if target is complement and not complement and lw in _UNIT_SKIP:
            pos = m.end()
            continue
        if (
            lw in _STOP
            or lw in _VERBS
            or lw in _MONTHS
            or lw in _WEEKDAYS
            or (lw.endswith("ed") and len(lw) > 3)
            or len(target) >= 4
        ):
            break
        target.append((lw, m.end()))
        pos = m.end()
    if not phrase:
        return "", end
    head = _singular(phrase[-1][0])
    last_end = phrase[-1][1]
    if complement:
        head = f"{head} of {_singular(complement[-1][0])}"
        last_end = complement[-1][1]
    return head, last_end


def _plural_before(text: str, lo: int, start: int) -> str | None:
    """The nearest plural noun before a bare number, within its sentence."""
    sentence_start = max(text.rfind(". ", lo, start), text.rfind("\n", lo, start), lo)
    for m in reversed(list(_WORD.finditer(text, sentence_start, start))):
        w = m.group().lower()
        if w.endswith("s") and not w.endswith("ss") and len(w) > 3 and w not in _STOP | _VERBS:
            return _singular(w)
    return None


def _quantities(
    article: Article, lo: int, hi: int, taken: list[tuple[int, int]]
) -> list[FactMention]:
    text = article.text
    out: list[FactMention] = []
    candidates: list[tuple[int, int, float, str]] = []
    for m in _NUMBER.finditer(text, lo, hi):
        if text[max(lo, m.start() - 1) : m.start()].isalnum():
            continue  # part of a code like IL-62 or a word
        if m.start() > lo and text[m.start() - 1] == "-" and text[max(lo, m.start() - 2)].isalpha():
            continue
        num = float(m.group("num").replace(",", ""))
        scale = (m.group("scale") or "").strip().lower()
        if scale:
            num *= _SCALES.get(scale, 1)
        unit = ""
        if m.group("pct"):
            unit = "%"
        elif m.group("cur"):
            unit = {"$": "usd", "£": "gbp", "€": "eur"}[m.group("cur")]
        candidates.append((m.start(), m.end(), num, unit))
    for m in _NUMBER_WORD_RE.finditer(text, lo, hi):
        value = _parse_number_words(m.group())
        if value is None or m.group().lower() == "a":
            continue
        if m.group().lower() == "one" and re.match(
            r"\s+(?:of|another|by|day|time)\b", text[m.end() :]
        ):
            continue  # "one of the planes", "one by one": not a count
        candidates.append((m.start(), m.end(), value, ""))
    for start, end, num, unit in sorted(candidates):
        if any(s <= start < e or s < end <= e for s, e in taken):
            continue
        if not unit and 1900 <= num <= 2100 and float(num).is_integer():
            continue  # a year
        hedge, hstart = _hedge_before(text, start)
        thing, tend = _unit_after(text, end, hi)
        if unit in {"usd", "gbp", "eur", "%"}:
            key = unit if not thing else f"{unit} {thing}"
        elif thing:
            key = thing
        elif num >= 10 and (subject := _plural_before(text, lo, start)):
            key = subject  # "sales jumped 22% to 449,603": the number counts sales
        else:
            continue  # a bare number: nothing to compare it with
        taken.append((start, end))
        out.append(
            FactMention(
                article=article.id,
                kind="quantity",
                key=key,
                value=f"{num:g}",
                text=text[hstart : max(end, tend)],
                start=hstart,
                end=max(end, tend),
                number=num,
                hedge=hedge,
            )
        )
    return out


def _event_before(text: str, lo: int, start: int, end: int) -> str:
    """The verb that a date phrase dates: the nearest verb-like word before it."""
    sentence_start = max(text.rfind(".", lo, start), text.rfind("\n", lo, start), lo)
    words = list(_WORD.finditer(text, sentence_start, start))
    for m in reversed(words):
        w = m.group().lower()
        if w in {"said", "says", "say", "told"}:
            if m is words[-1]:
                return "say"
            continue  # "officials said the planes landed on ..." dates the landing
        if (w.endswith("ed") and len(w) > 4) or w in _VERBS - _AUX:
            return _stem(w)
    for m in list(_WORD.finditer(text, end, min(len(text), end + 40)))[:3]:
        w = m.group().lower()
        if (w.endswith("ed") and len(w) > 4) or w in _VERBS - _AUX:
            return _stem(w)
    return "event"


def _dates(article: Article, lo: int, hi: int, taken: list[tuple[int, int]]) -> list[FactMention]:
    text = article.text
    out: list[FactMention] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text, lo, hi):
            if any(s <= m.start() < e or s < m.end() <= e for s, e in taken):
                continue
            value = _date_value(kind, m)
            if value is None:
                continue
            taken.append((m.start(), m.end()))
            out.append(
                FactMention(
                    article=article.id,
                    kind="date",
                    key=_event_before(text, lo, m.start(), m.end()),
                    value=value,
                    text=m.group(),
                    start=m.start(),
                    end=m.end(),
                )
            )
    return out


def _date_value(kind: str, m: re.Match[str]) -> str | None:
    """A partial ISO value: '2019-03-23', '????-03-23', 'weekday:5:last', 'rel:-1', '2019-02'."""
    try:
        if kind == "iso":
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
        if kind in {"mdy", "dmy"}:
            month_s, day_s = (m.group(1), m.group(2)) if kind == "mdy" else (m.group(2), m.group(1))
            month = _MONTHS[month_s.rstrip(".").lower()]
            day = int(day_s)
            year = m.group(3)
            date(int(year) if year else 2000, month, day)  # validates
            return f"{year or '????'}-{month:02d}-{day:02d}"
        if kind == "weekday":
            modifier = (m.group(1) or "on").lower()
            return f"weekday:{_WEEKDAYS[m.group(2).lower()]}:{modifier}"
        if kind == "relative":
            return f"rel:{ {'yesterday': -1, 'today': 0, 'tomorrow': 1}[m.group(1).lower()] }"
        if kind == "month":
            month = _MONTHS[m.group(1).rstrip(".").lower()]
            return f"{m.group(2) or '????'}-{month:02d}"
        if kind == "year":
            return m.group(1)
    except (ValueError, KeyError):
        return None
    return None


def _resolve(value: str, ref: date | None, future: bool) -> str | None:
    if value.startswith("weekday:"):
        if ref is None:
            return None
        _, wd, modifier = value.split(":")
        delta = (ref.weekday() - int(wd)) % 7
        if future or modifier == "next":
            ahead = (int(wd) - ref.weekday()) % 7 or 7
            return (ref + timedelta(days=ahead)).isoformat()
        if modifier == "last" and delta == 0:
            delta = 7
        return (ref - timedelta(days=delta)).isoformat()
    if value.startswith("rel:"):
        return (ref + timedelta(days=int(value[4:]))).isoformat() if ref else None
    if value.startswith("????"):
        if ref is None:
            return None
        candidate = value.replace("????", str(ref.year))
        # A month-day later than the reference by months is most likely last year's.
        if len(candidate) == 10 and date.fromisoformat(candidate) > ref + timedelta(days=60):
            candidate = value.replace("????", str(ref.year - 1))
        return candidate
    return value


def resolve_dates(
    mentions: Iterable[FactMention], article_date: date | None, story_dates: Sequence[date] = ()
) -> list[FactMention]:
    """Resolve relative and year-less dates against the article's date, else the story's.

    A weekday in past-tense reporting is the latest such day on or before the reference
    ("on Saturday" in an article of Sunday 24 March 2019 is 23 March 2019); after "will"
    or "next" it is the next such day. Unresolvable mentions are dropped.
    """
    ref, source = (
        (article_date, "article")
        if article_date
        else ((min(story_dates), "story") if story_dates else (None, None))
    )
    out: list[FactMention] = []
    for m in mentions:
        if m.kind != "date":
            out.append(m)
            continue
        if not m.value[:4].isdigit() or m.value.startswith("weekday") or m.value.startswith("rel"):
            future = m.key in {"will", "event"} and False
            resolved = _resolve(m.value, ref, future)
            if resolved is None:
                continue
            out.append(_replace(m, value=resolved, resolved_from=source))
        else:
            out.append(m)
    return out


def _replace(m: FactMention, **changes: object) -> FactMention:
    data = {f: getattr(m, f) for f in FactMention.__slots__}  # type: ignore[attr-defined]
    data.update(changes)
    return FactMention(**data)


def _entities(article: Article, lo: int, hi: int) -> list[FactMention]:
    text = article.text
    out: list[FactMention] = []
    cap = re.compile(
        r"\b(?:[A-Z][\w'’.-]*[A-Za-z0-9]|[A-Z]{2,}(?:-\d+)?)(?:\s+(?:de|da|del|van|von|al|bin|of)?\s*"
        r"(?:[A-Z][\w'’-]*[A-Za-z0-9]|[A-Z]{2,}-\d+))*"
    )
    mid_sentence_words: Counter[str] = Counter()
    for m in cap.finditer(text, lo, hi):
        if not _sentence_initial(text, lo, m.start()):
            mid_sentence_words[m.group().split()[0]] += 1
    for m in cap.finditer(text, lo, hi):
        phrase = m.group().rstrip(".'’")
        start = m.start()
        words = phrase.split()
        if _sentence_initial(text, lo, start):
            # "Maduro has denounced ..." is a name; "The" or "Two" are not.
            while words and (
                words[0].lower() in _STOP
                or words[0].lower() in _NUMBER_WORDS
                or words[0].lower() in _WEEKDAYS
                or (len(words) == 1 and mid_sentence_words[words[0]] == 0)
            ):
                start += len(words[0]) + 1
                words = words[1:]
        while words and (
            words[0].lower() in _PERSON_TITLES
            or words[0].lower() in _WEEKDAYS
            or words[0].lower() in _MONTHS
        ):
            start += len(words[0]) + 1
            words = words[1:]
        if not words:
            continue
        name = " ".join(words).removesuffix("'s").removesuffix("’s")
        if name.lower() in _STOP or len(name) < 2 or name.lower() in _MONTHS:
            continue
        if _is_demonym(words[-1]):
            continue  # "Russian", "South American": an adjective, not a name
        kind = _entity_kind(text, lo, start, name)
        out.append(
            FactMention(
                article=article.id,
                kind=kind,
                key=name,
                value=name,
                text=name,
                start=start,
                end=start + len(name),
            )
        )
    # A single word that ends a person's full name elsewhere ("Maduro") is that person.
    surnames = {m.value.split()[-1]: m.value for m in out if m.kind == "person" and " " in m.value}
    return [
        _replace(m, kind="person", key=surnames[m.value], value=surnames[m.value])
        if m.value in surnames
        else m
        for m in out
    ]


_DEMONYM = re.compile(r"(?:[a-z]ian|[a-z]an|ese|ish|[a-z]i|ch|ic)$")
_NOT_DEMONYMS = _words(
    "Iran Sudan Japan Oman Taiwan Pakistan Afghanistan Kazakhstan Uzbekistan Bhutan Yemen "
    "Brunei Bahrain Haiti Malawi Mali Burundi Djibouti Dubai Delhi Munich Zurich Norwich "
    "Brian Ivan Dan Stephan Jordan Morgan Duncan Christian Sebastian Adrian Julian "
    "Vatican Tehran Michigan Milan Wuhan Hamish "
)


def _is_demonym(word: str) -> bool:
    return (
        word not in _NOT_DEMONYMS
        and bool(_DEMONYM.search(word))
        and word[:1].isupper()
        and (word.endswith(("an", "ese", "ish")))
    )


def _sentence_initial(text: str, lo: int, start: int) -> bool:
    before = text[max(lo, start - 3) : start]
    return (
        start == lo
        or (not before.strip() and ("\n" in before or start - lo < 3))
        or bool(re.search(r"[.!?][\"”']?\s+$", text[max(lo, start - 4) : start]))
        or bool(re.search(r"[\"“]\s*$", before))
    )


def _entity_kind(text: str, lo: int, start: int, name: str) -> FactKind:
    words = name.split()
    last = words[-1].lower()
    if re.search(r"[A-Z]+-?\d", name):
        return "thing"
    if last in _ORG_WORDS or words[0].lower() in _ORG_WORDS or (name.isupper() and len(name) <= 6):
        return "organization"
    if last in _PLACE_WORDS:
        return "place"
    before = text[max(lo, start - 30) : start].lower().split()
    if before and before[-1] in _PERSON_TITLES:
        return "person"
    if before and before[-1] in _PLACE_CUES and len(words) <= 2:
        return "place"
    if len(words) >= 2 and all(w[:1].isupper() and w[1:].islower() for w in words):
        return "person"
    return "place" if len(words) == 1 else "organization"


def _quotes(article: Article, lo: int, hi: int) -> list[FactMention]:
    text = article.text
    out: list[FactMention] = []
    for m in _QUOTE.finditer(text, lo, hi):
        after = text[m.end() : min(hi, m.end() + 80)]
        before = text[max(lo, m.start() - 80) : m.start()]
        speaker = None
        sm = re.match(rf"\s*,?\s*(?:{_SAY})\s+((?:[A-Z][\w'’-]+\s?){{1,3}})", after) or re.match(
            rf"\s*,?\s*((?:[A-Z][\w'’-]+\s?){{1,3}}|the\s+\w+|he|she|they)\s+(?:{_SAY})", after
        )
        if sm is None:
            sm = re.search(rf"((?:[A-Z][\w'’-]+\s?){{1,3}})\s+(?:{_SAY})[^.\"“]*$", before)
        if sm:
            speaker = sm.group(1).strip()
        out.append(
            FactMention(
                article=article.id,
                kind="quote",
                key=speaker or "unattributed",
                value=m.group(1).strip(),
                text=m.group(),
                start=m.start(),
                end=m.end(),
            )
        )
    return out


def extract_facts(
    article: Article, reference: date | None = None, story_dates: Sequence[date] = ()
) -> list[FactMention]:
    """Every fact the article's body states, in text order, dates resolved.

    ``reference`` overrides the article's publication date; ``story_dates`` resolve
    relative dates when the article has no date of its own.
    """
    ref = reference or (
        article.published.date() if isinstance(article.published, datetime) else None
    )
    mentions: list[FactMention] = []
    for lo, hi in _body_ranges(article):
        taken: list[tuple[int, int]] = []
        mentions.extend(_dates(article, lo, hi, taken))
        mentions.extend(_quantities(article, lo, hi, taken))
        mentions.extend(_quotes(article, lo, hi))
        mentions.extend(
            e for e in _entities(article, lo, hi) if not any(s <= e.start < en for s, en in taken)
        )
    mentions = resolve_dates(mentions, ref, story_dates)
    return sorted(mentions, key=lambda m: (m.start, m.kind))


def _values_equal(a: FactMention, b: FactMention) -> bool:
    return a.value == b.value


def _numbers_agree(a: FactMention, b: FactMention) -> bool:
    if a.number is None or b.number is None:
        return a.value == b.value
    if a.number == b.number:
        return True
    hedged = a.hedge or b.hedge
    tolerance = 0.1 if hedged else 0.0
    return abs(a.number - b.number) <= tolerance * max(abs(a.number), abs(b.number))


def compare_facts(mentions: Iterable[FactMention]) -> list[Fact]:
    """Group mentions of the same fact across articles; conflicts first.

    Quantities match by what they count, dates by the event they date, quotes by
    speaker; names are listed once per entity (they agree by definition). Only facts that
    at least two articles state are compared.
    """
    groups: dict[tuple[str, str], list[FactMention]] = defaultdict(list)
    for m in mentions:
        if m.kind == "date" and m.key in {"event", "say", "tell", "write", "add", "report"}:
            # A date with no event, or the day someone spoke: nothing to compare it with.
            continue
        if m.kind in {"quantity", "date"} or (m.kind == "quote" and m.key != "unattributed"):
            groups[(m.kind, m.key.lower())].append(m)
    facts: list[Fact] = []
    for (kind, key), group in groups.items():
        per_article: dict[str, list[FactMention]] = defaultdict(list)
        for m in group:
            per_article[m.article].append(m)
        if len(per_article) < 2:
            continue
        values = Counter(m.value for m in group)
        if kind == "quote":
            agree = True  # the same speaker quoted differently is a rewording, not a clash
        else:
            # An article may state one key several times (two flights "left"): the fact
            # agrees when one value is stated, or matched, by every article.
            same = _numbers_agree if kind == "quantity" else _values_equal
            agree = any(
                all(any(same(m, other) for other in ms) for ms in per_article.values())
                for m in group
            )
        facts.append(
            Fact(
                fact=f"{kind}: {key}",
                kind=group[0].kind,
                value=values.most_common(1)[0][0],
                mentions=tuple(sorted(group, key=lambda m: (m.article, m.start))),
                agree=agree,
                values=tuple(v for v, _ in values.most_common()),
            )
        )
    facts.sort(key=lambda f: (f.agree, f.fact))
    return facts


def entity_names(mentions: Iterable[FactMention]) -> dict[str, list[str]]:
    """People, places, organisations and things, most mentioned first, per kind."""
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        if m.kind in {"person", "place", "organization", "thing"}:
            by_kind[m.kind][m.value] += 1
    return {k: [n for n, _ in c.most_common()] for k, c in sorted(by_kind.items())}


def _spans_text(article: Article, spans: Sequence[Span]) -> list[str]:
    return [article.text[s.start : s.end] for s in spans]
