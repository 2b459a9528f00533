"""The training losses: zero for a perfect forecast, least at the truth, balanced MSE as Shi et al. 2017."""

import pytest
import torch

from convlstm.commands import losses
from convlstm.core import values


@pytest.mark.usefixtures("one_torch_thread")
def test_balanced_mse_weighs_heavy_rain_as_shi_et_al_2017():
    from convlstm.commands.losses import loss_fn

    rain = torch.tensor([0.1, 1.0, 3.0, 40.0])  # mm/h: weights 1, 1, 2, 30
    targets = values.to_unit(rain).view(1, 1, 1, 2, 2)
    prediction = targets - 0.1  # the same error everywhere
    logits = torch.logit(prediction)
    assert loss_fn(logits, targets, "bmse").item() == pytest.approx(0.01 * (1 + 1 + 2 + 30) / 4, rel=1e-4)
    assert loss_fn(logits, targets, "mse").item() == pytest.approx(0.01, rel=1e-4)


@pytest.mark.usefixtures("one_torch_thread")
@pytest.mark.parametrize("kind", losses.LOSSES)
def test_each_loss_is_zero_for_a_perfect_forecast_positive_otherwise_and_least_at_the_truth(kind):
    targets = (torch.rand(2, 3, 1, 8, 8) > 0.5).float()
    sure = (targets * 2 - 1) * 30  # logits whose probabilities are the targets, to float precision
    assert losses.loss_fn(sure, targets, kind).item() == pytest.approx(0, abs=1e-6)
    assert losses.loss_fn(-sure, targets, kind).item() > 0.5  # every pixel wrong
    assert losses.loss_fn(torch.zeros_like(targets), targets, kind).item() > 0.1  # every pixel a coin toss
    soft = torch.rand(2, 3, 1, 8, 8) * 0.8 + 0.1  # gray levels: BCE is not zero here, but least
    logits = torch.logit(soft).requires_grad_()
    losses.loss_fn(logits, soft, kind).backward()
    assert logits.grad.abs().max() < 1e-6


@pytest.mark.usefixtures("one_torch_thread")
def test_balanced_mse_weighs_an_error_on_heavy_rain_more():
    def error_at(rain_mm_h):
        targets = values.to_unit(torch.full((1, 1, 1, 2, 2), rain_mm_h))
        return losses.loss_fn(torch.logit(targets - 0.1), targets, "bmse").item()

    assert error_at(0.5) == pytest.approx(error_at(1.5), rel=1e-4)  # light rain: weight 1
    assert error_at(40.0) > 25 * error_at(1.5)  # the same error at 40 mm/h: weight 30
    assert error_at(7.0) == pytest.approx(5 * error_at(1.5), rel=1e-3)  # 5 ≤ 7 < 10 mm/h: weight 5
