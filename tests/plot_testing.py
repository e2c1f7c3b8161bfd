"""Helpers for the plot and demo tests: PNG checks, and a way to run Python without
matplotlib (a fake `matplotlib` package first on the path that fails to import)."""
from __future__ import annotations

import os
import struct

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple:
    """(width, height) from a PNG's IHDR chunk; fails unless the file starts like a PNG."""
    with open(path, "rb") as f:
        head = f.read(33)
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG: starts with {head[:8]!r}"
    assert head[12:16] == b"IHDR", f"{path}: no IHDR chunk first"
    return struct.unpack(">II", head[16:24])


def assert_drawn_png(path, size=None) -> None:
    """A valid PNG (of `size` pixels, if given) that decodes and is not blank: some
    pixels are dark (text, axes) and some coloured (points, lines)."""
    import matplotlib.image

    width, height = png_size(path)
    if size is not None:
        assert (width, height) == size, ((width, height), size)
    image = matplotlib.image.imread(os.fspath(path))      # [H, W, 4] floats in [0, 1]
    assert image.shape[:2] == (height, width)
    rgb = image[..., :3]
    dark = (rgb.max(axis=2) < 0.35).mean()
    coloured = (rgb.max(axis=2) - rgb.min(axis=2) > 0.3).mean()
    assert dark > 0.001 and coloured > 0.0005, (dark, coloured)


def no_matplotlib_path(tmp_path) -> str:
    """A directory holding a `matplotlib` package whose import fails, to put first on
    PYTHONPATH / sys.path: code then behaves as if matplotlib were not installed."""
    fake = tmp_path / "no_matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named matplotlib (hidden by the test)')\n")
    return os.fspath(fake.parent)
