"""Pickle-free, atomic, checksummed model files: one ``.npz`` holding arrays + JSON metadata.

Every saved file carries ``format`` / ``format_version`` and a SHA-256 digest over all arrays
(name, dtype, shape and bytes, each length-prefixed so that no two archives give the same input)
*and* the metadata (settings, units, task); with a key (``key=`` or the environment variable
``BRIANFORCE_MODEL_KEY``) also an HMAC-SHA256 signature, so that a model exchanged between
people can be checked against a shared secret (the plain digest only detects accidents: anyone
can recompute it). :func:`load_arrays` checks the archive's declared sizes before reading
anything, recomputes the digest (and signature), and checks that floating-point arrays are
finite; every failure is a :class:`ModelFileError` that names the file and the problem. Files of
format versions 1 and 2 are still read, each checked by the digest rule of its version.

Every output is written atomically (:func:`atomic_path`: a temporary file in the destination
folder, flushed to disk, then renamed), so a killed process never leaves a half-written file
that a later load accepts.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

__all__ = ["ModelFileError", "save_arrays", "load_arrays", "FORMAT_VERSION", "versions", "write_run_outputs",
           "atomic_path", "atomic_write_text", "atomic_savez", "atomic_savefig", "KEY_VARIABLE",
           "append_csv_row", "free_stem", "finite_json", "json_text"]

#: Format version of the files :func:`save_arrays` writes (3: length-prefixed digest input).
FORMAT_VERSION = 3
#: Environment variable holding the key of signed model files.
KEY_VARIABLE = "BRIANFORCE_MODEL_KEY"
#: Largest total decompressed size (bytes) that :func:`load_arrays` accepts unless told otherwise.
MAX_BYTES = 8 * 2**30
_META_KEY = "__metadata_json__"
_UNSIGNED = ("sha256", "hmac")        # metadata entries outside the digest
_STALE_S = 600.0                      # temporary files older than this are strays of killed writers


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


# ---------------------------------------------------------------------- atomic outputs
def _remove_stale(path: Path) -> None:
    for stray in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            if time.time() - stray.stat().st_mtime > _STALE_S:
                stray.unlink()


def _umask() -> int:
    """The process umask, read without setting it where the system shows it (``os.umask`` sets it
    for a moment, which other threads creating files would see)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Context yielding a temporary path next to ``path``; on success it is flushed to disk and
    renamed to ``path``, on any error removed. Stray temporary files of killed writers are removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())                 # as an ordinary new file (mkstemp gives 0600)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def atomic_savez(path, **arrays) -> Path:
    """``numpy.savez_compressed`` to exactly ``path``, atomically."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def atomic_savefig(fig, path, **kwargs) -> Path:
    """``fig.savefig`` to ``path`` atomically (the format from ``path``'s suffix)."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **kwargs)
    return path


def free_stem(stem, suffixes=(".csv",)) -> Path:
    """``stem``, or where a file ``<stem><suffix>`` exists for any of ``suffixes``, the first free
    ``<stem>.v<k>`` (k >= 2): a result written whole goes there, so no earlier one is overwritten."""
    stem = Path(stem)
    candidate, k = stem, 2
    while any(candidate.with_name(candidate.name + ext).exists() for ext in suffixes):
        candidate, k = stem.with_name(f"{stem.name}.v{k}"), k + 1
    return candidate


def append_csv_row(path, row: dict) -> Path:
    """Append ``row`` to the results table ``path`` (written with its header when new).

    Results files are appended, never overwritten; a row whose columns differ from the table's
    header is refused (version the file instead) rather than written under the wrong names, and so is
    a table whose last line is unterminated (a killed writer or a full disk): the new row would be
    glued onto it. Each row is one write, flushed to disk.
    """
    import csv
    import io

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not (path.exists() and path.stat().st_size)
    if not new:
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if header != list(row):
            raise ValueError(f"{path} has the columns {header}; this row has {list(row)}. "
                             "Write it to a new, versioned file")
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.seek(max(0, path.stat().st_size - 200))
                last = fh.read().decode(errors="replace").splitlines()[-1]
                raise ValueError(f"{path} ends in an unterminated line ({last!r}), the trace of an interrupted "
                                 "write: check that row and end it (or remove it) before appending")
    text = io.StringIO()
    w = csv.DictWriter(text, fieldnames=list(row))
    if new:
        w.writeheader()
    w.writerow(row)
    with open(path, "a", newline="") as fh:
        fh.write(text.getvalue())
        fh.flush()
        os.fsync(fh.fileno())
    return path


# ---------------------------------------------------------------------- model files
def _canonical(meta: dict) -> bytes:
    return json.dumps({k: v for k, v in meta.items() if k not in _UNSIGNED}, sort_keys=True,
                      allow_nan=False).encode()


def _content(arrays: dict, meta: dict | None):
    """Yield the byte strings the digest and signature cover (format version 3), in order.

    Each array gives its name, dtype, shape (as JSON) and bytes, then the metadata; every chunk is
    preceded by its length (8 bytes, big-endian), so the input determines the arrays and metadata
    it was made from.
    """
    def chunk(b: bytes):
        yield len(b).to_bytes(8, "big")
        yield b

    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        yield from chunk(name.encode())
        yield from chunk(a.dtype.str.encode())
        yield from chunk(json.dumps(list(a.shape)).encode())
        yield from chunk(a.tobytes())
    if meta is not None:
        yield from chunk(_canonical(meta))


def _content_v2(arrays: dict, meta: dict | None):
    """Yield the byte strings of the digest rule of format versions 1 and 2, in order.

    Name, dtype, shape and bytes of each array (sorted by name), then the metadata (version 2;
    ``meta=None`` for version 1, whose digest covers the arrays only), concatenated without lengths:
    different archives can give the same input. Used only to verify files of those versions.
    """
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        yield name.encode()
        yield str(a.dtype.str).encode()
        yield repr(a.shape).encode()
        yield a.tobytes()
    if meta is not None:
        yield _canonical(meta)


def _chunks(arrays: dict, meta: dict | None, version: int):
    return _content(arrays, meta) if version >= 3 else _content_v2(arrays, meta)


def _digest(arrays: dict, meta: dict | None, version: int = FORMAT_VERSION) -> str:
    """SHA-256 of the arrays and metadata by the rule of format ``version``."""
    h = hashlib.sha256()
    for chunk in _chunks(arrays, meta, version):
        h.update(chunk)
    return h.hexdigest()


def _signature(arrays: dict, meta: dict, key: bytes, version: int = FORMAT_VERSION) -> str:
    """HMAC-SHA256 of the arrays and metadata by the rule of format ``version``."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for chunk in _chunks(arrays, meta, version):
        h.update(chunk)
    return h.hexdigest()


def _names(allow_nonfinite) -> frozenset:
    """``allow_nonfinite`` as a set of array names; a single string is refused (``"phi_P"`` is
    not ``("phi", "P")``)."""
    if isinstance(allow_nonfinite, (str, bytes)) or not isinstance(allow_nonfinite, (tuple, list, set, frozenset)):
        raise TypeError(f"allow_nonfinite must be a tuple, list or set of array names, got {allow_nonfinite!r}")
    bad = [n for n in allow_nonfinite if not isinstance(n, str)]
    if bad:
        raise TypeError(f"allow_nonfinite must hold array names (str), got {bad!r}")
    return frozenset(allow_nonfinite)


def _nonfinite(arrays: dict, allowed: frozenset):
    """Yield ``(name, count)`` for each float or complex array outside ``allowed`` holding NaN/Inf."""
    for name, a in arrays.items():
        if a.dtype.kind in "fc" and name not in allowed and not np.all(np.isfinite(a)):
            yield name, int(np.sum(~np.isfinite(a)))


def _unique_keys(pairs):
    """A JSON object's pairs as a dict, refusing keys that occur twice."""
    d = dict(pairs)
    if len(d) != len(pairs):
        dup = sorted({k for k, _ in pairs if sum(k == j for j, _ in pairs) > 1})
        raise ValueError(f"metadata keys {dup} collide once written as JSON strings (e.g. 1 and '1')")
    return d


def _json_metadata(metadata) -> dict:
    """``metadata`` as it reads back from JSON (keys become strings, tuples lists), so that the digest
    covers exactly what is stored."""
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {metadata!r}")
    try:
        text = json.dumps(metadata, allow_nan=False)
    except ValueError as exc:
        raise ValueError(f"metadata must be JSON without NaN or Infinity (write null instead): {exc}") from None
    except TypeError as exc:
        raise TypeError(f"metadata must be JSON-serialisable: {exc}") from None
    return json.loads(text, object_pairs_hook=_unique_keys)


def _key(key) -> bytes | None:
    if key is None:
        key = os.environ.get(KEY_VARIABLE) or None
    if key is None:
        return None
    key = key.encode() if isinstance(key, str) else bytes(key)
    if not key:
        raise ValueError("the signing key is empty")
    return key


def model_path(path) -> Path:
    """``path`` as a model file name: it must end in ``.npz``."""
    path = Path(path)
    if path.suffix == "":
        return path.with_suffix(".npz")
    if path.suffix != ".npz":
        raise ValueError(f"model files end in .npz; got {str(path)!r} (use {path.with_suffix('.npz').name!r})")
    return path


def save_arrays(path, arrays: dict, metadata: dict, *, kind: str, key=None, allow_nonfinite=()) -> Path:
    """Write ``arrays`` and JSON-serialisable ``metadata`` atomically to ``path`` (.npz).

    Parameters
    ----------
    path : str or Path
        Must end in ``.npz`` (or have no suffix, then ``.npz`` is added).
    arrays : dict
        Numeric arrays by name.
    metadata : dict
        Written as JSON: keys become strings and tuples lists, as :func:`load_arrays` returns them;
        NaN and Infinity are refused.
    kind : str
        The model type (checked again on load).
    key : str or bytes, optional
        Adds an HMAC-SHA256 signature (default: the environment variable ``BRIANFORCE_MODEL_KEY``).
    allow_nonfinite : tuple of str
        Names of arrays that may hold NaN/Inf (load them with the same names).

    Raises
    ------
    TypeError
        An array of dtype object, metadata that is not JSON, or ``allow_nonfinite`` not a collection
        of names.
    ValueError
        A reserved array name, a float array holding NaN/Inf (a file :func:`load_arrays` would
        refuse), or NaN/Infinity in the metadata.
    """
    path = model_path(path)
    allowed = _names(allow_nonfinite)
    clean = {}
    for name, a in arrays.items():
        if name == _META_KEY:
            raise ValueError(f"array name {name!r} is reserved")
        a = np.asarray(a)
        if a.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only numeric arrays are saved")
        clean[name] = a
    bad = next(_nonfinite(clean, allowed), None)
    if bad is not None:
        raise ValueError(f"array {bad[0]!r} holds {bad[1]} NaN/Inf values; {path} would not load "
                         f"(pass allow_nonfinite=({bad[0]!r},) to save and load it anyway)")
    meta = _json_metadata(metadata)
    meta.update(format="brianforce", format_version=FORMAT_VERSION, kind=kind, versions=versions())
    meta["sha256"] = _digest(clean, meta)
    secret = _key(key)
    if secret is not None:
        meta["hmac"] = _signature(clean, meta, secret)
    meta_json = json.dumps(meta, sort_keys=True, allow_nan=False)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **clean, **{_META_KEY: np.frombuffer(meta_json.encode(), np.uint8)})
    return path


