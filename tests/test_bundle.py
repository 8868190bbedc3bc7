"""Bundles: readable files with hashes; anything altered is refused by name."""
import os
import tarfile

import pytest

from torch_llmbackend.store.bundle import BundleError, export_bundle, read_bundle
from torch_llmbackend.store.kernels import KernelEntry


def entries():
    return [KernelEntry(key=c * 64, target="triton", signature=f"sig {c}",
                        source=f"import torch\n\nclass ModelNew(torch.nn.Module):\n    NAME = '{c}'\n",
                        provenance={"author": "curated"}) for c in "ab"]


def test_a_folder_bundle_round_trips_with_readable_sources(tmp_path):
    assert export_bundle(entries(), str(tmp_path / "b"), knowledge=b'{"kb": 1}') == 2
    files = sorted(os.listdir(tmp_path / "b" / "kernels"))
    assert files == ["aaaaaaaaaaaaaaaa_triton.py", "bbbbbbbbbbbbbbbb_triton.py"]
    assert "class ModelNew" in (tmp_path / "b" / "kernels" / files[0]).read_text()
    read = read_bundle(str(tmp_path / "b"))
    assert [e.key for e in read.entries] == ["a" * 64, "b" * 64] and read.refused == []
    assert read.entries[0].source == entries()[0].source
    assert read.knowledge == b'{"kb": 1}'


def test_a_tarball_bundle_round_trips(tmp_path):
    export_bundle(entries(), str(tmp_path / "b.tar.gz"))
    read = read_bundle(str(tmp_path / "b.tar.gz"))
    assert len(read.entries) == 2 and read.refused == []


def test_an_edited_kernel_file_is_refused_by_name(tmp_path):
    export_bundle(entries(), str(tmp_path / "b"))
    path = tmp_path / "b" / "kernels" / "aaaaaaaaaaaaaaaa_triton.py"
    path.write_text(path.read_text() + "import os\n")
    read = read_bundle(str(tmp_path / "b"))
    assert [e.key for e in read.entries] == ["b" * 64]
    assert read.refused[0][0] == "a" * 16 and "hash mismatch" in read.refused[0][1]


def test_edited_metadata_is_refused(tmp_path):
    export_bundle(entries(), str(tmp_path / "b"))
    manifest = tmp_path / "b" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"curated"', '"someone-else"', 1))
    read = read_bundle(str(tmp_path / "b"))
    assert len(read.entries) == 1 and "metadata hash mismatch" in read.refused[0][1]


def test_a_manifest_pointing_outside_the_bundle_is_refused(tmp_path):
    export_bundle(entries(), str(tmp_path / "b"))
    manifest = tmp_path / "b" / "manifest.json"
    manifest.write_text(manifest.read_text().replace("kernels/aaaaaaaaaaaaaaaa_triton.py", "../../etc/passwd"))
    read = read_bundle(str(tmp_path / "b"))
    assert "outside the bundle" in read.refused[0][1]


def test_not_a_bundle_is_a_clear_error(tmp_path):
    with pytest.raises(BundleError, match="not a bundle"):
        read_bundle(str(tmp_path))
    with tarfile.open(tmp_path / "x.tar.gz", "w:gz"):
        pass
    with pytest.raises(BundleError, match="not a bundle"):
        read_bundle(str(tmp_path / "x.tar.gz"))
