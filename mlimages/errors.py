"""The one root of every exception mlimages defines.

Each stage defines its own error next to the code that raises it (``MeanError`` in
:mod:`mlimages.mean`, ``ImageError`` in :mod:`mlimages.image`, ...), deriving from
:class:`MlimagesError` and from the standard type that says what kind of failure it is
(``ValueError`` for bad input, ``OSError`` for the disk, ``RuntimeError`` for the machine), so
a caller can catch either. The CLI prints any ``MlimagesError`` as one line (exit status 2);
its message names the culprit and the fix. This module imports nothing: catching the root does
not load a stage.
"""


class MlimagesError(Exception):
    """The root: an input, a setting or a machine state the user has to fix.

    A few internal signals (a stalled worker, a non-finite loss) also derive from it, so that
    every exception class in the package has one root; the stages turn those into a stage
    error before they reach a caller.
    """
