"""A child process for the crash tests: answers questions as fast as it can and reports each
committed turn on stdout, until it is killed.

Usage: python -m tests.production.crash_writer FLOWS_DIR DATABASE_URL PREFIX
Each line printed is ``<conversation id> <version>``, written only after ``Engine.handle`` has
returned, i.e. after the turn's transaction committed.
"""

from __future__ import annotations

import sys
from itertools import count
from pathlib import Path

from bot.conversation.events import Actor, Choose, Start
from bot.conversation.replies import Question
from tests.production.kit import make_engine


def main() -> None:
    flows_dir, url, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    engine = make_engine(Path(flows_dir), url)
    for n in count():
        actor = Actor(user_id=f"{prefix}:{n % 50}", platform="slack")
        replies = engine.handle(actor, Start(flow_id="chain"))
        question = replies[-1]
        while isinstance(question, Question):
            print(f"{question.conversation_id} {question.turn}", flush=True)
            replies = engine.handle(
                actor, Choose(question.conversation_id, question.state, option=n % 2, turn=question.turn)
            )
            question = replies[-1]
        print(f"{replies[-1].conversation_id} done", flush=True)  # type: ignore[union-attr]


if __name__ == "__main__":
    main()
