"""write_atomically: readers see a whole file, and writers of the same path never collide."""
import os
import stat
import threading

import pytest

from torch_llmbackend.atomic_write import write_atomically


def test_threads_writing_one_path_each_leave_a_whole_file(tmp_path):
    """Temp files named by pid alone were shared by the threads of one process: one thread's
    rename took the other's half-written file, or its own rename found nothing."""
    path = str(tmp_path / "out" / "entry.json")
    errors, contents = [], [f"{i}".encode() * 20_000 for i in range(8)]

    def write(data: bytes) -> None:
        try:
            for _ in range(25):
                write_atomically(path, data)
        except Exception as e:  # noqa: BLE001 (collected for the assertion below)
            errors.append(e)

    threads = [threading.Thread(target=write, args=(c,)) for c in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert open(path, "rb").read() in contents
    assert os.listdir(tmp_path / "out") == ["entry.json"]  # no temp file left behind


def test_text_is_utf8_and_mode_is_applied(tmp_path):
    path = tmp_path / "export.json"
    write_atomically(str(path), "ünïcode", fsync=True, mode=0o644)
    assert path.read_text(encoding="utf-8") == "ünïcode"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_atomically(str(path), b"again")
    assert path.read_bytes() == b"again" and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "kept.txt"
    write_atomically(str(path), "old")
    with pytest.raises(TypeError):
        write_atomically(str(path), 42)  # type: ignore[arg-type]
    assert path.read_text() == "old" and os.listdir(tmp_path) == ["kept.txt"]
