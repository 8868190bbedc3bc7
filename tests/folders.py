"""Folders as other users' permissions make them, for tests that must also pass when run as root.

Root ignores mode bits, so a folder chmod'ed read-only is still writable to it. `cannot_write`
therefore also gives up CAP_DAC_OVERRIDE in the calling thread while it is active (Linux; what
the thread then does is refused by the kernel exactly as for an ordinary user). SQLite opens its
files in the calling thread, so a compile run inside the block meets a real read-only folder.
"""
from __future__ import annotations

import ctypes
import os
import stat
from contextlib import contextmanager

import pytest

_CAP_DAC_OVERRIDE = 1
_CAP_V3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


@contextmanager
def _without_dac_override():
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _Header(_CAP_V3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip("cannot read this thread's capabilities")
    saved = data[0].effective
    data[0].effective &= ~(1 << _CAP_DAC_OVERRIDE)
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE, so root would write a read-only folder anyway")
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0


def _chmod_tree(path: str, change) -> None:
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            full = os.path.join(root, name)
            os.chmod(full, change(stat.S_IMODE(os.lstat(full).st_mode)))
    os.chmod(path, change(stat.S_IMODE(os.stat(path).st_mode)))


@contextmanager
def cannot_write(path: str):
    """`path` and everything in it read-only for this user (root included) inside the block."""
    _chmod_tree(path, lambda mode: mode & ~0o222)
    try:
        with _without_dac_override():
            yield
    finally:
        _chmod_tree(path, lambda mode: mode | 0o200)


def someone_elses_folder(tmp_path) -> str:
    """A folder owned by another user: under root, a new one given to `nobody`; otherwise the
    root folder, which an ordinary user does not own."""
    if os.geteuid() != 0:
        return "/"
    path = tmp_path / "theirs"
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    return str(path)
