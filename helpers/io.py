"""Atomic file writes: a temp file in the target folder, then `os.replace`.

A crash or a full disk never leaves a half-written result under the final name.
Temp files are named `.<name>.<pid>-<random>.tmp`; a write removes those of
earlier writes of the same file whose process has died (killed mid-write).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Callable, IO, Iterator

_LEGACY_AGE = 3600.0  # seconds after which a temp file without a pid (older naming) counts as abandoned


def pid_alive(pid: int) -> bool:
    """Whether a process with id `pid` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> None:
    """Delete temp files of earlier atomic writes of `path` left by processes that have died."""
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)-)?[a-z0-9_]{{8}}\.tmp")
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if not match:
            continue
        try:
            abandoned = (not pid_alive(int(match[1])) if match[1]
                         else time.time() - entry.stat().st_mtime > _LEGACY_AGE)
            if abandoned:
                entry.unlink()
        except OSError:
            pass  # removed meanwhile, or not ours to remove


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], None]) -> Path:
    """Call `write(file)` on a temp file beside `path`, then rename it to `path`.

    An OSError (a read-only folder, a full disk) is raised naming `path`, not the temp file.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    except OSError as error:
        raise OSError(error.errno, error.strerror or str(error), str(path)) from error
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        os.replace(temp_name, path)
    except BaseException as error:
        Path(temp_name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise OSError(error.errno, error.strerror or str(error), str(path)) from error
        raise
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temp file name beside `path`, with the same suffix, for writers that need a file name
    (video encoders); renamed to `path` when the block ends without an error, removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    os.close(handle)
    temp = Path(temp_name)
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def atomic_write_json(path: str | os.PathLike, value) -> Path:
    return atomic_write_text(path, json.dumps(value, indent=2, default=str) + "\n")
