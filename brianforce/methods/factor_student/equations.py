"""Brian2 equations, threshold and reset of the factor student's LIF neurons.

Each neuron (currents in volts, Nicola & Clopath conventions)::

    tau_m dv/dt = −v + I_syn + I_ctrl [+ I_in] + I_bias     (refractory tau_ref_)
    I_syn: fixed synapses through the double-exponential filter (tau_r, tau_d)
    r_f, r_s: the neuron's own spike train filtered with decay tau_d (fast), tau_slow (slow)

Shared by the trainer (:mod:`brianforce.methods.factor_student.network`) and the generated-code
network (:mod:`brianforce.devices.student_network`, which adds the task input ``I_in``).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
"""
from __future__ import annotations

from brianforce.neurons import SYNAPTIC_CURRENT, lif_equations, lif_reset, lif_threshold

__all__ = ["STATE_VARIABLES", "REST_JITTER", "STUDENT_FILTERS", "STUDENT_PARAMETERS", "student_equations",
           "STUDENT_EQUATIONS", "STUDENT_RESET", "STUDENT_THRESHOLD"]

#: Neuron state of a student that a trial task's rest state stores.
STATE_VARIABLES = ("v", "I_syn", "h", "r_f", "hr_f", "r_s", "hr_s")
#: Membrane jitter of a trial started from the rest state: uniform(−REST_JITTER, REST_JITTER) (V).
REST_JITTER = 1e-3
#: Synaptic current, fast and slow own filtered spike trains (Hz).
STUDENT_FILTERS = (SYNAPTIC_CURRENT, ("r_f", "hr_f", "hertz"), ("r_s", "hr_s", "hertz", "tau_r", "tau_slow"))
STUDENT_PARAMETERS = ("I_ctrl : volt", "I_bias : volt", "tau_m : second (shared, constant)",
                      "tau_r : second (shared, constant)", "tau_d : second (shared, constant)",
                      "tau_slow : second (shared, constant)", "tau_ref_ : second (shared, constant)",
                      "v_reset_ : volt (shared, constant)")


def student_equations(task_input: bool = False, linked_control: bool = False) -> str:
    """Equations of the student's neurons (fast and slow filtered spike trains ``r_f``, ``r_s``).

    ``task_input`` adds the input current ``I_in`` and ``linked_control`` makes ``I_ctrl`` a linked
    variable (both for :mod:`brianforce.devices.student_network`).
    """
    currents = ["I_syn", "I_ctrl", "I_in", "I_bias"] if task_input else ["I_syn", "I_ctrl", "I_bias"]
    parameters = tuple(p + " (linked)" if linked_control and p == "I_ctrl : volt" else p for p in STUDENT_PARAMETERS)
    return lif_equations(currents, filters=STUDENT_FILTERS, parameters=parameters)


STUDENT_EQUATIONS = student_equations()
STUDENT_RESET = lif_reset("v_reset_", (("hr_f", "tau_r", "tau_d"), ("hr_s", "tau_r", "tau_slow")), sep="; ")
STUDENT_THRESHOLD = lif_threshold("v_th_", strict=True)
