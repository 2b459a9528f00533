"""The graph-ready training step trains exactly as the plain loop does; only the capture needs CUDA.

On the CPU: N steps of ``GraphedStep`` run eagerly (tensor learning rate and teacher forcing, static input
buffers) give the parameters of N steps of the plain loop in ``train()``; a stand-in capture that
really runs the warm-up steps shows that ``GraphedStep`` undoes them; ``train(--cuda-graph)`` goes
through all of it. What only a GPU shows (the capture itself, and that a replay is the eager step)
is the CUDA test at the end, skipped without one. (That the model's forward takes the teacher-forcing
probability as a tensor is in tests/core/test_model.py.)
"""

import copy
import json

import pytest
import torch
from safetensors.torch import load_file

from convlstm.commands import step as graphed  # not `step`: the tests name the step they make `step`
from convlstm.commands.schedules import lr_factor, teacher_forcing
from convlstm.commands.train import make_model, train
from convlstm.commands.train_config import TrainConfig
from convlstm.commands.train_data import make_stream
from tests.helpers import TINY_CONFIG as TINY
from tests.helpers import tiny_model


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    pass


class FakeGraph:
    """A capture stand-in for the CPU: the warm-up really runs (and changes the weights and the
    AdamW state, as on a GPU); a replay runs the step again and writes its loss into the captured
    output tensor. The warm-up's scheduled-sampling draws are given back to the CPU generator, so
    that the replays draw what the plain loop draws (a GPU graph's draws are its own anyway)."""

    def __init__(self, fn, out):
        self.fn, self.out = fn, out

    def replay(self):
        self.out.copy_(self.fn())


def fake_capture(fn, warmup=3):
    rng = torch.get_rng_state()
    for _ in range(warmup):
        fn()
    torch.set_rng_state(rng)
    graph = FakeGraph(fn, torch.zeros(()))
    return graph, graph.out


def run_graphed_step_by_hand(config: TrainConfig, capture: bool) -> tuple[dict, list[float]]:
    """What train() does, step by step, through GraphedStep on the CPU."""
    torch.manual_seed(config.seed)
    model = make_model(config).train()
    optimizer = graphed.make_optimizer(model, config, torch.device("cpu"), graphed=True)
    assert torch.is_tensor(optimizer.param_groups[0]["lr"])
    step = graphed.GraphedStep(model, optimizer, config, bf16=False, capture=capture)
    stream = make_stream(config, torch.device("cpu"))
    losses = []
    for k in range(config.max_steps):
        progress = k / config.max_steps
        losses.append(float(step(next(stream), config.lr * lr_factor(k, progress, config),
                                 teacher_forcing(progress, config))))
    assert float(step.teacher) == pytest.approx(teacher_forcing((config.max_steps - 1) / config.max_steps, config))
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, losses


def trained_weights(out) -> dict:
    return load_file(out / "best" / "model.safetensors")


