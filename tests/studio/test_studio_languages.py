"""The studio with Welsh switched on: each flow's translation status, and Try it in each language.

The words checked are the ones a comms officer reads; the counts come from the flows' own texts
(``Flow.texts``), so a wrong count in the studio fails here.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from tests.studio.conftest import WELSH_SETTINGS

FLOWS = Path(__file__).parents[2] / "flows"
FIRST_QUESTION = ("Where was the post made?", "Ble cafodd y post ei wneud?")  # legal-threat, en and cy
STALE_ENGLISH = (  # a change of words in legal-threat's second question
    "Is the post about the council, your work or the people you work with?",
    "Is the post about the council, your job or the people you work with?",
)
STALE_WELSH = "cy: Ydy’r post am y cyngor, eich gwaith neu’r bobl rydych chi’n gweithio gyda nhw?"


def _text(page: str) -> str:
    """The page's words without tags, as read (entities decoded, spaces joined)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _preview(page: str) -> str:
    found = re.search(r'<section class="preview".*?</section>', page, re.S)
    assert found, "no preview on the page"
    return _text(found.group(0))


def test_with_welsh_on_the_flows_list_and_a_flow_page_show_each_flows_welsh_status(start_studio, client_for):
    studio = start_studio(local=True, settings=WELSH_SETTINGS)
    client = client_for(studio)
    client.sign_in_local("cara")
    listing = client.get("/flows").text
    assert "Translations</th>" in listing
    for flow in studio.runtime.library.all():
        row = re.search(rf'href="/flows/{flow.id}".*?</tr>', listing, re.S)
        assert row, flow.id
        total = len(flow.texts)
        translated = sum(1 for t in flow.texts.values() if "cy" in t.translations)
        assert translated == total, f"{flow.id}: the shipped flows are fully translated"
        assert f"Cymraeg (Welsh): draft — {total} of {total} texts current" in _text(row.group(0))
        assert "stale" not in row.group(0)
    flow = studio.runtime.library.get("legal-threat")
    page = _text(client.get("/flows/legal-threat").text)
    assert "Languages" in page
    assert f"Cymraeg (Welsh): draft — {len(flow.texts)} of {len(flow.texts)} texts current" in page
    assert "has not reviewed the translation yet" in page  # what draft means
    assert "stale Welsh text" not in page


def test_a_stale_welsh_text_is_shown_as_stale_with_where_it_is_and_how_to_fix_it(start_studio, client_for, tmp_path):
    flows = tmp_path / "flows"
    shutil.copytree(FLOWS, flows)
    source = (flows / "legal-threat.yaml").read_text(encoding="utf-8")
    assert source.count(STALE_ENGLISH[0]) == 1
    (flows / "legal-threat.yaml").write_text(source.replace(*STALE_ENGLISH), encoding="utf-8")  # cy_of unchanged
    welsh_line = source.splitlines().index(f"      {STALE_WELSH}") + 1
    studio = start_studio(local=True, settings=WELSH_SETTINGS, flows_dir=flows)
    client = client_for(studio)
    client.sign_in_local("cara")
    total = len(studio.runtime.library.get("legal-threat").texts)

    row = re.search(r'href="/flows/legal-threat".*?</tr>', client.get("/flows").text, re.S)
    assert row
    expected = f"Cymraeg (Welsh): draft — {total - 1} of {total} texts current, 1 stale needs updating"
    assert expected in _text(row.group(0))
    other = re.search(r'href="/flows/negative-comment".*?</tr>', client.get("/flows").text, re.S)
    assert other and "stale" not in other.group(0)

    page = _text(client.get("/flows/legal-threat").text)
    assert f"{total - 1} of {total} texts current, 1 stale" in page
    assert "1 stale Welsh text" in page
    assert "people reading Welsh see its English until the Welsh is updated" in page
    assert f"legal-threat.yaml line {welsh_line}: {STALE_ENGLISH[1]}" in page
    assert "policybot validate" in page and "docs/languages.md" in page


def test_try_it_speaks_the_language_chosen_welsh_offered_first(start_studio, client_for):
    studio = start_studio(local=True, settings=WELSH_SETTINGS)
    client = client_for(studio)
    client.sign_in_local("cara")
    edit = client.get("/flows/legal-threat/edit").text
    buttons = re.findall(r'<button type="submit" name="try_in" value="(\w+)">(.*?)</button>', edit)
    assert [(code, _text(label)) for code, label in buttons] == [
        ("cy", "Try it in Cymraeg (Welsh)"),
        ("en", "Try it in English"),
    ]
    assert '<span lang="cy">Cymraeg</span>' in edit  # read out as Welsh by a screen reader
    source = studio.runtime.library.get("legal-threat").source

    welsh = client.post("/flows/legal-threat/edit", {"source": source, "try_in": "cy"}).text
    said = _preview(welsh)
    assert FIRST_QUESTION[1] in said and FIRST_QUESTION[0] not in said
    assert "Ar gyfrif neu dudalen y cyngor" in said  # the options too
    assert 'name="language" value="cy"' in welsh  # kept for the answers that follow
    step = {"source": source, "language": "cy", "answer": "2"}  # an option button, answers so far: none
    answered = _preview(client.post("/flows/legal-threat/edit", step).text)
    assert "Ar fy nghyfrif personol fy hun" in answered  # the answer given, in Welsh
    assert "Ydy’r post am y cyngor, eich gwaith" in answered  # the next question, in Welsh

    english = _preview(client.post("/flows/legal-threat/edit", {"source": source, "try_in": "en"}).text)
    assert FIRST_QUESTION[0] in english and FIRST_QUESTION[1] not in english
    assert "On a council account or page" in english


def test_with_one_language_offered_nothing_about_languages_is_shown(start_studio, client_for):
    studio = start_studio(local=True)
    assert studio.runtime.library.settings.languages == ("en",)
    client = client_for(studio)
    client.sign_in_local("cara")
    listing = client.get("/flows").text
    assert "Translations" not in listing and "Cymraeg" not in listing and "Welsh)" not in listing
    page = client.get("/flows/legal-threat").text
    assert 'id="languages"' not in page and "Cymraeg" not in page and "stale" not in page
    edit = client.get("/flows/legal-threat/edit").text
    assert "try_in" not in edit and "Try it in" not in edit and 'name="language"' not in edit
    assert '<button type="submit" name="action" value="try">Try it</button>' in edit
    source = studio.runtime.library.get("legal-threat").source
    forged = _preview(client.post("/flows/legal-threat/edit", {"source": source, "try_in": "cy"}).text)
    assert FIRST_QUESTION[0] in forged and FIRST_QUESTION[1] not in forged  # Welsh is not on: English