def _check_sizes(path: Path, zf: zipfile.ZipFile, max_bytes: int) -> None:
    """Declared sizes must be consistent and bounded before any array is allocated."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if total > max_bytes:
            raise ModelFileError(f"{path}: the archive declares more than {max_bytes} bytes of data "
                                 f"(pass max_bytes= to load larger models)")
        if not info.filename.endswith(".npy"):
            raise ModelFileError(f"{path}: unexpected member {info.filename!r}")
        with zf.open(info) as fh:
            try:
                version = npy_format.read_magic(fh)
                read_header = (npy_format.read_array_header_1_0 if version == (1, 0)
                               else npy_format.read_array_header_2_0)
                shape, _, dtype = read_header(fh)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise ModelFileError(f"{path}: member {info.filename!r} is not a valid array ({exc})") from exc
            need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if dtype.hasobject or need > info.file_size:
                raise ModelFileError(f"{path}: member {info.filename!r} declares shape {shape} of {dtype} "
                                     f"({need} bytes) but holds {info.file_size} bytes")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON value (metadata are written without NaN or Infinity)")


def load_arrays(path, *, kind: str | None = None, key=None, max_bytes: int = MAX_BYTES,
                allow_nonfinite=()) -> tuple[dict, dict]:
    """Read a file written by :func:`save_arrays`; returns ``(arrays, metadata)``.

    Parameters
    ----------
    kind : str, optional
        Expected model type.
    key : str or bytes, optional
        Verify the HMAC signature with this key (default: ``BRIANFORCE_MODEL_KEY`` if set); a
        file without a signature is then rejected.
    max_bytes : int
        Largest total decompressed size accepted, checked before reading.
    allow_nonfinite : tuple of str
        Names of arrays that may hold NaN/Inf (a tuple, list or set; a single string is refused).

    Raises
    ------
    TypeError
        ``allow_nonfinite`` is a string or holds something other than names.
    ModelFileError
        Missing file, not an npz, no/invalid metadata, wrong ``kind``, unsupported version,
        inconsistent or oversized members, checksum or signature mismatch (tampered or corrupt
        arrays or metadata), or non-finite values.
    """
    path = Path(path)
    allowed = _names(allow_nonfinite)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path} is not a brianforce model file (not an .npz archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            _check_sizes(path, zf, int(max_bytes))
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, zlib.error) as exc:
        raise ModelFileError(f"{path} is not a readable brianforce model file ({exc})") from exc
    raw = arrays.pop(_META_KEY, None)
    if raw is None:
        raise ModelFileError(f"{path} has no brianforce metadata")
    try:
        meta = json.loads(raw.tobytes().decode("utf8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:          # json.JSONDecodeError is a ValueError
        raise ModelFileError(f"{path}: metadata is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != "brianforce":
        raise ModelFileError(f"{path} is not a brianforce model file")
    version = meta.get("format_version")
    if version not in (1, 2, FORMAT_VERSION) or isinstance(version, bool):
        raise ModelFileError(f"{path}: unsupported format_version {version!r}")
    if kind is not None and meta.get("kind") != kind:
        raise ModelFileError(f"{path} holds a {meta.get('kind')!r} model, expected {kind!r}")
    if version == 1:
        if _digest(arrays, None, version) != meta.get("sha256"):
            raise ModelFileError(f"{path}: checksum mismatch, the arrays were modified or corrupted")
        warnings.warn(f"{path}: format version 1 checksums the arrays only, not the settings; "
                      "save it again to protect both", stacklevel=2)
    elif _digest(arrays, meta, version) != meta.get("sha256"):
        raise ModelFileError(f"{path}: checksum mismatch, the arrays or settings were modified or corrupted")
    secret = _key(key)
    if secret is not None:
        if "hmac" not in meta:
            raise ModelFileError(f"{path} is not signed, but a key was given to verify it")
        if not hmac.compare_digest(str(meta["hmac"]), _signature(arrays, meta, secret, version)):
            raise ModelFileError(f"{path}: signature mismatch (another key, or the file was changed)")
        if version < 3:
            warnings.warn(f"{path}: the signature of format version {version} does not separate the arrays' "
                          "names, shapes and bytes, so another archive can carry it; save the model again "
                          "to sign it in the current format", stacklevel=2)
    bad = next(_nonfinite(arrays, allowed), None)
    if bad is not None:
        raise ModelFileError(f"{path}: array {bad[0]!r} holds {bad[1]} NaN/Inf values")
    return arrays, meta


def finite_json(obj):
    """``obj`` with every NaN or infinite float (also inside dicts, lists and tuples) replaced by
    ``None``, so that it can be written as standard JSON (``null``); numpy floats become floats."""
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite_json(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def json_text(obj, **kwargs) -> str:
    """``obj`` as standard JSON text (:func:`finite_json`: NaN and infinities as ``null``); ``kwargs``
    go to :func:`json.dumps` (``indent``, ``sort_keys``, ``default``)."""
    return json.dumps(finite_json(obj), allow_nan=False, **kwargs)


def write_run_outputs(out, summary: dict, arrays: dict, draw, title: str) -> dict:
    """Write ``output.npz`` (``arrays``), ``output.png`` (``draw(ax)``) and, last, ``summary.json`` to
    ``out``, each atomically; an earlier run's summary and figure are removed first, so that a
    killed run never leaves files of two runs side by side. ``summary.json`` is standard JSON: a
    value that is NaN or infinite (an undefined or diverged metric) is written as ``null``;
    ``summary`` itself is returned unchanged."""
    import matplotlib.pyplot as plt

    out = Path(out)
    for name in ("summary.json", "output.png"):
        (out / name).unlink(missing_ok=True)
    atomic_savez(out / "output.npz", **arrays)
    fig, ax = plt.subplots(figsize=(8, 3))
    draw(ax)
    ax.set_title(title)
    fig.tight_layout()
    atomic_savefig(fig, out / "output.png", dpi=100)
    plt.close(fig)
    atomic_write_text(out / "summary.json", json.dumps(finite_json(summary), indent=2, allow_nan=False))
    return summary
