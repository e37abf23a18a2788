"""Figures draw what their labels say: sweep axes in the labelled units, seeds without a finite
value counted and marked, colour ranges from the data, bad arguments refused with clear errors."""
import types

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from brianforce.learning.results import SimulationResult, TrainingHistory  # noqa: E402
from brianforce.viz.display import show_png  # noqa: E402
from brianforce.viz.force import plot_force_run, plot_force_summary, plot_training_error  # noqa: E402
from brianforce.viz.sweeps import (NONFINITE_NOTE, grid_table, plot_alpha_curve, plot_heatmap,  # noqa: E402
                                   plot_pc_spectrum)

DT = 1e-3


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _mean_line(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


def _result(t0, t1, phase, n_out=2):
    t = np.arange(t0, t1, DT)
    return SimulationResult(t, np.sin(t)[:, None] * np.arange(1, n_out + 1), np.cos(t)[:, None] * np.ones(n_out),
                            np.array([0, 1]), np.array([t0, t0 + 0.01]), 10, 100, phase)


def _history(n_updates=10, n_out=2):
    samples = np.stack([np.full((n_updates, 3), 1.0 + k) for k in range(n_out)], axis=2)
    return TrainingHistory(times=np.arange(n_updates) * 0.1, errors=np.full((n_updates, n_out), 0.1),
                           decoder_samples=samples, traced_neurons=np.arange(3))


# ------------------------------------------------------------------------------------------- sweeps
@pytest.mark.parametrize("axis, si, shown, unit", [("G", [0.04e-3, 0.08e-3], [0.04, 0.08], "mV·s"),
                                                   ("Q", [0.01, 0.04], [10.0, 40.0], "mV"),
                                                   ("rls_interval", [2e-3, 5e-3], [2.0, 5.0], "ms"),
                                                   ("dt", [5e-5, 1e-4], [0.05, 0.1], "ms"),
                                                   ("rate_dt", [2.5e-4, 5e-4], [0.25, 0.5], "ms")])
def test_alpha_curve_plots_sweep_axes_in_the_units_of_their_label(axis, si, shown, unit):
    frame = pd.DataFrame({axis: np.repeat(si, 2), "rate_error": [0.1, 0.2, 0.3, 0.4]})
    ax = plot_alpha_curve(frame, x=axis, value="rate_error")
    assert ax.get_xlabel() == f"{axis} ({unit})"
    np.testing.assert_allclose(_mean_line(ax, "rate_error").get_xdata(), shown)


def test_alpha_curve_counts_and_marks_seeds_without_a_finite_value():
    frame = pd.DataFrame({"alpha": [1e-6] * 3 + [1e-3] * 3 + [1e-1] * 2,
                          "decoder_correlation": [0.9, np.nan, np.inf, 0.5, 0.6, 0.7, np.nan, -np.inf]})
    ax = plot_alpha_curve(frame)
    line = _mean_line(ax, "decoder_correlation")
    np.testing.assert_allclose(line.get_xdata(), [1e-6, 1e-3])                 # an Inf seed does not make it Inf
    np.testing.assert_allclose(line.get_ydata(), [0.9, 0.6])
    # s.d. bar only where two or more seeds are finite: none at 1e-6 (one seed), none at 0.1 (no seed)
    segments = [s for c in ax.collections for s in c.get_segments()]
    assert len(segments) == 1 and np.allclose(segments[0], [[1e-3, 0.5], [1e-3, 0.7]])
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["2/2 NaN/Inf", "2/3 NaN/Inf"]
    assert NONFINITE_NOTE in [t.get_text() for t in ax.get_legend().get_texts()]
    # the all-NaN grid value is marked on the lower edge of the axes
    crosses = [ln for ln in ax.lines if ln.get_marker() == "x"]
    assert len(crosses) == 1 and np.allclose(crosses[0].get_xdata(), [1e-1])


def test_alpha_curve_without_nonfinite_seeds_adds_no_marks():
    frame = pd.DataFrame({"alpha": [1e-6, 1e-6, 1e-3, 1e-3], "decoder_correlation": [0.8, 0.9, 0.5, 0.7]})
    ax = plot_alpha_curve(frame)
    assert not ax.texts and ax.get_legend() is None
    assert len([s for c in ax.collections for s in c.get_segments()]) == 2


def test_alpha_curve_names_grid_values_a_log_axis_cannot_show():
    frame = pd.DataFrame({"alpha": [0.0, 1e-6, 1e-3], "decoder_correlation": [0.1, 0.5, 0.9]})
    ax = plot_alpha_curve(frame)
    np.testing.assert_allclose(_mean_line(ax, "decoder_correlation").get_xdata(), [1e-6, 1e-3])
    assert any("α = 0" in t.get_text() and "not drawn" in t.get_text() for t in ax.texts)


def test_grid_table_does_not_let_nan_seeds_pass_silently():
    frame = pd.DataFrame({"G": [1, 1, 1, 2, 2], "Q": [1] * 5, "rate_converged": [1.0, np.nan, np.nan, 1.0, 0.0],
                          "rate_error": [0.1, np.nan, 0.2, np.inf, 0.1]})
    converged = grid_table(frame, "G", "Q", "rate_converged")
    assert converged.loc[1, 1] == pytest.approx(1 / 3) and converged.loc[1, 2] == 0.5   # NaN: not converged
    error = grid_table(frame, "G", "Q", "rate_error")
    assert np.isnan(error.loc[1, 1]) and np.isinf(error.loc[1, 2])


def test_heatmap_colour_range_follows_the_data_unless_the_column_is_bounded():
    frame = pd.DataFrame({"G": [1e-5, 2e-5, 1e-5, 2e-5], "Q": [0.01, 0.01, 0.02, 0.02],
                          "rate_error": [2.0, 3.0, 4.0, 50.0], "rate_converged": [True, False, True, True],
                          "decoder_correlation": [-0.5, 0.2, 0.9, 0.1]})
    im = plot_heatmap(frame, value="rate_error").images[0]
    assert im.get_clim() == (2.0, 50.0)
    assert len({tuple(c) for c in im.to_rgba(im.get_array()).reshape(-1, 4).tolist()}) == 4
    assert "rate_error" in im.colorbar.ax.get_ylabel()
    im = plot_heatmap(frame, value="rate_converged").images[0]
    assert im.get_clim() == (0.0, 1.0) and "fraction of seeds converged" in im.colorbar.ax.get_ylabel()
    assert plot_heatmap(frame, value="decoder_correlation").images[0].get_clim() == (-1.0, 1.0)
    assert plot_heatmap(frame, value="rate_error", vmin=0, vmax=10).images[0].get_clim() == (0.0, 10.0)


def test_heatmap_says_when_cells_are_not_finite():
    frame = pd.DataFrame({"G": [1e-5, 2e-5], "Q": [0.01, 0.01], "rate_error": [0.2, np.inf]})
    im = plot_heatmap(frame, value="rate_error").images[0]
    assert "NaN or Inf" in im.colorbar.ax.get_ylabel()


def test_pc_spectrum_refuses_more_components_than_it_has():
    proj = types.SimpleNamespace(coefficients=np.ones((5, 1)))
    with pytest.raises(ValueError, match=r"n_components=8 but the projection 'a' has only 5"):
        plot_pc_spectrum({"a": proj}, n_components=8)
    with pytest.raises(ValueError, match="n_components must be an integer >= 1"):
        plot_pc_spectrum({"a": proj}, n_components=0)
    assert len(plot_pc_spectrum({"a": proj}, n_components=3).lines[0].get_xdata()) == 3


# -------------------------------------------------------------------------------------------- force
def test_training_error_marks_the_first_nonfinite_update_and_names_the_floor():
    h = TrainingHistory(times=np.array([0.1, 0.2, 0.3, 0.4]), errors=np.array([[0.5], [0.0], [np.nan], [np.inf]]))
    ax = plot_training_error(h)
    y = ax.lines[0].get_ydata()
    assert y[0] == 0.5 and y[1] == 1e-12 and np.isnan(y[2:]).all()
    marks = [ln for ln in ax.lines[1:] if "NaN/Inf" in ln.get_label()]
    assert len(marks) == 1 and np.allclose(marks[0].get_xdata(), 0.3)
    assert any("t = 0.3 s" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylabel().replace("\n", " ") == "max |error| over outputs before update"


def test_training_error_marks_where_training_diverged():
    h = TrainingHistory(times=np.array([0.1, 0.2]), errors=np.array([[0.5], [7.0]]), diverged=True, diverged_at=0.25)
    ax = plot_training_error(h)
    marks = [ln for ln in ax.lines if ln.get_label().startswith("diverged")]
    assert len(marks) == 1 and np.allclose(marks[0].get_xdata(), 0.25)


@pytest.mark.parametrize("bad, error, match", [(-1, ValueError, "decoder_output must be an integer >= 0"),
                                               (2, ValueError, r"decoder_output must be < the number of outputs "
                                                               r"\(2\), got 2"),
                                               (0.5, TypeError, "decoder_output must be an integer")])
def test_force_run_refuses_a_decoder_output_the_network_does_not_have(bad, error, match):
    with pytest.raises(error, match=match):
        plot_force_run(None, _result(0.0, 1.0, "train"), _result(1.0, 2.0, "test"), _history(),
                       decoder_output=bad)


def test_force_run_draws_the_requested_decoder_output():
    axes = plot_force_run(None, _result(0.0, 1.0, "train"), _result(1.0, 2.0, "test"), _history(),
                          decoder_output=1)
    phi = [ln.get_ydata()[0] for ln in axes[2].lines if len(ln.get_ydata()) == 11]   # 10 updates + frozen end
    assert phi == pytest.approx([2000.0] * 3)                                   # output 1: 2 s, drawn in ms


def test_force_run_with_an_empty_training_phase_draws_no_rls_window():
    empty = SimulationResult(np.zeros(0), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0, int), np.zeros(0), 10,
                             100, "train")
    axes = plot_force_run(_result(0.0, 0.5, "settle"), empty, _result(0.5, 1.0, "test"), _history())
    assert not [p for ax in axes for p in ax.patches if p.get_gid() == "rls_on"]
    assert axes[0].get_xlim() == pytest.approx((0.0, 1.0))
    with pytest.raises(ValueError, match="at least one phase with recorded samples"):
        plot_force_run(None, empty, None, _history())


def test_force_summary_shows_the_requested_training_tail_and_labels_the_test_start():
    from brian2 import ms

    train, test = _result(0.0, 5.0, "train"), _result(5.0, 6.0, "test")
    axes = plot_force_summary(test, _history(), train)
    assert len(axes) == 2 + 2                                                   # two outputs, raster, error
    assert axes[0].lines[0].get_xdata()[0] == pytest.approx(3.999, abs=DT)      # default: the last second
    legend = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert "test starts (RLS off)" in legend and "training (last 1 s)" in legend
    plt.close("all")
    axes = plot_force_summary(test, _history(), train, train_tail=2.5)
    assert axes[0].lines[0].get_xdata()[0] == pytest.approx(2.499, abs=DT)
    plt.close("all")
    axes = plot_force_summary(test, _history(), train, train_tail=500 * ms)
    assert axes[0].lines[0].get_xdata()[0] == pytest.approx(4.499, abs=DT)
    with pytest.raises(ValueError, match="train_tail"):
        plot_force_summary(test, _history(), train, train_tail=0)


# ------------------------------------------------------------------------------------------ display
def test_show_png_refuses_a_missing_file(tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="none.png"):
        show_png(tmp_path / "none.png")
    assert capsys.readouterr().out == ""
    fig, ax = plt.subplots()
    fig.savefig(tmp_path / "f.png")
    show_png(tmp_path / "f.png")
    assert "f.png" in capsys.readouterr().out
