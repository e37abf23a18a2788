"""brianforce: train recurrent spiking networks in Brian2 to do what rate networks do.

numpy-only cores (RLS, rate networks, analysis, data loaders) import eagerly; the Brian2
builders and trainers are imported on first use, so ``import brianforce`` stays light.
"""
from importlib import import_module

from brianforce.neurons import LIFParams, lif_rate
from brianforce.rate.networks import LIFRateNetwork, TanhForceNetwork
from brianforce.learning.rls import RLS
from brianforce.learning.rls_per_neuron import PerNeuronRLS

__version__ = "0.1.0"

_LAZY = {
    # FORCE (Nicola & Clopath 2017)
    "FORCETrainer": "methods.force", "TrainingDiverged": "errors", "SimulationResult": "methods.force",
    "StandaloneNotSupportedError": "errors",
    # FORCE and per-neuron RLS on any Brian2 network
    "FORCE": "learning", "RecurrentRLS": "learning",
    # rate teachers for spiking students (DePasquale et al.)
    "RateTeacher": "rate.teacher", "FactorStudent": "methods.factor_student", "pca_factors": "rate.factors",
    # one-to-one transfer (Kim, Li & Sejnowski 2019)
    "DaleRNNTrainer": "rate.backprop", "LIFTransfer": "methods.transfer", "TransferredLIF": "methods.transfer",
    # learning recurrent dynamics (Kim & Chow 2018)
    "RecurrentTrainer": "methods.recurrent",
    # spiking vs matched rate FORCE (Newton & Nicola 2025)
    "MatchedForceComparison": "methods.comparison",
    # code-generated standalone programs
    "StandaloneFORCETrainer": "devices.standalone", "run_standalone": "devices.standalone", "build_project": "devices.standalone",
}

__all__ = ["RLS", "PerNeuronRLS", "LIFParams", "lif_rate", "TanhForceNetwork", "LIFRateNetwork",
           *_LAZY, "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'brianforce' has no attribute {name!r}")
