"""Shared command-line plumbing: user errors become one line on stderr and a non-zero exit."""
from __future__ import annotations

import sys
from typing import Callable

from helpers.errors import UserInputError


def run_command(main: Callable[[list[str] | None], int | None], argv: list[str] | None = None) -> int:
    """Run `main(argv)`; a UserInputError or missing file prints 'error: ...' and returns 2."""
    try:
        return int(main(argv) or 0)
    except (UserInputError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
