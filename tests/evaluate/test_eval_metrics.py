"""mlimages.evaluate.metrics: figures from given true and predicted labels, checked by hand."""

import numpy as np
import pytest

from mlimages.evaluate.metrics import (confusion_matrix, most_confused, per_class, summarise,
                                       top_k_correct)

# 3 classes, 10 images: class 0 has 4 (3 right, 1 taken for class 1), class 1 has 3 (1 right,
# 2 taken for class 2), class 2 has 3 (all right).
TRUE = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
PRED = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
CONFUSION = [[3, 1, 0],
             [0, 1, 2],
             [0, 0, 3]]


def test_confusion_matrix_of_a_known_case():
    m = confusion_matrix(TRUE, PRED, 3)
    assert m.dtype == np.int64 and m.tolist() == CONFUSION
    assert m.sum() == len(TRUE)


def test_confusion_matrix_keeps_classes_never_seen():
    assert confusion_matrix([0, 0], [0, 0], 3).tolist() == [[2, 0, 0], [0, 0, 0], [0, 0, 0]]


def test_per_class_precision_recall_f1_support_by_hand():
    table = per_class(np.array(CONFUSION))
    assert table.support.tolist() == [4, 3, 3]
    np.testing.assert_allclose(table.precision, [3 / 3, 1 / 2, 3 / 5])
    np.testing.assert_allclose(table.recall, [3 / 4, 1 / 3, 3 / 3])
    f1 = [2 * 1 * .75 / 1.75, 2 * .5 / 3 / (.5 + 1 / 3), 2 * .6 / 1.6]
    np.testing.assert_allclose(table.f1, f1)


def test_a_class_never_predicted_or_absent_scores_zero_not_nan():
    table = per_class(np.array([[2, 0, 0], [1, 0, 0], [0, 0, 0]]))
    assert table.precision.tolist()[1:] == [0.0, 0.0]
    assert table.recall.tolist() == [1.0, 0.0, 0.0] and table.f1[2] == 0.0
    assert not np.isnan(table.f1).any()


def test_macro_and_weighted_f1():
    probs = np.eye(3, dtype=np.float32)[PRED]
    figures = summarise(np.array(TRUE), probs, 3)
    f1 = per_class(np.array(CONFUSION)).f1
    assert figures.macro_f1 == pytest.approx(f1.mean())
    assert figures.weighted_f1 == pytest.approx((f1 * [4, 3, 3]).sum() / 10)
    assert (figures.correct, figures.count, figures.accuracy) == (7, 10, 0.7)
    assert figures.confusion.tolist() == CONFUSION


def test_macro_f1_leaves_out_classes_that_never_occur():
    probs = np.eye(4, dtype=np.float32)[PRED]                 # class 3: no image, never predicted
    f1 = per_class(np.array(CONFUSION)).f1
    assert summarise(np.array(TRUE), probs, 4).macro_f1 == pytest.approx(f1.mean())
    wrong = np.eye(4, dtype=np.float32)[[3, 0]]               # class 3 predicted once: it counts
    assert summarise(np.array([0, 0]), wrong, 4).macro_f1 == pytest.approx((2 / 3 + 0) / 2)


def test_top_k_counts_the_true_class_among_the_k_most_probable():
    probs = np.array([[.5, .3, .2], [.2, .3, .5], [.1, .6, .3], [.4, .4, .2]], np.float32)
    true = np.array([1, 0, 2, 1])
    assert top_k_correct(probs, true, 1) == 0          # the tie (.4, .4) goes to class 0
    assert top_k_correct(probs, true, 2) == 3          # class 0 ranks 3rd in row 1
    assert top_k_correct(probs, true, 3) == 4


def test_top_1_is_the_predicted_class_ties_to_the_lower_index():
    probs = np.array([[.4, .4, .2]], np.float32)
    assert top_k_correct(probs, np.array([0]), 1) == 1
    assert summarise(np.array([1]), probs, 3).predicted.tolist() == [0]


def test_summary_top_k_is_5_or_the_class_count():
    probs = np.eye(7, dtype=np.float32)[[0, 1]]
    assert summarise(np.array([0, 1]), probs, 7).k == 5
    assert summarise(np.array([0]), np.eye(3, dtype=np.float32)[[0]], 3).k == 3


def test_most_confused_pairs_by_count_then_class_order():
    m = np.array([[9, 2, 4], [4, 9, 0], [1, 2, 9]])
    assert most_confused(m, 3) == [(0, 2, 4), (1, 0, 4), (0, 1, 2)]
    assert most_confused(np.eye(3, dtype=int), 5) == []      # no mistakes, no pairs
