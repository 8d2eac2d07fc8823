"""Asyncio batch loader: a list file and a mean → ``(x, t)`` mini-batches, a Chainer iterator.

Each batch is what ``PreprocessedDataset`` of Chainer's ``examples/imagenet/train_imagenet.py``
gives, stacked: every image brought to ``size`` x ``size`` by :class:`LabeledImage`'s rules
(default: ``downscale`` to 256, as ``mlimages mean`` does), then for training a random crop and
a random horizontal flip (the whole image is flipped, then cropped; the mean is cropped at the
same place, unflipped), for evaluation the centre crop; the mean crop subtracted, times 1/255.
Unlike Chainer's version every crop offset is possible, the last one included, and an image
exactly ``crop_size`` wide works; gray, RGBA, palette or 16-bit images arrive as RGB.

How it runs (the background half is :mod:`mlimages.loader.engine`): an asyncio event loop in a
background thread keeps ``prefetch`` batches in flight; each batch is split into jobs (a
whole batch is one job when the batches in flight keep every worker busy) for the worker
threads (:mod:`mlimages.loader.threads`), each of which drives a worker process
(:mod:`mlimages.loader.procs`) that decodes (or reads from the ``cache``) and writes the
preprocessed images straight into the batch, in shared memory. ``processes=False``: the
threads do that work themselves (Pillow parses headers under the GIL; benchmarks/RESULTS.md).
``normalize="device"``: uint8 batches (:class:`RawBatch`), normalized by :func:`converter`
on the device.
A batch's random choices (order, crops, flips, replacements) are drawn from ``seed``, the
epoch and the position, never from which thread finished first, so runs and resumed runs are
reproducible.

Failures: an unreadable image (corrupt, missing, not an image) or one that takes longer than
``item_timeout`` (a stalled read: its worker is retired and replaced) is replaced by another
sample drawn at random, logged once with its path and reason, and listed in
``loader.failures``; training never stops for one bad file.

With a Chainer Trainer (the loader's batches are already stacked, so pass its converter)::

    from mlimages.loader import BatchLoader, converter
    train = BatchLoader("lists/train.txt", "data/images", "mean.npy", 227, 32, train=True)
    val = BatchLoader("lists/val.txt", "data/images", "mean.npy", 227, 32, train=False,
                      repeat=False)
    updater = training.StandardUpdater(train, optimizer, converter=converter, device=device)
    trainer = training.Trainer(updater, (10, "epoch"))
    # Evaluator calls val.reset() before each pass (so it reuses the loader, no copy) and
    # runs until StopIteration: hence repeat=False.
    trainer.extend(extensions.Evaluator(val, model, converter=converter, device=device))
    trainer.extend(extensions.snapshot())      # the loader's position is saved and resumed
    trainer.run()                               # finalize() is called on every loader at the end

Outside a Trainer, use it as a context manager (``with BatchLoader(...) as loader:``) or call
``finalize()``; a loader that is garbage-collected is finalized too.
"""

import collections
import os
import weakref

import numpy

from mlimages import listfile
from mlimages._chainer import chainer
from mlimages.loader.convert import RawBatch, converter
from mlimages.loader.engine import Batch, Engine, Failure, LoaderError, Plan, Record
from mlimages.loader.options import NORMALIZE, LoaderOptions, make_options
from mlimages.loader.transforms import batch_indices, crop_params, epoch_order, place
from mlimages.loader.cache import ImageCache, Reader
from mlimages.loader import procs
from mlimages.image import ImageSpec
from mlimages.defaults import DEFAULT_RESIZE, DEFAULT_SIZE

__all__ = ["BatchLoader", "Batch", "RawBatch", "LoaderOptions", "LoaderError", "Failure", "converter",
           "crop_params", "epoch_order", "place", "DEFAULT_SIZE", "DEFAULT_RESIZE"]

_POLL = 0.25  # seconds between checks while waiting, so that Ctrl-C is seen at once


def _load_mean(mean, opts):
    """The mean as float32 (C, S, S) or (C, 1, 1), and the image size S it implies."""
    if mean is None:
        channels = 1 if opts.grayscale else 3
        return numpy.zeros((channels, 1, 1), numpy.float32), opts.size or DEFAULT_SIZE
    if isinstance(mean, (str, os.PathLike)):
        from mlimages.mean import MeanError, read_mean
        try:
            mean = read_mean(mean)
        except MeanError as ex:
            raise LoaderError(str(ex)) from None
    arr = numpy.asarray(mean, numpy.float32)
    if arr.ndim == 1:
        arr = arr[:, None, None]  # per-channel values
    if arr.ndim != 3 or arr.shape[0] not in (1, 3):
        raise LoaderError(f"the mean has shape {arr.shape}; expected (C, H, W) or (C,) with "
                          "C = 3 (RGB) or 1 (grey), e.g. the mean.npy of mlimages mean")
    if arr.shape[1:] == (1, 1):
        return numpy.ascontiguousarray(arr), opts.size or DEFAULT_SIZE
    if arr.shape[1] != arr.shape[2] or (opts.size and opts.size != arr.shape[1]):
        raise LoaderError(f"the mean is {arr.shape[1]}x{arr.shape[2]} but images are resized "
                          f"to {opts.size or arr.shape[1]}; compute the mean with "
                          f"mlimages mean --size {opts.size or arr.shape[1]} (square)")
    return numpy.ascontiguousarray(arr), arr.shape[1]


