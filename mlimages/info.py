"""``mlimages info``: the software and hardware a run depends on, and known-slow set-ups.

What a user pastes into a bug report, and the first thing to run on a new GPU box: Python,
NumPy with its BLAS library and the CPU kernel that library chose (via threadpoolctl),
Chainer, CuPy, CUDA runtime and driver, cuDNN, Pillow (and whether its JPEG decoder is
libjpeg-turbo), the CPU and its cores.

The warnings come from measurements: on a 2-core AVX2 machine NumPy 1.26's OpenBLAS chose its
generic "Prescott" kernel and Chainer's AlexNet trained at about 4 images/s (batch 32), where
NumPy 2.4's OpenBLAS (SkylakeX kernel) gave about 7.
"""

import os
import platform
import sys
from typing import NamedTuple

# OpenBLAS kernels without AVX2 (their names are the CPU generations they were written for).
# On a CPU that has AVX2 or AVX-512, running one of these leaves half the speed unused.
GENERIC_KERNELS = frozenset(s.lower() for s in (
    "Generic", "Prescott", "Nehalem", "Core2", "Penryn", "Dunnington", "Atom", "Katmai",
    "Coppermine", "Northwood", "Banias", "Sandybridge", "Bobcat", "Barcelona", "Opteron",
    "Athlon", "Bulldozer", "Piledriver", "Steamroller", "Excavator"))


class Info(NamedTuple):
    """The collected facts: ``sections`` is a list of (title, [(key, value), ...]) and
    ``warnings`` a list of sentences."""

    sections: list
    warnings: list


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """(model name, set of flags) of the first CPU in ``cpuinfo``; ("", set()) if unreadable."""
    try:
        text = open(cpuinfo, encoding="utf-8", errors="replace").read()
    except OSError:
        return platform.processor() or "", set()
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = set(value.split())
    return model, flags


def blas_warnings(blas, flags):
    """Warnings for BLAS libraries running kernels below what the CPU supports.

    Args:
        blas: threadpoolctl's ``threadpool_info()`` entries (dicts) for user_api "blas".
        flags: the CPU's feature flags (e.g. {"avx2", "avx512f"}).

    Returns:
        list of str.
    """
    wide = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    if wide is None:
        return []
    found = []
    for lib in blas:
        arch = str(lib.get("architecture") or "")
        if arch.lower() in GENERIC_KERNELS:
            found.append(
                f"{lib.get('internal_api', 'BLAS')} {lib.get('version', '')} runs its "
                f"'{arch}' kernel on a CPU with {wide}: matrix products (and so Chainer on "
                "the CPU) run at a fraction of the possible speed. Upgrade NumPy (NumPy 2.x "
                "wheels choose the right kernel) or set OPENBLAS_CORETYPE=Haswell "
                "(SkylakeX for AVX-512) before starting Python.")
    return found


def _python_section():
    return ("Python", [("mlimages", _version("mlimages")),
                       ("python", f"{sys.version.split()[0]} ({platform.python_implementation()})"),
                       ("platform", platform.platform())])


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


def _numpy_section():
    import numpy
    from threadpoolctl import threadpool_info
    blas = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    rows = [("numpy", numpy.__version__)]
    for lib in blas or [{}]:
        rows.append(("BLAS", "none found" if not lib else
                     f"{lib.get('internal_api')} {lib.get('version')}, kernel "
                     f"{lib.get('architecture') or '?'}, {lib.get('num_threads')} threads "
                     f"({os.path.basename(lib.get('filepath', ''))})"))
    return ("NumPy", rows), blas


def _cpu_section(model, flags):
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count()
    simd = [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "neon", "asimd") if f in flags]
    return ("CPU", [("model", model or "unknown"),
                    ("cores", f"{os.cpu_count()} ({usable} usable by this process)"),
                    ("SIMD", " ".join(simd) or "unknown")])


def _pillow_section():
    import PIL
    from PIL import features
    turbo = features.check_feature("libjpeg_turbo")
    jpeg = features.version("jpg") or "?"
    detail = (f"libjpeg-turbo {features.version_feature('libjpeg_turbo')}" if turbo
              else f"libjpeg {jpeg}, without libjpeg-turbo")
    return ("Pillow", [("pillow", PIL.__version__), ("JPEG", detail)]), turbo


