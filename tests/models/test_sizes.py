"""Tests for mlimages.models.sizes: the article's size arithmetic, traced from the real networks."""

import numpy as np
import pytest

from mlimages import cli
from mlimages._chainer import chainer
from mlimages.models import build_classifier
from mlimages.models.sizes import (SizeError, apply_layers, check_crop, format_report, inspect_size,
                            nearest_fits, trace)


@pytest.fixture(scope="module")
def alex():
    return trace("alex")


def test_alexnet_at_227_gives_the_article_numbers(alex):
    report = inspect_size("alex", 227, traced=alex)
    names = [r.layer.name for r in report.rows]
    sizes = [r.outsize for r in report.rows]
    assert names == ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]
    assert sizes == [55, 27, 27, 13, 13, 13, 13, 6]
    assert report.flat == 9216 == 256 * 6 * 6
    assert report.fits and all(r.fits for r in report.rows)
    assert [(d.name, d.in_size, d.out_size) for d in report.dense] == [
        ("fc6", 9216, 4096), ("fc7", 4096, 4096), ("fc8", 4096, 1000)]
    conv1 = report.rows[0].layer
    assert (conv1.ksize, conv1.stride, conv1.pad, conv1.channels) == (11, 4, 0, 96)
    assert conv1.params == 96 * 3 * 11 * 11 + 96


def test_a_crop_that_does_not_fit_says_where_and_what_fits(alex):
    report = inspect_size("alex", 224, traced=alex)
    assert not report.fits
    first = report.rows[0]
    assert not first.fits and float(first.exact) == 54.25 and first.outsize == 54
    assert report.rows[1].outsize == 27  # max pooling rounds 26.5 up (cover_all)
    assert report.nearest == (195, 227)
    with pytest.raises(SizeError) as e:
        check_crop("alex", 224, traced=alex)
    message = str(e.value)
    assert "conv1" in message and "(224 + 2*0 - 11)/4 + 1 = 54.25" in message
    assert "floors it to 54" in message and "195 and 227" in message


def test_the_smallest_input_alexnet_fits(alex):
    report = inspect_size("alex", 67, traced=alex)
    assert report.fits and report.flat == 256
    assert inspect_size("alex", 64, traced=alex).nearest == (None, 67)


def test_nearest_sizes_around_a_misfit():
    layers, _ = trace("small")
    assert nearest_fits(layers, 60) == (48, 64)
    assert nearest_fits(layers, 64) == (48, 80)


def test_the_arithmetic_matches_the_real_forward_pass():
    """For sizes that fit, the traced flattened size is what the first Linear receives."""
    traced = trace("small")
    for insize in (64, 48, 32):
        report = inspect_size("small", insize, traced=traced)
        model = build_classifier("small", 3).predictor
        with chainer.using_config("train", False), chainer.no_backprop_mode():
            model(np.zeros((1, 3, insize, insize), np.float32))
        assert report.fits
        assert model.fc4.W.shape[1] == report.flat


def test_a_too_small_input_is_reported_not_crashed():
    report = inspect_size("small", 3)
    assert not report.fits
    assert "does not fit small" in format_report(report)


def test_input_size_must_be_positive():
    with pytest.raises(SizeError):
        inspect_size("small", 0)


def test_apply_layers_flags_only_inexact_rows():
    layers, _ = trace("small")
    rows = apply_layers(layers, 56)
    assert [r.fits for r in rows] == [True] * 5 + [False]
    assert float(rows[-1].exact) == 3.5 and rows[-1].outsize == 4  # pooling covers all


def test_format_report_shows_the_table(alex):
    text = format_report(inspect_size("alex", 227, traced=alex))
    assert "256 x 6 x 6 = 9216" in text
    assert "conv1" in text and "pool5" in text and "fits" in text


def test_cli_inspect_exit_status(capsys):
    assert cli.main(["inspect", "--arch", "small", "--insize", "64"]) == 0
    assert "1024" in capsys.readouterr().out
    assert cli.main(["inspect", "--arch", "small", "--insize", "60"]) == 1
    out = capsys.readouterr().out
    assert "NOT EXACT" in out and "48 and 64" in out
