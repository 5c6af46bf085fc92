"""Entry point of the packaged program: the same command line as `handviewer` / `python -m handviewer`."""

from handviewer.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
