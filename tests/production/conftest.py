"""Production tests reuse the Slack test tools (fake Web API, signed requests), which live as
top-level modules in tests/slack; put that folder on the import path for them."""

from __future__ import annotations

import sys
from pathlib import Path

SLACK_TEST_TOOLS = Path(__file__).resolve().parents[1] / "slack"
if str(SLACK_TEST_TOOLS) not in sys.path:
    sys.path.insert(0, str(SLACK_TEST_TOOLS))
