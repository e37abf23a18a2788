"""A persistent cache of standalone projects: one directory per architecture, reused across runs.

Brian2 rewrites only the generated files whose text changed, and ``make`` recompiles only
those, so a project directory built again for the same architecture compiles next to nothing:
the seed, weights, targets and initial state are data files (FORCE programs pad their synapses
to a count fixed by the architecture, :func:`brianforce.networks.connectivity.synapse_capacity`),
and only the sources that hold durations change between runs of other lengths. Every
standalone entry point without an explicit ``directory`` therefore asks this cache for the
directory of its architecture: ``<root>/<name>-<digest of key>/<slot>``. A slot is locked
(``flock``) for as long as its project is in use, so processes running at once never share a
directory; a second process takes the next slot (its first build compiles in full).

The root is ``$BRIANFORCE_CACHE_DIR`` if set (``off`` disables the cache: every build gets a
new temporary directory, removed when its project is closed), else ``$XDG_CACHE_HOME/brianforce/standalone`` or
``~/.cache/brianforce/standalone``. ``brianforce cache info`` and ``brianforce cache clear``
show and empty it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["ProjectDirectory", "cache_root", "project_directory", "cache_info", "clear_cache", "MAX_SLOTS"]

#: Directories per architecture (processes using one architecture at the same time).
MAX_SLOTS = 8
_LOG = logging.getLogger("brianforce")


def cache_root() -> Path | None:
    """The cache's root folder, or ``None`` when ``BRIANFORCE_CACHE_DIR=off``."""
    env = os.environ.get("BRIANFORCE_CACHE_DIR")
    if env is not None and env.strip().lower() in ("off", "0", "none", ""):
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "brianforce" / "standalone"


class ProjectDirectory:
    """A project directory, locked while in use when it belongs to the cache.

    Attributes
    ----------
    path : str
    cached : bool
        Whether the directory is a cache slot (reused by later builds of the same architecture).
    temporary : bool
        Whether it is a new temporary directory (the cache off, or every slot in use), removed on
        :meth:`close`, so that builds outside the cache leave nothing behind. An explicit directory
        is neither and stays as it is.
    """

    def __init__(self, path: str, lock_file=None, *, temporary: bool = False):
        self.path = str(path)
        self._lock_file = lock_file
        self.cached = lock_file is not None
        self.temporary = bool(temporary)

    def close(self):
        """Release the slot's lock; remove a temporary directory (an explicit one stays)."""
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)
            self.temporary = False

    def __enter__(self) -> "ProjectDirectory":
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - at interpreter exit the modules it needs may be gone
            pass

    def __repr__(self) -> str:
        return f"ProjectDirectory({self.path!r}, cached={self.cached})"


def _key_digest(key: dict) -> str:
    text = json.dumps(key, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def project_directory(directory, name: str, key: dict) -> ProjectDirectory:
    """The directory a standalone build of architecture ``key`` should use.

    Parameters
    ----------
    directory : path or None
        An explicit directory (created if missing, never locked) wins; ``None`` asks the cache.
    name : str
        What is built (a short label, part of the folder name).
    key : dict
        JSON-serialisable description of everything that fixes the generated code (device,
        sizes, options). Two keys that are equal share compiled code; anything the key leaves
        out is still correct, merely recompiled by ``make``.
    """
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        return ProjectDirectory(str(directory))
    root = cache_root()
    if root is None:
        return ProjectDirectory(tempfile.mkdtemp(prefix="brianforce_standalone_"), temporary=True)
    entry = root / f"{name}-{_key_digest(key)}"
    entry.mkdir(parents=True, exist_ok=True)
    (entry / "key.json").write_text(json.dumps(key, sort_keys=True, indent=1, default=str))
    for slot in range(MAX_SLOTS):
        path = entry / str(slot)
        path.mkdir(exist_ok=True)
        lock = open(path / ".lock", "a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        _LOG.debug("standalone project %s (slot %d)", entry, slot)
        return ProjectDirectory(str(path), lock)
    _LOG.info("all %d cached projects of %s are in use: building in a new temporary directory", MAX_SLOTS, entry)
    return ProjectDirectory(tempfile.mkdtemp(prefix="brianforce_standalone_"), temporary=True)


def cache_info() -> dict:
    """Root, entries (name, key, slots, size in bytes) and total size of the cache."""
    root = cache_root()
    if root is None or not root.is_dir():
        return {"root": str(root) if root else None, "entries": [], "bytes": 0}
    entries = []
    for entry in sorted(p for p in root.iterdir() if p.is_dir()):
        size = sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
        try:
            key = json.loads((entry / "key.json").read_text())
        except (OSError, ValueError):
            key = None
        slots = sorted(p.name for p in entry.iterdir() if p.is_dir())
        entries.append({"name": entry.name, "key": key, "slots": slots, "bytes": size})
    return {"root": str(root), "entries": entries, "bytes": sum(e["bytes"] for e in entries)}


def clear_cache() -> int:
    """Delete every cached project not in use right now; returns the number of slots deleted."""
    root = cache_root()
    if root is None or not root.is_dir():
        return 0
    removed = 0
    for entry in (p for p in root.iterdir() if p.is_dir()):
        for slot in (p for p in entry.iterdir() if p.is_dir()):
            try:
                lock = open(slot / ".lock", "a")
            except OSError:
                continue
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
                continue
            try:
                shutil.rmtree(slot)
                removed += 1
            finally:
                lock.close()
        if not any(p.is_dir() for p in entry.iterdir()):
            shutil.rmtree(entry, ignore_errors=True)
    return removed
