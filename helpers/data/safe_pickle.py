"""A restricted, bounded unpickler for dataset files.

A pickle can run arbitrary code while it loads.  Skeleton datasets only ever
contain plain containers, numbers, strings and numpy arrays, so only the few
globals needed to rebuild numpy arrays are allowed, each replaced by a checked
version; anything else is refused before it is called.

A small file must not make a huge cost either.  Every numpy array is rebuilt
from data that the file itself holds, after its shape, dtype and data length
were checked (numpy's own `__setstate__` reads past a short list of an object
array, and `_reconstruct` allocates whatever shape it is given: neither runs
unchecked).  After loading, one walk over the result replaces the checked
stand-ins by their arrays and enforces the bounds below, so that later code
(validation, the cache's JSON index, error messages) never meets more than the
file could plainly hold:

- `MAX_DEPTH` levels of containers inside containers;
- no reference cycles;
- at most `expansion_limit(size)` values when every reference to a shared
  container is counted in full (pickles share repeated objects by reference,
  so a few KB can describe an exponentially large tree);
- at most `array_bytes_limit(size)` bytes of arrays when an array referenced
  from several places is counted for each (every clip of a file pointing at one
  array would otherwise make a cache, or a training run, of size clips x array);
- while unpickling, at most `memory_allowance(size)` more bytes of address space
  (Linux: a temporary RLIMIT_AS): Python's C unpickler sizes its memo table by
  the largest index a PUT opcode names, so ten bytes can make it fill gigabytes.

A file that breaks a bound is refused with an error naming the file.
"""
from __future__ import annotations

import collections
import contextlib
import gc
import math
import os
import pickle
import threading
from pathlib import Path

import numpy as np

from helpers.errors import UserInputError, printable

MAX_DEPTH = 32                 # containers inside containers; a dataset file needs 4
EXPANSION_PER_BYTE = 4         # values per byte of file, shared containers counted in full ...
EXPANSION_BASE = 1_000_000     # ... plus this many
ARRAY_BYTES_PER_BYTE = 2       # array bytes per byte of file, a shared array counted per reference ...
ARRAY_BYTES_BASE = 64 << 20    # ... plus 64 MiB
MEMORY_PER_BYTE = 3            # address space while unpickling, per byte of file ...
MEMORY_BASE = 256 << 20        # ... plus 256 MiB
MAX_DIMS = 32                  # array dimensions (numpy's own limit is 64)
_LATIN1 = {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1"}
_FLEXIBLE_KINDS = {"U", "S", "V"}  # dtypes whose item size is part of their pickled state


class UnsafePickleError(UserInputError):
    """The pickle references something other than plain data and numpy arrays."""


def expansion_limit(file_size: int) -> int:
    """The most values a pickle of `file_size` bytes may unfold to (shared containers counted in full)."""
    return EXPANSION_PER_BYTE * file_size + EXPANSION_BASE


def memory_allowance(file_size: int) -> int:
    """The most address space an unpickle of `file_size` bytes may add (the data, copies of it, objects)."""
    return MEMORY_PER_BYTE * file_size + MEMORY_BASE


def array_bytes_limit(file_size: int) -> int:
    """The most array bytes a pickle of `file_size` bytes may unfold to (a shared array counted per reference)."""
    return ARRAY_BYTES_PER_BYTE * file_size + ARRAY_BYTES_BASE


class _Refused(Exception):
    """Raised inside the unpickler's stand-ins; safe_load adds the file name."""


def _shape(value, what: str) -> tuple[int, ...]:
    if type(value) is tuple and len(value) <= MAX_DIMS:
        for n in value:
            if type(n) is not int or n < 0:
                break
        else:
            return value
    raise _Refused(f"{what}: shape must be a tuple of at most {MAX_DIMS} non-negative integers")


class _Dtype:
    """Stand-in for `numpy.dtype(spec)`: plain (not structured, not sub-array, not datetime) dtypes only;
    its pickled state may set the byte order, nothing else."""

    __slots__ = ("dtype", "itemsize", "hasobject")

    def __init__(self, spec, align=False, copy=True):
        if not isinstance(spec, str) or len(spec) > 16:
            raise _Refused("numpy.dtype: expected a short type code such as 'f2'")
        try:
            dtype = np.dtype(spec)
        except TypeError:
            raise _Refused(f"numpy.dtype: unknown type code {spec[:16]!r}") from None
        if dtype.fields is not None or dtype.subdtype is not None or dtype.kind in "mM":
            raise _Refused(f"numpy.dtype {spec!r}: only plain number, string and object dtypes are allowed")
        self.dtype, self.itemsize, self.hasobject = dtype, dtype.itemsize, dtype.hasobject

    def __setstate__(self, state):
        dtype = self.dtype
        flexible = dtype.kind in _FLEXIBLE_KINDS
        size = (dtype.itemsize, dtype.alignment) if flexible else (-1, -1)
        if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3 and state[1] in ("<", ">", "|", "=")
                and state[2:5] == (None, None, None) and tuple(state[5:7]) == size and state[7] == dtype.flags):
            raise _Refused(f"numpy.dtype {dtype.str}: unexpected pickled state (only the byte order may be set)")
        if state[1] in "<>" and dtype.byteorder != "|":
            self.dtype = dtype.newbyteorder(state[1])  # the item size and kind stay


