"""AlexNet as in Chainer's ``examples/imagenet/alex.py`` (single-GPU, no channel groups).

Layer names follow Caffe's ``bvlc_alexnet`` / CaffeNet (conv1..conv5, fc6..fc8), so their
weights map onto this network by name (see ``mlimages.training.finetune``).
"""

from mlimages._chainer import chainer, F, L
from mlimages.models.cpu import FastConvolution2D, lrn, max_pool


class Alex(chainer.Chain):
    """AlexNet for 227x227 RGB inputs; ``forward`` returns the class logits.

    Args:
        n_classes (int): outputs of fc8.

    Input: float32 (B, 3, 227, 227). Output: float32 (B, n_classes) logits.
    """

    insize = 227

    def __init__(self, n_classes=1000):
        super().__init__()
        with self.init_scope():
            self.conv1 = FastConvolution2D(None,  96, 11, stride=4)
            self.conv2 = FastConvolution2D(None, 256,  5, pad=2)
            self.conv3 = FastConvolution2D(None, 384,  3, pad=1)
            self.conv4 = FastConvolution2D(None, 384,  3, pad=1)
            self.conv5 = FastConvolution2D(None, 256,  3, pad=1)
            self.fc6 = L.Linear(None, 4096)
            self.fc7 = L.Linear(None, 4096)
            self.fc8 = L.Linear(None, n_classes)

    def forward(self, x):
        # FastConvolution2D, lrn, max_pool: mlimages.models.cpu's fast functions on the
        # CPU, Chainer's own elsewhere or with MLIMAGES_FAST_CPU=0 (the same parameters)
        h = max_pool(lrn(self.conv1(x, relu=True)), 3, stride=2)
        h = max_pool(lrn(self.conv2(h, relu=True)), 3, stride=2)
        h = self.conv3(h, relu=True)
        h = self.conv4(h, relu=True)
        h = max_pool(self.conv5(h, relu=True), 3, stride=2)
        h = F.dropout(F.relu(self.fc6(h)))
        h = F.dropout(F.relu(self.fc7(h)))
        return self.fc8(h)
