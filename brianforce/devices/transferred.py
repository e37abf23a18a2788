"""Transferred LIF networks (Kim, Li & Sejnowski 2019) as compiled C++ programs.

:func:`run_transferred_standalone` runs the network :func:`brianforce.methods.transfer.simulate_lif`
builds at runtime under ``cpp_standalone``; :func:`run_transferred_cli` is ``brianforce run`` for a
``kim2019-lif`` model file.

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking recurrent
neural networks. PNAS 116:22811-22820.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import brian2 as b2

from brianforce.devices.activation import activate, restore_runtime
from brianforce.devices.cache import project_directory
from brianforce.io import ModelFileError, load_arrays, write_run_outputs

__all__ = ["TRANSFER_KIND", "run_transferred_standalone", "run_transferred_cli"]

#: ``kind`` of a transferred LIF model file (``TransferredLIF.save``).
TRANSFER_KIND = "kim2019-lif"


def run_transferred_standalone(model_path, inputs, device: str = "cpp_standalone", directory=None, *,
                               seed: int = 0, record_spikes: int = 0, threads: int = 0, dt=0.05 * b2.ms,
                               record_dt=1 * b2.ms):
    """Run a one-to-one transferred LIF network (Kim, Li & Sejnowski 2019) as a C++ program.

    The network, its initial voltages (numpy, from ``seed``) and the trial batch are the
    ones :func:`brianforce.methods.transfer.simulate_lif` builds at runtime; only the device
    differs, so with ``sigma_v = 0`` the spikes are identical.

    Parameters
    ----------
    model_path : path
        A ``kim2019-lif`` file (``TransferredLIF.save``; ``brianforce train models/kim2019_*.toml``
        writes ``lif_model.npz``).
    inputs : array (n_trials, n_steps, n_inputs)
        One value per ``input_dt`` of the model.
    device : 'cpp_standalone'
        (Brian2CUDA is not supported for this model kind yet.)
    directory : path, optional
        Project directory (default: the cached project of this architecture,
        :mod:`brianforce.devices.cache`).
    seed, record_spikes, dt, record_dt
        As :func:`brianforce.methods.transfer.simulate_lif`.
    threads : int
        OpenMP threads of the program.

    Returns
    -------
    brianforce.methods.transfer.LIFRun
    """
    from brianforce.methods.transfer import TransferredLIF, simulate_lif

    if device != "cpp_standalone":
        raise ValueError(f"transferred LIF models run under 'cpp_standalone' only, got {device!r}")
    model = TransferredLIF.load(model_path)
    key = {"device": device, "n_units": int(model.W_rate.shape[0]), "n_inputs": int(model.w_in_rate.shape[1]),
           "inputs": list(np.shape(inputs)), "record_spikes": int(record_spikes), "threads": int(threads),
           "dt": float(dt / b2.second), "record_dt": float(record_dt / b2.second)}
    slot = project_directory(directory, "transferred-lif", key)
    activate(device, slot.path, build_on_run=True)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        return simulate_lif(model, inputs, seed=seed, dt=dt, record_dt=record_dt, record_spikes=record_spikes)
    finally:
        restore_runtime()
        slot.close()


def run_transferred_cli(model, *, device, out, n_trials=20, seed=0, **_) -> dict:
    """``brianforce run`` for a ``kim2019-lif`` model: test trials of its task, accuracy, figure."""
    from brianforce.seeding import rng_for
    from brianforce.tasks.kim2019 import make_task
    from brianforce.methods.transfer import simulate_lif, TransferredLIF

    _, meta = load_arrays(model, kind=TRANSFER_KIND)
    name = meta.get("task")
    if not name:
        raise ModelFileError(f"{model}: no task recorded in the model file; run it through the API "
                             "(run_transferred_standalone) with your own inputs")
    task = make_task(name, dt=float(meta["input_dt"]))    # the task's timing at the rate network's step
    batch = task.sample(int(n_trials), rng_for(seed, "standalone-test-trials"))
    wall0 = time.perf_counter()
    if device == "runtime":
        run = simulate_lif(TransferredLIF.load(model), batch.inputs, seed=seed, record_spikes=1)
    else:
        run = run_transferred_standalone(model, batch.inputs, device, out / "project", seed=seed, record_spikes=1)
    wall = time.perf_counter() - wall0
    crit = task.spiking_criterion()
    acc = float(crit.accuracy(run.outputs, batch.labels, dt=run.record_dt))
    summary = {"model": str(model), "kind": TRANSFER_KIND, "device": device, "task": name,
               "n_trials": int(n_trials), "seed": int(seed), "accuracy": acc,
               "mean_rate_hz": float(np.mean(run.mean_rate)), "wall_time_s": wall}

    def draw(ax):
        for k in range(min(int(n_trials), 6)):
            ax.plot(run.times, run.outputs[k], lw=1, label=f"trial {k} (label {batch.labels[k]})")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("LIF output")
        ax.legend(loc="upper left", fontsize=7)

    return write_run_outputs(out, summary, dict(t=run.times, outputs=run.outputs, labels=batch.labels), draw,
                             f"{Path(model).name} ({name}) on {device}: accuracy {acc:.2f}")

