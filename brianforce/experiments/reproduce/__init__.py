"""Reproductions: each method's acceptance runs at fresh seeds, judged against its paper's criteria.

:mod:`.criteria` is the table of methods, acceptance runs and criteria (each citing its paper);
:mod:`.runners` trains one recipe at one seed and size; :mod:`.tables` writes the judged table of a
method (CSV, Markdown, figure); :mod:`.driver` runs it all resumably on Dask
(``brianforce reproduce [METHOD ...] --seeds 101-105 --out DIR``).
"""
from brianforce.experiments.reproduce.criteria import (MEETS_FRACTION, METHODS, Criterion, Judgement, Method, Run,
                                                       select)
from brianforce.experiments.reproduce.driver import (DEFAULT_SEEDS, Reproduction, check_tuning_seeds, parse_seeds,
                                                     recipe_tuning_seeds, reproduce, reproduce_cli)
from brianforce.experiments.reproduce.runners import CI_OVERRIDES, RUNNERS, SIZES, run_acceptance
from brianforce.experiments.reproduce.tables import criteria_table, extends, table_markdown, write_table

__all__ = ["Criterion", "Judgement", "Method", "Run", "METHODS", "MEETS_FRACTION", "select", "reproduce",
           "reproduce_cli", "parse_seeds", "recipe_tuning_seeds", "check_tuning_seeds", "Reproduction",
           "DEFAULT_SEEDS", "RUNNERS", "SIZES", "CI_OVERRIDES", "run_acceptance", "criteria_table", "table_markdown",
           "write_table", "extends"]
