"""Engines: where the pipeline runs (see :mod:`wiretrace.engines.base`).

``get_engine("local")`` (the default: DuckDB and a process pool) or
``get_engine("spark")`` (PySpark, imported only here and only when asked for).
"""

from __future__ import annotations

from typing import Any

from wiretrace.engines.base import STAGES, Engine, EngineResult, RunRequest
from wiretrace.errors import ConfigError

__all__ = ["ENGINES", "STAGES", "Engine", "EngineResult", "RunRequest", "get_engine"]

#: Engine names, the default first.
ENGINES = ("local", "spark")


def get_engine(name: str, **options: Any) -> Engine:
    """The engine called ``name``; ``options`` go to its constructor (``spark=`` an
    existing SparkSession for the Spark engine)."""
    if name == "local":
        from wiretrace.engines.local import LocalEngine

        return LocalEngine()
    if name == "spark":
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise ConfigError(
                "the spark engine needs pyspark: pip install 'wiretrace[spark]'"
            ) from None
        from wiretrace.engines.spark import SparkEngine

        return SparkEngine(**options)
    raise ConfigError(f"--engine {name!r}: unknown engine (one of {', '.join(ENGINES)})")
