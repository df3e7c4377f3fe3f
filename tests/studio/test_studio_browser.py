"""The studio in a real browser: Debian's Chromium driven by Playwright, checked by axe-core.

The browser is /usr/bin/chromium (never a downloaded one); axe-core comes from npm
(tests/studio/js, ``npm ci``). Without either the tests skip here, and fail in CI
(POLICYBOT_REQUIRE_SERVICES=1). Each page is screenshotted into test-artefacts/studio/
(or $POLICYBOT_TEST_ARTEFACTS/studio), which git ignores.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shared_inputs import need_tools
from tests.studio.cases_kit import raise_case
from tests.studio.conftest import IDENTITIES, WELSH_SETTINGS
from tests.studio.test_studio_policies import V1
from tests.studio.test_studio_publishing import MISS, _miss, advice

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTEFACTS = Path(os.environ.get("POLICYBOT_TEST_ARTEFACTS") or Path(__file__).parents[2] / "test-artefacts") / "studio"


def _need_browser() -> None:
    problems = []
    if not Path(CHROMIUM).exists():
        problems.append(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    if shutil.which("node") is None or not AXE.exists():
        problems.append("axe-core is not installed (cd tests/studio/js && npm ci)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the playwright package is not installed")
    need_tools(problems)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def check_page(page: Any, name: str) -> None:
    """Screenshot the page, then run axe-core on it: no serious or critical violation allowed."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}-top.png"))  # what the window shows: for docs/images
    page.evaluate(AXE.read_text())  # through the debugging protocol: the page's CSP does not apply to it
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "\n".join(bad)


def _no_console_errors(page: Any) -> list[str]:
    """What the CSP refused and any script error (a page answering 422 or 403 is not one)."""
    errors: list[str] = []

    def console(message: Any) -> None:
        if message.type == "error" and "Failed to load" not in message.text:
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_an_author_edits_checks_tries_and_submits_a_reviewer_approves_and_the_bot_says_it(
    browser, start_studio, provider, tmp_path
):
    studio = start_studio(authoring={"authors": ["cara"], "reviewers": ["raj"]})  # Cara: comms, and the author
    case_id = raise_case(studio.runtime, "emma")
    _miss(studio.runtime, MISS, "can-i-post", "negative-comment")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)  # a loaded CI machine: slow is not wrong
    page = context.new_page()
    errors = _no_console_errors(page)

    # sign in with the council's provider (the fake one answers for Cara at once)
    provider.identity = IDENTITIES["cara"]
    page.goto(f"{studio.url}/flows")
    assert page.url.startswith(f"{studio.url}/signin")
    check_page(page, "01-signin")
    page.get_by_role("link", name="Sign in with your council account").click()
    page.wait_for_url(f"{studio.url}/flows")
    check_page(page, "02-flows")

    page.get_by_role("link", name="Someone left a negative comment on our page").click()
    page.wait_for_url("**/flows/negative-comment")
    assert page.locator("svg.diagram #node-where").count() == 1
    check_page(page, "03-flow")

    # edit: a typo in where an answer leads, checked beside its line
    page.get_by_role("link", name="Edit this flow").click()
    check_page(page, "04-edit")
    editor = page.get_by_label("negative-comment.yaml")
    original = editor.input_value()
    editor.fill(original.replace("next: rules\n", "next: rulez\n"))
    page.get_by_role("button", name="Check").click()
    problems = page.locator("ul.problems li")
    assert problems.count() >= 1
    assert "rulez" in problems.first.inner_text()
    assert page.locator("tr.has-problem").count() >= 1
    page.locator("#problems-heading").scroll_into_view_if_needed()
    check_page(page, "05-edit-problem")

    # the script checks as you type, too
    page.get_by_label("negative-comment.yaml").press("End")
    page.get_by_label("negative-comment.yaml").type(" ")
    page.locator("#live-problems").get_by_text("problem(s) as you type").wait_for()

    # fix it, try it: the preview is the real engine walking the draft
    page.get_by_label("negative-comment.yaml").fill(
        original.replace("Do not reply to it yourself", "Leave it to them: do not reply to it yourself", 1)
    )
    page.get_by_role("button", name="Check").click()
    page.get_by_text("No problems found", exact=True).wait_for()
    page.get_by_role("button", name="Try it").click()
    page.get_by_text("Preview: your draft, not the live advice").wait_for()
    page.get_by_role("button", name="On a council page or account someone else runs").click()
    page.locator("ol.chat").get_by_text("Leave it to them").wait_for()
    page.locator("#preview-heading").scroll_into_view_if_needed()
    check_page(page, "06-try-it")

    # submit: publishing runs validate and the flow's scenario tests again, then the change waits for review
    page.get_by_role("button", name="Check").click()
    page.get_by_label("Note for the reviewer (what you changed and why)").fill("say who deals with it")
    page.get_by_role("button", name="Submit as a change request").click()
    page.wait_for_url("**/changes/*")
    page.get_by_text("[+Leave it to them: do+]", exact=False).first.wait_for()
    assert page.get_by_role("button", name="Approve").count() == 0  # Cara wrote it: not hers to approve
    check_page(page, "06b-change-submitted")
    change_id = page.url.rsplit("/", 1)[1]
    assert studio.runtime.publishing.get(change_id).author == "cara"
    page.goto(f"{studio.url}/flows")
    row = page.locator("tr", has=page.locator('a[href="/flows/negative-comment"]'))
    assert row.locator("td").nth(2).inner_text().strip() == "1"  # the open changes column: one

    # keyboard only: the skip link is the first stop and it is visible when focused
    page.goto(f"{studio.url}/cases")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("e => e === document.activeElement")
    assert skip.bounding_box()["x"] >= 0
    check_page(page, "07-cases")

    page.locator(f'a[href="/cases/{case_id}"]').first.click()
    check_page(page, "08-case")
    page.get_by_role("button", name="Acknowledge").focus()
    page.keyboard.press("Enter")
    page.get_by_role("status").wait_for()
    assert studio.runtime.cases.find(case_id).state == "acknowledged"

    page.goto(f"{studio.url}/insights?flow=colleague-breach")
    page.get_by_text("Show as a table").first.click()
    check_page(page, "09-insights")
    page.get_by_role("link", name="add as example to flow negative-comment").first.click()
    page.get_by_role("button", name="Yes, submit this change request").wait_for()
    check_page(page, "09b-add-example")
    page.get_by_role("link", name="Cancel").click()
    page.goto(f"{studio.url}/changes")
    check_page(page, "10-changes")
    assert not errors, errors  # nothing blocked by the CSP, no script error
    context.close()

    # a different person, a reviewer, signs in and approves
    assert "Leave it to them" not in advice(studio.runtime, ("On a council page or account someone else runs",))
    provider.identity = IDENTITIES["raj"]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)
    page = context.new_page()
    errors = _no_console_errors(page)
    page.goto(f"{studio.url}/signin")
    page.get_by_role("link", name="Sign in with your council account").click()
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Changes").click()
    page.get_by_role("link", name="say who deals with it").click()
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("status").get_by_text("Published as library version 2").wait_for()
    check_page(page, "14-change-approved")
    said = advice(studio.runtime, ("On a council page or account someone else runs",))
    assert "Leave it to them" in said  # the bot's own engine now gives the approved advice
    page.goto(f"{studio.url}/changes")
    page.get_by_text("approved by raj", exact=False).first.wait_for()
    check_page(page, "15-history")

    # the Policies page: import a document, browse it, verify a quote
    (tmp_path / "notts.txt").write_text(V1, encoding="utf-8")
    page.get_by_role("navigation", name="Studio").get_by_role("link", name="Policies").click()
    page.get_by_label("Policy file").set_input_files(str(tmp_path / "notts.txt"))
    page.get_by_label("Policy id (the key citations.yaml gives it, for example notts)").fill("notts")
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported policy 'notts' as version 1").wait_for()
    check_page(page, "16-policies")
    page.get_by_role("link", name="Browse its clauses").click()
    page.get_by_label("Clause", exact=True).select_option("paragraph 34")
    page.get_by_label("The words to quote (a short extract, copied exactly)").fill("never lend it to anyone else")
    page.get_by_role("button", name="Verify the quote").click()
    page.get_by_text("Quote verified word for word in paragraph 34").wait_for()
    check_page(page, "17-policy")
    assert not errors, errors
    context.close()


