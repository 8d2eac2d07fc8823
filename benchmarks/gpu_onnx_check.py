"""An exported model on onnxruntime's CUDA provider, against its CPU provider.

    python benchmarks/gpu_onnx_check.py MODEL.onnx DATA [--device cuda|cpu] [--batch 64]
        [--json FILE]

Takes 8 JPEGs under DATA (any depth), brings each to the model's input (a centre square,
resized to the crop, RGB 0-255, as the README's snippet does), and runs the graph on the CPU
provider and, with ``--device cuda``, on the CUDA provider: the largest probability
difference, whether the top-1 classes agree, and images/s of batches of ``--batch`` on the
fastest provider available.  `mlimages export` has already checked the graph against
Chainer; this checks the device.  onnxruntime's CPU-only wheel has no CUDA provider: that is
reported, not failed.
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image


def load_inputs(data, crop, count=8):
    """``count`` images of DATA as a float32 (count, 3, crop, crop) batch in 0-255."""
    files = sorted(Path(data).rglob("*.jpg"))[:count]
    if not files:
        raise SystemExit(f"no .jpg under {data}")
    batch = []
    for path in files:
        with Image.open(path) as image:
            image = image.convert("RGB")
            side = min(image.size)
            left, top = (image.width - side) // 2, (image.height - side) // 2
            image = image.crop((left, top, left + side, top + side)).resize((crop, crop))
            batch.append(np.asarray(image, np.float32).transpose(2, 0, 1))
    return np.stack(batch)


def images_per_second(session, name, x, batch, rounds=5):
    """Median images/s of ``rounds`` runs on a batch of ``batch`` (after one warm-up)."""
    big = np.resize(x, (batch,) + x.shape[1:]).astype(x.dtype)
    session.run(None, {name: big})
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        session.run(None, {name: big})
        times.append(time.perf_counter() - start)
    return batch / float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("data")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json")
    args = parser.parse_args()
    import onnxruntime as ort
    cpu = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    inp = cpu.get_inputs()[0]
    x = load_inputs(args.data, int(inp.shape[2]))
    if "uint8" in inp.type:
        x = x.round().astype(np.uint8)
    reference = cpu.run(None, {inp.name: x})[0]
    result = {"onnxruntime": ort.__version__, "providers": ["CPUExecutionProvider"],
              "max_diff": 0.0, "top1_equal": True, "batch": args.batch}
    fastest = cpu
    if args.device == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            result["cuda"] = f"onnxruntime {ort.__version__} has no CUDA provider (a CPU build)"
        else:
            fastest = ort.InferenceSession(args.model, providers=["CUDAExecutionProvider"])
            probs = fastest.run(None, {inp.name: x})[0]
            result.update(providers=fastest.get_providers(),
                          max_diff=float(np.abs(probs - reference).max()),
                          top1_equal=bool((probs.argmax(1) == reference.argmax(1)).all()))
    result["images_per_s"] = images_per_second(fastest, inp.name, x, args.batch)
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
