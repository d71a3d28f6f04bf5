"""A restricted unpickler for dataset files.

A pickle can run arbitrary code while it loads.  Skeleton datasets only ever
contain plain containers, numbers, strings and numpy arrays, so only the few
globals needed to rebuild numpy arrays are allowed; anything else is refused
before it is called.
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

from helpers.errors import UserInputError

# (module, name) pairs a skeleton dataset pickle legitimately references.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    # protocol 2 pickles of numpy arrays encode raw bytes through codecs.encode
    ("_codecs", "encode"),
    ("codecs", "encode"),
    ("collections", "OrderedDict"),
}


class UnsafePickleError(UserInputError):
    """The pickle references something other than plain data and numpy arrays."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS or (module == "numpy.dtypes" and name.endswith("DType")):
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"{self._source}: refused to load pickle: it references '{module}.{name}', "
            "which is not plain data (only containers, numbers, strings and numpy arrays are allowed)"
        )


def safe_load(path: str | os.PathLike):
    """Unpickle `path` allowing only plain data and numpy arrays; raises UnsafePickleError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    with open(path, "rb") as file:
        try:
            return _RestrictedUnpickler(file, str(path)).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError) as error:
            raise UserInputError(f"{path}: not a readable pickle ({type(error).__name__}: {error})") from None
