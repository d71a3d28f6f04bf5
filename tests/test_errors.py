from helpers.errors import printable, quote
from tests.hostile import nested


def test_quote_is_short_for_any_value():
    assert quote("v_Run_g01_c01") == "'v_Run_g01_c01'"
    assert quote(nested(100_000)) == "[[[[...]]]]"      # repr would raise RecursionError
    assert len(quote("x" * 10**6)) < 70 and len(quote(list(range(10**6)))) < 70
    assert quote("line\nbreak\x1b[31m") == "'line\\nbreak\\x1b[31m'"

    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert quote(Broken()).startswith("<Broken")


def test_printable_escapes_control_characters_only():
    assert printable("v_Run_g01_c01") == "v_Run_g01_c01"
    assert printable("a\nb\x1b[2Jc\td") == "a\\nb\\x1b[2Jc\\td"
    assert printable("Café") == "Café"
