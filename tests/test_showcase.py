"""The package side of the app: render a comparison, describe and keep models."""

import json
import os
import time

import cv2
import huggingface_hub
import numpy as np
import pytest
from PIL import Image

from convlstm import CheckpointError, EncoderForecaster, load_model, radar, registry, render, showcase
from convlstm.compare import compare


@pytest.fixture(scope="module")
def model():
    return EncoderForecaster(hidden_channels=[8], kernel_size=3).eval()


@pytest.fixture(scope="module")
def sequence():
    return showcase.moving_mnist_sequence(seed=3, digits=2, context=10, horizon=10)  # (20, 64, 64)


def test_moving_mnist_sequence(sequence):
    assert sequence.shape == (20, 64, 64) and sequence.dtype == np.float32
    assert np.array_equal(sequence, showcase.moving_mnist_sequence(3, 2, 10, 10))  # same seed, same frames
    with pytest.raises(ValueError, match="digits"):
        showcase.moving_mnist_sequence(3, 4, 10, 10)
    with pytest.raises(ValueError, match="seed"):
        showcase.moving_mnist_sequence(-1, 2, 10, 10)


def test_render_writes_readable_files(model, sequence, tmp_path):
    c = compare(model, sequence, context=10, horizon=10)
    out = showcase.render(c, tmp_path / "out")
    for path in (out.animation, out.grid, *out.downloads):
        assert path.parent == tmp_path / "out" and path.stat().st_size > 0
    if out.animation.suffix == ".webm":
        capture = cv2.VideoCapture(str(out.animation))
        count = 0
        while capture.grab():
            count += 1
        assert count == 20  # 10 input frames, then 10 forecast frames
    else:
        assert Image.open(out.animation).n_frames == 20
    grid = Image.open(out.grid)
    # now + 10 columns; rows truth, ConvLSTM, optical flow (persistence is the "now" column held)
    assert grid.format == "PNG" and grid.width > 11 * 64 and 3 * 64 < grid.height < 5 * 64
    np.testing.assert_array_equal(np.load(out.forecast_npy), c.forecasts["ConvLSTM"])
    gif = Image.open(out.forecast_gif)
    assert gif.n_frames == 10 or len(np.unique(c.forecasts["ConvLSTM"])) == 1  # GIF merges equal frames


def test_grid_has_a_truth_row_only_with_truth(model, sequence):
    with_truth = showcase.lead_time_grid(compare(model, sequence, context=10, horizon=5))
    without = showcase.lead_time_grid(compare(model, sequence[:10], context=10, horizon=5))
    rows = (with_truth.shape[0] - without.shape[0]) / (64 * 3 + 2)  # cells of 64 px × scale 3, gap 2
    assert rows == pytest.approx(1)


def test_models_beside_the_convlstm_get_a_grid_row_and_an_animation_panel(model, sequence, tmp_path):
    alone = compare(model, sequence, context=10, horizon=5)
    beside = compare(model, sequence, context=10, horizon=5, others={"second": model})
    assert list(beside.forecasts) == ["ConvLSTM", "second", "optical flow", "persistence"]
    np.testing.assert_array_equal(beside.forecasts["second"], beside.forecasts["ConvLSTM"])
    assert set(beside.scores) == set(beside.forecasts)
    rows = (showcase.lead_time_grid(beside).shape[0] - showcase.lead_time_grid(alone).shape[0]) / (64 * 3 + 2)
    assert rows == pytest.approx(1)
    wide, narrow = (Image.open(showcase.render(c, tmp_path / name).comparison_gif)
                    for name, c in (("beside", beside), ("alone", alone)))
    assert wide.width - narrow.width >= 128  # one more panel of about 128 px
    assert wide.width == 4 * 128 + 3 * render.GAP  # four panels share the animation's 512 px


def test_wider_room_enlarges_the_panels_a_whole_number_of_times(model, sequence, tmp_path):
    c = compare(model, sequence, context=10, horizon=5)  # three panels of 64-px frames
    for width, panel in ((512, 128), (620, 192), (200, 64), (150, 50)):  # 2×, 3×, as they are, shrunk
        shown = Image.open(showcase.render(c, tmp_path / str(width), width=width).comparison_gif)
        assert shown.width == 3 * panel + 2 * render.GAP


