"""Reading policies into clauses: the four sample policies, each format, and every unusable file."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from bot.errors import PolicybotError
from bot.language.citations import Registry, default_registry_path, load_registry
from bot.language.policy_docs.model import BULLET, HEADING, PARAGRAPH
from bot.language.policy_docs.readers import read_document
from bot.language.policy_docs.structure import parse_text
from tests.policy.documents import write_docx, write_pdf
from tests.shared_inputs import policy_texts


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(default_registry_path())


# -- the four sample policies -------------------------------------------------------------------------


def test_every_quote_of_the_sample_policies_falls_in_a_clause(registry: Registry) -> None:
    folder = policy_texts()
    for key, policy in registry.policies.items():
        document = read_document(folder / policy.file)
        labels = [c.label for c in document.clauses]
        assert len(labels) == len(set(labels)), f"{key}: labels repeat"
        for citation in (c for c in registry.citations.values() if c.policy.key == key):
            assert document.locate(citation.quote), f"{citation.id}: quote not in any clause of {policy.file}"


def test_the_sample_policies_clauses_are_found_the_way_each_one_numbers_them(registry: Registry) -> None:
    folder = policy_texts()
    notts = read_document(folder / registry.policies["notts"].file)
    numbered = [c.label for c in notts.clauses if c.label.startswith("paragraph ") and "," not in c.label]
    assert numbered == [f"paragraph {n}" for n in range(1, 75)]
    assert [c.label for c in notts.locate(registry.get("notts-27").quote)] == ["paragraph 27"]
    assert notts.clause("paragraph 9, bullet 7") is not None  # the seventh risk

    dcc = read_document(folder / registry.policies["dcc"].file)
    assert [c.label for c in dcc.clauses if c.label.startswith("section") and c.kind == HEADING] == [
        "section 1", "section 2", "section 2.1", "section 2.2",
    ]  # fmt: skip
    assert [c.label for c in dcc.locate(registry.get("dcc-1-disclaimer").quote)] == ["section 1, bullet 5"]
    assert [c.label for c in dcc.locate(registry.get("dcc-1-not-isolated").quote)] == ["section 1, paragraph 2"]

    appb = read_document(folder / registry.policies["appb"].file)
    wiki = appb.locate(registry.get("appb-wiki-ip-address").quote)
    assert [c.label for c in wiki] == ["heading 'Open Access Editable “Wiki” Sites Such As Wikipedia', paragraph 1"]

    denb = read_document(folder / registry.policies["denb"].file)
    kinds = Counter(c.kind for c in denb.clauses)
    assert kinds[HEADING] and kinds[PARAGRAPH] and kinds[BULLET]
    # the PDF-extracted text's wrapped line "...and abide by" / "it." is one paragraph again
    managers = denb.clause("heading 'MANAGERS', paragraph 1")
    assert managers is not None and managers.text.endswith("understand this policy and abide by it.")


# -- the rules, one at a time ---------------------------------------------------------------------------

WRAPPED = """\
1. Introduction
This policy sets out what the council expects of every employee who uses social media, at work
or at home, and how the council will deal with a breach of it by anyone working for us.
Employees must take the following into consideration:



Keep your account private
Never share passwords

