"""What the studio's pages show and do, checked against the core that computes it."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import yaml
from sqlalchemy import select

from adapters.studio.app import STUDIO
from bot.conversation.paths import all_paths
from bot.language.coverage import cited_ids
from bot.ops.reports import flow_stats
from bot.store.schema import audit
from tests.studio.cases_kit import raise_case

BROKEN = ("next: rules\n", "next: rulez\n")  # a typo in where an answer leads


def _actions(studio) -> list[str]:
    with studio.runtime.store.transaction() as conn:
        return [str(a) for a in conn.execute(select(audit.c.action).order_by(audit.c.id)).scalars()]


def test_the_flows_list_shows_every_flow_with_its_tests_coverage_and_citations(start_studio, client_for):
    studio = start_studio(local=True)
    client = client_for(studio)
    client.sign_in_local("cara")
    assert "still running" in client.get("/flows").text or studio.app[STUDIO].scenarios_done.is_set()
    studio.scenario_tests_finished()
    page = client.get("/flows").text
    assert "still running" not in page
    library = studio.runtime.library
    for flow in library.all():
        assert f'href="/flows/{flow.id}"' in page
        assert flow.version[:8] in page
    row = re.search(r'href="/flows/negative-comment".*?</tr>', page, re.S).group(0)
    scenarios = yaml.safe_load((Path(__file__).parents[2] / "flows" / "negative-comment.test.yaml").read_text())
    assert f"{len(scenarios['scenarios'])} passed" in row and "failing" not in row
    assert "100%" in row  # the shipped flows' tests reach every outcome (`policybot test` enforces it)
    for clause in cited_ids(library.get("negative-comment")):
        assert clause in row


def test_a_flow_page_draws_every_state_and_lists_every_path(start_studio, client_for):
    studio = start_studio(local=True)
    client = client_for(studio)
    client.sign_in_local("cara")
    page = client.get("/flows/negative-comment").text
    flow = studio.runtime.library.get("negative-comment")
    for name in flow.states:
        assert f'id="node-{name}"' in page
    paths = all_paths(flow, studio.runtime.settings)
    assert f"Every path ({len(paths)})" in page
    assert page.count('<ol class="answers">') == len(paths)


def test_the_editor_reports_the_same_problems_as_policybot_validate(start_studio, client_for, tmp_path: Path):
    studio = start_studio(local=True)
    client = client_for(studio)
    client.sign_in_local("cara")
    flow = studio.runtime.library.get("negative-comment")
    assert BROKEN[0] in flow.source
    draft = flow.source.replace(*BROKEN)
    page = client.post("/flows/negative-comment/edit", {"source": draft, "action": "check"})
    assert page.status_code == 422
    (tmp_path / "negative-comment.yaml").write_text(draft)
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "policybot"), "validate", str(tmp_path / "negative-comment.yaml")],
        capture_output=True, text=True, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    found = [re.match(r"^.*?:(\d+): (.*)$", line) for line in cli.stdout.splitlines()]
    expected = [m.group(2) for m in found if m]
    lines = [int(m.group(1)) for m in found if m]
    assert expected, cli.stdout + cli.stderr
    shown = re.findall(r'<li><a href="#line-(\d+)">line \d+</a>: (.*?)</li>', page.text)
    import html

    assert [(int(n), html.unescape(m)) for n, m in shown] == list(zip(lines, expected, strict=True))
    first = lines[0]
    assert re.search(rf'<tr id="line-{first}" class="has-problem">', page.text)
    assert client.post("/flows/negative-comment/check", {"source": draft}).text.count('"line"') == len(expected)
    fixed = client.post("/flows/negative-comment/edit", {"source": flow.source, "action": "check"})
    assert fixed.status_code == 200 and "No problems found" in fixed.text


def test_try_it_walks_the_draft_with_the_engine_and_says_it_is_a_preview(start_studio, client_for):
    studio = start_studio(local=True)
    client = client_for(studio)
    client.sign_in_local("cara")
    flow = studio.runtime.library.get("negative-comment")
    draft = flow.source.replace("Do not reply to it yourself", "PREVIEW-MARK do not reply to it yourself", 1)
    assert draft != flow.source
    first = client.post("/flows/negative-comment/edit", {"source": draft, "action": "try"})
    assert "Preview: your draft, not the live advice" in first.text
    assert "Where is the comment?" in first.text
    answered = client.post("/flows/negative-comment/edit", {"source": draft, "answers": "", "answer": "2"})
    assert "PREVIEW-MARK" in answered.text
    # the live flow and the database are untouched by the preview
    assert "PREVIEW-MARK" not in studio.runtime.library.get("negative-comment").source
    assert "start" not in _actions(studio) and "studio.try" in _actions(studio)


def test_a_comms_officer_acknowledges_and_resolves_a_case(start_studio, client_for):
    studio = start_studio(local=True)
    case_id = raise_case(studio.runtime, "emma")
    client = client_for(studio)
    client.sign_in_local("cara")
    listing = client.get("/cases").text
    assert f"/cases/{case_id}" in listing and "Open (1)" in listing
    page = client.get(f"/cases/{case_id}").text
    assert "Acknowledge</button>" in page and "opened" in page
    done = client.post(f"/cases/{case_id}/acknowledge")
    assert done.status_code == 200 and "acknowledged" in done.text.lower()
    assert studio.runtime.cases.find(case_id).state == "acknowledged"
    client.post(f"/cases/{case_id}/resolve", {"note": "Spoke to Emma."})
    case = studio.runtime.cases.find(case_id)
    assert case.state == "resolved" and case.resolution == "Spoke to Emma."
    actions = _actions(studio)
    assert {"studio.case_view", "studio.case_ack", "studio.case_resolve"} <= set(actions)


def test_insights_figures_and_csv_match_the_core_report(start_studio, client_for):
    studio = start_studio(local=True)
    raise_case(studio.runtime, "emma")
    raise_case(studio.runtime, "raj")
    client = client_for(studio)
    client.sign_in_local("cara")
    page = client.get("/insights?flow=colleague-breach")
    assert page.status_code == 200
    for name in ("funnel", "verdicts", "acknowledge", "onboarding", "routing"):
        assert f'href="/insights/{name}.csv' in page.text
        assert f'id="h-{name}"' in page.text
    stats = {s.flow: s for s in flow_stats(studio.runtime.store, studio.runtime.library, studio.runtime.clock.now())}
    rows = list(csv.reader(io.StringIO(client.get("/insights/verdicts.csv").text)))
    assert rows[0] == ["verdict", "outcomes"]
    assert dict((v, int(n)) for v, n in rows[1:]) == stats["colleague-breach"].verdicts
    funnel = list(csv.reader(io.StringIO(client.get("/insights/funnel.csv?flow=colleague-breach").text)))
    assert funnel[1][2] == "2"  # both walks reached the first question
    ack = list(csv.reader(io.StringIO(client.get("/insights/acknowledge.csv").text)))
    assert {r[0] for r in ack[1:]} >= {"the Communications team"}
    assert "studio.csv" in _actions(studio)


def test_every_page_has_the_strict_csp_and_no_inline_script_or_style(start_studio, client_for):
    studio = start_studio(local=True)
    case_id = raise_case(studio.runtime, "emma")
    client = client_for(studio)
    client.sign_in_local("cara")
    for path in ("/", "/signin", "/flows", "/flows/negative-comment", "/flows/negative-comment/edit", "/cases",
                 f"/cases/{case_id}", "/insights", "/changes", "/no-such-page"):  # fmt: skip
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", response.text), path
        assert not re.search(r"\son[a-z]+=", response.text), path
        assert not re.search(r'\sstyle="', response.text), path
        assert "http://" not in re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", response.text) or path == "/signin"


def test_a_form_without_the_session_csrf_token_is_refused(start_studio, client_for):
    studio = start_studio(local=True)
    case_id = raise_case(studio.runtime, "emma")
    client = client_for(studio)
    client.sign_in_local("cara")
    other = client_for(studio)
    other.sign_in_local("mo")
    assert client.post(f"/cases/{case_id}/acknowledge", csrf="").status_code == 403
    assert client.post(f"/cases/{case_id}/acknowledge", csrf=other.csrf).status_code == 403
    assert studio.runtime.cases.find(case_id).state == "open"
    assert client.post(f"/cases/{case_id}/acknowledge").status_code == 200
