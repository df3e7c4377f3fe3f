"""Cymraeg: the shipped legal-threat flow walked in Welsh in the terminal (switching language
halfway), a Welsh first message, a Welsh-speaking manager's case, validate's missing and stale
translations, the PO round trip, and `policybot run --lang cy`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from adapters.console.chat import ConsoleChat
from adapters.console.notifier import render_notification
from bot.cases.notify import Notification
from bot.cli.main import cli
from bot.conversation.events import Actor, Choose, SetLanguage, Start
from bot.conversation.replies import LanguageSwitch, Outcome, Question
from bot.language.flow_loader import load_flow_file
from bot.language.i18n.languages import digest
from bot.runtime import Runtime, build_runtime

REPO = Path(__file__).resolve().parents[2]
FLOWS = REPO / "flows"
BILINGUAL = "languages: [en, cy]\n"

DIRECTORY = """\
people:
  - {id: tess, name: Tess Evans, email: tess@example.gov.uk, manager: dai}
  - {id: dai, name: Dai Jones, email: dai@example.gov.uk, language: cy}
  - {id: cara, name: Cara Williams, email: cara@example.gov.uk, roles: [comms]}
  - {id: lee, name: Lee Morgan, email: lee@example.gov.uk, roles: [legal]}
"""


def flat(text: str) -> str:
    return " ".join(click.unstyle(text).split())


def bilingual(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "directory.yaml").write_text(DIRECTORY, encoding="utf-8")
    settings = tmp_path / "policybot.yaml"
    settings.write_text(BILINGUAL + "directory: directory.yaml\n" + extra, encoding="utf-8")
    return settings


def runtime(tmp_path: Path, extra: str = "") -> Runtime:
    return build_runtime(bilingual(tmp_path, extra), f"sqlite:///{tmp_path / 'bot.db'}")


TESS = Actor(user_id="console:tess", display_name="Tess", email="tess@example.gov.uk", locale="cy_GB.UTF-8")


def test_a_legal_threat_in_welsh_in_the_terminal_switching_to_english_and_back(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    said: list[str] = []
    # the list in Welsh, legal-threat by its number, one answer, English for one answer, Welsh again
    menu = [f.id for f in rt.library.all()]
    lines = iter(["rhestr", str(menu.index("legal-threat") + 1), "1", "english", "1", "cymraeg", "1", "quit"])

    def ask(prompt: str) -> str:
        line = next(lines)
        said.append(f"{prompt} {line}")
        return line

    ConsoleChat(rt.engine, TESS, ask=ask, say=said.append, width=100).run()
    out = flat("\n".join(said))
    # the terminal's own words and the flow are in Welsh from the start (LANG=cy_GB)
    assert "Disgrifiwch eich sefyllfa" in out
    assert "Ble cafodd y post ei wneud?" in out and "1. Ar gyfrif neu dudalen y cyngor" in out
    assert "cwestiwn 1 o hyd at 4" in out
    assert "🌐 [Cymraeg] / English" in out  # Welsh first, the current language marked
    # halfway, "english": the current question again at once, in English
    english_part = out.split("> english", 1)[1].split("> cymraeg", 1)[0]
    assert "I will speak English from now on." in english_part
    assert "Can you reach your line manager today?" in english_part
    # and back to Welsh for the end: the Welsh outcome, its checklist and the case in Welsh
    welsh_end = out.split("> cymraeg", 1)[1]
    assert "Byddaf yn siarad Cymraeg o hyn ymlaen." in welsh_end
    assert "GWEITHREDWCH NAWR" in welsh_end
    assert "Tynnwch y post i lawr nawr, cyn i chi wneud unrhyw beth arall." in welsh_end
    assert "Beth i’w wneud:" in welsh_end and "Cadwch unrhyw lythyr, e-bost neu neges" in welsh_end
    # the policy's language is named (its quote stays in English); the summary is in Welsh
    assert "Nottinghamshire County Council" in welsh_end and "(yn Saesneg)" in welsh_end
    assert "paragraff 27: Os cewch eich bygwth â chamau cyfreithiol oherwydd post" in welsh_end
    assert "Hwyl." in welsh_end
    # the choice is remembered: a new turn is Welsh without any locale
    assert rt.engine.language_of(Actor(user_id="console:tess")) == "cy"


def test_the_switch_is_on_every_reply_set_and_redraws_the_question_at_once(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    tess = Actor(user_id="slack:T1:U1", locale="en-GB")
    replies = rt.engine.handle(tess, Start(flow_id="legal-threat"))
    switch = replies[-1]
    assert isinstance(switch, LanguageSwitch) and switch.current == "en"
    assert [c.label for c in switch.choices] == ["Cymraeg", "English"]  # Welsh first
    question = replies[-2]
    assert isinstance(question, Question) and question.text == "Where was the post made?"
    redrawn = rt.engine.handle(tess, SetLanguage("cy", question.conversation_id))
    again = next(r for r in redrawn if isinstance(r, Question))
    assert again.text == "Ble cafodd y post ei wneud?" and again.turn == question.turn and again.language == "cy"
    assert isinstance(redrawn[-1], LanguageSwitch) and redrawn[-1].current == "cy"
    # an answer given in Welsh is stored as the English, and the next question is Welsh
    after = rt.engine.handle(tess, Choose(question.conversation_id, "where", 2, again.turn))
    nxt = next(r for r in after if isinstance(r, Question))
    assert nxt.text.startswith("Ydy’r post am y cyngor")
    with rt.store.transaction() as conn:
        stored = rt.store.load_conversation(conn, question.conversation_id)
    assert stored is not None and stored.answers[0].label == "On someone else's page, group or website"


def test_a_first_message_in_welsh_routes_and_the_conversation_runs_in_welsh(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    someone = Actor(user_id="teams:abc", platform="teams")  # no locale at all
    replies = rt.engine.handle(someone, Start(text="Mae rhywun yn bygwth fy erlyn am bost ar Facebook"))
    questions = [r for r in replies if isinstance(r, Question)]
    assert questions and questions[0].flow_id == "legal-threat"
    assert questions[0].text == "Ble cafodd y post ei wneud?"
    assert questions[0].flow_title == "Mae rhywun yn bygwth camau cyfreithiol oherwydd post"
    # the next click, with nothing on it about language, is answered in Welsh too
    q = questions[0]
    more = rt.engine.handle(someone, Choose(q.conversation_id, q.state, 0, q.turn))
    assert next(r for r in more if isinstance(r, Question)).text == "Ydy’r post yn dal ar-lein?"


def test_answers_are_compared_in_english_whatever_language_they_were_given_in(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    tess = Actor(user_id="console:tess", email="tess@example.gov.uk", locale="cy")
    first = next(r for r in rt.engine.handle(tess, Start(flow_id="legal-threat")) if isinstance(r, Question))
    replies: list = [first]
    for option in (2, 0, 0, 0):  # someone else's page / about work / still up / manager reachable
        q = [r for r in replies if isinstance(r, Question)][-1]
        replies = rt.engine.handle(tess, Choose(q.conversation_id, q.state, option, q.turn))
    outcome = next(r for r in replies if isinstance(r, Outcome))
    # the Welsh advice took the branch for a post on someone else's page, still up
    assert outcome.text.startswith("Dilëwch eich post neu’ch sylw nawr")
    assert "Dai Jones" in outcome.text  # the manager by name, from the directory
    assert next(a.answer for a in outcome.answers) == "Ar dudalen, grŵp neu wefan rhywun arall"


def test_a_manager_whose_directory_entry_says_welsh_receives_the_case_in_welsh(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    tess = Actor(user_id="console:tess", email="tess@example.gov.uk", locale="en")  # Tess speaks English
    replies = rt.engine.handle(tess, Start(flow_id="legal-threat"))
    for option in (0, 0, 0):  # council account / still up / manager reachable: opens the case at once
        q = [r for r in replies if isinstance(r, Question)][-1]
        replies = rt.engine.handle(tess, Choose(q.conversation_id, q.state, option, q.turn))
    outcome = next(r for r in replies if isinstance(r, Outcome))
    assert outcome.case_id is not None and outcome.language == "en"
    sent: list[Notification] = []
    from bot.cases.worker import Worker

    class Keep:
        def deliver(self, notification: Notification) -> None:
            sent.append(notification)

    Worker(rt, Keep()).run_once()
    by_name = {n.recipient.name: n for n in sent}
    dai, cara = by_name["Dai Jones"], by_name["Cara Williams"]
    shown = flat(render_notification(dai, 120))
    assert dai.recipient.language == "cy"
    assert shown.startswith("──────── policybot would send (case_opened")
    assert "BRYS: Mae angen eich help ar Tess Evans: Mae rhywun yn bygwth camau cyfreithiol oherwydd post" in shown
    assert "Mae Tess Evans wedi cael ei fygwth â chamau cyfreithiol" in shown
    assert "Ble cafodd y post ei wneud? Ar gyfrif neu dudalen y cyngor" in shown  # the answer in Welsh too
    assert "Cyflogai: Tess Evans" in shown and "Y cyngor a roddwyd: Gweithredwch nawr" in shown
    assert "[Cydnabod]" in shown
    # the comms officer with no language on file reads the same case in English
    assert cara.title.startswith("URGENT: Tess Evans needs you") and "Where was the post made?" in cara.text


def test_a_welsh_employee_note_is_passed_on_as_written(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    tess = Actor(user_id="console:tess", email="tess@example.gov.uk", locale="cy")
    replies = rt.engine.handle(tess, Start(flow_id="legal-threat"))
    for option in (1, 1):  # personal account / nothing to do with work: offered, not required
        q = [r for r in replies if isinstance(r, Question)][-1]
        replies = rt.engine.handle(tess, Choose(q.conversation_id, q.state, option, q.turn))
    outcome = next(r for r in replies if isinstance(r, Outcome))
    assert outcome.escalation is not None and not outcome.escalation.required
    from bot.conversation.events import ConfirmEscalation

    sent = rt.engine.handle(tess, ConfirmEscalation(outcome.conversation_id, "I wrote this in English"))
    assert "Wedi’i anfon at Dai Jones" in flat(str(sent[0].text))  # type: ignore[union-attr]
    assert rt.cases is not None
    case = rt.cases.find(sent[0].case_id)  # type: ignore[union-attr]
    welsh, _title = case.words("cy")
    english, _ = case.words("en")
    assert "Eu nodyn: I wrote this in English" in welsh and "Their note: I wrote this in English" in english


def _flow_with(tmp_path: Path, ask: str) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir(exist_ok=True)
    shutil.copy(FLOWS / "citations.yaml", folder / "citations.yaml")
    (folder / "tiny.yaml").write_text(
        f"""id: tiny