2. Getting help
Ask your line manager first, and if they are not available ask the communications team, who
will decide whether the matter needs to go to the
legal team.
# Frequently asked questions
Can I post about my job?
Yes, but say the views are your own.
- a bullet
* another bullet
"""


def test_wrapped_lines_lost_bullets_sections_and_headings() -> None:
    document = parse_text(WRAPPED)
    assert [(c.label, c.kind) for c in document.clauses] == [
        ("section 1", HEADING),
        ("section 1, paragraph 1", PARAGRAPH),
        ("section 1, paragraph 2", PARAGRAPH),
        ("section 1, bullet 1", BULLET),
        ("section 1, bullet 2", BULLET),
        ("section 2", HEADING),
        ("section 2, paragraph 1", PARAGRAPH),
        ("heading 'Frequently asked questions'", HEADING),
        ("heading 'Can I post about my job?'", HEADING),
        ("heading 'Can I post about my job?', paragraph 1", PARAGRAPH),
        ("heading 'Can I post about my job?', bullet 1", BULLET),
        ("heading 'Can I post about my job?', bullet 2", BULLET),
    ]
    assert document.clauses[1].text.endswith("by anyone working for us.")
    assert document.clauses[6].text.endswith("go to the legal team.")
    assert document.contains("who will decide whether the matter needs to go to the legal team")
    assert not document.contains("who will decide whether the matter goes to the legal team")


def test_numbered_paragraphs_bullets_under_them_and_a_repeated_heading() -> None:
    text = "Context\n1. First rule, a long sentence of its own.\n - its bullet\nContext\n2. Second rule:\n- one\n"
    labels = [c.label for c in parse_text(text).clauses]
    assert labels == [
        "heading 'Context'", "paragraph 1", "paragraph 1, bullet 1", "heading 'Context' (2)", "paragraph 2",
        "paragraph 2, bullet 1",
    ]  # fmt: skip


def test_a_page_break_in_the_middle_of_a_sentence_is_joined() -> None:
    first = "12. Employees who are contacted about their work by the press should always tell their manager about any"
    document = parse_text(f"{first}\n\n3\n\nrequest from a journalist.\n")  # "3": the page number
    assert [(c.label, c.text) for c in document.clauses] == [
        ("paragraph 12", first.removeprefix("12. ") + " request from a journalist.")
    ]


# -- each format ----------------------------------------------------------------------------------------

POLICY_LINES = [
    "# Social media policy",
    "1. Staff must not post anything about a client without their written consent.",
    "2. If you are threatened with legal action, remove the post and tell your manager at once.",
    "Personal accounts",
    "When you post from your own account you must:",
    "- say the views are your own",
    "- keep council logos off it",
]


def test_word_and_pdf_versions_of_one_policy_give_the_same_clauses(tmp_path: Path) -> None:
    text = tmp_path / "policy.md"
    text.write_text("\n".join(POLICY_LINES) + "\n", encoding="utf-8")
    from_text = read_document(text)
    from_word = read_document(write_docx(tmp_path / "policy.docx", POLICY_LINES))
    from_pdf = read_document(write_pdf(tmp_path / "policy.pdf", POLICY_LINES))
    assert [c.label for c in from_text.clauses] == [
        "heading 'Social media policy'", "paragraph 1", "paragraph 2", "heading 'Personal accounts'",
        "heading 'Personal accounts', paragraph 1", "heading 'Personal accounts', bullet 1",
        "heading 'Personal accounts', bullet 2",
    ]  # fmt: skip
    assert from_word.to_json() == from_text.to_json()
    assert from_pdf.to_json() == from_text.to_json()
    assert from_word.digest == from_pdf.digest == from_text.digest


def test_a_word_table_and_typography_are_read(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Who to tell", level=2)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "A journalist calls you."
    table.rows[0].cells[1].text = "Tell the press office – don’t comment."
    document.save(str(tmp_path / "tell.docx"))
    read = read_document(tmp_path / "tell.docx")
    assert [c.text for c in read.clauses] == [
        "Who to tell",
        "A journalist calls you.",
        "Tell the press office – don’t comment.",
    ]
    assert read.contains("Tell the press office - don't comment.")  # straight quote and hyphen match too


def test_the_notts_policy_as_word_and_as_pdf_is_the_same_version_as_its_text(
    registry: Registry, tmp_path: Path
) -> None:
    source = policy_texts() / registry.policies["notts"].file
    lines = source.read_text(encoding="utf-8").splitlines()
    original = read_document(source)
    assert read_document(write_pdf(tmp_path / "notts.pdf", lines)).digest == original.digest
    assert read_document(write_docx(tmp_path / "notts.docx", lines)).digest == original.digest


# -- unusable files: one plain sentence each ------------------------------------------------------------


def _zip_that_is_not_word(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    return path


BAD_FILES = {
    "wrong extension": ("policy.rtf", lambda p: p.write_text("{\\rtf1 policy}"), "not a format policybot reads"),
    "old Word": ("policy.doc", lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0junk"), "save it as .docx"),
    "corrupt docx": ("policy.docx", lambda p: p.write_bytes(b"PK\x03\x04 broken"), "not a Word document"),
    "zip, not Word": ("policy.docx", _zip_that_is_not_word, "not a Word document"),
    "scanned pdf": ("scan.pdf", lambda p: write_pdf(p, ["x"] * 3, with_text=False), "only images"),
    "corrupt pdf": ("policy.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n garbage without objects"), "not a PDF"),
    "empty txt": ("policy.txt", lambda p: p.write_bytes(b""), "is empty"),
    "empty docx": ("policy.docx", lambda p: p.write_bytes(b""), "is empty"),
    "blank text": ("policy.md", lambda p: p.write_text("\n   \n\n"), "has no text"),
    "binary junk": ("policy.txt", lambda p: p.write_bytes(bytes(range(256)) * 8), "not plain text"),
    "missing": ("absent.txt", lambda p: None, "cannot be opened"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_an_unusable_file_is_one_plain_sentence(tmp_path: Path, case: str) -> None:
    name, make, words = BAD_FILES[case]
    path = tmp_path / name
    make(path)
    with pytest.raises(PolicybotError) as caught:
        read_document(path)
    message = str(caught.value)
    assert words in message
    assert path.name in message and "\n" not in message and message.endswith(".")
    assert "Traceback" not in message and "Error" not in message


@pytest.mark.parametrize("case", ["corrupt docx", "scanned pdf", "binary junk"])
def test_the_command_shows_the_sentence_and_no_traceback(tmp_path: Path, case: str) -> None:
    name, make, words = BAD_FILES[case]
    path = tmp_path / name
    make(path)
    done = subprocess.run(
        [str(Path(sys.executable).with_name("policybot")), "--database", f"sqlite:///{tmp_path / 'p.db'}",
         "policy", "import", str(path), "--id", "ours"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
