"""The engine interface: where a run's stages execute.

An engine takes a :class:`RunRequest` (inputs, settings, store file, checkpoint folder,
where to stop) and returns an :class:`EngineResult`. Two engines exist:

- ``local`` (the default; :class:`wiretrace.engines.local.LocalEngine`): DuckDB and a
  process pool on this machine, results straight into the store.
- ``spark`` (:class:`wiretrace.engines.spark.SparkEngine`, imported lazily; the
  ``spark`` extra): the same stages as Spark jobs, each writing a named Parquet
  checkpoint, then (optionally) loaded into the store.

Both run the same stage functions and kernels; only where the data live and who
schedules the work differ. :class:`Checkpoints` is the stage bookkeeping the Spark
engine uses (engine-neutral, so it is tested without Spark).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wiretrace.errors import ConfigError
from wiretrace.ingest import IngestSummary
from wiretrace.progress import Progress
from wiretrace.settings import Settings

__all__ = [
    "STAGES",
    "Checkpoints",
    "Engine",
    "EngineResult",
    "RunRequest",
    "check_stage",
    "default_checkpoints",
]

#: The named stages, in order. ``--stop-after`` takes one of them.
STAGES = ("ingest", "normalize", "fingerprint", "candidates", "align", "attribute")

#: The file whose presence marks a stage as finished (written last, atomically).
DONE_FILE = "_STAGE_DONE.json"


def check_stage(name: str | None) -> str | None:
    """``name`` when it is a stage (or None); :class:`ConfigError` otherwise."""
    if name is not None and name not in STAGES:
        raise ConfigError(f"--stop-after {name!r}: not a stage (one of {', '.join(STAGES)})")
    return name


def default_checkpoints(db: Path) -> Path:
    """Where checkpoints go without ``--out``: a folder beside the store file
    (``wiretrace.duckdb`` -> ``wiretrace.duckdb.spark/``)."""
    return db.with_name(db.name + ".spark")


@dataclass(frozen=True, slots=True)
class RunRequest:
    """What to run. ``db``: the store file to load results into (None: do not load);
    ``out``: the checkpoint folder (engines that checkpoint); ``stop_after``: the last
    stage to run (None: all); ``master``: the cluster URL (Spark)."""

    paths: tuple[str, ...]
    settings: Settings
    db: Path | None = None
    out: Path | None = None
    stop_after: str | None = None
    master: str | None = None


@dataclass(slots=True)
class EngineResult:
    """What a run did: the ingest summary, each stage's fate (``ran`` or ``skipped``:
    its checkpoint was there), the number of reuse pairs (None when the run stopped
    before they exist) and where the results are."""

    engine: str
    ingest: IngestSummary
    stages: dict[str, str] = field(default_factory=dict)
    pairs: int | None = None
    db: Path | None = None
    out: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.ingest.to_json(),
            "engine": self.engine,
            "stages": dict(self.stages),
            "pairs": self.pairs,
            "db": str(self.db) if self.db is not None else None,
            "out": str(self.out) if self.out is not None else None,
        }


class Engine(Protocol):
    """One way to execute the pipeline."""

    name: str

    def run(self, request: RunRequest, progress: Progress | None = None) -> EngineResult:
        """Run ``request``; raises :class:`~wiretrace.errors.EngineError` when a stage
        fails (finished stages keep their checkpoints)."""
        ...


class Checkpoints:
    """Stage folders under ``root``: ``root/<stage>/<table>/`` (Parquet), finished when
    ``root/<stage>/_STAGE_DONE.json`` exists.

    The marker is written last and atomically (write, then rename), so a stage killed at
    any moment is either finished (marker present, every table complete) or not (no
    marker: its folder is removed and the stage runs again). A finished stage is never
    touched again; delete its folder (and those after it) to recompute it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def table(self, stage: str, table: str) -> Path:
        return self.root / stage / table

    def done(self, stage: str) -> bool:
        return (self.stage_dir(stage) / DONE_FILE).is_file()

    def info(self, stage: str) -> dict[str, Any]:
        """What the finished stage recorded (counts, settings digest)."""
        data: dict[str, Any] = json.loads((self.stage_dir(stage) / DONE_FILE).read_text("utf-8"))
        return data

    def begin(self, stage: str) -> Path:
        """Start ``stage`` afresh: remove what an unfinished attempt left."""
        folder = self.stage_dir(stage)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        return folder

    def finish(self, stage: str, info: dict[str, Any]) -> None:
        """Mark ``stage`` finished (atomic rename of the marker file)."""
        folder = self.stage_dir(stage)
        tmp = folder / (DONE_FILE + ".tmp")
        tmp.write_text(json.dumps(info, sort_keys=True), encoding="utf-8")
        tmp.replace(folder / DONE_FILE)
