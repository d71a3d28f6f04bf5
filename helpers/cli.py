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


def parse_list(text: str, what: str, cast=str) -> list:
    """'a,b,c' -> [a, b, c] (cast), refusing empty items and repeats."""
    items = [item.strip() for item in text.split(",")]
    try:
        values = [cast(item) for item in items if item]
    except ValueError:
        raise UserInputError(f"--{what}: expected a comma-separated list, got {text!r}") from None
    if not values or len(values) != len(items):
        raise UserInputError(f"--{what}: expected a comma-separated list without empty items, got {text!r}")
    if len(set(values)) != len(values):
        raise UserInputError(f"--{what}: {text!r} names an item twice")
    return values
