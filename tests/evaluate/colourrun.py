"""A run folder whose `small` network's answers are known: it predicts an image's dominant colour.

The weights are set by hand (no training): conv1..conv3 pass the red, green and blue means on,
fc4 picks them at one position, fc5 scales them into the logits of classes 0, 1, 2
("red", "green", "blue"); classes 3.. get constant logits from fc5's bias. The run folder is
written as ``mlimages train`` writes it (args.json, label_def.txt, mean.npy of zeros,
model.npz by Chainer's ``save_npz``), so evaluate and predict read it through the real code.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image

from mlimages import listfile
from mlimages._chainer import chainer
from mlimages.mean import write_mean_npy
from mlimages.models.small import Small
from mlimages.training.options import TrainOptions

NAMES = ("red", "green", "blue", "cyan", "magenta", "yellow")
SIZE = 64


def colour_network(n_classes, scale=10.0, other=(-5.0,)):
    """A Small(n_classes) whose logits are scale * (R, G, B) means, then constants ``other``."""
    net = Small(n_classes)
    with chainer.using_config("train", False):
        net(np.zeros((1, 3, SIZE, SIZE), np.float32))
    for link in (net.conv1, net.conv2, net.conv3, net.fc4, net.fc5):
        link.W.array[...] = 0
        link.b.array[...] = 0
    k1 = net.conv1.W.shape[2]
    for c in range(3):
        net.conv1.W.array[c, c] = 1.0 / (k1 * k1)
        net.conv2.W.array[c, c, 1, 1] = 1.0
        net.conv3.W.array[c, c, 1, 1] = 1.0
        net.fc4.W.array[c, c * 16 + 5] = 1.0    # channel c at row 1, column 1 of the 4x4 map
        net.fc5.W.array[c, c] = scale
    for j in range(3, n_classes):
        net.fc5.b.array[j] = other[(j - 3) % len(other)]
    return net


def colour_run(folder, n_classes=3, image_size=SIZE, **kwargs):
    """Write a run folder for :func:`colour_network` (images brought to ``image_size``, cropped
    to 64); returns its Path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    opts = TrainOptions(train="train.txt", arch="small", out=str(folder))
    record = {"options": opts.to_json(), "crop": SIZE, "image_size": [image_size] * 2,
              "resize": "downscale", "n_classes": n_classes}
    (folder / "args.json").write_text(json.dumps(record))
    listfile.write_label_def(folder / "label_def.txt", NAMES[:n_classes])
    write_mean_npy(folder / "mean.npy", np.zeros((3, image_size, image_size), np.float32))
    chainer.serializers.save_npz(str(folder / "model.npz"), colour_network(n_classes, **kwargs))
    return folder


def solid(path, rgb, size=(SIZE + 8, SIZE)):
    """Write a solid-colour PNG at ``path``; returns the Path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, tuple(rgb)).save(path)
    return path


def colour_list(root, list_path, items):
    """Write images ``(name, rgb, label)`` under ``root`` and the list of them; returns the list."""
    entries = []
    for name, rgb, label in items:
        solid(Path(root) / name, rgb)
        entries.append((name, label))
    listfile.write_list(list_path, entries)
    return Path(list_path)
