"""Hostile or careless flow files, as issue 12 found them: each must be refused by ``validate``
quickly, in little memory, with ``file:line`` messages (tests/core/test_hostile_flows.py).

Each function returns the text of a flow file named ``<id>.yaml``; the ids are the keys of
``HOSTILE``. ``chain_flow`` builds a long but valid flow, for the time ``validate`` takes.
"""

from __future__ import annotations

from collections.abc import Callable


def _flow(flow_id: str, say: str, *, extra_state: str = "") -> str:
    return (
        f"id: {flow_id}\n"
        "title: A hostile flow\n"
        "start: where\n"
        "states:\n"
        "  where:\n"
        "    ask: Where was it posted?\n"
        "    options:\n"
        "      - {label: Here, next: done}\n"
        f"{extra_state}"
        "  done:\n"
        "    verdict: go\n"
        f"    say: {say}\n"
        "    cite: [notts-27]\n"
    )


def huge_text() -> str:
    return _flow("huge-text", "\"{{ 'a' * 10**9 }}\"")


def nested_ranges() -> str:
    return _flow(
        "nested-ranges",
        '"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}"',
    )


def lipsum_bomb() -> str:
    return _flow("lipsum-bomb", '"{{ lipsum(1000000) }}"')


def huge_power() -> str:
    return _flow("huge-power", '"{{ 10**(10**10) }}"')


def power_in_branch() -> str:
    branch = '  check:\n    branch:\n      - if: "10**(10**9) > 1"\n        next: done\n      - else: done\n'
    return _flow("power-in-branch", "Fine.", extra_state=branch).replace("next: done}", "next: check}")


def alias_bomb() -> str:
    """The 'billion laughs' in the triggers: nine levels of nine aliases each, about 650 bytes that
    stand for 387 million texts once every alias is followed."""
    levels = ["&a [" + ", ".join(['"lol"'] * 9) + "]"]
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        levels.append(f"&{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return _flow("alias-bomb", "Fine.").replace("start:", "triggers: [" + ", ".join(levels) + "]\nstart:", 1)


def deep_mapping(depth: int = 50_000) -> str:
    return "id: deep-mapping\nstates: " + "{a: " * depth + "1" + "}" * depth + "\n"


def deep_list(depth: int = 5_000) -> str:
    return "id: deep-list\ntriggers: " + "[" * depth + "]" * depth + "\n"


def too_big(size: int = 1_100_000) -> str:
    filler = "# " + "x" * 78 + "\n"
    return _flow("too-big", "Fine.") + filler * (size // len(filler) + 1)


HOSTILE: dict[str, Callable[[], str]] = {
    "huge-text": huge_text,
    "nested-ranges": nested_ranges,
    "lipsum-bomb": lipsum_bomb,
    "huge-power": huge_power,
    "power-in-branch": power_in_branch,
    "alias-bomb": alias_bomb,
    "deep-mapping": deep_mapping,
    "deep-list": deep_list,
    "too-big": too_big,
}


def chain_flow(states: int, flow_id: str = "long-chain") -> str:
    """A valid flow of ``states`` questions in a row, each with a way back to the start, then one
    outcome: the shape that made reachability and cycle checks slow with the square of its size."""
    lines = [f"id: {flow_id}", "title: A long chain of questions", "start: q0", "states:"]
    for i in range(states - 1):
        lines += [
            f"  q{i}:",
            f"    ask: Question {i} about {{{{ org.name }}}}?",
            "    options:",
            f"      - {{label: Go on, next: {'q' + str(i + 1) if i + 1 < states - 1 else 'done'}}}",
            "      - {label: Start again, next: q0}",
        ]
    lines += ["  done:", "    verdict: go", "    say: You got to the end.", "    cite: [notts-27]"]
    return "\n".join(lines) + "\n"
