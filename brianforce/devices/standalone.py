"""Saved models as code-generated standalone programs: the model-kind registry and its entry points.

:data:`MODEL_RUNNERS` maps the ``kind`` of a model file to the function that runs it;
:func:`run_model_cli` (``brianforce run``) dispatches on it. The programs themselves live in
:mod:`brianforce.devices.project` (FORCE models: compile once, run many),
:mod:`brianforce.devices.force_standalone` (FORCE training with the RLS in generated code),
:mod:`brianforce.devices.transferred` (Kim 2019 transferred LIF networks) and
:mod:`brianforce.devices.student_network` (DePasquale students); their public names are
importable from here too.

References
----------
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural
simulator. eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import importlib
from pathlib import Path

from brianforce.devices.activation import DEVICES
from brianforce.devices.force_standalone import StandaloneFORCETrainer, check_force_run_duration, run_force_model_cli
from brianforce.devices.project import StandaloneProject, StandaloneRun, build_project, run_standalone
from brianforce.devices.transferred import TRANSFER_KIND, run_transferred_cli, run_transferred_standalone
from brianforce.io import ModelFileError, load_arrays
from brianforce.methods.force import MODEL_KIND

__all__ = ["StandaloneProject", "StandaloneRun", "build_project", "run_standalone",
           "StandaloneFORCETrainer", "run_model_cli", "MODEL_RUNNERS", "run_force_model_cli", "run_transferred_cli",
           "run_transferred_standalone", "model_kind", "check_model_run", "MODEL_DEVICES", "DEVICES"]

#: How ``brianforce run`` runs a saved model of each kind: ``kind -> (module, function)``. A runner
#: takes the model path and the keywords ``device``, ``out``, ``duration``, ``directory``,
#: ``n_trials`` and ``seed`` (ignoring those its kind has no use for) and returns the summary. The
#: module is imported on use, so a model kind registers here without an import cycle.
MODEL_RUNNERS = {
    MODEL_KIND: ("brianforce.devices.force_standalone", "run_force_model_cli"),
    TRANSFER_KIND: ("brianforce.devices.transferred", "run_transferred_cli"),
    "depasquale-student": ("brianforce.devices.student_network", "run_student_cli"),
}
#: Devices ``brianforce run`` runs each model kind on.
MODEL_DEVICES = {
    MODEL_KIND: ("runtime", "cpp_standalone", "cuda_standalone"),
    TRANSFER_KIND: ("runtime", "cpp_standalone"),
    "depasquale-student": ("runtime", "cpp_standalone", "cuda_standalone"),
}


def model_kind(path) -> str:
    """The ``kind`` recorded in a brianforce model file (checksum verified)."""
    _, meta = load_arrays(path)
    return str(meta.get("kind"))


def check_model_run(model, device: str = "cpp_standalone", duration: float = 2.0) -> str:
    """Check, before any work or output, that ``brianforce run`` can run ``model``; returns its kind.

    Parameters
    ----------
    model : path
        A saved model file (checksum verified).
    device : str
        One of the kind's :data:`MODEL_DEVICES`.
    duration : float
        Seconds (FORCE models): > 0 and at least the model's output sampling step.

    Raises
    ------
    ModelFileError
        A missing or unreadable file, or a kind that :data:`MODEL_RUNNERS` cannot run.
    ValueError
        A device the kind does not run on, or a duration too short to record anything.
    """
    _, meta = load_arrays(model)
    kind = str(meta.get("kind"))
    if kind not in MODEL_RUNNERS:
        raise ModelFileError(f"{model}: a {kind!r} model cannot be run from the command line; runnable kinds: "
                             f"{', '.join(sorted(MODEL_RUNNERS))}")
    devices = MODEL_DEVICES.get(kind, DEVICES)
    if device not in devices:
        raise ValueError(f"device {device!r}: a {kind!r} model runs on {', '.join(devices)}")
    if kind == MODEL_KIND:
        check_force_run_duration(model, meta, duration)
    return kind


def run_model_cli(model, device: str = "cpp_standalone", duration: float = 2.0, out="standalone_run",
                  directory=None, n_trials: int = 20, seed: int = 0, before_work=None) -> dict:
    """``brianforce run MODEL --device D --duration S --out DIR``: runs a saved model by its kind.

    FORCE models (``force_lif``): runs the saved model for ``duration`` seconds on ``device``
    ('cpp_standalone', 'cuda_standalone' or 'runtime'); writes ``summary.json``,
    ``output.npz`` (t, z, target, spikes; SI units) and ``output.png`` to ``out``.
    Transferred LIF models (``kim2019-lif``; 'cpp_standalone' or 'runtime') and DePasquale
    students (``depasquale-student``; any of the three devices): runs ``n_trials`` test
    trials of the model's task and reports accuracy / error. The model's kind, the device and
    the duration are checked (:func:`check_model_run`) before ``before_work`` (no arguments; the
    command line clears an earlier run's results there) is called and ``out`` is created. Returns
    the summary (see :data:`MODEL_RUNNERS`).
    """
    kind = check_model_run(model, device, duration)
    if before_work is not None:
        before_work()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    module, function = MODEL_RUNNERS[kind]
    runner = getattr(importlib.import_module(module), function)
    return runner(model, device=device, out=out, duration=duration, directory=directory, n_trials=n_trials,
                  seed=seed)
