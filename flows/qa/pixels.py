"""screenshot_match, counted as pixelmatch counts it (threshold 0.1), at numpy speed.

Browsertrix's measure is ``1 - differing pixels / pixels`` with pixelmatch's count. The PyPI port
(``pixelmatch``) loops over every pixel in Python: 7-12 s for one 1280x800 screenshot. Here its
colour distance (YIQ, blended with white, same formula and order) runs vectorised over the whole
image, and pixelmatch's own anti-aliasing test (``pixelmatch.antialiased``) runs only on the pixels
over the threshold, which is where the port spends its time: the count is pixelmatch's
(``tests/test_qa_measures.py`` checks it against the port), the cost is that of the differences.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image
from pixelmatch import antialiased

THRESHOLD = 0.1  # pixelmatch's default and Browsertrix's
MAX_YIQ_DELTA = 35215.0  # pixelmatch: the largest possible YIQ distance
DIFF_RGB = (255, 0, 0)  # differing pixels, red as pixelmatch draws them
AA_RGB = (255, 255, 0)  # anti-aliasing, yellow, not counted
GRAY_ALPHA = 0.1  # the rest: img1 in gray, faded towards white

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PixelDiff:
    differing: int
    pixels: int
    diff: Image.Image  # pixelmatch's picture of the difference

    @property
    def match(self) -> float:
        return 1.0 - self.differing / self.pixels if self.pixels else 1.0


def _rgb(img: npt.NDArray[np.uint8]) -> tuple[Floats, Floats, Floats]:
    """Channels as floats, a translucent pixel blended with white (pixelmatch's ``blend``)."""
    rgba = img.astype(np.float64)
    a = rgba[..., 3] / 255.0
    opaque = rgba[..., 3] == 255
    out = [np.where(opaque, rgba[..., c], 255.0 + (rgba[..., c] - 255.0) * a) for c in range(3)]
    return out[0], out[1], out[2]


def _y(r: Floats, g: Floats, b: Floats) -> Floats:
    return r * 0.29889531 + g * 0.58662247 + b * 0.11448223


def _yiq_delta(one: npt.NDArray[np.uint8], two: npt.NDArray[np.uint8]) -> Floats:
    r1, g1, b1 = _rgb(one)
    r2, g2, b2 = _rgb(two)
    y = _y(r1, g1, b1) - _y(r2, g2, b2)
    i = (r1 * 0.59597799 - g1 * 0.27417610 - b1 * 0.32180189) - (
        r2 * 0.59597799 - g2 * 0.27417610 - b2 * 0.32180189
    )
    q = (r1 * 0.21147017 - g1 * 0.52261711 + b1 * 0.31114694) - (
        r2 * 0.21147017 - g2 * 0.52261711 + b2 * 0.31114694
    )
    delta: Floats = 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q
    same = np.all(one == two, axis=-1)
    return np.where(same, 0.0, delta)


def same_size(one: Image.Image, two: Image.Image) -> tuple[Image.Image, Image.Image]:
    """Both on a canvas of the larger size (white where one is smaller): a screenshot cut short
    counts as different there, as it looks."""
    width, height = max(one.width, two.width), max(one.height, two.height)

    def pad(img: Image.Image) -> Image.Image:
        rgba = img.convert("RGBA")
        if rgba.size == (width, height):
            return rgba
        canvas = Image.new("RGBA", (width, height), (255, 255, 255, 255))
        canvas.paste(rgba, (0, 0))
        return canvas

    return pad(one), pad(two)


def compare(one: Image.Image, two: Image.Image, threshold: float = THRESHOLD) -> PixelDiff:
    """pixelmatch(one, two, threshold) with anti-aliasing detection, and its diff picture."""
    first, second = same_size(one, two)
    width, height = first.size
    a = np.asarray(first, dtype=np.uint8)
    b = np.asarray(second, dtype=np.uint8)
    over = _yiq_delta(a, b) > MAX_YIQ_DELTA * threshold * threshold
    ys, xs = np.nonzero(over)
    raw_a, raw_b = a.tobytes(), b.tobytes()
    aa = np.zeros_like(over)
    for y, x in zip(ys.tolist(), xs.tolist(), strict=True):
        if antialiased(raw_a, x, y, width, height, raw_b) or antialiased(
            raw_b, x, y, width, height, raw_a
        ):
            aa[y, x] = True
    counted = over & ~aa
    r, g, bl = _rgb(a)
    gray = 255.0 + (_y(r, g, bl) - 255.0) * GRAY_ALPHA * a[..., 3] / 255.0
    picture = np.repeat(gray[..., None], 3, axis=-1).astype(np.uint8)
    picture[aa] = AA_RGB
    picture[counted] = DIFF_RGB
    return PixelDiff(int(counted.sum()), width * height, Image.fromarray(picture, "RGB"))
