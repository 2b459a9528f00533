"""The fused cell against the paper's equations, gradients, devices and dtypes."""

import pytest
import torch
import torch.nn.functional as F

from convlstm import ConvLSTM, ConvLSTMCell


def reference_cell(cell: ConvLSTMCell, x, h, c):
    """Eq. (3) of Shi et al. written out: eight convolutions and explicit Hadamard peepholes."""
    hid = cell.hidden_channels
    w, b = cell.gates.weight, cell.gates.bias
    pad = cell.gates.padding
    w_x, w_h = w[:, : cell.in_channels], w[:, cell.in_channels:]
    names = "ifco"  # the fused layout is i, f, g(=c), o

    def conv(weights, inp, gate):
        k = names.index(gate)
        return F.conv2d(inp, weights[k * hid:(k + 1) * hid], padding=pad)

    def bias(gate):
        k = names.index(gate)
        return b[k * hid:(k + 1) * hid].view(1, -1, 1, 1)

    if cell.peephole == "none":
        w_ci = w_cf = w_co = torch.zeros((), dtype=x.dtype)
    else:
        w_ci, w_cf, w_co = cell.w_ci, cell.w_cf, cell.w_co
    i = torch.sigmoid(conv(w_x, x, "i") + conv(w_h, h, "i") + w_ci * c + bias("i"))
    f = torch.sigmoid(conv(w_x, x, "f") + conv(w_h, h, "f") + w_cf * c + bias("f"))
    c_new = f * c + i * torch.tanh(conv(w_x, x, "c") + conv(w_h, h, "c") + bias("c"))
    o = torch.sigmoid(conv(w_x, x, "o") + conv(w_h, h, "o") + w_co * c_new + bias("o"))
    return o * torch.tanh(c_new), c_new


def random_cell(peephole, in_channels=3, hidden=4, kernel=3, grid=(6, 5)):
    cell = ConvLSTMCell(in_channels, hidden, kernel, peephole, grid).double()
    with torch.no_grad():  # peepholes start at zero; make them matter
        for p in cell.parameters():
            p.normal_(0, 0.5)
    return cell


@pytest.mark.parametrize("peephole", ["spatial", "channel", "none"])
def test_fused_cell_equals_the_papers_equations(peephole):
    cell = random_cell(peephole)
    x, h, c = (torch.randn(2, n, 6, 5, dtype=torch.float64) for n in (3, 4, 4))
    got_h, got_c = cell(x, (h, c))
    want_h, want_c = reference_cell(cell, x, h, c)
    torch.testing.assert_close(got_h, want_h, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_c, want_c, rtol=1e-12, atol=1e-12)


def test_output_gate_peeks_at_the_new_cell_state():
    cell = random_cell("channel")
    x, h, c = (torch.randn(1, n, 6, 5, dtype=torch.float64) for n in (3, 4, 4))
    got_h, got_c = cell(x, (h, c))
    # The same equations with C_{t-1} in the output gate must differ.
    hid = cell.hidden_channels
    z = cell.gates(torch.cat([x, h], 1))
    o_old = torch.sigmoid(z[:, 3 * hid:] + cell.w_co * c)
    assert not torch.allclose(o_old * torch.tanh(got_c), got_h)


def test_forget_bias_starts_at_one_and_peepholes_are_learnable_parameters():
    cell = ConvLSTMCell(2, 8, 3, "spatial", (4, 4))
    assert torch.all(cell.gates.bias[8:16] == 1) and torch.all(cell.gates.bias[:8] == 0)
    state = cell.state_dict()
    assert {"w_ci", "w_cf", "w_co"} <= set(state)
    assert state["w_ci"].shape == (8, 4, 4)
    assert ConvLSTMCell(2, 8, 3, "channel").w_co.shape == (8, 1, 1)
    assert not hasattr(ConvLSTMCell(2, 8, 3, "none"), "w_ci")


