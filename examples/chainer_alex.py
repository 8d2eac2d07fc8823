"""The original project's example, re-made on the mlimages library API.

Gather a synset and its hyponyms from an ImageNet URL list -> label -> mean ->
train AlexNet -> predict, all in one script.

    python examples/chainer_alex.py --urls fall11_urls.txt --words words.txt \\
        --is-a wordnet.is_a.txt --wnid n02121808 --out alex-run --gpu 0

Without ``--urls`` it runs against the demo's own HTTP server on 127.0.0.1
(generated pattern classes, broken links planted), so it works offline;
``--quick`` makes it small enough for a CPU test.
"""

import argparse
import contextlib
from pathlib import Path

from mlimages.demo import task
from mlimages.demo.site import Site
from mlimages.gather import GatherOptions, SourceOptions, gather, summary_table
from mlimages.label import LabelOptions, label_tree
from mlimages.mean import MeanOptions, mean_image
from mlimages.predict import format_predictions, predict
from mlimages.training.options import TrainOptions
from mlimages.training.run import train
from mlimages.training.summary import summary


@contextlib.contextmanager
def demo_source(folder, quick):
    """Serve the demo's generated task; yields (SourceOptions, held-out images)."""
    size = task.DemoSize(classes=2, per_class=6, holdout=1, image_size=(320, 256),
                         epochs=1, batchsize=4) if quick else task.FULL
    files = task.make_task(folder, size)
    with Site() as site:
        task.publish(site, folder, files)
        yield (SourceOptions(urls=str(Path(folder) / "urls.txt"), wnid=(task.PARENT[0],),
                             subset=True, is_a=str(Path(folder) / "wordnet.is_a.txt"),
                             words=str(Path(folder) / "words.txt"), flat=True),
               sorted((Path(folder) / "holdout").glob("*.jpg")))


def run(source, out, holdout, epoch, batchsize, gpu, limit=None):
    """gather -> label -> mean -> train AlexNet -> predict, into ``out``."""
    out = Path(out)
    images, lists = out / "images", out / "lists"
    result = gather(source, images, GatherOptions(timeout=3, retries=0, limit=limit),
                    progress=False)
    print(summary_table(result))
    label_tree(images, lists, LabelOptions(val=0.25, seed=1, verify=True), progress=False)
    mean_image(lists / "train.txt", images, out / "mean.png", MeanOptions(size=256),
               progress=False)
    run_result = train(TrainOptions(
        train=str(lists / "train.txt"), val=str(lists / "val.txt"), root=str(images),
        mean=str(out / "mean.npy"), arch="alex", epoch=epoch, batchsize=batchsize,
        val_batchsize=batchsize, gpu=gpu, seed=0, out=str(out / "result")), progress=False)
    print(summary(run_result))
    if holdout:
        print(format_predictions(predict(out / "result", holdout, top=2)))
    return run_result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--urls", help="ImageNet URL list (default: the demo's local server)")
    p.add_argument("--words"), p.add_argument("--is-a"), p.add_argument("--wnid")
    p.add_argument("--limit", type=int, help="images per synset")
    p.add_argument("--out", default="alex-run")
    p.add_argument("--epoch", type=int, default=10)
    p.add_argument("--batchsize", type=int, default=32)
    p.add_argument("--gpu", type=int, default=-1)
    p.add_argument("--quick", action="store_true", help="tiny run for a CPU test")
    p.add_argument("--predict", nargs="*", default=[], help="images to classify at the end")
    args = p.parse_args(argv)
    if args.urls:
        source = SourceOptions(urls=args.urls, wnid=(args.wnid,), words=args.words,
                               is_a=args.is_a, subset=bool(args.is_a), flat=True)
        run(source, args.out, args.predict, args.epoch, args.batchsize, args.gpu, args.limit)
        return 0
    epoch, batch = (1, 4) if args.quick else (args.epoch, args.batchsize)
    with demo_source(Path(args.out) / "web", args.quick) as (source, holdout):
        run(source, args.out, holdout, epoch, batch, args.gpu)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
