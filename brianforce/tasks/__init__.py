"""Task generators: small, paper-derived functions returning inputs, targets and timing.

Trial-based tasks return :class:`Trials` (:mod:`.trials`): DePasquale et al.'s oscillation,
integration and classification (:mod:`.depasquale`), Kim, Li & Sejnowski's Go/NoGo, XOR and
context task (:mod:`.kim2019`), reaching EMG (:mod:`.reaching`) and Kim & Chow's per-neuron
current targets (:mod:`.patterns`). Autonomous targets are a :class:`Task`, a function of time
(:mod:`.oscillators`). Names of the paper modules are imported on first use
(``from brianforce.tasks import X``).

Frequencies, durations, periods and time steps are plain numbers in Hz and seconds or Brian2
quantities (``sinusoid(5*Hz)``, ``integration_trials(10, dt=1*ms)``); a quantity of other
dimensions raises ``DimensionMismatchError`` naming the parameter (:mod:`.timing`). What a task
returns holds plain SI floats.
"""
from importlib import import_module

from brianforce.tasks.oscillators import TASKS, Task, make_task, sawtooth, sinusoid, sum_of_sinusoids, van_der_pol
from brianforce.tasks.trials import Trials, current_targets

_LAZY = {
    "oscillation_trials": "depasquale", "integration_trials": "depasquale",
    "classification_trials": "depasquale", "decision_accuracy": "depasquale",
    "GoNoGo": "kim2019", "XOR": "kim2019", "ContextIntegration": "kim2019", "KIM2019_TASKS": "kim2019",
    "reaching_trials": "reaching", "condition_inputs": "reaching",
    "pattern_targets": "patterns", "recorded_targets": "patterns", "rates_to_targets": "patterns",
    "sinusoid_patterns": "patterns", "ou_patterns": "patterns",
}

__all__ = ["Trials", "current_targets", "Task", "TASKS", "make_task", "sinusoid", "sum_of_sinusoids",
           "van_der_pol", "sawtooth", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