title:
  en: A tiny check
  cy: Gwiriad bach
  cy_of: {digest("A tiny check")}
start: q
welsh_examples: [gwiriad bach]
states:
  q:
    ask:
{ask}
    options:
      - {{label: "Yes", next: done}}
  done:
    verdict: go
    say:
      en: Fine.
      cy: Iawn.
      cy_of: {digest("Fine.")}
    cite: [notts-27]
""",
        encoding="utf-8",
    )
    return folder


def _validate(tmp_path: Path, folder: Path) -> list[str]:
    settings = tmp_path / "policybot.yaml"
    settings.write_text(BILINGUAL, encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["--settings", str(settings), "--flows", str(folder), "validate", str(folder / "tiny.yaml")]
    )
    return [line for line in result.output.splitlines() if "tiny.yaml" in line]


def test_validate_reports_a_missing_translation_with_its_file_and_line(tmp_path: Path) -> None:
    folder = _flow_with(
        tmp_path, "      en: Is it fine?\n      cy: Ydy e’n iawn?\n      cy_of: " + digest("Is it fine?")
    )
    found = _validate(tmp_path, folder)
    # the option label is the one text with no Welsh: line 15 of the file
    assert found == [
        f"{folder / 'tiny.yaml'}:15: no Welsh (cy) for this text yet: add 'cy:' beside the English (docs/languages.md)"
    ]


def test_validate_reports_a_stale_translation_at_the_welsh_line(tmp_path: Path) -> None:
    old = digest("Is it all right?")  # the Welsh was written from other English
    folder = _flow_with(tmp_path, f"      en: Is it fine?\n      cy: Ydy e’n iawn?\n      cy_of: {old}")
    found = _validate(tmp_path, folder)
    stale = [line for line in found if "stale" in line]
    assert stale and stale[0].startswith(f"{folder / 'tiny.yaml'}:12: the Welsh is stale")
    assert digest("Is it fine?") in stale[0]  # it says which fingerprint to write
    # and until it is fixed, the English is shown rather than the outdated Welsh
    flow = load_flow_file(folder / "tiny.yaml")
    assert flow.text_in("states.q.ask", "Is it fine?", "cy") == "Is it fine?"
    assert flow.text_in("title", "A tiny check", "cy") == "Gwiriad bach"


def test_a_welsh_template_that_drops_a_condition_is_refused(tmp_path: Path) -> None:
    from bot.language.i18n.flow_texts import FlowText, Translation
    from bot.language.i18n.flow_translations import text_problems
    from bot.language.settings import load_settings

    english = "{% if answers.q == 'Yes' %}Go.{% endif %}"
    text = FlowText("states.done.say", english, 5, {"cy": Translation("Ewch.", digest(english), 6)})
    problems = text_problems("f.yaml", text, "cy", load_settings(None), ["q"])
    assert [p.line for p in problems] == [6] and "same {% if %} conditions" in problems[0].message


def _without_welsh(source: Path, target: Path) -> None:
    """The flow as it was before translation: every text its English alone."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(source.read_text(encoding="utf-8"))

    def strip(node: object) -> object:
        if isinstance(node, dict):
            if "en" in node and "cy" in node:
                return node["en"]
            for key in list(node):
                node[key] = strip(node[key])
            node.pop("translation_status", None)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                node[i] = strip(item)
        return node

    with target.open("w", encoding="utf-8") as out:
        yaml.dump(strip(data), out)