def _gpu_section():
    """Chainer and CuPy/CUDA/cuDNN rows, and GPU warnings."""
    from mlimages._chainer import chainer
    rows, warnings = [("chainer", chainer.__version__)], []
    try:
        import cupy
    except ImportError:
        rows.append(("cupy", "not installed (CPU only; pip install cupy-cuda12x for "
                             "CUDA 12, cupy-cuda13x for CUDA 13)"))
        return ("Chainer / GPU", rows), warnings
    except Exception as e:  # a broken CuPy install raises many kinds of errors on import
        rows.append(("cupy", f"installed but fails to import: {type(e).__name__}: {e}"))
        warnings.append("CuPy is installed but cannot be imported; `--gpu` will stop.")
        return ("Chainer / GPU", rows), warnings
    rows.append(("cupy", cupy.__version__))
    rows += _cuda_rows(cupy, warnings)
    from chainer.backends import cuda
    if not cuda.available:
        reason = _first_line(getattr(cuda, "_resolution_error", None) or "unknown reason")
        rows.append(("chainer+cupy", f"unusable: {reason}"))
        warnings.append(f"CuPy is installed but Chainer cannot use it ({reason}); `--gpu` "
                        "will stop. Missing CUDA libraries: install the CUDA Toolkit, or "
                        "CuPy's own copy with pip install 'cupy-cuda12x[ctk]'.")
    return ("Chainer / GPU", rows), warnings


def _first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def _cuda_rows(cupy, warnings):
    runtime = cupy.cuda.runtime
    rows = []
    try:
        rows.append(("CUDA runtime", _cuda_version(runtime.runtimeGetVersion())))
        driver = runtime.driverGetVersion()
        rows.append(("CUDA driver", _cuda_version(driver) if driver else "none (no NVIDIA driver)"))
        count = runtime.getDeviceCount()
    except Exception as e:  # CUDARuntimeError without a driver or device
        rows.append(("CUDA", f"unusable: {type(e).__name__}: {e}"))
        warnings.append("CuPy is installed but no usable CUDA driver/device was found "
                        "(check `nvidia-smi`); training with --gpu will stop.")
        return rows
    for i in range(count):
        props = runtime.getDeviceProperties(i)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        rows.append((f"GPU {i}", f"{name}, {props['totalGlobalMem'] / 2**30:.1f} GiB"))
    if count == 0:
        rows.append(("GPU", "none found"))
    rows.append(("cuDNN", _cudnn_version()))
    return rows


def _cuda_version(v):
    return f"{v // 1000}.{v % 1000 // 10}"


def _cudnn_version():
    try:
        from cupy.cuda import cudnn
        return str(cudnn.getVersion())
    except Exception:  # absent or not loadable: both mean Chainer runs without cuDNN
        return "not available (Chainer uses slower CuPy kernels)"


def collect(cpuinfo="/proc/cpuinfo"):
    """Gather every section and warning; returns Info."""
    model, flags = cpu_flags(cpuinfo)
    numpy_section, blas = _numpy_section()
    pillow_section, turbo = _pillow_section()
    gpu_section, warnings = _gpu_section()
    warnings = blas_warnings(blas, flags) + warnings
    if not turbo:
        warnings.append("Pillow was built without libjpeg-turbo: JPEG decoding (the loader's "
                        "main cost) is 2-3x slower; install Pillow's own wheels from PyPI.")
    sections = [_python_section(), numpy_section, gpu_section, pillow_section,
                _cpu_section(model, flags)]
    return Info(sections, warnings)


def format_info(info):
    """The Info as aligned text, warnings last."""
    width = max(len(k) for _, rows in info.sections for k, _ in rows)
    lines = []
    for title, rows in info.sections:
        lines.append(f"{title}:")
        lines += [f"  {k:<{width}}  {v}" for k, v in rows]
    lines += [f"WARNING: {w}" for w in info.warnings]
    return "\n".join(lines)