def test_a_colour_scale_is_animated_as_the_gif_that_keeps_its_palette(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=2, value_transform="dbz60", step_minutes=5).eval()
    c = compare(model, radar.radar(1, seed=1, frames=5, size=40)[0], context=3, horizon=2)
    out = showcase.render(c, tmp_path)
    assert out.animation == out.comparison_gif  # not video, whose 4:2:0 colour would smear one-pixel cells


def test_big_uploads_are_shrunk_for_display(model, tmp_path):
    frames = np.random.default_rng(1).random((4, 300, 500), dtype=np.float32)
    c = compare(model, frames, context=3, horizon=2)
    out = showcase.render(c, tmp_path)
    assert np.load(out.forecast_npy).shape == (2, 300, 500)  # the download keeps full size
    assert Image.open(out.grid).width < 1400


def test_radar_comparison_renders_in_reflectivity_colours_with_a_legend(tmp_path):
    model = EncoderForecaster(frame_size=40, patch_size=4, hidden_channels=[4], kernel_size=3, context_frames=3,
                              horizon=4, value_transform="dbz60", step_minutes=6).eval()
    frames = radar.radar(1, seed=1, frames=6, size=40)[0]  # mm/h: 3 in, 3 of the 4 lead times have truth
    c = compare(model, frames, context=3, horizon=4)
    assert c.lead_labels() == ["+6 min", "+12 min", "+18 min", "+24 min"]
    assert any("+6 min to +18 min" in n for n in c.notes)
    out = showcase.render(c, tmp_path)
    np.testing.assert_array_equal(np.load(out.forecast_npy), c.forecasts["ConvLSTM"])  # mm/h, as given
    grid = np.asarray(Image.open(out.grid).convert("RGB"))
    legend = radar.legend_image()
    assert grid.shape[1] >= legend.shape[1]
    colours = {tuple(rgb) for _, rgb in radar.REFLECTIVITY_COLORS}
    assert colours & {tuple(p) for p in grid.reshape(-1, 3)}  # rain drawn in the reflectivity scale
    bottom = grid[-legend.shape[0]:]
    left = (grid.shape[1] - legend.shape[1]) // 2
    np.testing.assert_array_equal(bottom[:, left:left + legend.shape[1]], legend)


