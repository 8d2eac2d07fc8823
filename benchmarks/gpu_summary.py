"""The summary table of `benchmarks/gpu_check.sh`: its steps and figures, as Markdown.

    python benchmarks/gpu_summary.py DIR

Reads DIR/steps.tsv (step, exit status, seconds) and, where present, DIR/bench.json
(`gpu_bench.py`), DIR/torch.json (`gpu_torch_peer.py`) and DIR/export.json
(`gpu_onnx_check.py`); prints one Markdown page ready for `benchmarks/RESULTS.md`.
"""

import json
import sys
from pathlib import Path

STATUS = {"0": "ok", "124": "stopped at its time limit", "3": "skipped"}


def read_json(path):
    """The JSON in ``path``, or None when the step wrote nothing."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def steps_table(folder):
    lines = ["| step | result | seconds |", "|---|---|---|"]
    rows = Path(folder, "steps.tsv").read_text().splitlines()[1:]
    for name, code, seconds in (row.split("\t") for row in rows if row.strip()):
        lines.append(f"| {name} | {STATUS.get(code, f'failed (exit {code})')} | {seconds} |")
    return lines


def speed_table(bench, peer):
    """Chainer's pipeline and resident images/s, and torchvision's at the same batch."""
    if not bench:
        return ["(no training figures: see gpu_check.log, step train-speed)"]
    torch_rows = {} if not peer or "rows" not in peer else {
        (r["batch"], r["mode"]): r["images_per_s"] for r in peer["rows"]}
    lines = [f"Training steps on {bench['device']} (images/s, medians of rounds):", "",
             "| arch | batch | loader pipeline | batches resident | pipeline / resident "
             "| torchvision fp32 | torchvision channels_last+bf16 AMP |",
             "|---|---|---|---|---|---|---|"]
    for row in bench["rows"]:
        if "skipped" in row:
            lines.append(f"| {row['arch']} | {row['batch']} | {row['skipped']} | | | | |")
            continue
        peers = ["" if row["arch"] != "alex" else
                 f"{torch_rows[(row['batch'], mode)]:.0f}" if (row["batch"], mode) in torch_rows
                 else "" for mode in ("fp32", "channels_last+bf16 AMP")]
        lines.append(f"| {row['arch']} | {row['batch']} | {row['pipeline']:.0f} | "
                     f"{row['resident']:.0f} | {row['ratio']:.2f} | {peers[0]} | {peers[1]} |")
    if peer and "skipped" in peer:
        lines += ["", f"torchvision: {peer['skipped']}"]
    return lines


def export_lines(export):
    if not export:
        return ["(no ONNX figures: see gpu_check.log, step export)"]
    lines = [f"ONNX export on onnxruntime {export.get('onnxruntime')} "
             f"({', '.join(export.get('providers', []))}): max |Δprob| against the CPU provider "
             f"{export.get('max_diff')}, top-1 equal: {export.get('top1_equal')}, "
             f"{export.get('images_per_s', 0):.0f} images/s at batch {export.get('batch')}"]
    return lines + ([f"CUDA provider: {export['cuda']}"] if "cuda" in export else [])


def main():
    folder = sys.argv[1]
    lines = ["# gpu_check summary", ""] + steps_table(folder) + [""]
    lines += speed_table(read_json(Path(folder, "bench.json")),
                         read_json(Path(folder, "torch.json")))
    lines += [""] + export_lines(read_json(Path(folder, "export.json")))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