class BatchLoader(chainer.dataset.Iterator):
    """Mini-batches ``Batch(x, t)`` of a list file, prefetched by worker threads.

    A ``chainer.dataset.Iterator``: give it to ``StandardUpdater`` / ``Evaluator`` together
    with :func:`converter` (the module docstring shows a whole Trainer set-up).

    Args:
        list_file: a ``path label`` list (see :mod:`mlimages.listfile`).
        root: the folder the listed paths are relative to.
        mean: a path to a ``.npy`` (float32 (C, S, S), as written by ``mlimages mean``), an
            array of that shape or of shape (C,), or None for no subtraction.
        crop_size: side of the square crop fed to the network (227 for AlexNet).
        batch_size: images per batch; the last batch of a non-repeating epoch may be smaller.
        train: random crops and flips, shuffled epochs; else centre crops in list order.
        seed: makes order, crops, flips and replacements reproducible; None draws one (it is
            saved by ``serialize``, so a resumed run continues the same sequence).
        repeat: loop over epochs forever (training); False stops after one epoch
            (evaluation: ``extensions.Evaluator`` calls ``reset()`` before each pass).
        options (LoaderOptions): the rest; keyword ``overrides`` replace its fields.

    Yields:
        Batch: ``x`` float32 (B, C, crop_size, crop_size), mean subtracted, scaled by 1/255;
        ``t`` int32 (B,). C is 3 (RGB) or 1 with a grey mean.

    Attributes (Chainer's iterator protocol): ``epoch``, ``current_position``,
    ``is_new_epoch``, ``epoch_detail``, ``previous_epoch_detail``, ``batch_size``;
    ``failures``: a :class:`Failure` for each image skipped so far.
    """

    converter = None  # set below: the converter to give StandardUpdater and Evaluator

    def __init__(self, list_file, root, mean, crop_size, batch_size, train=True, seed=None, *,
                 repeat=True, options=None, **overrides):
        # First, so that finalize() (Chainer's Iterator.__del__) works on a half-built loader.
        self._pending = collections.deque()
        self._engine = self._cache = self._closer = None
        self.epoch, self.current_position, self.is_new_epoch = 0, 0, False
        self.options = opts = make_options(options, overrides)
        self.mean, self.size = _load_mean(mean, opts)
        self.entries = listfile.read_list(list_file)
        self.list_file, self.root = list_file, root
        self.crop_size, self.batch_size = int(crop_size), int(batch_size)
        self.train, self.repeat = bool(train), bool(repeat)
        self.shuffle = self.train if opts.shuffle is None else bool(opts.shuffle)
        self.seed = int(numpy.random.SeedSequence().entropy % 2**63) if seed is None else int(seed)
        self._check(opts)
        self._previous_epoch_detail = -1.0
        self._plan_state, self._orders, self._record = (0, 0), {}, Record()

    def _check(self, opts):
        count = len(self.entries)
        if not count:
            raise LoaderError(f"{self.list_file} lists no image")
        if opts.grayscale is not None and (len(self.mean) == 1) != opts.grayscale:
            raise LoaderError(f"grayscale={opts.grayscale} but the mean has {len(self.mean)} "
                              "channel(s); compute the mean with the same --grayscale setting")
        if not 1 <= self.crop_size <= self.size:
            raise LoaderError(f"crop_size {self.crop_size} must be between 1 and the image "
                              f"size {self.size}")
        if self.batch_size < 1 or (self.repeat and self.batch_size > count):
            raise LoaderError(f"batch_size {self.batch_size} must be between 1 and the "
                              f"{count} images of {self.list_file}")
        if opts.prefetch < 1 or opts.item_timeout <= 0 or (opts.workers or 1) < 1:
            raise LoaderError("prefetch and workers must be >= 1 and item_timeout > 0")
        if opts.normalize not in NORMALIZE:
            raise LoaderError(f"normalize={opts.normalize!r}: use one of {NORMALIZE}")

    # ------------------------------------------------------------ Chainer's iterator protocol
    @property
    def epoch_detail(self):
        return self.epoch + self.current_position / len(self.entries)

    @property
    def previous_epoch_detail(self):
        return None if self._previous_epoch_detail < 0 else self._previous_epoch_detail

    @property
    def failures(self):
        """A :class:`Failure` (path, reason) for each image skipped so far."""
        return list(self._record.failures)

    def __next__(self):
        if not self.repeat and self.epoch > 0:
            raise StopIteration
        self._top_up()
        plan, future = self._pending[0]
        batch = self._wait(future)
        self._pending.popleft()
        if self.options.normalize == "device":
            batch = RawBatch(batch.x, batch.t, plan.crops.tops, plan.crops.lefts, self.mean)
        self._previous_epoch_detail = self.epoch_detail
        self.is_new_epoch = plan.next_epoch > self.epoch
        self.epoch, self.current_position = plan.next_epoch, plan.next_position
        self._top_up()
        return batch

    next = __next__

    def reset(self):
        """Back to the start of epoch 0 (``Evaluator`` calls this before each pass)."""
        self._cancel_pending()
        self.epoch, self.current_position, self.is_new_epoch = 0, 0, False
        self._previous_epoch_detail = -1.0
        self._plan_state = (0, 0)

    def serialize(self, serializer):
        """Save or restore the position (trainer snapshots); the seed travels with it."""
        self.current_position = serializer("current_position", self.current_position)
        self.epoch = serializer("epoch", self.epoch)
        self.is_new_epoch = serializer("is_new_epoch", self.is_new_epoch)
        try:  # absent from snapshots of other iterators (e.g. SerialIterator's): keep ours
            self._previous_epoch_detail = serializer("previous_epoch_detail",
                                                     self._previous_epoch_detail)
            self.seed = int(serializer("seed", self.seed))
        except KeyError:
            pass
        if isinstance(serializer, chainer.serializer.Deserializer):
            self._cancel_pending()  # prefetched batches belong to the old position
            self._plan_state, self._orders = (self.epoch, self.current_position), {}
            if self._engine is not None:
                self._engine.seed = self.seed

    def finalize(self):
        """Stop the event loop and the worker threads, close the cache; idempotent."""
        self._cancel_pending()
        if self._closer is not None:
            self._closer()
        self._engine = self._cache = self._closer = None

    # ------------------------------------------------------------------------ internals
    def _start(self):
        opts = self.options
        channels = len(self.mean)
        spec = ImageSpec(size=self.size, resize=opts.resize, grayscale=channels == 1)
        if opts.cache is not None:
            self._cache = ImageCache(opts.cache, self.list_file, self.entries, self.root,
                                     self.size, opts.resize, channels)
        reader = Reader(self.root, self.entries, spec, self._cache)
        child = None
        if opts.processes and procs.available():
            cache_args = None if opts.cache is None else (
                opts.cache, self.list_file, self.entries, self.root, self.size, opts.resize,
                channels)
            child = ((self.root, self.entries, spec, cache_args), self.batch_size)
        labels = numpy.array([e.label for e in self.entries], numpy.int32)
        workers = opts.workers or os.cpu_count() or 1
        self._engine = Engine(reader, labels, self.mean, self.crop_size, opts, workers,
                               self.seed, self._record, child)
        self._closer = weakref.finalize(self, _shutdown, self._engine, self._cache)

    def _order(self, epoch):
        if epoch not in self._orders:
            if len(self._orders) > 2:
                self._orders.pop(min(self._orders))
            self._orders[epoch] = epoch_order(self.seed, epoch, len(self.entries), self.shuffle)
        return self._orders[epoch]

    def _plan(self):
        """The next batch after ``_plan_state`` (None past the end of a non-repeating pass)."""
        epoch, position = self._plan_state
        if not self.repeat and epoch > 0:
            return None
        indices, next_epoch, next_position = batch_indices(
            self._order, epoch, position, self.batch_size, len(self.entries), self.repeat)
        self._plan_state = (next_epoch, next_position)
        crops = crop_params(self.seed, epoch, position, len(indices), self.size,
                            self.crop_size, self.train)
        return Plan(epoch, position, indices, crops, next_epoch, next_position)

    def _top_up(self):
        if self._engine is None:
            self._start()
        while len(self._pending) < self.options.prefetch:
            plan = self._plan()
            if plan is None:
                break
            self._pending.append((plan, self._engine.submit(plan)))

    def _wait(self, future):
        while True:
            try:
                return future.result(timeout=_POLL)
            except TimeoutError:
                if not self._engine.thread.is_alive():
                    raise LoaderError("the loader's event loop stopped; was finalize() "
                                      "called from another thread?") from None

    def _cancel_pending(self):
        while self._pending:
            self._pending.popleft()[1].cancel()
        self._plan_state = (self.epoch, self.current_position)


def _shutdown(engine, cache):
    engine.close()
    if cache is not None:
        cache.close()


BatchLoader.converter = staticmethod(converter)
