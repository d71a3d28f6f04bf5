"""The project's one exception type for bad user input (files, fields, settings).

Commands print these as a one-line reason and exit non-zero, without a traceback;
anything else is a bug and keeps its traceback.
"""


class UserInputError(ValueError):
    """Bad input from the user: the message names the file and the field."""
