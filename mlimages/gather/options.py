"""How gather downloads and what it keeps: :class:`GatherOptions` (the CLI reads its defaults)."""

import dataclasses

from mlimages.defaults import DEFAULT_RESIZE, RESIZE_MODES
from mlimages.gather.records import GatherError


@dataclasses.dataclass
class GatherOptions:
    """How to download and what to keep; the names are those of the CLI flags.

    Attributes:
        parallel: requests in flight.
        per_host: requests in flight to one host (keep it polite).
        timeout: total seconds for one request (connect, redirects, body).
        retries: further attempts after a transient failure (timeout, reset, 5xx, 429).
        backoff: seconds before the first retry, doubled for each next one (at most 60);
            a 429's Retry-After is honoured instead.
        max_bytes: bodies longer than this are dropped as too_large.
        min_size: drop images whose short side has fewer pixels (0: keep any size).
        placeholder: image files or rule lists of extra placeholders to reject.
        dedupe: drop images whose bytes equal one already kept.
        resize: int or (width, height): store images resized (as JPEG) instead of originals.
        resize_mode: "downscale", "crop" or "squash" (see mlimages.image.ImageSpec).
        quality: JPEG quality of resized images.
        proxy: proxy URL (``http://user:password@host:port``); None uses the environment's.
        limit: stop each label (synset) after this many images kept (None: no limit).
        retry_failed: fetch again the URLs whose last status was transient.
        decode_workers: processes that decode (None: one per core but one, which the event
            loop needs; at least 1).
    """

    parallel: int = 32
    per_host: int = 16
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 1.0
    max_bytes: int = 20_000_000
    min_size: int = 0
    placeholder: tuple = ()
    dedupe: bool = False
    resize: "int | tuple | None" = None
    resize_mode: str = DEFAULT_RESIZE
    quality: int = 90
    proxy: "str | None" = None
    limit: "int | None" = None
    retry_failed: bool = False
    decode_workers: "int | None" = None

    def __post_init__(self):
        for name in ("parallel", "per_host", "max_bytes"):
            if getattr(self, name) < 1:
                raise GatherError(f"--{name.replace('_', '-')} must be at least 1")
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.min_size < 0:
            raise GatherError("--timeout must be > 0; --retries, --backoff, --min-size >= 0")
        if self.limit is not None and self.limit < 1:
            raise GatherError(f"--limit {self.limit}: give a positive count (or no --limit)")
        if self.resize_mode not in RESIZE_MODES:
            raise GatherError(f"--resize-mode {self.resize_mode!r}: use one of "
                              f"{RESIZE_MODES}")
        if self.proxy and not self.proxy.startswith(("http://", "https://")):
            raise GatherError(f"--proxy {self.proxy!r}: give an http:// proxy URL "
                              "(http://user:password@host:port)")
