"""Writing a file so that readers see the old one or the whole new one, never a part.

The data goes to a temporary file that mkstemp makes in the target's folder (a unique name, so
two threads or processes writing the same path never share one; the same filesystem, so the
rename is atomic), then os.replace puts it in place.
"""
from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, data: bytes | str, *, fsync: bool = False, mode: int | None = None) -> None:
    """Write `data` (str: as UTF-8) to `path`, creating its folder.

    fsync: flush the file and its folder to disk before returning, for files that are not
    rebuilt if lost (exports, bundles); caches leave it off. mode: the file's permissions;
    by default mkstemp's owner-only 0600."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:  # the rename itself is durable once the folder is
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
