"""Learning rules that attach to any Brian2 network.

:class:`FORCE` adds a readout, its RLS-trained decoder and low-rank feedback to a user's
``NeuronGroup``; the RLS runs in one of the backends of :mod:`.backends` (numpy at runtime,
generated code on every device).
"""
from .backends import RLS_BACKENDS, CodegenRLSBackend, NumpyRLSBackend, RLSBackend, choose_backend
from .force import FORCE
from .readout import Readout, attach_readout
from .recurrent import RecurrentRLS
from .results import SimulationResult, TrainingHistory
from .targets import LearningTarget, as_task, learning_target

__all__ = ["FORCE", "RecurrentRLS", "RLSBackend", "NumpyRLSBackend", "CodegenRLSBackend", "RLS_BACKENDS", "choose_backend",
           "Readout", "attach_readout", "SimulationResult", "TrainingHistory", "LearningTarget", "as_task",
           "learning_target"]
