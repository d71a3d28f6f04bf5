"""Shared command-line plumbing."""
import errno

import pytest

from helpers.cli import parse_list, run_command
from helpers.errors import UserInputError


def test_lists_refuse_repeats_unless_they_are_weights():
    assert parse_list("0,1,2", "seeds", int) == [0, 1, 2]
    with pytest.raises(UserInputError, match="names an item twice"):
        parse_list("1,1", "seeds", int)
    assert parse_list("1,1,2", "weights", float, unique=False) == [1.0, 1.0, 2.0]


def test_errors_become_one_escaped_line_and_exit_2(capsys):
    def user_error(argv):
        raise UserInputError("data.pkl: clip 'a\nb': field 'label' \x1b[31mred")

    def disk_full(argv):
        raise OSError(errno.ENOSPC, "No space left on device", "runs/x/best.pt")

    def read_only(argv):
        raise PermissionError(errno.EACCES, "Permission denied", "runs/x")

    assert run_command(user_error, []) == 2
    assert capsys.readouterr().err == "error: data.pkl: clip 'a\\nb': field 'label' \\x1b[31mred\n"
    assert run_command(disk_full, []) == 2
    assert capsys.readouterr().err == "error: runs/x/best.pt: No space left on device\n"
    assert run_command(read_only, []) == 2
    assert capsys.readouterr().err == "error: runs/x: Permission denied\n"
