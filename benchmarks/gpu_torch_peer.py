"""The peer figure: torchvision's AlexNet training steps on the same device, batches resident.

    python benchmarks/gpu_torch_peer.py [--device cuda] [--batch 128 --batch 256]
        [--iterations 120] [--rounds 3] [--json FILE]

Times SGD (momentum 0.9, weight decay 5e-4, as `mlimages train`) steps of
``torchvision.models.alexnet(num_classes=4)`` on random 227x227 batches already on the
device, in fp32 and, on CUDA, in channels_last with bf16 autocast (AMP): the figure to hold
Chainer + CuPy's "resident" images/s (`gpu_bench.py`) against.  Without PyTorch it prints why
and writes ``{"skipped": ...}`` to ``--json``.
"""

import argparse
import json
import statistics
import time
from pathlib import Path


def step_function(torch, model, batch, device, amp):
    """One training step on a fixed resident batch, fp32 or bf16 autocast."""
    x = torch.randn(batch, 3, 227, 227, device=device)
    t = torch.randint(0, 4, (batch,), device=device)
    if amp:
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_function = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
            loss = loss_function(model(x), t)
        loss.backward()
        optimizer.step()
    return step


def rates(torch, batch, device, amp, iterations, rounds):
    """Images/s of each round of ``iterations // rounds`` steps (after 3 warm-up steps)."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.alexnet(num_classes=4).to(device)
    if amp:
        model = model.to(memory_format=torch.channels_last)
    step = step_function(torch, model, batch, device, amp)
    synchronize = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(3):
        step()
    per_round, out = max(1, iterations // rounds), []
    for _ in range(rounds):
        synchronize()
        start = time.perf_counter()
        for _ in range(per_round):
            step()
        synchronize()
        out.append(batch * per_round / (time.perf_counter() - start))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    parser.add_argument("--batch", type=int, action="append")
    parser.add_argument("--iterations", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    try:
        import torch
        import torchvision  # noqa: F401
    except ImportError as error:
        result = {"skipped": f"PyTorch/torchvision not importable ({error})"}
        print(result["skipped"])
    else:
        device = torch.device(args.device)
        modes = [("fp32", False)] + ([("channels_last+bf16 AMP", True)]
                                     if device.type == "cuda" else [])
        rows = []
        for batch in args.batch or [128, 256]:
            for name, amp in modes:
                runs = rates(torch, batch, device, amp, args.iterations, args.rounds)
                rows.append({"batch": batch, "mode": name, "images_per_s": statistics.median(runs)})
                print(f"torchvision alexnet, batch {batch}, {name}: "
                      + ", ".join(f"{r:.1f}" for r in runs) + f" img/s ({device})", flush=True)
        result = {"device": str(device), "torch": torch.__version__, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
