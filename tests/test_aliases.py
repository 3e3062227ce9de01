"""The alias table: shipped data, matching rules, the user's own files."""

from __future__ import annotations

import pickle
from importlib import resources
from pathlib import Path

import pytest

from wiretrace.errors import ConfigError
from wiretrace.text.aliases import AliasTable
from wiretrace.text.tokens import tokenize


@pytest.fixture(scope="module")
def table() -> AliasTable:
    return AliasTable.load()


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("U.S.", "USA"),
        ("US", "United States of America"),
        ("U.S.A.", "America"),
        ("Russia", "Russian Federation"),
        ("UK", "Britain"),
        ("U.K.", "Great Britain"),
        ("United Kingdom", "UK"),
        ("China", "People's Republic of China"),
        ("PRC", "China"),
        ("Ivory Coast", "Côte d'Ivoire"),
        ("Cote d'Ivoire", "Ivory Coast"),
        ("Burma", "Myanmar"),
        ("Czechia", "Czech Republic"),
        ("Swaziland", "Eswatini"),
        ("DRC", "Democratic Republic of Congo"),
        ("North Korea", "DPRK"),
        ("South Korea", "Republic of Korea"),
        ("Holland", "Netherlands"),
        ("UN", "United Nations"),
        ("EU", "European Union"),
        ("Nato", "North Atlantic Treaty Organization"),
        ("WHO", "World Health Organisation"),
        ("IMF", "International Monetary Fund"),
        ("Opec", "OPEC"),
        ("AFP", "Agence France-Presse"),  # from agencies.tsv
        ("AP", "Associated Press"),
        ("Kim Jong-un", "Kim Jong Un"),
        ("Muammar Gaddafi", "Moammar Gadhafi"),
    ],
)
def test_common_forms_are_one_entity(table: AliasTable, a: str, b: str) -> None:
    assert table.same_entity(a, b)
    assert table.key(a) == table.key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Russian", "Russia"),  # adjectives are not aliases
        ("British", "UK"),
        ("America", "Latin America"),
        ("China", "Republic of China"),  # Taiwan
        ("South Korea", "North Korea"),
        ("Republic of the Congo", "Democratic Republic of the Congo"),
        ("Niger", "Nigeria"),
        ("us", "US"),  # the pronoun
        ("who", "WHO"),
        ("England", "United Kingdom"),
        ("Reuters", "AFP"),
    ],
)
def test_different_entities_stay_apart(table: AliasTable, a: str, b: str) -> None:
    assert not table.same_entity(a, b)


def test_all_un_members_have_an_entry(table: AliasTable) -> None:
    # a sample across the alphabet and continents, in their common short forms
    for name in [
        "Afghanistan",
        "Bhutan",
        "Cabo Verde",
        "Djibouti",
        "Eritrea",
        "Fiji",
        "Guyana",
        "Kiribati",
        "Lesotho",
        "Micronesia",
        "Nauru",
        "Palau",
        "Samoa",
        "Timor-Leste",
        "Tuvalu",
        "Vanuatu",
        "Zimbabwe",
        "São Tomé and Príncipe",
        "Saint Lucia",
        "Bosnia and Herzegovina",
        "Guinea-Bissau",
        "Papua New Guinea",
        "South Sudan",
    ]:
        assert table.canonical(name) is not None, name
    countries = Path(str(resources.files("wiretrace") / "data" / "aliases.tsv"))
    body = countries.read_text(encoding="utf-8").split("[countries]")[1].split("[regions]")[0]
    rows = [line for line in body.splitlines() if line and not line.startswith("#")]
    assert len(rows) >= 193


def test_canonical_and_keys(table: AliasTable) -> None:
    assert table.canonical("USA") == "United States"
    assert table.key("U.S.") == "§united_states"
    assert table.canonical("Russia's") == "Russia"
    assert table.canonical("US's") == table.canonical("U.S.’s") == "United States"
    assert table.key("U.S.’s") == "§united_states's"
    assert table.key("Russia's") == "§russia's"
    assert table.canonical("the moon") is None
    assert table.canonical("") is None
    assert table.canonical("USA and Russia") is None  # the whole phrase must be one alias


def test_case_guards(table: AliasTable) -> None:
    assert table.canonical("US") == "United States"
    assert table.canonical("us") is None
    assert table.canonical("china") is None  # porcelain
    assert table.canonical("CHINA") == "China"
    assert table.canonical("NATO") == table.canonical("Nato") == "NATO"
    assert table.canonical("united states") == "United States"  # phrases: any case
    assert table.canonical("US State Department") == "US State Department"
    assert table.canonical("us state department") is None  # "told us state department..."


def test_shipped_data_has_no_conflicting_aliases(table: AliasTable) -> None:
    owner: dict[tuple[str, ...], str] = {}
    for canonical, names in table.entities.items():
        for name in names:
            phrase = tuple(tokenize(name).norms)
            assert phrase, name
            assert owner.setdefault(phrase, canonical) == canonical, (name, canonical)


def test_user_file_extends_and_overrides(tmp_path: Path) -> None:
    user = tmp_path / "mine.tsv"
    user.write_text(
        "# my names\n[parties]\nLabour Party\tLabour\tthe Labour Party\n"
        "United States\tUncle Sam\n"
        "Georgia\tGA\n",
        encoding="utf-8",
    )
    table = AliasTable.load([user])
    assert table.same_entity("Labour", "Labour Party")
    assert table.same_entity("Uncle Sam", "USA")
    assert table.canonical("GA") == "Georgia"
    assert AliasTable.load().canonical("Uncle Sam") is None  # the built-in table is untouched
    moved = tmp_path / "moved.tsv"
    moved.write_text("Britain (island)\tGreat Britain\n", encoding="utf-8")
    table = AliasTable.load([moved])
    assert table.canonical("Great Britain") == "Britain (island)"
    assert table.canonical("Britain") == "United Kingdom"


def test_table_survives_pickling_for_worker_processes(table: AliasTable) -> None:
    table.index()
    copy = pickle.loads(pickle.dumps(table))
    assert copy.same_entity("U.S.", "USA")
    assert copy.index().phrases == table.index().phrases


def test_unreadable_user_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        AliasTable.load([tmp_path / "missing.tsv"])
    bad = tmp_path / "bad.tsv"
    bad.write_text("...\tfoo\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no words"):
        AliasTable.load([bad])
