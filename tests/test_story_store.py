"""Stories through the store and the CLI: the seeds (DESIGN.md section 1), incremental
updates with stable ids, `wiretrace stories --json` and `wiretrace story ID`."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from wiretrace.cli import main
from wiretrace.collection import open_collection
from wiretrace.settings import load_settings

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"
WIKIREF = SHARED / "data" / "wikiref" / "WikiRef220"
A = "000_a7cae44381716f60"
B = "003_aa80bf1ba9256955"


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def fold(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("seeds")
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", folder / f"{name}.txt")
    db = folder / "w.duckdb"
    result = cli("run", str(folder), "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "1 story" in result.output
    return db


@pytest.fixture(scope="module")
def seed_story(seed_db: Path) -> dict[str, object]:
    result = cli("stories", "--db", str(seed_db), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert len(lines) == 1, "both seeds belong to one story"
    story: dict[str, object] = lines[0]
    return story


def test_seed_story_holds_both_articles_and_its_span(seed_story: dict[str, object]) -> None:
    assert seed_story["articles"] == [A, B]
    assert str(seed_story["start"]).startswith("2019-03-24")
    assert str(seed_story["end"]).startswith("2019-03-24")
    assert seed_story["title"]


def test_seed_story_entities(seed_story: dict[str, object]) -> None:
    entities = seed_story["entities"]
    assert isinstance(entities, dict)
    people = {fold(n) for n in entities["person"]}
    assert {"Nicolas Maduro", "Vasily Tonkoshkurov", "Juan Guaido"} <= people
    assert {"Caracas", "Maiquetia"} <= set(entities["place"])
    assert {"Ilyushin IL-62", "Antonov AN-124"} <= set(entities["thing"])
    # the alias table merges "U.S." and "USA" and knows it is a place;
    # the agency table knows Reuters is an organisation
    assert "United States" in entities["place"]
    assert "Reuters" in entities["organization"]
    assert not any(n in ("U.S", "U.S.", "USA") for names in entities.values() for n in names)


def _fact(story: dict[str, object], name: str) -> dict[str, object]:
    facts = story["facts"]
    assert isinstance(facts, list)
    found = [f for f in facts if f["fact"] == name]
    assert found, f"no fact {name!r} in {[f['fact'] for f in facts]}"
    fact: dict[str, object] = found[0]
    return fact


def test_seed_troop_count_and_landing_day_agree(seed_story: dict[str, object]) -> None:
    troops = _fact(seed_story, "quantity: troop")
    assert troops["agree"] and troops["value"] == "100"
    texts = {(m["article"], m["text"]) for m in troops["mentions"]}  # type: ignore[attr-defined]
    assert texts == {(A, "nearly 100 troops"), (B, "almost 100 troops")}
    landing = _fact(seed_story, "date: land")
    assert landing["agree"] and landing["value"] == "2019-03-23"
    assert {m["article"] for m in landing["mentions"]} == {A, B}  # type: ignore[attr-defined]


def test_seed_pair_inside_the_story_is_reuse(seed_story: dict[str, object]) -> None:
    assert seed_story["links"] == [[A, B, "reuse"]]
    reuse = seed_story["reuse"]
    assert isinstance(reuse, list)
    assert [(p["source"], p["target"]) for p in reuse] == [(A, B)]


def test_story_command_shows_timeline_reuse_and_facts(
    seed_db: Path, seed_story: dict[str, object]
) -> None:
    result = cli("story", str(seed_story["story"]), "--db", str(seed_db))
    assert result.exit_code == 0, result.output
    out = result.output
    for heading in ("timeline", "reuse inside the story", "facts (conflicts first)"):
        assert heading in out
    assert "quantity: troop" in out and "2019-03-23" in out
    listing = cli("stories", "--db", str(seed_db))
    assert listing.output.startswith(f"{seed_story['story']}\t2019-03-24\t2 articles\t")


def test_unknown_story_is_one_line_error(seed_db: Path) -> None:
    result = CliRunner().invoke(main, ["story", "nope", "--db", str(seed_db)])
    assert result.exit_code == 1
    assert result.output.strip() == "error: nope: no such story (see `wiretrace stories`)"


def _wikiref(topic: str, n: int) -> list[Path]:
    return sorted(WIKIREF.glob(f"{topic}*.txt"))[:n]


def test_incremental_update_keeps_ids_and_extends_stories(tmp_path: Path) -> None:
    files = _wikiref("ParisAttacks", 12) + _wikiref("malaysia.airlines.flight", 12)
    first, later = files[::2], files[1::2]
    db = tmp_path / "w.duckdb"
    with open_collection(db, load_settings(environ={})) as coll:
        coll.ingest(first)
        done = coll.update_stories()
        assert done.rebuilt and done.assigned == len(first)
        before = {a: s.id for s in coll.stories() for a in s.articles}
        again = coll.update_stories()
        assert (again.assigned, again.changed, again.rebuilt) == (0, 0, False)
        coll.ingest(later)
        step = coll.update_stories()
        assert step.assigned == len(later) and not step.rebuilt
        after = {a: s.id for s in coll.stories() for a in s.articles}
    assert {a: after[a] for a in before} == before, "stored stories keep their ids"
    joined = [a for a in after if a not in before and after[a] in set(before.values())]
    assert len(joined) >= len(later) // 2, "most new articles join existing stories"


def test_changed_settings_rebuild_and_bad_settings_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    paths = [str(p) for p in _wikiref("ParisAttacks", 4)]
    assert cli("ingest", *paths, "--db", str(db)).exit_code == 0
    with open_collection(db, load_settings(environ={})) as coll:
        assert coll.update_stories().rebuilt
    settings = load_settings({"stories.threshold": "0.3"}, environ={})
    with open_collection(db, settings) as coll:
        assert coll.update_stories().rebuilt
    bad = CliRunner().invoke(main, ["run", *paths, "--db", str(db),
                                    "--set", "stories.threshold=1.5"])  # fmt: skip
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines()[-1] == (
        "error: stories.threshold must be in (0, 1), not 1.5 (stories settings)"
    )


def test_remove_takes_the_article_out_of_its_story(tmp_path: Path) -> None:
    """`wiretrace remove` deletes what derives from an article, its story membership
    too: the seeds' story keeps the other seed, then goes with the last member."""
    for name in (A, B):
        shutil.copyfile(SEEDS / f"{name}.txt", tmp_path / f"{name}.txt")
    db = str(tmp_path / "w.duckdb")
    assert cli("run", str(tmp_path), "--db", db).exit_code == 0

    def stories() -> list[dict[str, object]]:
        out = cli("stories", "--db", db, "--json").output
        return [json.loads(line) for line in out.splitlines()]

    def stored() -> tuple[list[str], int]:
        with open_collection(db, read_only=True) as col:
            con = col.store.connection
            members = [r[0] for r in con.execute("SELECT article FROM story_articles").fetchall()]
            return sorted(members), con.execute("SELECT count(*) FROM stories").fetchall()[0][0]

    assert [s["articles"] for s in stories()] == [[A, B]]
    assert cli("remove", A, "--db", db).exit_code == 0
    assert stored() == ([B], 1)  # nothing of A left in the stored stories
    assert [s["articles"] for s in stories()] == [[B]]
    assert cli("remove", B, "--db", db).exit_code == 0
    assert stored() == ([], 0)
    assert stories() == []
