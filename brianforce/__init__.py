"""brianforce: train recurrent spiking networks in Brian2 to do what rate networks do.

numpy-only cores (RLS, rate networks, analysis, data loaders) import eagerly; the Brian2
builders and trainers are imported on first use, so ``import brianforce`` stays light.
"""
from importlib import import_module

from .neurons import LIFParams, lif_rate
from .rate import LIFRateNetwork, TanhForceNetwork
from .rls import RLS
from .rls_per_neuron import PerNeuronRLS

__version__ = "0.1.0"

_LAZY = {
    # FORCE (Nicola & Clopath 2017)
    "FORCETrainer": "training", "TrainingDiverged": "training", "SimulationResult": "training",
    "StandaloneNotSupportedError": "spiking",
    # rate teachers for spiking students (DePasquale et al.)
    "RateTeacher": "teacher", "FactorStudent": "student", "pca_factors": "factors",
    # one-to-one transfer (Kim, Li & Sejnowski 2019)
    "DaleRNNTrainer": "backprop", "LIFTransfer": "transfer", "TransferredLIF": "transfer",
    # learning recurrent dynamics (Kim & Chow 2018)
    "RecurrentTrainer": "recurrent_training",
    # spiking vs matched rate FORCE (Newton & Nicola 2025)
    "MatchedForceComparison": "comparison",
    # code-generated standalone programs
    "StandaloneFORCETrainer": "standalone", "run_standalone": "standalone", "build_project": "standalone",
}

__all__ = ["RLS", "PerNeuronRLS", "LIFParams", "lif_rate", "TanhForceNetwork", "LIFRateNetwork",
           *_LAZY, "__version__"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'brianforce' has no attribute {name!r}")
