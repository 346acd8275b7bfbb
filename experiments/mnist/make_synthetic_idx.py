"""Synthetic IDX files of MNIST's shape, for running experiments/mnist without MNIST.

train-images-idx3-ubyte.gz (60 000 × 28 × 28), train-labels-idx1-ubyte.gz, and the t10k pair
(10 000): pixels are unsigned bytes, zero in a 4-pixel border (like MNIST's uninformative
corners) and smooth random blobs inside; labels are the argmax of a fixed random linear map of
the image, so a classifier has something to learn. Pure Python + NumPy.

Usage: python make_synthetic_idx.py [OUT_DIR]
"""

import gzip
import os
import struct
import sys

import numpy as np


def write_idx(path, array):
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + b"".join(
        struct.pack(">I", s) for s in array.shape
    )
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(header + array.astype(np.uint8).tobytes())


def images(n, rng):
    img = np.zeros((n, 28, 28))
    yy, xx = np.mgrid[0:20, 0:20]
    for _ in range(3):
        cy, cx = rng.uniform(3, 17, size=(2, n, 1, 1))
        s = rng.uniform(1.5, 4.0, size=(n, 1, 1))
        img[:, 4:24, 4:24] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
    return np.clip(255 * img / img.max(axis=(1, 2), keepdims=True), 0, 255)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "data")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(0)
    proj = rng.normal(size=(28 * 28, 10))
    for name, n in (("train", 60000), ("t10k", 10000)):
        x = images(n, rng)
        labels = np.argmax((x.reshape(n, -1) / 255.0 - 0.1) @ proj, axis=1)
        write_idx(os.path.join(out, f"{name}-images-idx3-ubyte.gz"), x)
        write_idx(os.path.join(out, f"{name}-labels-idx1-ubyte.gz"), labels)
        print(f"{name}: {n} images, label counts {np.bincount(labels, minlength=10)}")


if __name__ == "__main__":
    main()
