"""Whether Brian2CUDA tests can run here: shared by the test files (``from _cuda import cuda``).

``@cuda`` marks a test ``cuda`` (select them with ``-m cuda``) and skips it unless Brian2CUDA
imports and ``nvcc`` and ``nvidia-smi`` are on the PATH.
"""
import importlib
import shutil

import pytest


def have_cuda() -> bool:
    try:
        importlib.import_module("brian2cuda")   # an import, not find_spec: a broken install counts as absent
    except ImportError:
        return False
    return shutil.which("nvcc") is not None and shutil.which("nvidia-smi") is not None


_skip = pytest.mark.skipif(not have_cuda(), reason="needs Brian2CUDA, nvcc and an NVIDIA GPU")


def cuda(test):
    """Decorator: the ``cuda`` marker + skip without Brian2CUDA and a GPU."""
    return pytest.mark.cuda(_skip(test))
