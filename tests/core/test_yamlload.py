"""bot.language.yamlload: safe YAML that remembers lines and explains syntax errors in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import FileProblems, Problem
from bot.language.yamlload import LineDict, LineList, load_yaml_file, load_yaml_text


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(FileProblems) as caught:
        load_yaml_text(text, "f.yaml")
    return caught.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_mappings_and_lists_know_their_lines() -> None:
    data = load_yaml_text("id: x\nstates:\n  a:\n    options:\n      - one\n\n      - two\n", "f.yaml")
    assert isinstance(data, LineDict)
    assert data.line_of("id") == 1
    assert data.line_of("states") == 2
    assert data["states"].line_of("a") == 3
    options = data["states"]["a"]["options"]
    assert isinstance(options, LineList)
    assert [options.line_of(0), options.line_of(1)] == [5, 7]
    # a key that is absent (or an index past the end) points at the mapping or list itself
    assert data["states"]["a"].line_of("nothing") == data["states"]["a"].line == 4
    assert options.line_of(9) == options.line == 5


def test_a_duplicate_key_is_reported_on_its_second_line() -> None:
    problem = only_problem("a: 1\nb: 2\na: 3\n")
    assert problem == Problem("f.yaml", 3, "the key 'a' appears twice here; keep one")


def test_every_duplicate_key_is_reported() -> None:
    problems = problems_of("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [(p.line, p.message) for p in problems] == [
        (4, "the key 'c' appears twice here; keep one"),
        (5, "the key 'a' appears twice here; keep one"),
    ]


def test_a_tab_used_for_indenting_is_named() -> None:
    problem = only_problem("a: 1\nb:\n\tc: 2\n")
    assert problem.line == 3
    assert problem.message.startswith("YAML syntax error: a tab character is used for indenting; indent with spaces")


def test_a_colon_inside_unquoted_text_says_to_quote_it() -> None:
    problem = only_problem("options:\n  - label: Note: this is it\n    next: b\n")
    assert problem.line == 2
    assert "put the whole text in quotes" in problem.message
    assert "': '" in problem.message


def test_an_unclosed_quote_is_reported_where_it_opens_not_at_the_end_of_the_file() -> None:
    problem = only_problem('a: x\nb: "never closed\nc: 2\nd: 3\n')
    assert problem.line == 2
    assert "quoted text that starts on this line is never closed" in problem.message


@pytest.mark.parametrize(
    ("text", "line", "bracket"), [("z: 1\na: {x: 1\nb: 2\n", 2, "{"), ("a: [1, 2\nb: 2\n", 1, "[")]
)
def test_an_unclosed_bracket_is_reported_where_it_opens(text: str, line: int, bracket: str) -> None:
    problem = only_problem(text)
    assert problem.line == line
    assert f"the '{bracket}' opened on this line is not closed" in problem.message


def test_bad_indentation_points_at_the_line_out_of_step() -> None:
    problem = only_problem("a:\n  b: 1\n c: 2\n")
    assert problem.line == 3
    assert "not indented like the lines above" in problem.message


def test_a_second_document_is_explained() -> None:
    problem = only_problem("a: 1\n---\nb: 2\n")
    assert problem.line == 2
    assert "a file holds one document" in problem.message


def test_python_tags_are_refused_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    problem = only_problem(f"a: !!python/object/apply:os.system ['touch {marker}']\n")
    assert problem.line == 1
    assert "tags such as '!!python/...' are not allowed" in problem.message
    assert not marker.exists()


def test_a_value_yaml_cannot_build_is_a_problem_on_its_line_not_a_crash() -> None:
    problem = only_problem("x: 1\na: !!int abc\n")
    assert problem.line == 2
    assert problem.message.startswith("YAML syntax error: this value cannot be read")


def test_dates_stay_text_and_an_impossible_date_does_not_crash() -> None:
    # bank holidays are compared as text; YAML 1.1 would make dates of them, and 2026-13-40 raised
    # ValueError straight out of the loader
    assert load_yaml_text("a: 2026-12-25\nb: 2026-13-40\n", "f.yaml") == {"a": "2026-12-25", "b": "2026-13-40"}


def test_clock_times_stay_text_instead_of_becoming_base_60_numbers() -> None:
    data = load_yaml_text("start: 9:00\nend: 17:00\nratio: 1.5\ncount: 12\nquoted: '17:00'\n", "f.yaml")
    assert data == {"start": "9:00", "end": "17:00", "ratio": 1.5, "count": 12, "quoted": "17:00"}


def test_yes_and_no_are_still_booleans() -> None:
    # documented YAML 1.1 behaviour that the schema messages explain (see test_flow_loader)
    assert load_yaml_text("a: Yes\nb: no\nc: 'Yes'\n", "f.yaml") == {"a": True, "b": False, "c": "Yes"}


def test_anchors_and_merge_keys_work() -> None:
    data = load_yaml_text("x: &a {k: 1}\ny:\n  <<: *a\n  j: 2\n", "f.yaml")
    assert data == {"x": {"k": 1}, "y": {"k": 1, "j": 2}}


def test_an_empty_file_is_none() -> None:
    assert load_yaml_text("", "f.yaml") is None
    assert load_yaml_text("# only a comment\n", "f.yaml") is None


def test_file_problems_missing_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(FileProblems) as missing:
        load_yaml_file(tmp_path / "absent.yaml")
    assert missing.value.problems == [Problem(str(tmp_path / "absent.yaml"), 1, "file not found")]
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("a: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(FileProblems) as binary:
        load_yaml_file(latin)
    assert binary.value.problems == [Problem(str(latin), 1, "the file is not UTF-8 text; save it as UTF-8")]


def test_unicode_text_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "u.yaml"
    path.write_text("a: caf\u00e9 \u2013 \u2018quoted\u2019\n", encoding="utf-8")
    assert load_yaml_file(path) == {"a": "caf\u00e9 \u2013 \u2018quoted\u2019"}


def test_lines_are_counted_as_an_editor_counts_them_even_with_unusual_line_breaks() -> None:
    # YAML ends a line at NEL (U+0085) and U+2028; editors show them inside a line
    data = load_yaml_text('a: "x\x85y"\nb: "\u2028"\nc: 1\n', "f.yaml")
    assert [data.line_of(k) for k in ("a", "b", "c")] == [1, 2, 3]
    assert only_problem('a: "\x85"\nb: 1\nb: 2\n') == Problem("f.yaml", 3, "the key 'b' appears twice here; keep one")
    assert only_problem('a: "\x85"\nb: [1').line == 2
    assert load_yaml_text("\rid: x\nb: 1\n", "f.yaml").line_of("b") == 2  # a lone carriage return


def test_a_key_yaml_would_read_as_true_or_a_number_keeps_its_written_name() -> None:
    data = load_yaml_text("no: 1\nyes: 2\n1: 3\n17:00: 4\n", "f.yaml")
    assert list(data) == ["no", "yes", "1", "17:00"]
    assert data.line_of("yes") == 2
