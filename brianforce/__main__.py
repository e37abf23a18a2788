"""``python -m brianforce``: the command line (see :mod:`brianforce.experiments.cli`)."""
import runpy

if __name__ == "__main__":
    runpy.run_module("brianforce.experiments.cli", run_name="__main__")
