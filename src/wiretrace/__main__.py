"""``python -m wiretrace`` runs the CLI."""

from wiretrace.cli import main

if __name__ == "__main__":
    main()
