"""Every exception class the package defines derives from the one root, MlimagesError."""

import importlib
import inspect
import pkgutil

import mlimages
from mlimages.errors import MlimagesError


def _modules():
    for info in pkgutil.walk_packages(mlimages.__path__, "mlimages."):
        if info.name != "mlimages.__main__":
            yield importlib.import_module(info.name)


def test_every_exception_class_derives_from_mlimages_error():
    found, stray = [], []
    for module in _modules():
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == module.__name__):
                found.append(f"{module.__name__}.{name}")
                if not issubclass(obj, MlimagesError):
                    stray.append(f"{module.__name__}.{name}")
    assert stray == []
    assert "mlimages.mean.options.MeanError" in found and "mlimages.image.ImageError" in found


def test_stage_errors_keep_their_standard_type():
    from mlimages.gather.records import GatherError
    from mlimages.image import ImageError
    from mlimages.loader.cache import CacheError
    assert issubclass(GatherError, ValueError) and issubclass(CacheError, OSError)
    assert issubclass(ImageError, ValueError)


def test_errors_module_imports_nothing_heavy():
    import subprocess
    import sys
    code = "import sys, mlimages.errors, mlimages.defaults; print(sorted(m for m in " \
           "('numpy', 'PIL', 'chainer') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
