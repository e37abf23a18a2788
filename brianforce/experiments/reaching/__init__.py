"""Reaching recipes of DePasquale et al. (2023) and Kim & Chow (2018).

:mod:`.emg`: rate teacher and spiking factor student fitted to reaching EMG
(``method = "reaching"``, :func:`run_reaching_recipe`). :mod:`.m1`: a spiking network whose
neurons' rates follow recorded M1 units, with a per-unit quality table
(``method = "reaching_m1"``, :func:`run_m1_recipe`).

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) Neuron 111:631-649.
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from brianforce.experiments.reaching.emg import (DEFAULT_STUDENT, DEFAULT_TEACHER, REACHING_RECIPE_KEYS,
                                                 REACHING_STUDENT_KEYS, condition_r2, fit_reaching, gaussian_smooth,
                                                 local_cv2, noisy_inputs, population_comparison, run_reaching_recipe)
from brianforce.experiments.reaching.m1 import (M1_RECIPE_KEYS, UNIT_TABLE_COLUMNS, fit_m1_rates, poisson_ceiling,
                                                run_m1_recipe, unit_quality_table, unit_table_summary,
                                                write_unit_table)

__all__ = ["fit_reaching", "run_reaching_recipe", "condition_r2", "population_comparison", "local_cv2",
           "noisy_inputs", "DEFAULT_TEACHER", "DEFAULT_STUDENT", "gaussian_smooth", "unit_quality_table",
           "unit_table_summary", "write_unit_table", "poisson_ceiling", "fit_m1_rates", "run_m1_recipe",
           "UNIT_TABLE_COLUMNS", "REACHING_RECIPE_KEYS", "REACHING_STUDENT_KEYS", "M1_RECIPE_KEYS"]
