"""Train the objects head of an EncoderForecaster: which digit each context pixel belongs to.

    python -m convlstm.commands.train_objects --out runs/objects --max-minutes 30
    python -m convlstm.commands.train_objects --out runs/objects --init-from runs/objects --max-minutes 30

The forecast of the objects head is drawn explicitly (``convlstm.core.objects``); what is learned is
the segmentation it starts from. Moving MNIST's generator knows which digit shows at every pixel
(``mnist.generate(owners=True)``), so the labels are supervised directly: cross-entropy over the
ink pixels of every context frame, under the better of the matchings of the model's objects to the
digits (which object is which is arbitrary). Runs on the CPU at one thread unless told otherwise;
saves the model (``save_pretrained``) and ``training.json`` every few minutes and at the end, and
--init-from continues a saved run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..core.checkpoint import load_model
from ..core.model import EncoderForecaster
from ..data import mnist

VALIDATION_SEQUENCES = 200


def owner_loss(logits: torch.Tensor, owners: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over sequences of the cross-entropy over ink pixels under the best matching of objects to
    digits, and the share of ink pixels labelled right under it. ``logits`` (B, T, K, H, W), ``owners``
    (B, T, H, W) with 0 where no ink and 1..D (D ≤ K) the digit shown."""
    B, T, K, H, W = logits.shape
    ink = owners > 0
    counts = ink.flatten(1).sum(1).clamp(min=1)  # (B,)
    log_p = F.log_softmax(logits.float(), dim=2)
    losses, right = [], []
    for order in itertools.permutations(range(K)):
        target = torch.tensor(order, device=owners.device)[(owners - 1).clamp(min=0)]  # digit d → object order[d]
        picked = log_p.gather(2, target[:, :, None]).squeeze(2)  # (B, T, H, W)
        losses.append(-(picked * ink).flatten(1).sum(1) / counts)
        right.append(((log_p.argmax(2) == target) & ink).flatten(1).sum(1) / counts)
    losses, right = torch.stack(losses), torch.stack(right)  # (orders, B)
    best = losses.argmin(0)
    return losses.min(0).values.mean(), right.gather(0, best[None])[0].mean()


def batch_of(n: int, generator: torch.Generator, digits: torch.Tensor,
             context: int) -> tuple[torch.Tensor, torch.Tensor]:
    frames, owners = mnist.generate(n, generator=generator, digits=digits, frames=context, owners=True)
    return frames[:, :, None], owners


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m convlstm.commands.train_objects", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for the model and its training record")
    p.add_argument("--init-from", default=None, help="a saved model folder to continue")
    p.add_argument("--hidden-channels", type=int, nargs="+", default=[32, 32])
    p.add_argument("--kernel-size", type=int, default=3)
    p.add_argument("--patch-size", type=int, default=4)
    p.add_argument("--num-objects", type=int, default=2)
    p.add_argument("--segmentation", default="learned", choices=("learned", "blobs-first"))
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--max-minutes", type=float, default=30.0)
    p.add_argument("--save-minutes", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=1, help="CPU threads (the default leaves the others free)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    context = mnist.CONTEXT
    if args.init_from:
        model = load_model(args.init_from, device="cpu").train()
        record = json.loads((Path(args.init_from) / "training.json").read_text())
    else:
        model = EncoderForecaster(hidden_channels=args.hidden_channels, kernel_size=args.kernel_size,
                                  patch_size=args.patch_size, forecast_head="objects",
                                  num_objects=args.num_objects, segmentation=args.segmentation)
        record = {"steps": 0, "minutes": 0.0, "sequences": 0, "log": []}
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # A fresh stream for each continuation, so a resumed run does not see the same sequences again.
    stream = torch.Generator().manual_seed(args.seed + record["steps"])
    train_digits = torch.from_numpy(mnist.load_digit_bank("train"))
    val = batch_of(VALIDATION_SEQUENCES, torch.Generator().manual_seed(mnist.VAL_SEED),
                   torch.from_numpy(mnist.load_digit_bank("val")), context)

    def validate() -> dict:
        model.eval()
        with torch.no_grad():
            loss, right = owner_loss(model.owner_logits(val[0]), val[1])
        model.train()
        return {"val_loss": round(float(loss), 4), "val_ink_accuracy": round(float(right), 4)}

    # Each continuation is one entry of "runs": its learning rate and where it started and ended.
    record.setdefault("runs", [])
    # What the app's model panel reads (as from the train command's training.json): the data and the device.
    record |= {"config": {"dataset": "moving-mnist", "num_digits": 2}, "device": "cpu"}
    this_run = {"lr": args.lr, "batch_size": args.batch_size, "threads": args.threads, "torch": torch.__version__,
                "from_step": record["steps"], "from_minutes": record["minutes"]}
    record["runs"].append(this_run)

    def save() -> None:
        this_run.update(to_step=record["steps"], to_minutes=record["minutes"])
        model.save_pretrained(out)
        (out / "training.json").write_text(json.dumps(record | {"parameters": model.num_parameters()}, indent=2))

    begin = last_save = time.perf_counter()
    start_minutes = record["minutes"]
    while (time.perf_counter() - begin) / 60 < args.max_minutes:
        frames, owners = batch_of(args.batch_size, stream, train_digits, context)
        loss, right = owner_loss(model.owner_logits(frames), owners)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        record["steps"] += 1
        record["sequences"] += args.batch_size
        record["minutes"] = round(start_minutes + (time.perf_counter() - begin) / 60, 2)
        if record["steps"] % 50 == 0:
            entry = {"step": record["steps"], "minutes": record["minutes"], "loss": round(float(loss), 4),
                     "ink_accuracy": round(float(right), 4)}
            if record["steps"] % 250 == 0:
                entry |= validate()
            record["log"].append(entry)
            print(json.dumps(entry), flush=True)
        if (time.perf_counter() - last_save) / 60 >= args.save_minutes:
            save()
            last_save = time.perf_counter()
    record["final"] = validate()
    save()
    print(json.dumps(record["final"]), flush=True)


if __name__ == "__main__":
    main()
