"""Opening the user's own files without being led elsewhere: no FIFO, device or foreign file.

A path crmtui reads or writes (config.toml, the cache) may have been replaced by a FIFO
(reading it would wait forever), a device node, a folder, or a symbolic link to a file
of another user. These helpers open first (never blocking: ``O_NONBLOCK``) and then look
at what was opened (``fstat``), so the check and the use are about the same file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotAFile(OSError):
    """The path is not a regular file (or not the user's); ``str()`` says what it is."""

    def __init__(self, path: Path, what: str) -> None:
        super().__init__(f"{path} is {what}")
        self.path = path
        self.what = what


def kind(mode: int) -> str:
    """What a file of ``st_mode`` is, in words: "a folder", "a FIFO (named pipe)"..."""
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def check_regular(path: Path, st: os.stat_result, *, own: bool = False) -> None:
    """Raise ``NotAFile`` unless ``st`` is a regular file (owned by this user if ``own``)."""
    if not stat.S_ISREG(st.st_mode):
        raise NotAFile(path, kind(st.st_mode))
    if own and os.name == "posix" and st.st_uid != os.geteuid():
        raise NotAFile(path, f"owned by another user (uid {st.st_uid})")


def open_regular(path: Path, flags: int = os.O_RDONLY, *, own: bool = False) -> int:
    """A descriptor of the regular file at ``path`` (symbolic links followed), opened
    without blocking on a FIFO; ``NotAFile`` if it is anything else."""
    fd = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        check_regular(path, os.fstat(fd), own=own)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_regular(path: Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit``); ``NotAFile`` otherwise."""
    fd = open_regular(path)
    with os.fdopen(fd, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)
