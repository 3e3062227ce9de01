"""A story's named entities: alias forms merged, kinds taken from the reference tables.

Fact extraction (:mod:`~wiretrace.analyze.facts`) finds names and guesses their kind
from the words around them. The built-in tables know better where they speak: the
alias table's sections (countries and regions are places, organisations, people) and
the agency table (``ingest/credits``: news agencies are organisations). Names that the
alias table gives one canonical name ("U.S.", "USA", "United States") are one entity,
listed under the canonical name.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources

from wiretrace.analyze.facts import FactMention
from wiretrace.ingest.credits import fold_name, load_agencies
from wiretrace.text.aliases import AliasTable

__all__ = ["ENTITY_KINDS", "entity_kinds", "table_kinds"]

#: The kinds of entity a story lists, in this order.
ENTITY_KINDS = ("person", "place", "organization", "thing")
_SECTION_KINDS = {
    "countries": "place",
    "regions": "place",
    "organisations": "organization",
    "organizations": "organization",
    "people": "person",
}


@cache
def table_kinds() -> Mapping[str, str]:
    """Canonical name -> kind, from the sections of the built-in alias table."""
    kinds: dict[str, str] = {}
    resource = resources.files("wiretrace") / "data" / "aliases.tsv"
    if not resource.is_file():
        return kinds
    section = ""
    for raw in resource.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        kind = _SECTION_KINDS.get(section)
        if kind:
            kinds[raw.split("\t", 1)[0].strip()] = kind
    return kinds


def _canonical(aliases: AliasTable, name: str) -> str | None:
    # fact extraction drops a name's final dot ("U.S."): try it back on
    return aliases.canonical(name) or (
        aliases.canonical(name + ".") if name[-1:].isupper() else None
    )


def entity_kinds(
    mentions: Iterable[FactMention], aliases: AliasTable | None = None
) -> dict[str, list[str]]:
    """People, places, organisations and things named in ``mentions``, most mentioned
    first within each kind; alias forms merged under their canonical name, and the kind
    the tables give a name wins over the guess made from its context."""
    agencies = load_agencies()
    kinds = table_kinds()
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for m in mentions:
        if m.kind not in ENTITY_KINDS:
            continue
        name = m.value
        agency = agencies.get(fold_name(name))
        canonical = _canonical(aliases, name) if aliases is not None else None
        if agency is not None:
            name, kind = agency, "organization"
        elif canonical is not None:
            name, kind = canonical, kinds.get(canonical, m.kind)
        else:
            kind = m.kind
        votes[name][kind] += 1
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for name, counter in votes.items():
        kind, _ = counter.most_common(1)[0]
        by_kind[kind][name] = sum(counter.values())
    return {
        k: [n for n, _ in sorted(by_kind[k].items(), key=lambda kv: (-kv[1], kv[0]))]
        for k in ENTITY_KINDS
        if by_kind.get(k)
    }
