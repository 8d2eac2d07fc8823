"""A small CNN for 64x64 inputs: three convolutions and two fully connected layers.

Big enough to learn textures and shapes, small enough that a 2-core CPU trains it on a few
thousand images in minutes (AlexNet manages about 5 images/s there). No dropout and no
batch normalisation, so its training is reproducible bit for bit on CPU with a fixed seed.
"""

from mlimages._chainer import chainer, F, L
from mlimages.models.cpu import FastConvolution2D, max_pool


class Small(chainer.Chain):
    """conv1 (stride 2) and three 2x2 poolings (64 -> 32 -> 16 -> 8 -> 4), then fc4 and fc5.

    Args:
        n_classes (int): outputs of fc5.

    Input: float32 (B, 3, 64, 64). Output: float32 (B, n_classes) logits.
    """

    insize = 64

    def __init__(self, n_classes=10):
        super().__init__()
        with self.init_scope():
            self.conv1 = FastConvolution2D(None, 24, 6, stride=2, pad=2)
            self.conv2 = FastConvolution2D(None, 48, 3, pad=1)
            self.conv3 = FastConvolution2D(None, 64, 3, pad=1)
            self.fc4 = L.Linear(None, 128)
            self.fc5 = L.Linear(None, n_classes)

    def forward(self, x):
        # FastConvolution2D, max_pool: fast on the CPU (mlimages.models.cpu), Chainer's elsewhere
        h = max_pool(self.conv1(x, relu=True), 2, stride=2)
        h = max_pool(self.conv2(h, relu=True), 2, stride=2)
        h = max_pool(self.conv3(h, relu=True), 2, stride=2)
        h = F.relu(self.fc4(h))
        return self.fc5(h)
