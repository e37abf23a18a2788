"""Task generators: small, paper-derived functions returning inputs, targets and timing."""
from brianforce.tasks.oscillators import TASKS, Task, make_task, sawtooth, sinusoid, sum_of_sinusoids, van_der_pol

__all__ = ["Task", "TASKS", "make_task", "sinusoid", "sum_of_sinusoids", "van_der_pol", "sawtooth"]
