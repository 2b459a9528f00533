"""The models an app serves: described for people, kept (the default for good), loaded from a Hub cache."""

import json

import huggingface_hub
import pytest

from convlstm import CheckpointError, EncoderForecaster, load_model
from convlstm.serve import registry


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


def test_a_continued_checkpoint_counts_every_run_it_took(model, tmp_path):
    (tmp_path / "training.json").write_text(json.dumps(
        {"config": {"dataset": "moving-mnist", "num_digits": 2}, "best": {"step": 17500, "val_mse": 103.03},
         "steps": 17950, "sequences": 574400, "minutes": 5.5, "device": "NVIDIA H200",
         "earlier_runs": [{"steps": 3145, "sequences": 402560, "minutes": 5.5, "device": "NVIDIA H100 80GB HBM3"},
                          {"steps": 14500, "sequences": 232000, "minutes": 3.6, "device": "NVIDIA H200"}]}))
    info = registry.model_info(model, "x", folder=tmp_path)
    assert "(1,208,960 sequences, 35,595 steps, 15 min on NVIDIA H100 80GB HBM3 then NVIDIA H200)" \
        in registry.summary_markdown(info)
    assert "trained 15 min on Moving MNIST" in registry.headline_markdown(info)


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
