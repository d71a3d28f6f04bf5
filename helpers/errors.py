"""The project's one exception type for bad user input (files, fields, settings), and how messages quote input.

Commands print these as a one-line reason and exit non-zero, without a traceback;
anything else is a bug and keeps its traceback.  A message quotes what it was
given through `quote` (bounded length and depth, control characters escaped),
so a hostile value can neither blow up the message nor reach the terminal raw.
"""
from __future__ import annotations

import reprlib


class UserInputError(ValueError):
    """Bad input from the user: the message names the file and the field."""


_QUOTE = reprlib.Repr()
_QUOTE.maxlevel = 3          # nesting shown before '...' ([[[...]]])
_QUOTE.maxstring = 60
_QUOTE.maxother = 60
_QUOTE.maxlist = _QUOTE.maxtuple = _QUOTE.maxdict = _QUOTE.maxset = 6


def quote(value) -> str:
    """A short repr of any value for an error message: at most about 60 characters per item,
    3 levels of nesting and 6 items per container; strings keep repr's escapes (\\n, \\x1b)."""
    try:
        return _QUOTE.repr(value)
    except Exception:  # a value whose own repr fails still gets a message
        return f"<{type(value).__name__}>"


def printable(text: str) -> str:
    """`text` with newlines, terminal escape codes and other non-printable characters escaped
    as repr writes them (no quotes added): for printing ids and names from data files."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
