"""Tests for mlimages.info: what `mlimages info` reports and warns about."""

import importlib.util

import numpy as np
import pytest

from mlimages import cli
from mlimages.info import blas_warnings, collect, cpu_flags, format_info

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def test_collect_reports_every_section():
    info = collect()
    titles = [title for title, _ in info.sections]
    assert titles == ["Python", "NumPy", "Chainer / GPU", "Pillow", "CPU"]
    rows = {k: v for _, section in info.sections for k, v in section}
    assert rows["numpy"] == np.__version__
    assert rows["chainer"] == "7.8.1"
    assert "kernel" in rows["BLAS"] or rows["BLAS"] == "none found"
    assert "libjpeg" in rows["JPEG"]
    assert rows["cores"].split()[0].isdigit()


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_without_cupy_it_says_what_to_install():
    rows = dict(collect().sections[2][1])
    assert rows["cupy"].startswith("not installed")
    assert "pip install cupy-cuda12x" in rows["cupy"] and "mlimages[" not in rows["cupy"]


def test_generic_blas_kernel_on_an_avx2_cpu_is_a_warning():
    prescott = [{"internal_api": "openblas", "version": "0.3.23", "architecture": "Prescott"}]
    warnings = blas_warnings(prescott, {"sse2", "avx", "avx2"})
    assert len(warnings) == 1
    assert "Prescott" in warnings[0] and "AVX2" in warnings[0]
    assert "OPENBLAS_CORETYPE" in warnings[0]
    assert "AVX-512" in blas_warnings(prescott, {"avx2", "avx512f"})[0]


@pytest.mark.parametrize("arch, flags", [
    ("Prescott", {"sse2"}),                 # the CPU has nothing better
    ("Haswell", {"avx2"}),
    ("SkylakeX", {"avx2", "avx512f"}),
    (None, {"avx2"}),                       # MKL and others do not say
])
def test_no_warning_when_the_kernel_matches(arch, flags):
    assert blas_warnings([{"internal_api": "openblas", "architecture": arch}], flags) == []


def test_cpu_flags_from_a_cpuinfo_file(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Test CPU 9000\n"
                       "flags\t\t: fpu sse2 avx avx2 fma\n\nprocessor\t: 1\n"
                       "model name\t: Other\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == ("Test CPU 9000", {"fpu", "sse2", "avx", "avx2", "fma"})
    model, flags = cpu_flags(tmp_path / "absent")
    assert flags == set()


def test_format_puts_warnings_last():
    info = collect()
    text = format_info(info._replace(warnings=["something slow"]))
    assert text.splitlines()[-1] == "WARNING: something slow"
    assert "BLAS" in text and "Pillow:" in text


def test_cli_info(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "numpy" in out and "chainer" in out and "cores" in out
