"""``python -m wiretrace`` and the ``wiretrace`` command run the CLI.

The CLI (with DuckDB, pyarrow and scipy) is imported only when this runs as the
program: worker processes import the parent's main module before anything else, and
this one costs them nothing (importing the CLI took each ingest worker 0.4 s of CPU).
"""


def run() -> None:
    """The ``wiretrace`` command."""
    from wiretrace.cli import main

    main()


if __name__ == "__main__":
    run()
