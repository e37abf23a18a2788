"""Adam optimiser over a dict of numpy arrays (used by :class:`~brianforce.rate.backprop.DaleRNNTrainer`).

References
----------
Kingma DP, Ba J (2015) Adam: a method for stochastic optimization. ICLR.
"""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_number

__all__ = ["Adam"]


class Adam:
    """Adam optimiser over a dict of arrays (updated in place on the owner).

    References
    ----------
    Kingma DP, Ba J (2015) Adam: a method for stochastic optimization. ICLR.
    """

    def __init__(self, learning_rate: float = 0.01, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.learning_rate = as_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        self.beta1, self.beta2 = (as_number(b, k, low=0.0, high=1.0, high_open=True)
                                  for k, b in (("beta1", beta1), ("beta2", beta2)))
        self.eps = as_number(eps, "eps", low=0.0, low_open=True)
        self.t = 0
        self.m: dict = {}
        self.v: dict = {}

    def step(self, grads: dict) -> dict:
        """Return the parameter increments for ``grads`` (to be added to the parameters)."""
        self.t += 1
        out = {}
        b1, b2 = self.beta1, self.beta2
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for k, g in grads.items():
            m = self.m.setdefault(k, np.zeros_like(g))
            v = self.v.setdefault(k, np.zeros_like(g))
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            out[k] = -self.learning_rate * (m / c1) / (np.sqrt(v / c2) + self.eps)
        return out