def test_local_mode_and_no_role_pages_are_accessible(browser, start_studio, provider, tmp_path):
    local = start_studio(local=True)
    context = browser.new_context()
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(f"{local.url}/signin")
    assert "Local mode:" in page.inner_text("body")
    check_page(page, "11-local-signin")
    page.get_by_label("Person").select_option("mo")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Welcome, Mo Manager").wait_for()
    check_page(page, "12-manager-home")
    context.close()

    studio = start_studio()
    context = browser.new_context()
    context.set_default_timeout(90_000)
    page = context.new_page()
    provider.identity = IDENTITIES["outsider"]
    page.goto(f"{studio.url}/signin")
    page.get_by_role("link", name="Sign in with your council account").click()
    page.get_by_text("no role in the policybot studio").wait_for()
    check_page(page, "13-no-role")
    context.close()

    # with Welsh on: the translation status, a stale text, and Try it in Cymraeg
    flows = tmp_path / "flows"
    shutil.copytree(Path(__file__).parents[2] / "flows", flows)
    legal = flows / "legal-threat.yaml"
    legal.write_text(legal.read_text(encoding="utf-8").replace("your work or the people", "your job or the people", 1))
    welsh = start_studio(local=True, settings=WELSH_SETTINGS, flows_dir=flows,
                         database_url=f"sqlite:///{tmp_path / 'welsh.db'}")  # fmt: skip
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(90_000)
    page = context.new_page()
    errors = _no_console_errors(page)
    page.goto(f"{welsh.url}/signin")
    page.get_by_label("Person").select_option("cara")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{welsh.url}/flows")
    page.get_by_role("columnheader", name="Translations").wait_for()
    check_page(page, "18-welsh-flows")
    page.get_by_role("link", name="Someone is threatening legal action over a post").click()
    page.get_by_role("heading", name="1 stale Welsh text").wait_for()
    check_page(page, "19-welsh-flow-stale")
    page.get_by_role("link", name="Edit this flow").click()
    page.get_by_role("button", name="Try it in Cymraeg (Welsh)").click()
    page.get_by_role("button", name="Ar fy nghyfrif personol fy hun").click()
    page.locator("ol.chat").get_by_text("Ar fy nghyfrif personol fy hun").wait_for()  # the answer, in Welsh
    page.locator("ol.chat").get_by_text("Is the post about the council, your job").wait_for()  # stale: its English
    assert page.get_by_role("button", name="Nac ydy, dim byd i’w wneud ag unrhyw un ohonyn nhw").count() == 1
    page.locator("#preview-heading").scroll_into_view_if_needed()
    check_page(page, "20-welsh-try-it")
    assert not errors, errors
    context.close()
