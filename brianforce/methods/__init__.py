"""The trainers of the published methods, on one contract (``fit`` returns self, results in
trailing-underscore attributes): Nicola & Clopath FORCE (:mod:`~brianforce.methods.force`), DePasquale et al.'s
factor students (:mod:`~brianforce.methods.factor_student`), Kim, Li & Sejnowski's transfer
(:mod:`~brianforce.methods.transfer`), Kim & Chow's recurrent learning
(:mod:`~brianforce.methods.recurrent`), Newton & Nicola's comparison (:mod:`~brianforce.methods.comparison`).

Public names are imported on first use (``from brianforce.methods import X``).
"""
from importlib import import_module

_LAZY = {"FORCETrainer": "force", "FactorStudent": "factor_student", "StudentRun": "factor_student",
         "StudentNeuron": "factor_student", "FixedNetwork": "factor_student", "StudentSchedule": "factor_student",
         "DaleSettings": "factor_student", "PeriodCalibration": "factor_student", "LIFTransfer": "transfer", "TransferredLIF": "transfer", "RecurrentTrainer": "recurrent", "MatchedForceComparison": "comparison"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
