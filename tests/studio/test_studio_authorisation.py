"""Every page and action of the studio, for every role and for no role.

The expected answer for each (role, request) is written out below, not derived from the code's
permission table, so a change to who may do what has to change this test too.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest

from bot.language.policy_docs.structure import parse_text
from bot.store.policy_sources import PolicySources
from tests.studio.cases_kit import raise_case
from tests.studio.test_studio_policies import V1
from tests.studio.test_studio_publishing import NEW, OLD, _miss

AUTHORING = {"authors": ["ana"], "reviewers": ["raj"]}  # directory ids: the ids publishing knows people by
ROLES = {  # who signs in -> the role they hold with the settings above
    "comms": "cara",
    "manager": "mo",
    "author": "ana",
    "reviewer": "raj",
    "employee without a role": "emma",
    "outside the council": "outsider",
}
OK, SEE_OTHER, FORBIDDEN, NOT_FOUND, CONFLICT, UNPROCESSABLE = 200, 303, 403, 404, 409, 422
MISS = "a resident keeps posting angry replies under our bin collection update"
# request -> role -> expected status
EXPECTED: dict[str, dict[str, int]] = {
    "GET /": {"comms": OK, "manager": OK, "author": OK, "reviewer": OK},
    "GET /flows": {"comms": OK, "author": OK, "reviewer": OK},
    "GET /flows/negative-comment": {"comms": OK, "author": OK, "reviewer": OK},
    "GET /flows/negative-comment/edit": {"author": OK},
    "POST /flows/negative-comment/edit": {"author": OK},
    "POST /flows/negative-comment/check": {"author": OK},
    "POST /flows/negative-comment/submit": {"author": UNPROCESSABLE},  # unchanged: publishing says nothing to submit
    "GET /cases": {"comms": OK, "manager": OK},
    "GET /cases/{case}": {"comms": OK, "manager": OK},
    "POST /cases/{case}/acknowledge": {"comms": SEE_OTHER, "manager": SEE_OTHER},
    "POST /cases/{case}/resolve": {"comms": SEE_OTHER, "manager": SEE_OTHER},
    "GET /insights": {"comms": OK, "manager": OK, "author": OK, "reviewer": OK},
    "GET /insights/verdicts.csv": {"comms": OK, "manager": OK, "author": OK, "reviewer": OK},
    "GET /insights/routing.csv": {"comms": OK, "manager": NOT_FOUND, "author": OK, "reviewer": OK},
    "GET /changes": {"author": OK, "reviewer": OK},
    "GET /changes/{change}": {"author": OK, "reviewer": OK},
    "POST /changes/{change}/request-changes": {"reviewer": CONFLICT},  # no reason given: publishing refuses
    "POST /changes/rollback": {"reviewer": CONFLICT},  # the flow is already as it was in version 1
    "GET /policies": {"comms": OK, "author": OK, "reviewer": OK},
    "POST /policies/import": {"author": UNPROCESSABLE, "reviewer": UNPROCESSABLE},  # no file chosen
    "GET /policies/notts": {"comms": OK, "author": OK, "reviewer": OK},
    "POST /policies/notts/cite": {"comms": OK, "author": OK, "reviewer": OK},
    "GET /insights/add-example?to=negative-comment&text={miss}": {"author": OK},
    "POST /insights/add-example": {"author": SEE_OTHER},  # a change request, then its page
    "POST /changes/{change}/approve": {"reviewer": OK},  # last: it publishes
}
FORMS: dict[str, dict[str, str]] = {  # what each POST sends (the rest send the flow's own source)
    "POST /changes/{change}/request-changes": {"why": " "},
    "POST /changes/rollback": {"flow": "negative-comment", "version": "1"},
    "POST /policies/notts/cite": {"clause": "paragraph 34", "quote": "never lend it to anyone else"},
    "POST /insights/add-example": {"to": "negative-comment", "text": MISS},
}


@pytest.mark.parametrize("role", [*ROLES, "signed out"])
def test_every_page_and_action_for_this_role(start_studio, client_for, provider, role):
    studio = start_studio(authoring=AUTHORING)
    case_id = raise_case(studio.runtime, "emma")  # sent to comms and to Emma's line manager, Mo
    source = studio.runtime.library.get("negative-comment").source
    change = studio.runtime.publishing.submit_files({"negative-comment.yaml": source.replace(OLD, NEW)}, "ana")
    _miss(studio.runtime, MISS, "can-i-post", "negative-comment")
    with studio.runtime.store.transaction() as conn:
        PolicySources().save(conn, "notts", parse_text(V1), filename="notts.txt", title="Notts",
                             now=studio.runtime.clock.now())  # fmt: skip
    client = client_for(studio)
    if role == "signed out":
        client.get("/signin")
    else:
        client.sign_in(provider, ROLES[role])
    wrong = []
    for request, allowed in EXPECTED.items():
        method, path = request.split(" ", 1)
        path = path.replace("{case}", case_id).replace("{change}", change.id).replace("{miss}", quote(MISS))
        if method == "GET":
            response = client.get(path, allow_redirects=False)
        else:
            data = FORMS.get(request) or {"source": source, "action": "check"}
            response = client.post(path, data, allow_redirects=False)
        if role == "signed out":
            expected = SEE_OTHER if method == "GET" else FORBIDDEN  # GET: to the sign-in page
        else:
            expected = allowed.get(role, FORBIDDEN)
        if response.status_code != expected:
            wrong.append(f"{request}: {response.status_code}, expected {expected}")
        if expected == FORBIDDEN:
            shown = response.text.lower()
            assert "case for emma" not in shown and "left a negative comment" not in shown, request
            assert "<svg" not in shown and "verdict" not in shown, request
            assert "straight away" not in shown and "lend it to anyone" not in shown and MISS not in shown, request
    published = studio.runtime.publishing.get(change.id).status == "published"
    assert published == (role == "reviewer")  # only the reviewer's approval went through
    assert not wrong, "\n".join(wrong)


def test_the_employee_who_raised_a_case_cannot_acknowledge_it_even_as_comms(start_studio, client_for, provider):
    studio = start_studio()
    case_id = raise_case(studio.runtime, "cara")  # Cara, in the comms team, raised this one herself
    client = client_for(studio)
    client.sign_in(provider, "cara")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200 and "Acknowledge</button>" not in page.text
    refused = client.post(f"/cases/{case_id}/acknowledge")
    assert refused.status_code == 403 and "You raised this case" in refused.text
    assert studio.runtime.cases.find(case_id).state == "open"


def test_a_manager_does_not_see_a_case_sent_elsewhere(start_studio, client_for, provider):
    studio = start_studio()
    case_id = raise_case(studio.runtime, "raj")  # Raj has no line manager: the case goes to comms alone
    client = client_for(studio)
    client.sign_in(provider, "mo")
    assert case_id not in client.get("/cases").text
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.post(f"/cases/{case_id}/acknowledge").status_code == 403
    assert studio.runtime.cases.find(case_id).state == "open"