def test_every_parameter_gets_a_gradient_and_a_step_moves_the_peepholes():
    stack = ConvLSTM(2, [4, 3], kernel_size=3, peephole="spatial", grid_size=(5, 5))
    x = torch.randn(2, 4, 2, 5, 5)
    out, _ = stack(x)
    out.square().sum().backward()
    for name, p in stack.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    before = [c.w_ci.detach().clone() for c in stack.cells]
    torch.optim.SGD(stack.parameters(), lr=0.1).step()
    for cell, old in zip(stack.cells, before, strict=True):
        assert not torch.equal(cell.w_ci, old)


def test_gradcheck_of_the_cell():
    cell = random_cell("spatial", in_channels=2, hidden=2, grid=(3, 3))
    x, h, c = (torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True) for _ in range(3))
    params = tuple(cell.parameters())

    def run(x, h, c, *weights):
        # gradcheck the network: inputs, states and every weight
        values = dict(zip([n for n, _ in cell.named_parameters()], weights, strict=True))
        return torch.func.functional_call(cell, values, (x, (h, c)))

    assert torch.autograd.gradcheck(run, (x, h, c, *[p.detach().requires_grad_() for p in params]))


def test_states_follow_the_input_device_and_dtype():
    stack = ConvLSTM(1, [3], kernel_size=3, peephole="channel").double()
    out, [(h, c)] = stack(torch.rand(1, 2, 1, 7, 9, dtype=torch.float64))
    assert out.dtype == h.dtype == c.dtype == torch.float64
    assert out.device == h.device == torch.device("cpu")
    assert h.shape == (1, 3, 7, 9)  # "channel" peepholes work on any grid


def test_bf16_autocast_runs_and_stays_close():
    stack = ConvLSTM(1, [8, 8], kernel_size=3, peephole="channel")
    x = torch.rand(2, 3, 1, 8, 8)
    want, _ = stack(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got, _ = stack(x)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got.float(), want, atol=3e-2, rtol=0)


def test_different_frames_at_different_steps_change_the_output():
    stack = ConvLSTM(1, [4], kernel_size=3, peephole="none")
    x = torch.rand(1, 3, 1, 6, 6)
    y = x.clone()
    y[:, 1] = torch.rand(1, 1, 6, 6)  # change only the middle frame
    a, _ = stack(x)
    b, _ = stack(y)
    assert torch.equal(a[:, 0], b[:, 0]) and not torch.allclose(a[:, 2], b[:, 2])


def test_streaming_in_chunks_equals_one_pass():
    stack = ConvLSTM(2, [4, 3], kernel_size=3, peephole="spatial", grid_size=(5, 5)).double()
    x = torch.randn(2, 7, 2, 5, 5, dtype=torch.float64)
    whole, whole_states = stack(x)
    first, states = stack(x[:, :3])
    second, states = stack(x[:, 3:], states)
    torch.testing.assert_close(torch.cat([first, second], 1), whole)
    for (h1, c1), (h2, c2) in zip(states, whole_states, strict=True):
        torch.testing.assert_close(h1, h2)
        torch.testing.assert_close(c1, c2)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConvLSTMCell(1, 4, kernel_size=4), "odd"),
        (lambda: ConvLSTMCell(1, 4, peephole="spatial"), "grid_size"),
        (lambda: ConvLSTMCell(1, 4, peephole="diagonal"), "peephole"),
        (lambda: ConvLSTM(1, []), "at least one layer"),
    ],
)
def test_bad_construction_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_channels_rank_or_grid_are_clear_errors():
    stack = ConvLSTM(2, [4], kernel_size=3, peephole="spatial", grid_size=(5, 5))
    with pytest.raises(ValueError, match="expects 2 input channels"):
        stack(torch.rand(1, 3, 3, 5, 5))
    with pytest.raises(ValueError, match=r"\(B, T, C, H, W\)"):
        stack(torch.rand(3, 2, 5, 5))
    with pytest.raises(ValueError, match="peephole='channel'"):
        stack(torch.rand(1, 3, 2, 6, 6))
