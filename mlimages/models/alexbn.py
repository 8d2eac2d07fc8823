"""Batch-normalised AlexNet, as the ``alexbn.py`` of Chainer's early ImageNet example: the two
LRN layers replaced by BatchNormalization, which trains from scratch in fewer epochs.

The convolution and fully connected layers keep AlexNet's names and shapes (biases
included), so AlexNet or Caffe weights load into them by name; the ``bn*`` layers then start
fresh.
"""

from mlimages._chainer import chainer, F, L
from mlimages.models.cpu import FastConvolution2D, max_pool


class AlexBN(chainer.Chain):
    """AlexNet with batch normalisation; ``forward`` returns the class logits.

    Args:
        n_classes (int): outputs of fc8.

    Input: float32 (B, 3, 227, 227). Output: float32 (B, n_classes) logits.
    """

    insize = 227

    def __init__(self, n_classes=1000):
        super().__init__()
        with self.init_scope():
            self.conv1 = FastConvolution2D(None,  96, 11, stride=4)
            self.bn1 = L.BatchNormalization(96)
            self.conv2 = FastConvolution2D(None, 256,  5, pad=2)
            self.bn2 = L.BatchNormalization(256)
            self.conv3 = FastConvolution2D(None, 384,  3, pad=1)
            self.conv4 = FastConvolution2D(None, 384,  3, pad=1)
            self.conv5 = FastConvolution2D(None, 256,  3, pad=1)
            self.fc6 = L.Linear(None, 4096)
            self.fc7 = L.Linear(None, 4096)
            self.fc8 = L.Linear(None, n_classes)

    def forward(self, x):
        # FastConvolution2D, max_pool: fast on the CPU (mlimages.models.cpu), Chainer's elsewhere
        h = max_pool(F.relu(self.bn1(self.conv1(x))), 3, stride=2)
        h = max_pool(F.relu(self.bn2(self.conv2(h))), 3, stride=2)
        h = self.conv3(h, relu=True)
        h = self.conv4(h, relu=True)
        h = max_pool(self.conv5(h, relu=True), 3, stride=2)
        h = F.dropout(F.relu(self.fc6(h)))
        h = F.dropout(F.relu(self.fc7(h)))
        return self.fc8(h)
