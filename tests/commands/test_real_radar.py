"""The real-radar evaluation: masked forecasts, the reference's rain amounts, and the full run."""

import json

import numpy as np
import pytest

from convlstm.commands import real_radar
from convlstm.data import radar_windows
from convlstm.scoring.compare import at_amounts
from tests.helpers import REAL_RADAR, needs_real_radar, synthetic_composite

pysteps = pytest.importorskip("pysteps", reason="pysteps (requirements-radar.txt) is the reference implementation")


def test_masked_forecasts_are_zero_outside_coverage():
    from convlstm import load_model
    from convlstm.core.checkpoint import RADAR_CHECKPOINT

    rain, _ = synthetic_composite()
    sample = radar_windows.samples(rain, "synthetic")[0]
    model = load_model(RADAR_CHECKPOINT, device="cpu")
    seconds = {}
    made = real_radar.forecasts({"ConvLSTM": model}, sample, seconds)
    assert set(made) == {"ConvLSTM", "optical flow", "persistence", "pysteps LK", "pysteps S-PROG"}
    for f in made.values():
        assert f.shape == (15, 100, 100) and (f[:, ~sample.mask] == 0).all() and f.min() >= 0
    assert set(seconds) >= {"ConvLSTM", "optical flow", "persistence"}


def test_the_evaluation_scores_every_method_at_the_references_amounts_and_reports_bias():
    from convlstm import load_model
    from convlstm.core.checkpoint import RADAR_CHECKPOINT

    rain, _ = synthetic_composite()
    found = radar_windows.samples(rain, "synthetic")[:2]
    results = real_radar.evaluate({"ConvLSTM": load_model(RADAR_CHECKPOINT, device="cpu")}, found)
    same = results["at_reference_amounts"]
    assert (same["model"], same["reference"]) == ("ConvLSTM", real_radar.REFERENCE)
    others = [name for name in results["methods"] if name != real_radar.REFERENCE]
    assert others == ["ConvLSTM", "optical flow", "persistence", "pysteps LK"]
    assert list(same["methods"]) == [real_radar.REFERENCE, *(at_amounts(name, real_radar.REFERENCE) for name in others)]
    assert list(same["by_source"]) == ["synthetic"]
    assert same["methods"][real_radar.REFERENCE] == results["methods"][real_radar.REFERENCE]  # the reference as it is
    reference_bias = np.array(same["methods"][real_radar.REFERENCE]["per_lead"]["bias@0.5"])
    for name in others:  # at its amounts, no method has more rain area than the reference (less where it is drier)
        bias = np.array(same["methods"][at_amounts(name, real_radar.REFERENCE)]["per_lead"]["bias@0.5"])
        assert (bias <= reference_bias + 1e-9).all(), name
        assert "bias@0.5" in results["methods"][name]["mean"]
    placed = at_amounts("ConvLSTM", real_radar.REFERENCE)
    table = real_radar.summary_table(results)
    assert f"| all 2 | {placed} | {same['methods'][placed]['mean']['csi@0.5']:.3f} |" in table
    assert "bias@0.5 (1 best)" in table


@pytest.mark.slow
@needs_real_radar
def test_the_evaluation_command_on_the_real_composites(tmp_path):
    from convlstm import load_model
    from convlstm.core.checkpoint import RADAR_CHECKPOINT

    out = tmp_path / "real.json"
    real_radar.main(["--data", str(REAL_RADAR), "--out", str(out)])
    results = json.loads(out.read_text())
    assert results["samples"] == 67
    assert {part["samples"] for part in results["by_source"].values()} == {24, 19}
    means = {name: r["mean"]["csi@0.5"] for name, r in results["methods"].items()}
    assert [name for name in means if name.startswith("ConvLSTM")] == \
        ["ConvLSTM", f"ConvLSTM {'without' if load_model(RADAR_CHECKPOINT).probability_matching else 'with'} "
                     "probability matching"]  # the bundled model, and switched the other way
    assert means["pysteps S-PROG"] > means["persistence"]  # the reference beats the trivial forecast
    assert set(results["at_reference_amounts"]["by_source"]) == set(results["by_source"])
    assert out.with_suffix(".md").is_file() and out.with_suffix(".png").is_file()
    assert out.with_name("real_performance.png").is_file()
    assert len(list(tmp_path.glob("real_*.png"))) == 3 + 1  # one picture per source, and the performance diagram
    placed = results["at_reference_amounts"]["methods"]
    assert len(placed) == len(results["methods"])  # every method but the reference, and the reference
