"""ssh's rule for what the store trusts: a folder or file that another user can change is refused.

Whoever can write the cache folder can replace the kernel modules that the compile imports, and
whoever can write (or read) the secret can sign entries. So, as ssh does for ~/.ssh and its keys
(StrictModes), the cache folder and the secret's folder must be owned by the user and not writable
by group or others, and the secret file must be readable by its owner alone. Anything else is
refused with the path and the command that fixes it; nothing is silently repaired, since a folder
another user could write may already hold what they planted.
"""
from __future__ import annotations

import os
import stat


class UnsafePath(RuntimeError):
    """A folder or file that someone other than the user could change (or read, for the secret)."""


def ensure_private_folder(path: str, what: str) -> None:
    """Create `path` with mode 0700 if it is absent, then check it as `check_private_folder` does.
    OSError (a parent that cannot be written, ...) is the caller's to handle."""
    try:
        os.makedirs(path, mode=0o700)  # the leaf gets 0700; parents that exist are left alone
    except FileExistsError:
        pass
    check_private_folder(path, what)


def check_private_folder(path: str, what: str) -> os.stat_result:
    """The folder's stat when it is a folder owned by this user that group and others cannot
    write; UnsafePath naming the fix otherwise."""
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafePath(f"{what} {path} is not a folder; remove it or choose another folder")
    _check_owner(path, st, what)
    if st.st_mode & 0o022:
        who = " and ".join(w for w, bit in (("group", 0o020), ("others", 0o002)) if st.st_mode & bit)
        raise UnsafePath(f"{what} {path} is writable by {who} (mode {stat.S_IMODE(st.st_mode):04o}), so they could "
                         f"plant code in it; fix: chmod go-w {path}")
    return st


def check_private_file(fd: int, path: str, what: str) -> None:
    """An open file (fstat, so it is the file read, not whatever the path names by now) must be
    a regular file owned by this user that nobody else can read or write."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePath(f"{what} {path} is not a regular file; remove it (a new one is created)")
    _check_owner(path, st, what)
    if st.st_mode & 0o077:
        raise UnsafePath(f"permissions {stat.S_IMODE(st.st_mode):04o} for {what} {path} are too open; "
                         f"fix: chmod 600 {path}")


def _check_owner(path: str, st: os.stat_result, what: str) -> None:
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise UnsafePath(f"{what} {path} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}); "
                         "use one of your own")