def _real_dtype(value, what: str) -> np.dtype:
    if type(value) is not _Dtype:
        raise _Refused(f"{what}: expected a numpy dtype")
    return value.dtype


class _NdarrayType:
    """Stand-in for the `numpy.ndarray` global: an argument of `_reconstruct`, never called."""

    def __new__(cls, *args, **kwargs):
        raise _Refused("it calls numpy.ndarray directly (an allocation without data)")


class _Array:
    """Stand-in for `numpy.core.multiarray._reconstruct(ndarray, shape, typecode)`; the array is made by
    `__setstate__` (the pickle's BUILD) from checked state: data bytes of exactly the declared size, or
    for object arrays a list of exactly as many items."""

    __slots__ = ("array", "plain")

    def __init__(self, cls=None, shape=(0,), typecode=b"b"):
        if cls is not _NdarrayType:
            raise _Refused("numpy _reconstruct: only plain numpy arrays may be rebuilt")
        if shape != (0,):  # what numpy writes; anything else is checked, and never allocated
            _shape(shape, "numpy _reconstruct")
        self.array = None
        self.plain = False  # True once built without objects inside: then it is a leaf

    def __setstate__(self, state):
        # runs once per array of the file: the common case (5-tuple, bytes data) is kept short
        if type(state) is not tuple or len(state) != 5:
            if type(state) is not tuple or len(state) != 4:
                raise _Refused("numpy array: unexpected pickled state")
            state = (1, *state)
        _, shape, holder, fortran, data = state
        if type(holder) is not _Dtype or type(fortran) is not bool or type(shape) is not tuple \
                or len(shape) > MAX_DIMS:
            raise _Refused("numpy array: unexpected pickled state (shape, dtype, order)")
        count = 1
        for n in shape:
            if type(n) is not int or n < 0:
                raise _Refused(f"numpy array: shape must be a tuple of at most {MAX_DIMS} non-negative integers")
            count *= n
        if type(data) is bytes and not holder.hasobject:
            if len(data) != count * holder.itemsize:
                raise _Refused(f"numpy array {holder.dtype.str} {shape}: needs {count * holder.itemsize} bytes "
                               f"of data, the file gives {len(data)}")
            if holder.itemsize == 0 and count > 0:
                raise _Refused(f"numpy array of shape {shape}: items of size 0")
        elif type(data) is str and not holder.hasobject:  # a text state: latin-1 bytes (Python 2 pickles)
            return self.__setstate__((1, shape, holder, fortran, data.encode("latin-1")))
        elif holder.hasobject:
            if type(data) is not list or len(data) != count:
                raise _Refused(f"numpy object array of shape {shape}: expected a list of {count} items")
        else:
            raise _Refused(f"numpy array {holder.dtype.str} {shape}: its data is a {type(data).__name__}, "
                           "not bytes")
        array = _NUMPY_RECONSTRUCT(np.ndarray, (0,), b"b")
        array.__setstate__((1, shape, holder.dtype, fortran, data))
        self.array = array
        self.plain = not holder.hasobject


