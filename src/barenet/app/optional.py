"""Subcommand families that need an optional extra (``pip install 'barenet[tune]'``).

Without the extra, the family still appears in ``barenet --help``, and running it says
which extra to install instead of breaking every other subcommand at import time.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType, SimpleNamespace

from barenet.app.exit_codes import EXIT_FAILED


def family(
    name: str, extra: str, help_text: str, module: str | None = None
) -> ModuleType | SimpleNamespace:
    """``module`` (by default ``barenet.app.<name>``), the subcommand's module with its
    ``register``, or a stand-in whose subcommand names the missing extra."""
    try:
        return importlib.import_module(module or f"barenet.app.{name}")
    except ModuleNotFoundError as error:
        return _missing(name, extra, help_text, error.name or str(error))


def _missing(name: str, extra: str, help_text: str, module: str) -> SimpleNamespace:
    def run(args: argparse.Namespace) -> int:
        print(
            f"barenet {name}: error: needs {module}, which is not installed; "
            f"install it with: pip install 'barenet[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_FAILED

    def register(subparsers: argparse._SubParsersAction) -> None:
        # No option prefix: every argument, "--trials" included, lands in "rest", so the
        # missing extra is named whatever options were typed.
        parser = subparsers.add_parser(
            name,
            help=f"{help_text} (needs: pip install 'barenet[{extra}]')",
            add_help=False,
            prefix_chars="\0",
        )
        parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
        parser.set_defaults(func=run)

    return SimpleNamespace(register=register)
