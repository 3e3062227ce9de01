"""Tokens, normalisation and sentences on real text (the seeds, bbc-news) and on text in
several scripts written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wiretrace.models import Article, Span
from wiretrace.settings import Settings
from wiretrace.text.aliases import AliasTable
from wiretrace.text.normalize import normalize, normalize_number
from wiretrace.text.sentences import split_sentences
from wiretrace.text.tokens import _TOKEN, fold, is_unspaced, tokenize, word_count

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "examples" / "seeds"


def _seed(name: str) -> str:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def aliases() -> AliasTable:
    return AliasTable.load()


def _surfaces(text: str, excluded: tuple[Span, ...] = ()) -> list[str]:
    seq = tokenize(text, excluded)
    return [text[s:e] for s, e in zip(seq.starts, seq.ends, strict=True)]


# --- tokens in many scripts ---------------------------------------------------------


def test_latin_with_diacritics_folds_accents_and_case() -> None:
    text = "Le président Guaidó a déclaré à l'AFP qu'il était prêt."
    seq = tokenize(text)
    assert _surfaces(text) == [
        "Le",
        "président",
        "Guaidó",
        "a",
        "déclaré",
        "à",
        "l'AFP",
        "qu'il",
        "était",
        "prêt",
    ]
    assert seq.norms[2] == "guaido" == tokenize("GUAIDÓ").norms[0]
    assert tokenize("Guaidó", accents=False).norms == ["guaidó"]
    # precomposed and decomposed accents are one word
    assert tokenize("Guaido\u0301").norms == tokenize("Guaidó").norms


def test_cyrillic_greek_arabic_hebrew() -> None:
    ru = "Президент России Владимир Путин заявил, что ёлка — это «традиция»."
    assert _surfaces(ru)[:4] == ["Президент", "России", "Владимир", "Путин"]
    assert tokenize(ru).norms[6] == "елка"  # ё folds to е
    assert fold("Русский") == "русский" != fold("Русскии")  # й is a letter of its own
    assert fold("Київ") == "київ"
    el = "Ο πρωθυπουργός της Ελλάδας δήλωσε ότι η οικονομία ανακάμπτει."
    assert tokenize(el).norms[1] == "πρωθυπουργοσ"
    assert len(tokenize(el)) == 9
    ar = "قال الرئيسُ الفنزويليُّ نيكولاس مادورو إنَّ العقوباتِ غيرُ قانونية."
    vocalised, plain = tokenize(ar).norms, tokenize("قال الرئيس الفنزويلي").norms
    assert vocalised[:3] == plain  # harakat are accents
    he = "ראש הממשלה אמר כי הכלכלה מתאוששת בשנת 2019."
    assert _surfaces(he) == ["ראש", "הממשלה", "אמר", "כי", "הכלכלה", "מתאוששת", "בשנת", "2019"]


def test_devanagari_keeps_vowel_signs_and_virama() -> None:
    hi = "प्रधानमंत्री नरेंद्र मोदी ने कहा कि अर्थव्यवस्था मज़बूत है।"
    surfaces = _surfaces(hi)
    assert surfaces == ["प्रधानमंत्री", "नरेंद्र", "मोदी", "ने", "कहा", "कि", "अर्थव्यवस्था", "मज़बूत", "है"]
    # folding must not merge different words by dropping the virama or vowel signs
    assert fold("कि") != fold("क")
    assert fold("प्र") != fold("पर")


def test_unspaced_scripts_give_one_token_per_character() -> None:
    zh = "俄罗斯空军飞机周六抵达加拉加斯。"
    assert _surfaces(zh) == list("俄罗斯空军飞机周六抵达加拉加斯")
    ja = "ロシア空軍の飛行機がカラカスに到着した。コーヒー"
    assert _surfaces(ja) == list("ロシア空軍の飛行機がカラカスに到着したコーヒー")
    assert fold("が") != fold("か")  # the voicing mark changes the kana
    th = "เครื่องบินรัสเซีย"
    surfaces = _surfaces(th)
    assert "".join(surfaces) == th
    assert "รื่" in surfaces  # a consonant keeps its vowel and tone marks
    assert all(is_unspaced(s) for s in surfaces)
    mixed = "2019年3月, IBM said"
    assert _surfaces(mixed) == ["2019", "年", "3", "月", "IBM", "said"]
    assert not is_unspaced("IBM")


def test_korean_and_vietnamese() -> None:
    # Hangul is written with spaces: whole words, recomposed after folding
    assert tokenize("대한민국 정부는 발표했다.").norms == ["대한민국", "정부는", "발표했다"]
    assert tokenize("Việt Nam").norms == ["viet", "nam"]


def test_compatibility_forms_fold() -> None:
    assert tokenize("ＩＢＭ ﬁnal").norms == ["ibm", "final"]
    assert tokenize("İstanbul'da").norms == ["istanbul'da"]


def test_excluded_spans_are_skipped() -> None:
    text = _seed("003")
    title_end = text.index("\n")
    excluded = (Span(0, title_end, "title"),)
    seq = tokenize(text, excluded)
    assert seq.starts[0] > title_end
    assert all(s >= title_end or e <= 0 for s, e in zip(seq.starts, seq.ends, strict=True))


_LATINISH = st.lists(
    st.sampled_from([*"aZé ,.'’-:1!\nÀßñ0Ü\"²", "U.S. ", "1,000 ", "e.g. ", "U.S.'s "]),
    max_size=60,
)
_ANY_SCRIPT = st.lists(
    st.sampled_from(
        [
            *"aé ,.'’-:1!\nд Ё Ωά ب ٣ א 한",
            *("\u0301", "\u064e", "\u200c", "中", "の", "ก\u0e34"),
            *("𝐀", "😀", "U.S. ", "Ф.И. ", "ि", "क"),
        ]
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_LATINISH.map("".join), _ANY_SCRIPT.map("".join), st.text(max_size=30)))
def test_fast_paths_equal_full_unicode_pattern(text: str) -> None:
    # Latin text, and text in spaced scripts without marks, take the standard library's
    # faster engine; it must give the same tokens as the full Unicode pattern
    seq = tokenize(text)
    full = [m.span() for m in _TOKEN.finditer(text)]
    assert list(zip(seq.starts, seq.ends, strict=True)) == full
    assert seq.norms == [fold(text[s:e]) for s, e in full]


def test_fast_path_matches_full_pattern_on_bbc_news() -> None:
    # a real corpus: typographic quotes, pound signs, accented names
    files = sorted((SHARED / "data" / "bbc-news" / "business").glob("*.txt"))[:60]
    assert files
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        seq = tokenize(text)
        assert list(zip(seq.starts, seq.ends, strict=True)) == [
            m.span() for m in _TOKEN.finditer(text)
        ]


# --- normalisation ------------------------------------------------------------------


def test_seed_p2_sentences_normalise_equal(aliases: AliasTable) -> None:
    a = _seed("000")[2223:2335]
    b = _seed("003")[1486:1609]
    sa, sb = normalize(a, aliases), normalize(b, aliases)
    assert sa.norms == sb.norms
    assert "§united_states" in sa.norms and "§russia" in sa.norms
    assert sa.word_total == 17 and sb.word_total == 18
    k = sb.norms.index("§russia")
    assert b[sb.starts[k] : sb.ends[k]] == "Russian Federation"
    assert sb.words[k] == 2
    k = sa.norms.index("§united_states")
    assert a[sa.starts[k] : sa.ends[k]] == "U.S."


def test_normalize_article_skips_excluded_and_keeps_word_count(aliases: AliasTable) -> None:
    text = _seed("003")
    title_end = text.index("\n")
    latest = text.rindex("Latest News")
    excluded = (Span(0, title_end, "title"), Span(latest, len(text), "navigation"))
    article = Article(id="003", text=text, excluded=excluded)
    seq = normalize(article, aliases, Settings())
    plain = tokenize(text, excluded)
    assert seq.word_total == len(plain)
    assert seq.starts[0] > title_end and seq.ends[-1] <= latest
    # merged tokens cover exactly their words
    assert len(seq) < len(plain)
    assert seq.starts == sorted(seq.starts)


def test_numbers_are_unified(aliases: AliasTable) -> None:
    assert normalize("It cost 1,000,000 dollars", aliases).norms[2] == "1000000"
    assert normalize("about 1,000 troops", None).norms == normalize("about 1000 troops", None).norms
    assert normalize_number("3,5") == "3,5"
    assert normalize_number("12,34") == "12,34"
    assert normalize_number("2,500.75") == "2500.75"


def test_alias_case_guards_and_possessives(aliases: AliasTable) -> None:
    seq = normalize("Let us meet the US envoy and the WHO chief, who spoke.", aliases)
    assert "us" in seq.norms and "§united_states" in seq.norms
    assert "who" in seq.norms and "§who" in seq.norms
    a = normalize("Russia's envoy", aliases).norms
    b = normalize("Russian Federation's envoy", aliases).norms
    assert a == b == ["§russia's", "envoy"]
    assert normalize("the Russian envoy", aliases).norms == ["the", "russian", "envoy"]


def test_alias_never_spans_a_sentence_end_or_excluded_span(aliases: AliasTable) -> None:
    assert normalize("He was united. States differ.", aliases).norms[2:4] == ["united", "states"]
    text = "They flew to the United\nCAPTION\nStates"
    cap = text.index("CAPTION")
    seq = normalize(text, aliases, excluded=(Span(cap, cap + 7, "caption"),))
    assert "§united_states" not in seq.norms
    assert normalize("the United States", aliases).norms == ["the", "§united_states"]
    assert normalize("St. Lucia and St Lucia", aliases).norms == [
        "§saint_lucia",
        "and",
        "§saint_lucia",
    ]


def test_fold_accents_setting(aliases: AliasTable) -> None:
    plain = Settings().with_overrides({"text.fold_accents": False})
    seq = normalize("Guaidó met the Côte d'Ivoire envoy in Ivory Coast", aliases, plain)
    assert seq.norms[0] == "guaidó"
    # keys are the same in both modes, so a table's keys never depend on the setting
    assert seq.norms.count("§cote_d'ivoire") == 2


# --- sentences ----------------------------------------------------------------------


def test_seed_sentences_exact_offsets() -> None:
    t3, t0 = _seed("003"), _seed("000")
    s3 = [(s.start, s.end) for s in split_sentences(t3)]
    s0 = [(s.start, s.end) for s in split_sentences(t0)]
    assert (1486, 1609) in s3
    assert (2223, 2335) in s0
    assert (1073, 1304) in s3 and (577, 808) in s0  # P1
    assert (1904, 2167) in s3 and (2724, 2987) in s0  # P3
    assert all(s.kind == "sentence" for s in split_sentences(t3))
    # "The U.S. says ... on the table"." ends with its closing quote
    quoted = next(s for s in split_sentences(t3) if t3[s.start :].startswith("The U.S. says"))
    assert t3[quoted.end - 2 : quoted.end] == '".'


def test_abbreviations_initials_and_dates() -> None:
    text = (
        "Mr. Smith met Gen. Padrino on Feb. 3 in Caracas. John F. Kennedy was not there. "
        "The talks ended in the U.S. The next round is in Jan. Officials said so! "
        "'Why?' he asked. Prices rose 3.5% at 9 a.m. on Monday."
    )
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        "Mr. Smith met Gen. Padrino on Feb. 3 in Caracas.",
        "John F. Kennedy was not there.",
        "The talks ended in the U.S.",
        "The next round is in Jan.",
        "Officials said so!",
        "'Why?' he asked.",
        "Prices rose 3.5% at 9 a.m. on Monday.",
    ]


def test_paragraphs_headings_cjk_and_excluded() -> None:
    # one paragraph per line (extracted web text): every line break ends a sentence
    text = "Sanctions\nMaduro spoke to the crowd\n\nHe left. 俄罗斯飞机抵达。官员说！好"
    got = [text[s.start : s.end] for s in split_sentences(text)]
    assert got == [
        "Sanctions",
        "Maduro spoke to the crowd",
        "He left.",
        "俄罗斯飞机抵达。",
        "官员说！",
        "好",
    ]
    # hard-wrapped prose: a line break is a space, except after a short heading line
    wrapped = (
        "Russian planes\n"
        "Two Russian air force planes landed at Caracas airport on\n"
        "Saturday, carrying a defence official and nearly 100 troops,\n"
        "according to a flight tracking website and a Reuters witness\n"
        "on the ground. The cargo plane left Caracas on Sunday afternoon."
    )
    got = [wrapped[s.start : s.end] for s in split_sentences(wrapped)]
    assert [g.split()[0] for g in got] == ["Russian", "Two", "The"]
    assert got[1].endswith("on the ground.") and "\nSaturday" in got[1]
    text = "The plane landed. It carried CAPTION LINE troops to the base."
    cap = text.index("CAPTION LINE")
    got = [
        text[s.start : s.end]
        for s in split_sentences(text, (Span(cap, cap + len("CAPTION LINE"), "caption"),))
    ]
    assert got == ["The plane landed.", "It carried", "troops to the base."]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([*"ab A.!?\n\"'”。 ", "Mr. ", "U.S. "]), max_size=40).map("".join),
    st.integers(0, 60),
    st.integers(0, 10),
)
def test_sentence_spans_are_trimmed_ordered_and_avoid_excluded(text: str, lo: int, n: int) -> None:
    lo = min(lo, len(text))
    excluded = (Span(lo, min(len(text), lo + n), "boilerplate"),)
    spans = split_sentences(text, excluded)
    prev = 0
    for s in spans:
        assert prev <= s.start < s.end
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        assert s.end <= excluded[0].start or s.start >= excluded[0].end or n == 0
        prev = s.end


def test_word_count_equals_token_count() -> None:
    for text in [_seed("000"), _seed("003"), "Le président Guaidó", "俄罗斯飞机 arrived", ""]:
        assert word_count(text) == len(tokenize(text))
        excluded = (Span(5, min(len(text), 40), "caption"),) if len(text) > 5 else ()
        assert word_count(text, excluded) == len(tokenize(text, excluded))
