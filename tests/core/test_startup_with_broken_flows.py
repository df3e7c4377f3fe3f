"""A flow file that fails its checks at start-up is reported loudly (log, /readyz detail, metrics)
and left out; the replica starts and serves every other flow (issue 12: with one hostile flow in
the folder, ``serve`` never became ready)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.conversation.events import Actor, Start
from bot.conversation.replies import Question
from bot.errors import FileProblems
from bot.ops.health import OpsEndpoints
from bot.runtime import build_runtime
from bot.telemetry import metrics
from tests.core.flowkit import QUIZ_FLOW, REPORT_FLOW, library, write_flows
from tests.core.hostile_flows import deep_mapping

CARELESS = "id: careless\ntitle: T\nstart: a\nstates:\n  a: {verdict: go, say: Fine}\n"  # cites nothing


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    flows = {"quiz": QUIZ_FLOW, "report": REPORT_FLOW, "careless": CARELESS, "deep-mapping": deep_mapping()}
    return write_flows(tmp_path / "flows", flows)


def test_the_replica_starts_serves_the_good_flows_and_says_which_files_it_left_out(
    tmp_path: Path, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.conversation.library"):
        runtime = build_runtime(database_url=f"sqlite:///{tmp_path / 'bot.db'}", flows_dir=folder)
    try:
        assert [f.id for f in runtime.library.all()] == ["quiz", "report"]
        bad = [str(folder / "careless.yaml"), str(folder / "deep-mapping.yaml")]
        assert runtime.library.failed_files == bad
        logged = [r.getMessage() for r in caplog.records]
        assert f"flow file left out: {bad[0]}:5: outcome 'a' cites no policy paragraph" in logged[0]
        assert any("nested more than 40 levels deep" in line for line in logged)
        assert any(line.startswith("2 flow file(s) failed their checks and are not offered") for line in logged)

        response = OpsEndpoints.for_runtime(runtime).respond("/readyz")
        assert response is not None and response.status == 200  # still ready: the other flows are served
        flows = json.loads(response.body)["checks"]["flows"]
        assert flows["ok"] is True
        assert flows["detail"].startswith("2 flows loaded; 2 flow files failed their checks and are not offered: ")
        assert all(path in flows["detail"] for path in bad)
        assert metrics.sample("policybot_flow_files_failed") == 2
        assert metrics.sample("policybot_flows_loaded") == 2

        replies = runtime.engine.handle(Actor(user_id="console:sam"), Start(flow_id="report"))
        assert isinstance(replies[-1], Question)
    finally:
        runtime.store.close()


def test_the_authoring_commands_still_refuse_a_folder_with_any_problem(folder: Path) -> None:
    with pytest.raises(FileProblems) as caught:
        library(folder)
    assert {Path(p.file).name for p in caught.value.problems} == {"careless.yaml", "deep-mapping.yaml"}


def test_a_clean_folder_reports_no_failed_files(tmp_path: Path) -> None:
    runtime = build_runtime(database_url=f"sqlite:///{tmp_path / 'bot.db'}", flows_dir=write_flows(tmp_path / "f"))
    try:
        assert runtime.library.failed_files == []
        assert metrics.sample("policybot_flow_files_failed") == 0
        response = OpsEndpoints.for_runtime(runtime).respond("/readyz")
        assert response is not None
        assert json.loads(response.body)["checks"]["flows"]["detail"] == "2 flows loaded"
    finally:
        runtime.store.close()
