"""Pickle-free, atomic, checksummed model files: one ``.npz`` holding arrays + JSON metadata.

Every saved file carries ``format`` / ``format_version`` and a SHA-256 digest over all
arrays; :func:`load_arrays` re-computes it, so a truncated, edited or foreign file
fails with :class:`ModelFileError` instead of loading silently.

:func:`write_run_outputs` writes the files of a ``brianforce run`` (summary, arrays, figure).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["ModelFileError", "save_arrays", "load_arrays", "FORMAT_VERSION", "versions", "write_run_outputs"]

FORMAT_VERSION = 1
_META_KEY = "__metadata_json__"


class ModelFileError(ValueError):
    """A model file is missing, corrupt, tampered with, or of the wrong kind."""


def versions() -> dict:
    """Versions of the packages that determine a saved model's behaviour."""
    import importlib.metadata as md

    out = {}
    for pkg in ("brianforce", "brian2", "numpy", "scipy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            out[pkg] = None
    return out


def _digest(arrays: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode())
        h.update(str(a.dtype.str).encode())
        h.update(repr(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_arrays(path, arrays: dict, metadata: dict, *, kind: str) -> Path:
    """Write ``arrays`` and JSON-serialisable ``metadata`` atomically to ``path`` (.npz).

    ``kind`` names the model type (checked again on load). The file is first written
    next to its destination and then renamed, so a crash never leaves a half file.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz") if path.suffix else path.with_suffix(".npz")
    clean = {}
    for name, a in arrays.items():
        if name == _META_KEY:
            raise ValueError(f"array name {name!r} is reserved")
        a = np.asarray(a)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only numeric arrays are saved")
        clean[name] = a
    meta = dict(metadata)
    meta.update(format="brianforce", format_version=FORMAT_VERSION, kind=kind,
                sha256=_digest(clean), versions=versions())
    meta_json = json.dumps(meta, sort_keys=True, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **clean, **{_META_KEY: np.frombuffer(meta_json.encode(), np.uint8)})
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_arrays(path, *, kind: str | None = None) -> tuple[dict, dict]:
    """Read a file written by :func:`save_arrays`; returns ``(arrays, metadata)``.

    Raises
    ------
    ModelFileError
        Missing file, not an npz, no/invalid metadata, wrong ``kind``, unsupported
        version, or checksum mismatch (tampered or corrupt arrays).
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(f"{path} is not a readable brianforce model file ({exc})") from exc
    raw = arrays.pop(_META_KEY, None)
    if raw is None:
        raise ModelFileError(f"{path} has no brianforce metadata")
    try:
        meta = json.loads(raw.tobytes().decode("utf8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != "brianforce":
        raise ModelFileError(f"{path} is not a brianforce model file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: unsupported format_version {meta.get('format_version')!r}")
    if kind is not None and meta.get("kind") != kind:
        raise ModelFileError(f"{path} holds a {meta.get('kind')!r} model, expected {kind!r}")
    if _digest(arrays) != meta.get("sha256"):
        raise ModelFileError(f"{path}: checksum mismatch, the arrays were modified or corrupted")
    return arrays, meta


def write_run_outputs(out, summary: dict, arrays: dict, draw, title: str) -> dict:
    """Write ``summary.json``, ``output.npz`` (``arrays``) and ``output.png`` (``draw(ax)``) to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    np.savez_compressed(out / "output.npz", **arrays)
    fig, ax = plt.subplots(figsize=(8, 3))
    draw(ax)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(out / "output.png", dpi=100)
    plt.close(fig)
    return summary
