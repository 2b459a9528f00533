"""A ZIP's members, as the decoders and the radar composites read them: in natural name order,
without what macOS and Windows add, within the size limits, one member's bytes at a time."""

from __future__ import annotations

import re
import zipfile
from pathlib import PurePosixPath

from ..limits import ARCHIVE_SUFFIXES, SequenceError, check_zip_sizes, failures_as


def zip_members(name: str, archive: zipfile.ZipFile, what: str) -> list[tuple[str, zipfile.ZipInfo]]:
    """The files of a ZIP as (base name, entry), in natural name order, within the size limits: folders and what
    macOS and Windows add skipped, another archive inside refused (``what`` names what belongs there instead)."""
    members = []
    for info in archive.infolist():
        member = info.filename.replace("\\", "/")
        base = PurePosixPath(member).name
        if info.is_dir() or _is_junk(member):
            continue
        if PurePosixPath(base).suffix.lower() in ARCHIVE_SUFFIXES and not base.lower().endswith(".pgm.gz"):
            raise SequenceError(f"{name}: contains another archive ({base}). Put the {what} directly in one ZIP.")
        members.append((base, info))
    check_zip_sizes(name, [info for _, info in members])
    # Folders inside the ZIP are fine: order by file name, naturally; names are never paths.
    return sorted(members, key=lambda m: (natural_key(m[0]), m[1].filename))


def read_member(name: str, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with failures_as(f"{name}: this ZIP file is damaged or uses a compression that can't be read."):
        with archive.open(info) as member:
            # ZipExtFile stops at the declared size and checks the CRC, so a lying header can't expand further.
            return member.read(info.file_size)


def _is_junk(member: str) -> bool:
    # What macOS and Windows add to a ZIP: __MACOSX/ copies, ._ and .DS_Store files, thumbnails.
    base = PurePosixPath(member).name
    return "__MACOSX/" in f"/{member}" or base.startswith(".") or base in ("Thumbs.db", "desktop.ini")


def natural_key(name: str) -> list:
    # "frame2" before "frame10": re.split with a group puts the digit runs at the odd places.
    return [int(part) if i % 2 else part.lower() for i, part in enumerate(re.split(r"(\d+)", name))]