def _frombuffer(buffer, dtype, shape, order, axis_order=None):
    """Checked `numpy.core.numeric._frombuffer` (protocol 5 arrays): the buffer holds exactly the data."""
    dtype = _real_dtype(dtype, "numpy array")
    shape = _shape(shape, "numpy array")
    if dtype.hasobject or dtype.itemsize == 0:
        raise _Refused(f"numpy array: a buffer cannot hold {dtype.str} items")
    if type(buffer) not in (bytes, bytearray) or len(buffer) != math.prod(shape) * dtype.itemsize:
        raise _Refused(f"numpy array {dtype.str} {shape}: needs {math.prod(shape) * dtype.itemsize} bytes of data")
    array = np.frombuffer(buffer, dtype=dtype)
    if order == "K" and axis_order is not None:
        if not isinstance(axis_order, tuple) or sorted(axis_order) != list(range(len(shape))):
            raise _Refused("numpy array: axis_order must be a permutation of the dimensions")
        return array.reshape(shape, order="C").transpose(axis_order)
    if order not in ("C", "F"):
        raise _Refused("numpy array: order must be 'C' or 'F'")
    return array.reshape(shape, order=order)


def _scalar(dtype, data=None):
    """Checked `numpy.core.multiarray.scalar`: a numpy scalar from exactly one item's bytes."""
    dtype = _real_dtype(dtype, "numpy scalar")
    if dtype.hasobject:
        return data
    if type(data) is not bytes or len(data) != dtype.itemsize:
        raise _Refused(f"numpy scalar {dtype.str}: needs {dtype.itemsize} bytes of data")
    return _NUMPY_SCALAR(dtype, data)


def _encode(text, encoding="utf-8", errors="strict"):
    """Checked `_codecs.encode`: protocol 2 pickles store bytes as a latin-1 string, and need nothing else."""
    if type(text) is not str or not isinstance(encoding, str) or encoding.lower() not in _LATIN1 \
            or errors != "strict":
        raise _Refused("it calls codecs.encode with other arguments than a latin-1 string")
    return text.encode("latin-1")


def _empty_bytes(*args):
    """Checked `bytes()`: protocol 0-2 pickles store empty bytes (an empty array's data) as a call to bytes."""
    if args:
        raise _Refused("it calls bytes with arguments")
    return b""


_NUMPY_RECONSTRUCT = np._core.multiarray._reconstruct if hasattr(np, "_core") else np.core.multiarray._reconstruct
_NUMPY_SCALAR = np._core.multiarray.scalar if hasattr(np, "_core") else np.core.multiarray.scalar

# (module, name) a skeleton dataset pickle legitimately references -> what it gets instead
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): _NdarrayType,
    ("numpy", "dtype"): _Dtype,
    ("collections", "OrderedDict"): collections.OrderedDict,
    # protocol 2 pickles encode raw bytes through codecs.encode
    ("_codecs", "encode"): _encode,
    ("codecs", "encode"): _encode,
    ("__builtin__", "bytes"): _empty_bytes,
    ("builtins", "bytes"): _empty_bytes,
}
for _module in ("numpy.core", "numpy._core"):
    _ALLOWED_GLOBALS[(f"{_module}.multiarray", "_reconstruct")] = _Array
    _ALLOWED_GLOBALS[(f"{_module}.multiarray", "scalar")] = _scalar
    _ALLOWED_GLOBALS[(f"{_module}.numeric", "_frombuffer")] = _frombuffer


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str):
        allowed = _ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(
                f"{self._source}: refused to load pickle: it references '{printable(module)[:80]}."
                f"{printable(name)[:80]}', which is not plain data (only containers, numbers, strings and "
                "numpy arrays are allowed)")
        return allowed

    def persistent_load(self, pid):
        raise _Refused("it uses persistent ids (PERSID), which plain data never needs")


