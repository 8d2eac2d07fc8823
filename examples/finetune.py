"""Fine-tune a trained model on a new set of classes with frozen convolutions.

    python examples/finetune.py --base result/model.npz --images new_classes/ --out ft-run

The weights of ``--base`` are loaded layer by layer where the shapes match;
the head (a different class count) is re-initialised; conv1..conv3 are frozen,
so no error propagates into them (the article's advice for small datasets).
Without ``--base`` it first trains the ``small`` network on three generated
pattern classes, then fine-tunes it on three *other* patterns; ``--quick``
keeps it small enough for a CPU test.
"""

import argparse
from pathlib import Path

import numpy

from mlimages.demo import synth
from mlimages.training.finetune import FinetuneOptions
from mlimages.label import LabelOptions, label_tree
from mlimages.mean import MeanOptions, mean_image
from mlimages.training.options import TrainOptions
from mlimages.training.run import train
from mlimages.training.summary import summary

FROZEN = ("conv1", "conv2", "conv3")


def prepare(images, out, size=72):
    """label + mean for a class-per-folder tree; returns (train list, val list, mean)."""
    lists = Path(out) / "lists"
    label_tree(images, lists, LabelOptions(val=0.25, seed=1), progress=False)
    mean_image(lists / "train.txt", images, Path(out) / "mean.png", MeanOptions(size=size),
               progress=False)
    return lists / "train.txt", lists / "val.txt", Path(out) / "mean.npy"


def fit(images, out, epoch, finetune=FinetuneOptions(), lr=0.01):
    train_list, val_list, mean = prepare(images, out)
    return train(TrainOptions(train=str(train_list), val=str(val_list), root=str(images),
                              mean=str(mean), arch="small", epoch=epoch, batchsize=16,
                              lr=lr, seed=0, out=str(Path(out) / "result"),
                              finetune=finetune), progress=False)


def base_model(out, quick):
    """Train ``small`` on three generated patterns; returns its model.npz."""
    images = Path(out) / "base-images"
    synth.make_tree(images, classes=3, per_class=12 if quick else 80, seed=1,
                    sizes=((160, 120),))
    fit(images, Path(out) / "base", epoch=2 if quick else 10)
    return Path(out) / "base" / "result" / "model.npz"


def new_classes(out, quick):
    """Two patterns the base model never saw (blobs, waves): a new head is needed."""
    images = Path(out) / "new-images"
    for name in synth.PATTERNS[3:5]:
        folder = images / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(12 if quick else 60):
            synth.make_image(name, (160, 120), seed=7_000 + i).save(folder / f"{i:03d}.jpg")
    return images


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", help="model.npz to start from (default: train one first)")
    p.add_argument("--images", help="class-per-folder tree of the new classes")
    p.add_argument("--out", default="ft-run")
    p.add_argument("--epoch", type=int, default=8)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    base = Path(args.base) if args.base else base_model(args.out, args.quick)
    images = Path(args.images) if args.images else new_classes(args.out, args.quick)
    before = numpy.load(base)
    result = fit(images, Path(args.out) / "finetuned", 2 if args.quick else args.epoch,
                 FinetuneOptions(init_model=str(base), freeze=FROZEN))
    print(summary(result))
    after = numpy.load(Path(args.out) / "finetuned" / "result" / "model.npz")
    unchanged = all(numpy.array_equal(before[k], after[k])
                    for k in before.files if k.split("/")[0] in FROZEN)
    print("frozen layers unchanged:", unchanged)
    return 0 if unchanged else 1


if __name__ == "__main__":
    raise SystemExit(main())