def test_the_graph_ready_step_trains_exactly_as_the_plain_loop(tmp_path, monkeypatch):
    eager = TrainConfig(**TINY, out=str(tmp_path / "eager"))
    train(eager)  # the plain loop (EagerStep: the model's forward, float lr and teacher forcing)
    reference = trained_weights(tmp_path / "eager")
    log = [json.loads(line) for line in (tmp_path / "eager" / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log if e["event"] == "eval"] == [eager.max_steps]  # best = the last weights

    by_hand, losses = run_graphed_step_by_hand(eager, capture=False)
    assert by_hand.keys() == reference.keys()
    moved = max(float((by_hand[k] - make_model_weights(eager)[k]).abs().max()) for k in by_hand)
    assert moved > 1e-3  # the steps did train
    for name, value in reference.items():
        torch.testing.assert_close(by_hand[name], value, rtol=1e-5, atol=1e-6, msg=name)

    # A capture that really runs its warm-up steps: GraphedStep puts weights and AdamW state back.
    monkeypatch.setattr(graphed, "capture", fake_capture)
    captured, captured_losses = run_graphed_step_by_hand(eager, capture=True)
    for name, value in reference.items():
        torch.testing.assert_close(captured[name], value, rtol=1e-5, atol=1e-6, msg=name)
    assert captured_losses == pytest.approx(losses, rel=1e-5)

    # train(--cuda-graph) itself, with the stand-in capture: the same weights again.
    train(TrainConfig(**TINY, out=str(tmp_path / "graph"), cuda_graph=True))
    for name, value in trained_weights(tmp_path / "graph").items():
        torch.testing.assert_close(value, reference[name], rtol=1e-5, atol=1e-6, msg=name)
    recorded = json.loads((tmp_path / "graph" / "best" / "training.json").read_text())
    assert recorded["config"]["cuda_graph"] and recorded["steps"] == eager.max_steps


def make_model_weights(config):
    torch.manual_seed(config.seed)
    return make_model(config).state_dict()


def test_without_the_restore_the_warm_up_would_have_moved_the_weights(monkeypatch):
    # The check above is only worth something if the warm-up steps really change the weights.
    config = TrainConfig(**{**TINY, "max_steps": 1})
    monkeypatch.setattr(graphed, "_restore", lambda *args: None)
    monkeypatch.setattr(graphed, "capture", fake_capture)
    skipped, _ = run_graphed_step_by_hand(config, capture=True)
    monkeypatch.undo()
    plain, _ = run_graphed_step_by_hand(config, capture=False)
    assert any(not torch.allclose(skipped[k], plain[k]) for k in plain)


def test_the_graphed_step_needs_one_tensor_learning_rate():
    model = tiny_model()
    config = TrainConfig(**TINY)
    with pytest.raises(ValueError, match="tensor learning rate"):
        graphed.GraphedStep(model, graphed.make_optimizer(model, config, torch.device("cpu"), graphed=False),
                            config, bf16=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_capture_without_cuda_says_so():
    with pytest.raises(RuntimeError, match="needs a CUDA GPU"):
        graphed.capture(lambda: torch.zeros(()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graph capture needs a CUDA GPU")
def test_on_a_gpu_each_replay_is_the_eager_step():
    device = torch.device("cuda")
    config = TrainConfig(**{**TINY, "device": "cuda", "cuda_graph": True})
    batches = [torch.rand(3, 20, 64, 64, device=device) for _ in range(5)]
    results = {}
    for name in ("eager", "graph"):
        torch.manual_seed(0)
        model = tiny_model().to(device).train()
        optimizer = graphed.make_optimizer(model, config, device, graphed=name == "graph")
        step = graphed.GraphedStep(model, optimizer, config, bf16=False) if name == "graph" else \
            graphed.EagerStep(model, model, optimizer, config, bf16=False)
        # Deterministic cuDNN: the same gradients in both, so that Adam's near-sign updates of tiny
        # gradients cannot flip between them; what is left is the two AdamW implementations' rounding.
        with torch.backends.cudnn.flags(enabled=True, benchmark=False, deterministic=True):
            losses = [float(step(b, 1e-3 * (k + 1), 0.0)) for k, b in enumerate(batches)]
        results[name] = losses, [p.detach().clone() for p in model.parameters()]
    (eager_losses, eager_params), (graph_losses, graph_params) = results["eager"], results["graph"]
    assert graph_losses == pytest.approx(eager_losses, rel=1e-4)
    for a, b in zip(graph_params, eager_params, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.usefixtures("one_torch_thread")
def test_supervising_the_context_adds_the_encoders_next_frame_predictions_to_the_loss():
    from convlstm.commands.losses import loss_fn
    from convlstm.commands.step import make_optimizer, training_step
    from convlstm.commands.train import make_model, parse_args

    config = parse_args(["--hidden-channels", "8", "--kernel-size", "3", "--autoregressive", "--supervise-context",
                         "--loss", "mse"])
    torch.manual_seed(0)
    model = make_model(config)
    batch = torch.rand(2, 20, 64, 64)
    frames = batch[:, :, None]
    before = copy.deepcopy(model)
    with torch.no_grad():
        logits = before(frames[:, :10], 10, targets=frames[:, 10:], context_logits=True)
        plain = before(frames[:, :10], 10)
    assert logits.shape == (2, 19, 1, 64, 64)  # frames 2..20, as OpenSTL's 19 next-frame predictions
    torch.testing.assert_close(logits[:, 9:], plain, rtol=0, atol=0)  # the forecast is the forecast
    expected = loss_fn(logits, frames[:, 1:], "mse")
    optimizer = make_optimizer(model, config, torch.device("cpu"), graphed=False)
    loss = training_step(model, model, optimizer, batch, 0.0, config, bf16=False)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert float(loss) != pytest.approx(float(loss_fn(plain, frames[:, 10:], "mse")), rel=1e-3)
