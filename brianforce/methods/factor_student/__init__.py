"""DePasquale et al.'s factor student: a Brian2 LIF network trained on a rate teacher's factors.

A rate teacher (:class:`brianforce.rate.teacher.RateTeacher`) solves the task; the leading
principal components of its activity, the factors ỹ, are the targets of a spiking student
whose learned recurrent connectivity is low rank (``U wᵀ``): the factors it reads out of its
own filtered spike trains drive its neurons through a fixed projection U
(:class:`FactorStudent`).

Modules
-------
===========  ==========================================================================
params       parameter records (:class:`StudentNeuron`, :class:`FixedNetwork`,
             :class:`StudentSchedule`, :class:`DaleSettings`, :class:`PeriodCalibration`) and
             :func:`recipe_student_kwargs`
equations    Brian2 equations, threshold and reset of the neurons
structure    fixed connectivity, encoders and Dale pools, drawn in numpy from the seed
dale         sign-constrained learning under Dale's law (numpy)
network      the Brian2 network with its closed loop and RLS, trial by trial
calibration  period calibration of autonomous rhythms and time rescaling
results      :class:`StudentRun`
student      :class:`FactorStudent`
===========  ==========================================================================

Example::

    from brian2 import ms, mV
    from brianforce.methods.factor_student import FactorStudent, StudentNeuron, StudentSchedule

    student = FactorStudent(600, neuron=StudentNeuron(bias=-45 * mV),
                            schedule=StudentSchedule(n_rls=60, teacher_forced_rls=False,
                                                     forcing_noise=0.1), seed=1)
    student.fit(inputs, factors, targets, 1 * ms)
    run = student.predict(test_inputs)

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620.
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649.
"""
from brianforce.methods.factor_student.calibration import RESCALED_TIME_CONSTANTS, period_drift, rescaled_refractory
from brianforce.methods.factor_student.equations import (STUDENT_EQUATIONS, STUDENT_FILTERS, STUDENT_PARAMETERS,
                                                         STUDENT_RESET, STUDENT_THRESHOLD, student_equations)
from brianforce.methods.factor_student.params import (DaleSettings, FixedNetwork, PeriodCalibration, StudentNeuron,
                                                      StudentSchedule, recipe_student_kwargs)
from brianforce.methods.factor_student.results import StudentRun
from brianforce.methods.factor_student.student import FactorStudent

__all__ = ["FactorStudent", "StudentRun", "StudentNeuron", "FixedNetwork", "StudentSchedule", "DaleSettings",
           "PeriodCalibration", "recipe_student_kwargs", "student_equations", "STUDENT_EQUATIONS",
           "STUDENT_FILTERS", "STUDENT_PARAMETERS", "STUDENT_RESET", "STUDENT_THRESHOLD",
           "RESCALED_TIME_CONSTANTS", "rescaled_refractory", "period_drift"]
