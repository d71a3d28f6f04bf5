import errno
import os
import subprocess
import sys
import time

import pytest

from helpers import io
from helpers.io import atomic_write, atomic_write_text


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_temp_files_of_killed_writes_are_removed_at_the_next_write(tmp_path):
    """A write killed with -9 once left .last.pt.*.tmp files behind for good."""
    dead = tmp_path / f".last.pt.{_dead_pid()}-abcd1234.tmp"
    live = tmp_path / f".last.pt.{os.getpid()}-efgh5678.tmp"        # a write of a running process
    old = tmp_path / ".last.pt.ijkl9012.tmp"                          # the naming before pids, long abandoned
    fresh = tmp_path / ".last.pt.mnop3456.tmp"                        # ... and one that may still be written
    other = tmp_path / f".best.pt.{_dead_pid()}-qrst7890.tmp"          # another file's: its own next write
    for path in (dead, live, old, fresh, other):
        path.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    atomic_write_text(tmp_path / "last.pt", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["last.pt", live.name, fresh.name, other.name])


def test_write_errors_name_the_final_file_and_leave_nothing(tmp_path, monkeypatch):
    def full_disk(file):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left on device") as error:
        atomic_write(tmp_path / "best.pt", full_disk)
    assert error.value.filename == str(tmp_path / "best.pt") and list(tmp_path.iterdir()) == []

    def read_only(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / ".best.pt.1-x.tmp"))

    monkeypatch.setattr(io.tempfile, "mkstemp", read_only)
    with pytest.raises(PermissionError) as error:
        atomic_write_text(tmp_path / "best.pt", "x")
    assert error.value.filename == str(tmp_path / "best.pt")
