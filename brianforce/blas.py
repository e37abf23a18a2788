"""BLAS threads of the numpy training loops (numpy only; no Brian2 import).

Every numpy training loop of the package (RLS updates, rate-network time steps, BPTT with one trial per
Adam step) is a sequence of level-1/2 BLAS calls or products of a vector with a matrix: a second thread
gains nothing there, and with another process on the machine a multi-threaded OpenBLAS waits for a busy
core at every call. Measured on 2 cores with another process running: a BPTT step of Kim et al.'s
N = 200 network takes 12.3-13.1 ms on two threads against 6.1-6.4 ms on one (``bptt_threads.csv``), an RLS
update at N = 1000 16 ms against 0.14 ms (``blas_threads.csv``; both in ``benchmarks/results/``). The
thread count also changes the results at round-off, so one seed gives one trained network only at a fixed
count: these loops run on one thread.
"""
from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits

__all__ = ["one_blas_thread", "on_one_blas_thread"]


def one_blas_thread():
    """Context in which every loaded BLAS (numpy's and scipy's) runs on one thread."""
    return threadpool_limits(1, user_api="blas")


def on_one_blas_thread(method):
    """Decorator: run ``method`` inside :func:`one_blas_thread`."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return method(*args, **kwargs)
    return wrapper
