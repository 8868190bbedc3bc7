"""The per-user secret that signs store entries, kept outside the cache folder.

A content hash only says an entry is whole: anyone who can write the cache folder can recompute
it. An HMAC keyed by a secret that lives elsewhere (mode 0600, in a 0700 folder of the user's)
says the entry was written by this user's llmbackend, so write access to the cache alone cannot
forge a verified kernel. The secret is 32 random bytes, created on first use; several processes
creating it at once agree on one file (it is linked into place, never overwritten).

Where: $LLMBACKEND_SECRET_FILE, else $XDG_CONFIG_HOME/torch_llmbackend/secret, else
~/.config/torch_llmbackend/secret.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
import threading
from pathlib import Path

from .permissions import UnsafePath, check_private_file, check_private_folder, ensure_private_folder

ENV = "LLMBACKEND_SECRET_FILE"
_BYTES = 32
_loaded: dict[str, bytes] = {}  # path -> secret: read (and checked) once per process
_lock = threading.Lock()


class SecretUnavailable(RuntimeError):
    """The secret cannot be read or created; the message names the path and the fix."""


def secret_path() -> str:
    if os.environ.get(ENV):
        return os.environ[ENV]
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return os.path.join(base, "torch_llmbackend", "secret")


def user_secret() -> bytes:
    """This user's secret, created on first use; SecretUnavailable when it cannot be trusted."""
    path = secret_path()
    with _lock:
        if path not in _loaded:
            try:
                if not os.path.lexists(path):
                    _create(path)
                _loaded[path] = _read(path)
            except UnsafePath as e:
                raise SecretUnavailable(str(e)) from None
            except OSError as e:
                raise SecretUnavailable(f"the store's secret {path} cannot be read or created ({e}); "
                                        f"set {ENV} to a file of your own") from None
        return _loaded[path]


def mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def mac_matches(secret: bytes, message: bytes, claimed: object) -> bool:
    return isinstance(claimed, str) and hmac.compare_digest(mac(secret, message), claimed)


def _create(path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    ensure_private_folder(folder, "the folder of the store's secret")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".secret-")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(_BYTES) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic, and never replaces a secret another process made first
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read(path: str) -> bytes:
    # someone who can write the secret's folder could swap the secret for one they know
    check_private_folder(os.path.dirname(os.path.abspath(path)), "the folder of the store's secret")
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd) as f:
        check_private_file(f.fileno(), path, "the store's secret")
        text = f.read().strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < _BYTES:
        raise UnsafePath(f"the store's secret {path} is malformed; remove it (a new one is created, and "
                         "entries signed with the old one are verified again before use)")
    return secret

