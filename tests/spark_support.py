"""One local Spark session per test module (shared by the Spark test files)."""

from __future__ import annotations

from collections.abc import Iterator


def local_spark(master: str, app: str, log_level: str) -> Iterator[object]:
    """A small local session (no UI, two shuffle partitions), stopped afterwards."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel(log_level)
    yield session
    session.stop()