def test_export_and_import_round_trip_loses_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    first, second = tmp_path / "po1", tmp_path / "po2"
    assert runner.invoke(cli, ["i18n", "export", "--lang", "cy", str(first)]).exit_code == 0
    shipped = load_flow_file(FLOWS / "legal-threat.yaml")
    # a copy of the flows whose legal-threat has lost its Welsh, then the PO files imported into it
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder)
    _without_welsh(FLOWS / "legal-threat.yaml", folder / "legal-threat.yaml")
    assert not any(t.translations for t in load_flow_file(folder / "legal-threat.yaml").texts.values())
    result = runner.invoke(cli, ["--flows", str(folder), "i18n", "import", str(first)])
    assert result.exit_code == 0, result.output
    back = load_flow_file(folder / "legal-threat.yaml")
    assert back.translation_status == shipped.translation_status == {"cy": "draft"}
    for path, text in shipped.texts.items():
        assert back.texts[path].english == text.english
        assert back.texts[path].translations["cy"].text == text.translations["cy"].text
        assert back.texts[path].current("cy") == text.current("cy") is not None
    # exported again, the PO files say exactly the same
    assert runner.invoke(cli, ["--flows", str(folder), "i18n", "export", "--lang", "cy", str(second)]).exit_code == 0
    for po in sorted(first.glob("*.po")):

        def body(p: Path) -> list[str]:
            return [line for line in p.read_text(encoding="utf-8").splitlines() if "POT-Creation-Date" not in line]

        assert body(second / po.name) == body(po), po.name


