"""Shared command-line plumbing."""
import pytest

from helpers.cli import parse_list
from helpers.errors import UserInputError


def test_lists_refuse_repeats_unless_they_are_weights():
    assert parse_list("0,1,2", "seeds", int) == [0, 1, 2]
    with pytest.raises(UserInputError, match="names an item twice"):
        parse_list("1,1", "seeds", int)
    assert parse_list("1,1,2", "weights", float, unique=False) == [1.0, 1.0, 2.0]
