"""The fused cell against the paper's equations, gradients, and clear errors at construction."""

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
