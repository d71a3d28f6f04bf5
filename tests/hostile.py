"""Hostile inputs shared by the regression tests and the fuzz suite: hand-made pickle opcodes,
tiny checkpoints to tamper with, and a runner that checks a command's one-line failure."""
from __future__ import annotations

import struct
import sys
import traceback
from pathlib import Path

import numpy as np

# ----------------------------------------------------------------------------
# Pickle opcodes (protocol 2), for files no Python object pickles to
# ----------------------------------------------------------------------------

PROTO2 = b"\x80\x02"


def global_(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def text(value: str) -> bytes:
    data = value.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def raw(value: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(value)) + value


def long(value: int) -> bytes:
    data = value.to_bytes((value.bit_length() + 8) // 8 or 1, "little", signed=True)
    return b"\x8a" + bytes([len(data)]) + data


def dtype(code: str, byteorder: str = "<", flags: int = 0, elsize: int = -1, alignment: int = -1) -> bytes:
    """`numpy.dtype(code)` with its pickled state."""
    return (global_("numpy", "dtype") + text(code) + b"\x89\x88\x87R" + b"(" + b"K\x03" + text(byteorder)
            + b"NNN" + b"J" + struct.pack("<i", elsize) + b"J" + struct.pack("<i", alignment)
            + b"J" + struct.pack("<i", flags) + b"tb")


def array(shape: tuple, dtype_opcodes: bytes, data_opcodes: bytes, build: bool = True) -> bytes:
    """`_reconstruct(ndarray, (0,), b'b')`, then BUILD with (1, shape, dtype, False, data) unless not `build`."""
    made = (global_("numpy.core.multiarray", "_reconstruct") + global_("numpy", "ndarray")
            + b"(K\x00t" + raw(b"b") + b"\x87R")
    if not build:
        return made
    return made + b"(K\x01" + b"(" + b"".join(long(n) for n in shape) + b"t" + dtype_opcodes + b"\x89" \
        + data_opcodes + b"tb"


def stop(body: bytes) -> bytes:
    return PROTO2 + body + b"."


HOSTILE_PICKLES = {
    # name: bytes of a whole pickle file that safe_load must refuse quickly, in one line
    "negative dimension": stop(array((-5,), dtype("f8"), raw(b""))),
    "8 TiB declared shape": stop(array((1 << 40,), dtype("f8"), raw(b""))),
    "8 TiB _reconstruct without data": stop(global_("numpy.core.multiarray", "_reconstruct")
                                            + global_("numpy", "ndarray") + b"(" + long(1 << 43) + b"t"
                                            + raw(b"b") + b"\x87R"),
    "ndarray called directly": stop(global_("numpy", "ndarray") + b"(" + long(1 << 43) + b"t\x85R"),
    "object array shorter than its shape": stop(array((1 << 20,), dtype("O8", "|", 63), b"]K\x01a")),
    "extension code": PROTO2 + b"\x82\x01.",
    "persistent id": PROTO2 + b"Pabc\n.",
    "codecs.encode rot13": stop(global_("_codecs", "encode") + text("x") + text("rot13") + b"\x86R"),
    "codecs.encode of an int": stop(global_("_codecs", "encode") + b"K\x01" + text("latin1") + b"\x86R"),
    "list nested 10^6 deep": PROTO2 + b"]" * 1_000_000 + b"a" * 999_999 + b".",
    "cycle": PROTO2 + b"]q\x00h\x00a.",
    "memo index 2^28": PROTO2 + b"]r" + struct.pack("<I", 1 << 28) + b".",
    "os.system": stop(global_("os", "system") + text("true") + b"\x85R"),
}


def shared_references(levels: int = 10, width: int = 8) -> bytes:
    """Lists of `width` references to the list below, `levels` deep: width**levels values (10^9) in a few
    hundred bytes, nested less deeply than MAX_DEPTH."""
    import pickle

    value: list = ["leaf"]
    for _ in range(levels):
        value = [value] * width
    return pickle.dumps(value, protocol=2)


def nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


# ----------------------------------------------------------------------------
# A tiny checkpoint (no training), to tamper with
# ----------------------------------------------------------------------------

def tiny_checkpoint(path: Path, name: str = "baseline", class_names=("a", "b", "c")) -> Path:
    from helpers.config import Config
    from helpers.data.layouts import COCO17
    from helpers.models.registry import build_model, model_kwargs
    from helpers.training.checkpoint import save_checkpoint

    config = Config()
    config.model.name, config.model.hidden_size, config.model.num_layers = name, 8, 1
    kwargs = model_kwargs(config)
    model = build_model(name, len(class_names), COCO17, 2, **kwargs)
    return save_checkpoint(path, model, config, list(class_names), COCO17, 2, kwargs, 1, {"val_f1": 0.5})


# ----------------------------------------------------------------------------
# Running a command the way a user does
# ----------------------------------------------------------------------------

def run_main(main, argv: list[str], capsys) -> tuple[int, str, str]:
    """Run a command's main through helpers.cli.run_command; (exit code, stdout, stderr).

    Anything but a clean exit or a one-line user error escapes run_command as an
    exception: that is a traceback a user would see, and fails the calling test with it.
    """
    from helpers.cli import run_command

    capsys.readouterr()
    try:
        code = run_command(main, [str(a) for a in argv])
    except SystemExit as done:  # argparse
        code = done.code
    except BaseException:
        out, err = capsys.readouterr()
        raise AssertionError(f"traceback from {argv}:\n{traceback.format_exc()}\nstderr:\n{err}") from None
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *fragments: str) -> str:
    """Exit 2 and exactly one 'error: ...' line (warnings aside) holding `fragments`; returns the line.

    Progress bars redraw their line with carriage returns; what is left after the last one is what shows.
    """
    shown = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]
    lines = [line for line in shown if line.strip() and not line.startswith("warning:")]
    assert code == 2, f"exit {code}, stderr: {err}"
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "\x1b" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def tree(folder: Path) -> list[str]:
    """Every path under `folder`, sorted (to assert that nothing was written)."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*")) if Path(folder).exists() else []
