"""Devices: switching Brian2 between runtime and standalone (:mod:`.activation`), trained networks
as compiled programs — compile once, run many (:mod:`.project`, :mod:`.student_network`,
:mod:`.transferred`), training in generated code (FORCE: :mod:`.force_standalone`,
:mod:`.force_program`; Kim & Chow: :mod:`.recurrent_program`; DePasquale students:
:mod:`.student_program`, their test trials :mod:`.student_trials`) and the model-kind registry of ``brianforce run`` (:mod:`.standalone`).

Public names are imported on first use (``from brianforce.devices import X``).
"""
from importlib import import_module

_LAZY = {"activate": "activation", "restore_runtime": "activation", "StandaloneFORCETrainer": "force_standalone",
         "StandaloneProject": "project", "build_project": "project", "run_standalone": "project",
         "run_transferred_standalone": "transferred", "run_model_cli": "standalone", "MODEL_RUNNERS": "standalone",
         "StudentNetwork": "student_network", "run_student_network": "student_network"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
