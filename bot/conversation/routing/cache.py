"""The learnt router kept on disk between processes, so `policybot route` does not relearn it.

Learning takes a tenth of a second or so for the shipped flows; a command-line call that routes
once pays that on every run. So the tables (plain numpy arrays, never a pickle) are saved under
the user's cache folder, named by a hash of every flow's id and version and of the learning
settings: an edited flow, or a new release that learns differently, simply gets a new file.
Anything wrong with the folder or a file (read-only, full, corrupt) means learning again, never
an error. POLICYBOT_ROUTING_CACHE=off turns it off; a path there puts it elsewhere.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.conversation.routing import TEMPERATURE, ExampleModel
from bot.conversation.routing.features import CHAR_SIZES
from bot.conversation.routing.model import SMOOTHING
from bot.language.flow_model import Flow

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the tables change shape or meaning
ENV = "POLICYBOT_ROUTING_CACHE"
KEEP = 8  # files kept in the folder; older ones are removed


def folder() -> Path | None:
    setting = os.environ.get(ENV, "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policybot" / "routing"


def key_of(flows: Sequence[Flow]) -> str:
    digest = hashlib.sha256(f"{FORMAT}|{TEMPERATURE}|{SMOOTHING}|{CHAR_SIZES}".encode())
    for flow in flows:
        digest.update(f"|{flow.id}:{flow.version}".encode())
    return digest.hexdigest()[:32]


def load_or_learn(flows: Sequence[Flow]) -> ExampleModel:
    """The model for exactly these flows (in this order): from the cache, or learnt and saved."""
    where = folder()
    path = where / f"{key_of(flows)}.npz" if where is not None else None
    if path is not None and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as saved:
                return ExampleModel.from_tables({name: saved[name] for name in saved.files}, len(flows))
        except Exception as err:  # a broken file is relearnt, whatever broke it
            log.warning("routing cache %s unreadable (%s); learning again", path.name, type(err).__name__)
    model = ExampleModel(flows)
    if path is not None:
        _save(path, model)
    return model


def _save(path: Path, model: ExampleModel) -> None:
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
            temporary = handle.name
            np.savez(handle, **model.tables())  # type: ignore[arg-type]  # names are ours, never allow_pickle
        os.replace(temporary, path)  # whole or not at all, even with replicas writing at once
        temporary = None
        for old in sorted(path.parent.glob("*.npz"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError as err:
        log.info("routing cache not written (%s)", err.strerror or type(err).__name__)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
