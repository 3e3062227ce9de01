"""Reuse graph (GraphML/JSON, outlet summary), the terminal pair view and the HTML report.

Pairs are built by the real provenance layer from DESIGN.md's seed passages and from
articles written here (read through the real text ingest).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from rich.console import Console

from wiretrace.analyze.graph import build_graph
from wiretrace.analyze.patchwork import patchwork
from wiretrace.analyze.provenance import attribute
from wiretrace.ingest.textfile import parse_text
from wiretrace.models import Article, Edit, Passage, ReusePair
from wiretrace.report.html import render_html_report, write_html_report
from wiretrace.report.terminal import render_pair
from wiretrace.settings import IngestSettings, Settings

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "examples" / "seeds"
A_ID = "000_a7cae44381716f60"
B_ID = "003_aa80bf1ba9256955"
GRAPHML = "{http://graphml.graphdrawing.org/xmlns}"


def load_seed(name: str) -> Article:
    path = SEEDS / f"{name}.txt"
    return parse_text(path.read_text(encoding="utf-8"), name, str(path), "text", IngestSettings())


@pytest.fixture(scope="module")
def seed_pair() -> tuple[Article, Article, ReusePair]:
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
    return a, b, attribute(b, a, [p.swapped() for p in passages], Settings())


def test_graph_json_and_outlet_summary(seed_pair: tuple[Article, Article, ReusePair]) -> None:
    a, b, pair = seed_pair
    graph = build_graph([a, b], [pair])
    data = json.loads(json.dumps(graph.to_json()))
    nodes = {n["id"]: n for n in data["nodes"]}
    assert nodes[f"article:{A_ID}"]["published"].startswith("2019-03-24T20:22")
    assert nodes[f"article:{A_ID}"]["outlet"] == "Inverse Times Open Publishing"
    assert nodes[f"article:{B_ID}"]["outlet"] == "unknown"
    reuse = [e for e in data["edges"] if e["kind"] == "reuse"]
    assert len(reuse) == 1
    assert (reuse[0]["source"], reuse[0]["target"]) == (f"article:{A_ID}", f"article:{B_ID}")
    assert reuse[0]["credit"] == "uncredited" and reuse[0]["passages"] == 3
    assert reuse[0]["target_coverage"] == pytest.approx(91 / 307, abs=1e-4)
    assert data["outlets"] == [
        {
            "source": "Inverse Times Open Publishing",
            "target": "unknown",
            "pairs": 1,
            "uncredited": 1,
            "credited_elsewhere": 0,
            "credited": 0,
        }
    ]


def test_graphml_reads_back(seed_pair: tuple[Article, Article, ReusePair], tmp_path: Path) -> None:
    a, b, pair = seed_pair
    hostile = a.with_(id='x"<&>', title="<b>bold & 'quoted'</b>")
    path = tmp_path / "reuse.graphml"
    build_graph([a, b, hostile], [pair]).to_graphml(path)
    root = lxml.etree.parse(str(path)).getroot()
    assert root.tag == f"{GRAPHML}graphml"
    keys = {k.get("id"): (k.get("for"), k.get("attr.type")) for k in root.iter(f"{GRAPHML}key")}
    assert keys["e_target_coverage"] == ("edge", "double")
    assert keys["e_credited"] == ("edge", "boolean")
    graph = root.find(f"{GRAPHML}graph")
    assert graph is not None and graph.get("edgedefault") == "directed"
    node_ids = {n.get("id") for n in graph.iter(f"{GRAPHML}node")}
    assert {f"article:{A_ID}", f"article:{B_ID}", 'article:x"<&>'} <= node_ids
    titles = [d.text for d in graph.iter(f"{GRAPHML}data") if d.get("key") == "n_title" and d.text]
    assert "<b>bold & 'quoted'</b>" in titles
    networkx = pytest.importorskip("networkx")
    g = networkx.read_graphml(path)
    assert g.is_directed()
    edge = g.edges[f"article:{A_ID}", f"article:{B_ID}"]
    assert edge["credit"] == "uncredited" and edge["credited"] is False
    assert edge["passages"] == 3


def test_terminal_view(seed_pair: tuple[Article, Article, ReusePair]) -> None:
    a, b, pair = seed_pair
    console = Console(record=True, width=160, color_system="truecolor", file=io.StringIO())
    render_pair(pair, b, a, console)  # either article order
    text = console.export_text(clear=False)
    assert f"origin {A_ID} (confidence {pair.origin_confidence:.2f})" in text
    assert 0.85 <= pair.origin_confidence <= 0.95
    assert "UNCREDITED" in text
    assert "reuses 30% of its words" in text
    assert "Reuters dateline (CARACAS)" in text
    assert '"U.S." -> "USA" (alias)' in text
    assert "3 passages" in text and "alias" in text and "synonym" in text
    html = console.export_html(inline_styles=True)
    # The alias edit is highlighted with the alias colour on the target side.
    assert re.search(r'<span style="[^"]*background-color: #00ffff[^"]*">USA</span>', html)


HOSTILE_TEXT = (
    "<script>alert('x')</script> Hostile page\n\n"
    "The mayor said the bridge <img src=x onerror=alert(1)> would reopen on Friday after "
    'repairs, <a href="javascript:alert(2)">click</a> officials confirmed on Tuesday.\n\n'
    "Engineers found no further damage to the steel frame during the final inspection "
    "of the structure, the city said in a statement.\n"
)
CLEAN_TEXT = (
    "Bridge to reopen\n\n"
    "LONDON (Reuters) - The mayor said the bridge <img src=x onerror=alert(1)> would "
    'reopen on Friday after repairs, <a href="javascript:alert(2)">click</a> officials '
    "confirmed on Tuesday.\n"
)


def test_html_report_is_self_contained_and_inert(tmp_path: Path) -> None:
    hostile = parse_text(HOSTILE_TEXT, "evil<script>", "evil", "text", IngestSettings()).with_(
        url="javascript:alert(3)", outlet="<b onmouseover=alert(4)>Evil</b>"
    )
    clean = parse_text(CLEAN_TEXT, "clean", "clean", "text", IngestSettings()).with_(
        url="https://news.example/bridge"
    )
    phrase = (
        "The mayor said the bridge <img src=x onerror=alert(1)> would reopen on Friday "
        'after repairs, <a href="javascript:alert(2)">click</a> officials confirmed on Tuesday.'
    )
    i, j = hostile.text.index(phrase), clean.text.index(phrase)
    onerror = phrase.index("onerror")
    edit = Edit(
        "replace", j + onerror, j + onerror + 7, i + onerror, i + onerror + 7,
        "onerror", "onerror", "other",
    )  # fmt: skip
    passage = Passage(j, j + len(phrase), i, i + len(phrase), phrase, phrase, 1.0, (edit,))
    pair = attribute(clean, hostile, [passage.swapped().swapped()], Settings())
    assert pair.source == "clean"
    work = patchwork(hostile, [pair])
    assert [s.novel for s in work.sentences] == [False, True]
    path = write_html_report(tmp_path / "report.html", [clean, hostile], [pair], [work])
    raw = path.read_text(encoding="utf-8")
    doc = lxml.html.fromstring(raw)
    assert doc.xpath("//script") == []  # the report has no script of its own either
    assert doc.xpath("//img | //iframe | //object | //embed") == []
    for element in doc.iter():
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (name, value)
            assert "javascript:" not in value.lower(), (name, value)
    hrefs = list(doc.xpath("//a/@href"))
    assert hrefs and all(h.startswith(("#", "https://", "http://")) for h in hrefs)
    assert "https://news.example/bridge" in hrefs
    # No external reference at view time: no src attributes, no stylesheet links.
    assert doc.xpath("//*[@src] | //link") == []
    # The hostile markup is shown as text.
    body_text = doc.text_content()
    assert "<script>alert('x')</script> Hostile page" in body_text
    assert "<img src=x onerror=alert(1)>" in body_text
    assert "evil<script>" in body_text
    assert "1 uncredited" in " ".join(body_text.split())
    # the hostile article's patchwork: its reused sentence coloured, as text
    coloured = doc.xpath("//div[@class='article-text']/span[starts-with(@class, 'src')]")
    assert [s.text_content() for s in coloured] == [phrase]
    own = doc.xpath("//details[@class='own']//li")
    assert [li.text_content().split()[0] for li in own] == ["Engineers"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in raw and "<img" not in raw


def test_html_report_lists_seed_pair(seed_pair: tuple[Article, Article, ReusePair]) -> None:
    a, b, pair = seed_pair
    raw = render_html_report([a, b], [pair])
    doc = lxml.html.fromstring(raw)
    text = " ".join(doc.text_content().split())
    assert f"{B_ID} reuses {A_ID}" in text
    assert "Russian Federation" in text
    edits = doc.xpath("//span[contains(@class, 'edit') and contains(@class, 'alias')]")
    assert {e.text for e in edits} >= {"U.S.", "USA", "Russia", "Russian Federation"}


@pytest.fixture()
def seed_store(seed_pair: tuple[Article, Article, ReusePair], tmp_path: Path) -> Path:
    """A store holding the two seeds (real ingest) and their attributed pair."""
    from wiretrace.collection import open_collection

    db = tmp_path / "w.duckdb"
    with open_collection(db) as coll:
        summary = coll.ingest([SEEDS / f"{A_ID}.txt", SEEDS / f"{B_ID}.txt"])
        assert summary.articles == 2
        coll.store.replace_pairs([seed_pair[2]])
    return db


def test_cli_show_and_export(seed_store: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wiretrace.cli import main

    runner = CliRunner()
    shown = runner.invoke(main, ["show", B_ID, A_ID, "--db", str(seed_store)])
    assert shown.exit_code == 0, shown.output
    assert "UNCREDITED" in shown.output and f"origin {A_ID}" in shown.output
    missing = runner.invoke(main, ["show", A_ID, "nope", "--db", str(seed_store)])
    assert missing.exit_code == 1
    out = tmp_path / "g.graphml"
    done = runner.invoke(
        main, ["export", "--format", "graphml", "--out", str(out), "--db", str(seed_store)]
    )
    assert done.exit_code == 0, done.output
    root = lxml.etree.parse(str(out)).getroot()
    edges = [
        (e.get("source"), e.get("target"))
        for e in root.iter(f"{GRAPHML}edge")
        if any(d.text == "reuse" for d in e)
    ]
    assert edges == [(f"article:{A_ID}", f"article:{B_ID}")]
    out_json = tmp_path / "g.json"
    done = runner.invoke(
        main, ["export", "--format", "json", "--out", str(out_json), "--db", str(seed_store)]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(out_json.read_text("utf-8"))["outlets"][0]["uncredited"] == 1
    assert "own material: 10 sentences" in " ".join(shown.output.split())
    assert "An AFP journalist" in shown.output and "Latest News" not in shown.output


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_cli_exports_the_reuse_tables(seed_store: Path, tmp_path: Path, fmt: str) -> None:
    import pyarrow.csv
    import pyarrow.parquet
    from click.testing import CliRunner

    from wiretrace.cli import main

    out = tmp_path / "tables"
    done = CliRunner().invoke(
        main, ["export", "--format", fmt, "--out", str(out), "--db", str(seed_store)]
    )
    assert done.exit_code == 0, done.output
    rows: dict[str, list[dict[str, object]]] = {}
    for name in ("pairs", "passages", "edits", "outlets"):
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            rows[name] = pyarrow.parquet.read_table(path).to_pylist()
        elif fmt == "csv":
            rows[name] = pyarrow.csv.read_csv(path).to_pylist()
        else:
            lines = path.read_text("utf-8").splitlines()
            rows[name] = [json.loads(line) for line in lines]
    [pair] = rows["pairs"]
    assert (pair["source"], pair["target"], pair["credit"]) == (A_ID, B_ID, "uncredited")
    evidence = pair["evidence"]
    if fmt == "csv":  # CSV has no lists: JSON text in the cell
        assert isinstance(evidence, str)
        evidence = json.loads(evidence)
    assert isinstance(evidence, list) and any("Reuters dateline" in e for e in evidence)
    spans = [(p["target_start"], p["target_end"]) for p in rows["passages"]]
    assert spans == [(1073, 1304), (1486, 1609), (1904, 2167)]
    assert {(e["source_text"], e["target_text"], e["kind"]) for e in rows["edits"]} == {
        ("U.S.", "USA", "alias"),
        ("Russia", "Russian Federation", "alias"),
    }
    [outlet] = rows["outlets"]
    assert outlet["source"] == "Inverse Times Open Publishing"
    assert (outlet["pairs"], outlet["uncredited"], outlet["uncredited_share"]) == (1, 1, 1.0)
    # a file where a folder is wanted: one line, exit 1
    bad = CliRunner().invoke(
        main,
        ["export", "--format", fmt, "--out", str(out / f"pairs.{fmt}"), "--db", str(seed_store)],
    )
    assert bad.exit_code == 1 and "not a folder" in bad.output


def test_cli_report_with_patchwork(seed_store: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wiretrace.cli import main

    out = tmp_path / "report.html"
    done = CliRunner().invoke(main, ["report", "--html", str(out), "--db", str(seed_store)])
    assert done.exit_code == 0, done.output
    doc = lxml.html.fromstring(out.read_text("utf-8"))
    assert doc.xpath("//script") == []
    text = " ".join(doc.text_content().split())
    assert "30% of its body words reused" in text and "novel: 10 sentences" in text
    # 003's patchwork: its three reused sentences coloured by their source, the
    # caption, related headline and "Latest News" greyed as boilerplate.
    coloured = doc.xpath("//div[@class='article-text']/span[starts-with(@class, 'src')]")
    assert [s.text.split()[0] for s in coloured] == ["That", "Maduro", "Venezuela"]
    boiler = " ".join(s.text for s in doc.xpath("//span[@class='boiler']"))
    for part in ("Activists walk past", "Russia Will Continue", "Latest News"):
        assert part in boiler