_LEAVES = frozenset({str, int, float, bool, type(None), bytes, bytearray, complex})
_KEYS = frozenset({str, int, float, bool, type(None), bytes})
_CONTAINERS = frozenset({list, dict, tuple, set, frozenset, collections.OrderedDict})
_IN_PROGRESS = object()


def _refuse_in_set(key, new) -> None:
    """The store of a set's items: a set can hold no array (its items are never replaced)."""
    raise _Refused("it holds an array inside a set")


class _Finisher:
    """One walk over a loaded pickle: stand-ins become arrays and dtypes, bounds are enforced.

    Each value finishes to (finished value, expanded size, height, array bytes): the
    values and array bytes it unfolds to when every reference is followed, and its
    nesting height.  `memo` maps id(container) -> that tuple, so a shared container
    is walked once however often it is referenced, while each reference still counts
    in full.  Leaves (strings, numbers) and plain arrays are handled inline: a dataset
    file is mostly lists of ids and dicts of arrays.
    """

    def __init__(self, limit: int, byte_limit: int):
        self.limit, self.byte_limit = limit, byte_limit
        self.memo: dict[int, tuple] = {}
        self.keep: list = []  # the walked containers, alive until the walk ends, so that ids stay unique

    def finish(self, value, depth: int = 0) -> tuple:
        kind = type(value)
        if kind in _LEAVES:
            return value, 1, 0, 0
        if kind is np.ndarray:  # from _frombuffer: never of objects
            return value, 1, 0, value.nbytes
        if kind is _Array:
            if value.plain:
                return value.array, 1, 0, value.array.nbytes
            if value.array is None:
                raise _Refused("it holds an array without data (numpy _reconstruct without its state)")
        elif kind is _Dtype:
            return value.dtype, 1, 0, 0
        elif kind not in _CONTAINERS:
            if isinstance(value, np.generic):
                return value, 1, 0, 0
            raise _Refused(f"it holds a {kind.__name__} object, which is not plain data")
        key = id(value)
        known = self.memo.get(key)
        if known is not None:
            if known is _IN_PROGRESS:
                raise _Refused("it contains a reference cycle (a container inside itself)")
            if depth + known[2] > MAX_DEPTH:
                raise _Refused(f"it nests containers more than {MAX_DEPTH} levels deep")
            return known
        if depth >= MAX_DEPTH:
            raise _Refused(f"it nests containers more than {MAX_DEPTH} levels deep")
        self.memo[key] = _IN_PROGRESS
        self.keep.append(value)
        if kind is dict or kind is collections.OrderedDict:
            result = self._dict(value, depth + 1)
        elif kind is list:
            result = (value, *self._sequence(value, depth + 1, value))
        elif kind is tuple:
            result = self._tuple(value, depth + 1)
        elif kind is _Array:  # an object array: its items may be arrays themselves
            array = value.array
            items = array.reshape(-1).tolist()
            old = list(items)
            counts = self._sequence(items, depth + 1, items)
            for i, (new, was) in enumerate(zip(items, old)):
                if new is not was:
                    array[np.unravel_index(i, array.shape)] = new
            result = (array, *counts)
        else:  # set, frozenset: hashable items only, which are never stand-ins
            result = (value, *self._sequence(list(value), depth + 1, None))
        if result[1] > self.limit:
            raise _Refused(f"it unfolds to more than {self.limit:,} values (shared references counted in full; "
                           f"the bound is {EXPANSION_PER_BYTE} per byte of file + {EXPANSION_BASE:,})")
        if result[3] > self.byte_limit:
            raise _Refused(f"its arrays unfold to more than {self.byte_limit:,} bytes (an array shared by "
                           f"several references counted for each; the bound is {ARRAY_BYTES_PER_BYTE} per byte "
                           f"of file + {ARRAY_BYTES_BASE:,})")
        self.memo[key] = result
        return result

    def _items(self, pairs, depth: int, store) -> tuple[int, int, int]:
        """Finish each item of (key, item) `pairs`, passing changed ones to `store(key, new)`;
        returns (size, height, bytes)."""
        size, height, nbytes = 1, 0, 0
        for key, item in pairs:
            kind = type(item)
            if kind in _LEAVES:  # the common case (ids, names, numbers), kept fast
                size += 1
                continue
            if kind is _Array and item.plain:  # a clip's keypoint arrays
                store(key, item.array)
                size += 1
                nbytes += item.array.nbytes
                continue
            new, item_size, item_height, item_bytes = self.finish(item, depth)
            size += item_size
            nbytes += item_bytes
            if item_height > height:
                height = item_height
            if new is not item:
                store(key, new)
        return size, height + 1, nbytes

    def _sequence(self, items: list, depth: int, target: list | None) -> tuple[int, int, int]:
        """Finish each item of `items`, writing changed ones into `target`; returns (size, height, bytes)."""
        return self._items(enumerate(items), depth, _refuse_in_set if target is None else target.__setitem__)

    def _tuple(self, value: tuple, depth: int) -> tuple:
        if _LEAVES.issuperset(map(type, value)):  # img_shape and the like
            return value, len(value) + 1, 1, 0
        items = list(value)
        size, height, nbytes = self._sequence(items, depth, items)
        changed = any(a is not b for a, b in zip(items, value))
        return (tuple(items) if changed else value), size, height, nbytes

    def _dict(self, value: dict, depth: int) -> tuple:
        if not _KEYS.issuperset(map(type, value)):
            for key in value:
                if type(key) not in _KEYS and not (type(key) is tuple and _KEYS.issuperset(map(type, key))):
                    raise _Refused(f"it has a dict key of type {type(key).__name__}, which is not plain data")
        # writing back to an existing key: the dict's size does not change while it is iterated
        size, height, nbytes = self._items(value.items(), depth, value.__setitem__)
        return value, size + len(value), height, nbytes  # its keys count too


