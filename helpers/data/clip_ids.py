"""UCF101-style clip ids: `v_<Class>_g<group>_c<clip>`, e.g. `v_ApplyEyeMakeup_g08_c01`.

UCF101 cuts each long video of a class into clips; the group number names the
video, so clips of one group must never sit on both sides of a split.  Other
ids (JHMDB's `clap_train1_0007`, a folder import's `<class>/<stem>`) carry a
group when they end in `_gXX_cYY`, and a class name only in the full form.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# ASCII digits only, and \Z rather than $ (which would also match before a trailing newline)
_ID = re.compile(r"(?:\Av_(?P<name>[A-Za-z0-9]+))?_g(?P<group>[0-9]+)_c(?P<clip>[0-9]+)\Z")


@dataclass(frozen=True)
class ClipId:
    """The parts of a UCF101-style id; `class_name` is None unless the id is the full `v_<Class>_gXX_cYY`."""

    class_name: str | None
    group: int
    clip: int


def parse_clip_id(frame_dir: str) -> ClipId | None:
    """'v_Run_g08_c01' -> ClipId('Run', 8, 1); 'jump/clip_g02_c03' -> ClipId(None, 2, 3); others -> None."""
    match = _ID.search(frame_dir) if isinstance(frame_dir, str) else None
    if match is None:
        return None
    return ClipId(match["name"], int(match["group"]), int(match["clip"]))


def group_of(frame_dir: str) -> str | None:
    """The group of a UCF-style clip id ('v_Name_g08_c01' -> 'g08'), or None."""
    parsed = parse_clip_id(frame_dir)
    return None if parsed is None else f"g{parsed.group:02d}"
