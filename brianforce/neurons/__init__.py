"""Neuron models: the one home of the leaky integrate-and-fire (LIF) model.

Every LIF network of the package (FORCE, balanced, student, transferred, Nicola & Clopath)
writes its equations, threshold and reset through :mod:`.lif`; other models (Izhikevich,
theta neurons) are written by users in plain Brian2 and trained through
:mod:`brianforce.learning` (``tutorials/own_neuron_models.py``).
"""
from brianforce.neurons.lif import (OWN_RATE, SYNAPTIC_CURRENT, LIFParams, filtered_spike_train, lif_equations, lif_rate, lif_reset, lif_threshold,
                  membrane_equation)

__all__ = ["LIFParams", "lif_rate", "lif_equations", "membrane_equation", "filtered_spike_train", "lif_threshold",
           "lif_reset", "SYNAPTIC_CURRENT", "OWN_RATE"]
