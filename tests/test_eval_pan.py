"""`wiretrace eval pan`: the PAN measures, the PAN layout and XML, and an end-to-end run
on a PAN-layout corpus built from real BBC articles (tests/pan_corpus.py)."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from pan_corpus import BBC, BuiltCorpus, build_pan_corpus
from wiretrace.cli import main
from wiretrace.errors import IngestError
from wiretrace.evaluation.pan import (
    PanPair,
    align_pan_pair,
    read_annotations,
    read_corpus,
    read_document,
    run_pan,
    write_detections,
)
from wiretrace.evaluation.pan_metrics import (
    Annotation,
    evaluate,
    granularity,
    macro_precision,
    macro_recall,
    plagdet,
)
from wiretrace.settings import Settings

# -- the measures ------------------------------------------------------------------------


def ann(t_off: int, t_len: int, s_off: int, s_len: int, t: str = "s1", s: str = "r1") -> Annotation:
    return Annotation(f"suspicious-{t}.txt", t_off, t_len, f"source-{s}.txt", s_off, s_len)


@st.composite
def case_sets(draw: st.DrawFn) -> list[Annotation]:
    """Cases in distinct document pairs, each at least 2 characters on both sides."""
    n = draw(st.integers(1, 6))
    out = []
    for k in range(n):
        out.append(
            ann(
                draw(st.integers(0, 5000)),
                draw(st.integers(2, 3000)),
                draw(st.integers(0, 5000)),
                draw(st.integers(2, 3000)),
                t=f"s{k}",
                s=f"r{draw(st.integers(0, 3))}",
            )
        )
    return out


@given(case_sets())
@settings(max_examples=60, deadline=None)
def test_perfect_detections_score_one(cases: list[Annotation]) -> None:
    s = evaluate(cases, list(cases))
    assert (s.precision, s.recall, s.granularity, s.plagdet) == (1.0, 1.0, 1.0, 1.0)


@given(case_sets(), st.data())
@settings(max_examples=60, deadline=None)
def test_splitting_each_detection_keeps_p_r_and_doubles_granularity(
    cases: list[Annotation], data: st.DataObject
) -> None:
    halves = []
    for c in cases:
        kt = data.draw(st.integers(1, c.this_length - 1))
        ks = data.draw(st.integers(1, c.source_length - 1))
        r, src = c.this_reference, c.source_reference
        halves.append(Annotation(r, c.this_offset, kt, src, c.source_offset, ks))
        halves.append(
            Annotation(
                r,
                c.this_offset + kt,
                c.this_length - kt,
                src,
                c.source_offset + ks,
                c.source_length - ks,
            )
        )
    s = evaluate(cases, halves)
    assert s.precision == pytest.approx(1.0)
    assert s.recall == pytest.approx(1.0)
    assert s.granularity == 2.0
    assert s.plagdet == pytest.approx(1 / math.log2(3))


@given(case_sets())
@settings(max_examples=40, deadline=None)
def test_detections_on_the_wrong_source_document_are_false(cases: list[Annotation]) -> None:
    wrong = [
        Annotation(
            c.this_reference,
            c.this_offset,
            c.this_length,
            "source-elsewhere.txt",
            c.source_offset,
            c.source_length,
        )
        for c in cases
    ]
    s = evaluate(cases, wrong)
    assert (s.precision, s.recall, s.plagdet) == (0.0, 0.0, 0.0)
    assert s.granularity == 1.0


def test_partial_overlaps_by_hand() -> None:
    case = ann(0, 100, 0, 100)
    # shifted by half on both sides: 50 + 50 of the case's 200 chars, and of the detection's
    half = ann(50, 100, 50, 100)
    assert macro_recall([case], [half]) == 0.5
    assert macro_precision([case], [half]) == 0.5
    assert plagdet(0.5, 0.5, 1.0) == 0.5
    # exact on the suspicious side, half of the source side: (100 + 50) / 200 recall,
    # and every character of the detection (150) is plagiarised
    assert macro_recall([case], [ann(0, 100, 0, 50)]) == 0.75
    assert macro_precision([case], [ann(0, 100, 0, 50)]) == 1.0
    # overlapping on the suspicious side only is no detection at all (r ⊓ s = ∅)
    assert evaluate([case], [ann(0, 100, 100, 100)]).recall == 0.0
    # two detections of one case, one of another: granularity 1.5; an undetected case
    # does not count in granularity
    other, missed = ann(500, 50, 500, 50), ann(900, 50, 900, 50)
    dets = [ann(0, 50, 0, 50), ann(50, 50, 50, 50), ann(500, 50, 500, 50)]
    assert granularity([case, other, missed], dets) == 1.5
    assert macro_recall([case, other, missed], dets) == pytest.approx(2 / 3)
    # a duplicated detection counts once (the official script reads annotations into a set)
    assert evaluate([case], [case, case]).granularity == 1.0


def test_empty_conventions_follow_the_official_script() -> None:
    case = ann(0, 10, 0, 10)
    nothing = evaluate([], [])
    assert (nothing.precision, nothing.recall, nothing.granularity, nothing.plagdet) == (
        1.0,
        1.0,
        1.0,
        1.0,
    )
    missed = evaluate([case], [])
    assert (missed.precision, missed.recall, missed.plagdet) == (0.0, 0.0, 0.0)
    spurious = evaluate([], [case])
    assert (spurious.precision, spurious.recall, spurious.plagdet) == (0.0, 0.0, 0.0)
    assert plagdet(1.0, 1.0, 2.0) == pytest.approx(0.6309297535714575)
    with pytest.raises(ValueError, match=">= 0"):
        ann(-1, 10, 0, 10)


# -- the layout and the XML --------------------------------------------------------------


def test_detection_xml_round_trip(tmp_path: Path) -> None:
    pair = PanPair("suspicious-document00007.txt", "source-document00003.txt")
    dets = [
        Annotation(pair.suspicious, 120, 40, pair.source, 7, 41),
        Annotation(pair.suspicious, 5, 30, pair.source, 300, 30),
    ]
    path = write_detections(tmp_path, pair, dets)
    assert path.name == "suspicious-document00007-source-document00003.xml"
    reference, back = read_annotations(path, "detected-plagiarism")
    assert reference == pair.suspicious
    assert sorted(back) == sorted(dets)
    assert read_annotations(path, "plagiarism")[1] == []  # the truth tag is a different name


def test_bad_xml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "a.xml"
    bad.write_text("<document reference='x.txt'><feature", encoding="utf-8")
    with pytest.raises(IngestError, match="malformed XML"):
        read_annotations(bad, "plagiarism")
    bad.write_text(
        '<document reference="x.txt"><feature name="plagiarism" this_offset="-3" '
        'this_length="4" source_reference="y.txt" source_offset="0" source_length="4"/>'
        "</document>",
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match="this_offset"):
        read_annotations(bad, "plagiarism")
    bad.write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><document reference="&a;"/>',
        encoding="utf-8",
    )
    with pytest.raises(IngestError, match="refused XML"):
        read_annotations(bad, "plagiarism")


def test_corpus_layout_errors(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="not a folder"):
        read_corpus(tmp_path / "missing")
    (tmp_path / "src").mkdir()
    with pytest.raises(IngestError, match="no susp/"):
        read_corpus(tmp_path)
    (tmp_path / "susp").mkdir()
    with pytest.raises(IngestError, match="no pairs file"):
        read_corpus(tmp_path)
    (tmp_path / "pairs").write_text("a.txt b.txt\nonly-one.txt\n", encoding="utf-8")
    with pytest.raises(IngestError, match="line 2"):
        read_corpus(tmp_path)


def test_offsets_count_characters_with_crlf_and_non_ascii() -> None:
    """Offsets are code points into the file as read (CRLF kept, '£' one character)."""
    source = read_document(BBC / "business" / "001.txt")
    assert "£" in source
    paragraphs = source.split("\n\n")
    passage = paragraphs[1]  # contains "£600m"
    assert "£" in passage
    host = read_document(BBC / "sport" / "010.txt").replace("\n", "\r\n").split("\r\n\r\n")
    suspicious = "\r\n\r\n".join([*host[:2], "Café crème £5 ü. " + passage, *host[2:]])
    found = align_pan_pair(source, suspicious, "source-a.txt", "suspicious-b.txt", Settings())
    assert found
    best = max(found, key=lambda a: a.this_length)
    in_susp = suspicious[best.this_offset : best.this_offset + best.this_length]
    in_source = source[best.source_offset : best.source_offset + best.source_length]
    # both ranges start exactly at the copied paragraph and hold the same words (line
    # ends differ: CRLF on one side), so the offsets count characters, not bytes
    assert best.this_offset == suspicious.index(passage)
    assert best.source_offset == source.index(passage)
    assert in_susp.startswith(passage) and in_source.startswith(passage)
    assert in_susp.split() == in_source.split()


# -- end to end on a corpus built from real BBC articles -----------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> BuiltCorpus:
    return build_pan_corpus(tmp_path_factory.mktemp("pan") / "corpus")


def test_built_truth_points_at_the_planted_text(corpus: BuiltCorpus) -> None:
    for pair in corpus.folder_pairs("02-no-obfuscation"):
        src = read_document(corpus.root / "src" / pair.source)
        susp = read_document(corpus.root / "susp" / pair.suspicious)
        (case,) = pair.cases
        planted = susp[case.this_offset : case.this_offset + case.this_length]
        copied = src[case.source_offset : case.source_offset + case.source_length]
        assert planted.split() == copied.split()
        assert planted[0].isalnum() or planted[0] in "\"'-"


def _table(output: str) -> dict[str, dict[str, float]]:
    rows: dict[str, dict[str, float]] = {}
    names = ("precision", "recall", "granularity", "plagdet", "cases", "detections")
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 7 and re.fullmatch(r"[\d.]+", parts[1]):
            rows[parts[0]] = dict(zip(names, map(float, parts[1:]), strict=True))
    return rows


def test_cli_eval_pan_on_bbc_corpus(corpus: BuiltCorpus, tmp_path: Path) -> None:
    out = tmp_path / "det"
    result = CliRunner().invoke(main, ["eval", "pan", str(corpus.root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = _table(result.output)
    assert set(table) == {
        "01-no-plagiarism",
        "02-no-obfuscation",
        "03-random-obfuscation",
        "overall",
    }
    print(result.output)  # the figures, for the report (pytest -s)

    # one parseable detection file per pair, naming the suspicious document
    files = sorted(out.glob("*.xml"))
    assert [f.name for f in files] == sorted(
        {PanPair(p.suspicious, p.source).xml_name for p in corpus.pairs}
    )
    detections: list[Annotation] = []
    for f in files:
        reference, found = read_annotations(f, "detected-plagiarism")
        assert f.name.startswith(Path(reference).stem + "-")
        assert all(f.stem.endswith("-" + Path(d.source_reference).stem) for d in found)
        detections.extend(found)

    verbatim, spun, clean = (
        table["02-no-obfuscation"],
        table["03-random-obfuscation"],
        table["01-no-plagiarism"],
    )
    assert verbatim["cases"] == len(corpus.folder_pairs("02-no-obfuscation"))
    assert verbatim["plagdet"] >= 0.9
    assert verbatim["granularity"] == 1.0
    assert spun["recall"] >= 0.7 and spun["precision"] >= 0.9
    assert 0.5 <= spun["plagdet"] <= verbatim["plagdet"]
    assert clean["cases"] == 0 and clean["detections"] == 0  # unrelated pairs: nothing

    # the printed overall row is what the official measures give on the files written
    truth = [
        c
        for folder in ("02-no-obfuscation", "03-random-obfuscation")
        for x in sorted((corpus.root / folder).glob("*.xml"))
        for c in read_annotations(x, "plagiarism")[1]
    ]
    again = evaluate(truth, detections)
    assert table["overall"]["plagdet"] == pytest.approx(again.plagdet, abs=1e-4)
    assert table["overall"]["detections"] == again.detections


def test_process_pool_gives_the_same_detections(corpus: BuiltCorpus, tmp_path: Path) -> None:
    serial = run_pan(corpus.root, tmp_path / "serial", Settings())
    pooled_settings = Settings().with_overrides(
        {"detect.parallel_min_pairs": 1, "detect.workers": 2}
    )
    pooled = run_pan(corpus.root, tmp_path / "pooled", pooled_settings)
    assert pooled.scores == serial.scores
    for f in sorted((tmp_path / "serial").glob("*.xml")):
        assert f.read_bytes() == (tmp_path / "pooled" / f.name).read_bytes()


def test_cli_eval_pan_reports_a_bad_corpus(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["eval", "pan", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "no src/ folder" in result.output


def test_output_inside_the_corpus_and_broken_documents(corpus: BuiltCorpus, tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    shutil.copytree(corpus.root, root)
    first = run_pan(root, root / "detections", Settings())
    again = run_pan(root, root / "detections", Settings())  # its own XML is not truth
    assert again.scores == first.scores
    assert [name for name, _ in again.scores][-1] == "overall"

    victim = root / "susp" / corpus.pairs[2].suspicious
    victim.write_bytes(read_document(victim).encode("utf-16"))
    pooled = Settings().with_overrides({"detect.parallel_min_pairs": 1, "detect.workers": 2})
    for settings_ in (Settings(), pooled):  # the same clear error in-process and from a worker
        with pytest.raises(IngestError, match="not UTF-8 text") as info:
            run_pan(root, tmp_path / "out", settings_)
        assert info.value.input == str(victim)
    victim.unlink()
    with pytest.raises(IngestError, match="pair 3 of the pairs file: no such file"):
        run_pan(root, tmp_path / "out", Settings())
