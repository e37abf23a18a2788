"""Whether Brian2CUDA tests can run here: shared by the test files (``from _cuda import cuda``).

``@cuda`` marks a test ``cuda`` (select them with ``-m cuda``) and skips it unless Brian2CUDA
imports and ``nvcc`` and ``nvidia-smi`` are on the PATH.
"""
import importlib
import shutil

import pytest


def have_brian2cuda() -> bool:
    """Whether Brian2CUDA imports (an import, not find_spec: a broken install counts as absent)."""
    try:
        importlib.import_module("brian2cuda")
    except ImportError:
        return False
    return True


def have_cuda() -> bool:
    return have_brian2cuda() and shutil.which("nvcc") is not None and shutil.which("nvidia-smi") is not None


def skip_if_brian2cuda():
    """For the tests of the missing-Brian2CUDA error: skip where Brian2CUDA is installed."""
    if have_brian2cuda():
        pytest.skip("brian2cuda is installed; the cuda test needs a GPU (marker 'cuda')")


_skip = pytest.mark.skipif(not have_cuda(), reason="needs Brian2CUDA, nvcc and an NVIDIA GPU")


def cuda(test):
    """Decorator: the ``cuda`` marker + skip without Brian2CUDA and a GPU."""
    return pytest.mark.cuda(_skip(test))