_LIMIT_LOCK = threading.Lock()  # one bounded load at a time: the address-space limit is per process


def _address_space() -> int | None:
    """This process's mapped address space in bytes (VmSize), or None where /proc is missing."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


@contextlib.contextmanager
def _bounded_address_space(allowance: int):
    """Lower RLIMIT_AS to the current address space + `allowance` for the block (where the platform has it)."""
    with _LIMIT_LOCK:
        try:
            import resource

            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        except (ImportError, AttributeError, OSError, ValueError):
            yield
            return
        used = _address_space()
        limit = None if used is None else used + allowance
        if limit is not None and hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if limit is None or (soft != resource.RLIM_INFINITY and soft <= limit):
            yield
            return
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        except (OSError, ValueError):
            yield
            return
        try:
            yield
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def gc_paused():
    """Pause the cyclic garbage collector while plain data is made: unpickling (and opening a cache's
    index) makes up to millions of containers without cycles, and collections along the way cost more
    the more a process holds (seconds for a deeply nested file under pytest)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def safe_load(path: str | os.PathLike):
    """Unpickle `path` allowing only plain data and numpy arrays, within the bounds of the module docstring.

    Raises UnsafePickleError for anything but plain data, UserInputError (naming the
    file) for malformed, truncated or oversized content.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"{path}: file not found")
    try:
        with open(path, "rb") as file, gc_paused():
            size = os.fstat(file.fileno()).st_size
            with _bounded_address_space(memory_allowance(size)):
                loaded = _RestrictedUnpickler(file, str(path)).load()
            return _Finisher(expansion_limit(size), array_bytes_limit(size)).finish(loaded)[0]
    except UserInputError:
        raise
    except _Refused as error:
        raise UnsafePickleError(f"{path}: refused to load pickle: {error}") from None
    except MemoryError:
        raise UserInputError(f"{path}: refused to load pickle: unpickling it needs more memory than a file of its "
                             f"size may take ({MEMORY_PER_BYTE} bytes per byte + {MEMORY_BASE >> 20} MiB), or "
                             "than there is") from None
    except Exception as error:  # whatever a malformed pickle makes the unpickler raise
        detail = printable(str(error))
        detail = detail if len(detail) <= 120 else detail[:117] + "..."
        raise UserInputError(f"{path}: not a readable pickle ({type(error).__name__}: {detail})") from None