def test_scratch_folder_removes_old_folders(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    stale = time.time() - showcase.SCRATCH_MAX_AGE_S - 10
    os.utime(old, (stale, stale))
    fresh = showcase.scratch_folder(tmp_path)
    assert fresh.is_dir() and fresh.parent == tmp_path and not old.exists()
    assert showcase.scratch_folder(tmp_path) != fresh


def _checkpoint(folder, **config):
    model = EncoderForecaster(**({"hidden_channels": [8], "kernel_size": 3} | config))
    model.save_pretrained(folder)
    return model


def test_model_summary_reads_training_and_test_files(model, tmp_path):
    _checkpoint(tmp_path)
    (tmp_path / "training.json").write_text(json.dumps(  # as train.py saves it beside a checkpoint
        {"config": {"dataset": "moving-mnist", "num_digits": 2}, "best": {"step": 2900, "val_mse": 131.25},
         "steps": 3000, "sequences": 96000, "minutes": 5.2}))
    for name, digits, mse in (("evaluation.json", 2, 128.5), ("evaluation_3digits.json", 3, 181.54)):
        (tmp_path / name).write_text(json.dumps(
            {"sequences": 3000, "digits": digits, "methods": {"ConvLSTM": {"mean": {"mse": mse, "ssim": 0.712}}}}))
    info = registry.model_info(load_model(tmp_path, device="cpu"), "my/model", folder=tmp_path)
    text = registry.summary_markdown(info)
    assert "my/model" in text and "1 layers 8" in text and "3×3 kernels" in text
    assert "Moving MNIST, 2 digits (96,000 sequences, 3,000 steps, 5 min)" in text
    assert "validation MSE/frame 131.2" in text
    assert ("Test score:** MSE/frame 128.5, SSIM 0.712 on 3,000 test sequences of 2 digits; "
            "MSE/frame 181.5, SSIM 0.712 on 3,000 test sequences of 3 digits") in text
    bare = registry.summary_markdown(registry.model_info(model, "x"))
    assert "Training data" not in bare and "Test score" not in bare and "advection head" not in bare
    moving = EncoderForecaster(hidden_channels=[8], kernel_size=3, forecast_head="advection")
    assert "and the advection head" in registry.summary_markdown(registry.model_info(moving, "y"))


def test_headline_names_the_model_beside_and_its_score_on_the_same_test(model):
    def info(source, mse, ssim, sequences=3000):
        return registry.model_info(model, source) | {"training": {"dataset": "moving-mnist", "minutes": 6.2}, "tests": [
            {"sequences": sequences, "digits": 2, "mse": mse, "ssim": ssim, "flow_mse": 172.1, "flow_ssim": 0.695}]}

    alone = registry.headline_markdown(info("a/one", 129.6, 0.156))
    assert alone.startswith("**Model:** ConvLSTM `a/one` (0.0 M parameters, trained 6 min on Moving MNIST)")
    assert alone.endswith("**Test, 3,000 sequences of 2 digits:** MSE/frame ↓ **129.6** vs 172.1 for optical flow, "
                          "SSIM ↑ 0.156 vs 0.695")
    both = registry.headline_markdown(info("a/one", 129.6, 0.156), ("second", info("b/two", 110.1, 0.548)))
    assert both.startswith("**Models:** ConvLSTM `a/one` (") and " and second `b/two` (" in both
    assert "MSE/frame ↓ **129.6** and **110.1** vs 172.1 for optical flow, SSIM ↑ 0.156 and 0.548 vs 0.695" in both
    other_test = registry.headline_markdown(info("a/one", 129.6, 0.156), ("second", info("b/two", 1.0, 0.9, 10)))
    assert "**129.6** vs 172.1" in other_test and "1.0" not in other_test  # only scores of the same test side by side


def test_model_summary_names_the_training_device(model, tmp_path):
    (tmp_path / "training.json").write_text(json.dumps(
        {"config": {"dataset": "moving-mnist", "num_digits": 2}, "best": {"step": 3145, "val_mse": 134.48},
         "steps": 3145, "sequences": 402560, "minutes": 5.5, "device": "NVIDIA H100 80GB HBM3"}))
    text = registry.summary_markdown(registry.model_info(model, "x", folder=tmp_path))
    assert "(402,560 sequences, 3,145 steps, 6 min on NVIDIA H100 80GB HBM3); best validation MSE/frame 134.5" in text


def test_registry_keeps_the_default_and_reloads_evicted(tmp_path):
    for name in ("a", "b", "c"):
        _checkpoint(tmp_path / name)
    models = registry.ModelRegistry(capacity=1, device="cpu")
    default = models.load(str(tmp_path / "a"))
    assert models.get(None) is default and models.get(default.key) is default
    b = models.load(str(tmp_path / "b"))
    assert models.load(str(tmp_path / "b")) is b  # loaded once
    models.load(str(tmp_path / "c"))  # capacity 1: b goes, the default stays
    assert b.key not in models._models and default.key in models._models
    assert models.get(b.key).key == b.key  # a session still holding b's key gets it back
    with pytest.raises(CheckpointError, match="not a model folder"):
        models.load(str(tmp_path))
    assert models.get(None) is default


def _hub_cache(cache, repo_id, model):
    """A cache as huggingface_hub leaves it: models--ORG--NAME/snapshots/<hash>/ plus refs/main."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    model.save_pretrained(snapshot)
    training = {"config": {"dataset": "moving-mnist"}, "best": {"val_mse": 99.0}}
    (snapshot / "training.json").write_text(json.dumps(training))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def test_load_by_repo_id_from_an_offline_cache(tmp_path, offline):
    original = _checkpoint(tmp_path / "src", hidden_channels=[4, 4])
    _hub_cache(tmp_path / "cache", "someone/tiny-convlstm", original)
    loaded = load_model("someone/tiny-convlstm", cache_dir=tmp_path / "cache", device="cpu")
    assert loaded.hidden_channels == [4, 4]
    for (name, a), (_, b) in zip(original.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch_equal(a, b), name
    folder = registry.checkpoint_folder("someone/tiny-convlstm", cache_dir=tmp_path / "cache")
    assert (folder / "training.json").is_file()  # the summary finds the snapshot's files offline
    models = registry.ModelRegistry(device="cpu", cache_dir=tmp_path / "cache")
    assert "best validation MSE/frame 99.0" in models.load("someone/tiny-convlstm").summary
    with pytest.raises(CheckpointError, match="offline"):
        load_model("someone/absent", cache_dir=tmp_path / "cache")


def torch_equal(a, b) -> bool:
    return a.shape == b.shape and bool((a == b).all())
