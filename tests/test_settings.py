"""Settings: precedence (defaults < wiretrace.toml < WIRETRACE_* < --set), clear errors
for bad values, and every setting documented in the README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from wiretrace.cli import main
from wiretrace.errors import ConfigError
from wiretrace.settings import Settings, describe, load_settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _values(args: list[str], env: dict[str, str] | None = None) -> dict[str, object]:
    result = CliRunner().invoke(
        main, ["settings", "--json", *args], env=env, catch_exceptions=False
    )
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    return {r["name"]: r["value"] for r in rows}


def test_precedence_in_the_library(tmp_path: Path) -> None:
    toml = tmp_path / "wiretrace.toml"
    toml.write_text(
        "[detect]\nmin_passage_words = 12\nmin_similarity = 0.65\n[ingest]\nworkers = 3\n"
    )
    env = {"WIRETRACE_DETECT_MIN_SIMILARITY": "0.7", "WIRETRACE_INGEST_WORKERS": "1"}
    s = load_settings({"ingest.workers": "2"}, config_file=toml, environ=env)
    assert s.detect.min_passage_words == 12  # file over default
    assert s.detect.min_similarity == 0.7  # environment over file
    assert s.ingest.workers == 2  # override over environment
    assert s.detect.max_df == Settings().detect.max_df  # default untouched


def test_precedence_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("wiretrace.toml").write_text("[detect]\nmin_passage_words = 12\nmax_df = 50\n")
    values = _values([], env={"WIRETRACE_DETECT_MAX_DF": "70"})
    assert values["detect.min_passage_words"] == 12
    assert values["detect.max_df"] == 70
    values = _values(["--set", "detect.max_df=90"], env={"WIRETRACE_DETECT_MAX_DF": "70"})
    assert values["detect.max_df"] == 90


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"detect.min_similarity": "high"}, "detect.min_similarity (override) must be a float"),
        ({"detect.max_df": "-3"}, "detect.max_df (override) must be >= 0"),
        ({"detect.bogus": "1"}, "unknown setting 'detect.bogus'"),
        ({"nosection": "1"}, "unknown setting 'nosection'"),
        ({"ingest.respect_robots": "perhaps"}, "ingest.respect_robots (override) must be a bool"),
    ],
)
def test_bad_values_are_clear_errors(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(overrides, environ={})
    assert message in str(info.value)


def test_bad_file_and_environment(tmp_path: Path) -> None:
    toml = tmp_path / "wiretrace.toml"
    toml.write_text("[detect\nmin_passage_words = 12\n")
    with pytest.raises(ConfigError, match="cannot read settings"):
        load_settings(config_file=toml, environ={})
    with pytest.raises(ConfigError, match="WIRETRACE_DETECT_MAX_DF"):
        load_settings(environ={"WIRETRACE_DETECT_MAX_DF": "many"})


def test_cli_reports_bad_settings_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["settings", "--set", "detect.max_df"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: --set 'detect.max_df': expected SECTION.NAME=VALUE"


def test_settings_command_lists_every_setting_with_help() -> None:
    result = CliRunner().invoke(main, ["settings"], catch_exceptions=False)
    for name, default, help_text in describe():
        assert f"{name} = {json.dumps(default)}" in result.stdout
        assert help_text in result.stdout
    markdown = CliRunner().invoke(main, ["settings", "--markdown"]).stdout
    assert markdown.count("\n| `") == len(describe())


def test_every_setting_is_in_the_readme() -> None:
    """The README's settings table is `wiretrace settings --markdown`, between the
    ``<!-- settings:start -->`` and ``<!-- settings:end -->`` markers."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:start -->\n(.*?)<!-- settings:end -->", text, re.S)
    assert match, "README lacks the settings markers"
    table = match.group(1)
    missing = [name for name, _, _ in describe() if f"`{name}`" not in table]
    assert not missing, (
        f"settings missing from README.md: {missing}; paste `wiretrace settings --markdown` "
        "between the settings markers"
    )