def test_import_refuses_a_message_whose_english_has_changed(tmp_path: Path) -> None:
    runner = CliRunner()
    po = tmp_path / "po"
    assert runner.invoke(cli, ["i18n", "export", "--lang", "cy", str(po)]).exit_code == 0
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder)
    flow = folder / "legal-threat.yaml"
    flow.write_text(
        flow.read_text(encoding="utf-8").replace("Where was the post made?", "Where was it posted?"), encoding="utf-8"
    )
    result = runner.invoke(cli, ["--flows", str(folder), "i18n", "import", str(po)])
    assert result.exit_code == 1
    assert "legal-threat.po:" in result.output and "'states.where.ask': its English has changed" in result.output


def test_run_in_welsh_gives_the_welsh_outcome(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["run", "legal-threat", "--lang", "cy", "--answer", "1", "--answer", "1", "--answer", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.output)
    assert outcome["language"] == "cy" and outcome["state"] == "act_official"
    assert outcome["text"].startswith("Tynnwch y post i lawr nawr, cyn i chi wneud unrhyw beth arall.")
    assert "y tîm Cyfathrebu a’r Gwasanaethau Cyfreithiol" in outcome["text"]
    english = json.loads(
        CliRunner()
        .invoke(cli, ["run", "legal-threat", "--answer", "1", "--answer", "1", "--answer", "1", "--json"])
        .output
    )
    assert english["text"].startswith("Take the post down now") and english["state"] == outcome["state"]


@pytest.mark.parametrize(
    "locale, expected", [("cy-GB", "cy"), ("cy_GB.UTF-8", "cy"), ("en-US", "en"), (None, "en"), ("fr-FR", "en")]
)
def test_the_platform_locale_picks_the_language(tmp_path: Path, locale: str | None, expected: str) -> None:
    rt = runtime(tmp_path)
    assert rt.engine.language_of(Actor(user_id=f"slack:T:{locale}", locale=locale)) == expected


def test_with_one_language_nothing_changes(tmp_path: Path) -> None:
    rt = build_runtime(None, f"sqlite:///{tmp_path / 'bot.db'}")
    replies = rt.engine.handle(Actor(user_id="x", locale="cy-GB"), Start(flow_id="legal-threat"))
    assert not any(isinstance(r, LanguageSwitch) for r in replies)
    assert next(r for r in replies if isinstance(r, Question)).text == "Where was the post made?"
