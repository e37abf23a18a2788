"""Learning rules that attach to any Brian2 network.

:class:`FORCE` adds a readout, its RLS-trained decoder and low-rank feedback to a user's
``NeuronGroup``; :class:`RecurrentRLS` trains each neuron's own incoming weights of a user's
``Synapses`` (Kim & Chow 2018). The RLS cores (:mod:`.rls`, shared P; :mod:`.rls_per_neuron`) are
numpy only; the Brian2 side runs them in one of the backends of :mod:`.backends` (numpy at runtime,
generated code from :mod:`.codegen` on every device). Public names are imported on first use, so
the numpy cores load without Brian2.
"""
from importlib import import_module

_LAZY = {
    "FORCE": "force", "RecurrentRLS": "recurrent", "RLS": "rls", "PerNeuronRLS": "rls_per_neuron",
    "RLSBackend": "backends", "NumpyRLSBackend": "backends", "CodegenRLSBackend": "backends",
    "RLS_BACKENDS": "backends", "choose_backend": "backends", "Readout": "readout", "attach_readout": "readout",
    "SimulationResult": "results", "TrainingHistory": "results", "LearningTarget": "targets", "as_task": "targets",
    "learning_target": "targets",
}

__all__ = ["TrainingDiverged", *_LAZY]


def __getattr__(name):
    if name == "TrainingDiverged":
        from brianforce.errors import TrainingDiverged

        return TrainingDiverged
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
