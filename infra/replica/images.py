"""The replica's image and font bytes: drawn with Pillow, deterministic from their names.

Every image is a function of its name and size alone (a BLAKE2 digest seeds a local
``random.Random``), so the same URL gives the same bytes on any machine with the pinned Pillow,
and different articles get visibly different pictures: a sky gradient, a sun, a skyline and a few
translucent shapes in colours of their own. Smaller sizes are cut from the article's original as
WordPress makes them (proportional, or centre-cropped for the thumbnail sizes). Logos and banners
are set in the theme's web font, Lato (SIL Open Font License 1.1, from the ``font-lato`` wheel),
whose files the site also serves.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
from functools import lru_cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont, ImageOps

ORIGINAL = (1068, 601)
FONT_FILES = ("Lato-Regular.ttf", "Lato-Bold.ttf")
_JPEG_QUALITY = 82
Colour = tuple[int, int, int]


@lru_cache(maxsize=4)
def font_bytes(name: str) -> bytes:
    """A Lato font file from the ``font-lato`` package (KeyError for any other name)."""
    if name not in FONT_FILES:
        raise KeyError(name)
    return resources.files("font_lato").joinpath("files", name).read_bytes()


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(font_bytes(FONT_FILES[bold])), size)


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _hsv(h: float, s: float, v: float) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=_JPEG_QUALITY)
    elif fmt == "ICO":
        img.save(out, "ICO", sizes=[(16, 16), (32, 32)])
    else:
        img.save(out, fmt)
    return out.getvalue()


def _gradient(size: tuple[int, int], top: Colour, bottom: Colour) -> Image.Image:
    """A vertical gradient (coloured at 1 x 256 pixels, then stretched: cheap at any size)."""
    ramp = ImageOps.colorize(Image.linear_gradient("L").resize((1, 256)), top, bottom)
    return ramp.convert("RGBA").resize(size, Image.Resampling.BILINEAR)


Shape = tuple[str, tuple[float, float, float, float], tuple[int, ...]]


@lru_cache(maxsize=64)
def _scene(name: str) -> tuple[tuple[Colour, Colour], tuple[Shape, ...]]:
    """The picture of an article, in the original's pixels: sky colours and shapes to draw."""
    rng = _rng("featured", name)
    w, h = ORIGINAL
    hue = rng.random()
    sky = (_hsv(hue, 0.65, 0.95), _hsv(hue + 0.12, 0.45, 0.55))
    shapes: list[Shape] = []
    r = rng.uniform(60, 130)
    cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.4) * h
    shapes.append(("ellipse", (cx - r, cy - r, cx + r, cy + r), (*_hsv(hue + 0.5, 0.4, 1), 200)))
    for _ in range(rng.randint(3, 6)):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h * 0.7), rng.uniform(40, 220)
        colour = (*_hsv(hue + rng.uniform(-0.25, 0.25), 0.6, 0.9), rng.randint(50, 110))
        if rng.random() < 0.5:
            shapes.append(("ellipse", (x - r, y - r, x + r, y + r), colour))
        else:
            shapes.append(("rectangle", (x - r, y - r / 2, x + r, y + r / 2), colour))
    dark = (*_hsv(hue + 0.55, 0.5, rng.uniform(0.12, 0.3)), 255)
    x = 0.0
    while x < w:  # the skyline, with lit windows
        bw, bh = rng.uniform(30, 110), rng.uniform(0.12, 0.45) * h
        shapes.append(("rectangle", (x, h - bh, x + bw, h), dark))
        for wy in range(int(h - bh) + 12, h - 12, 22):
            if rng.random() < 0.5:
                shapes.append(("window", (x + 8, wy, x + 14, wy + 8), (255, 226, 140, 255)))
        x += bw + rng.uniform(0, 16)
    return sky, tuple(shapes)


def _view(width: int, height: int) -> tuple[float, float, float]:
    """Scale and offsets mapping the original onto ``width`` x ``height``: proportional when
    the aspect allows, else the centre crop WordPress makes for its thumbnail sizes."""
    w, h = ORIGINAL
    scale = max(width / w, height / h)
    return scale, (w * scale - width) / 2, (h * scale - height) / 2


def article_image(name: str, width: int, height: int) -> bytes:
    """JPEG of an article's featured image ``name`` at one of its sizes (drawn at that size;
    uncached: a server's ``caches.Caches`` keeps them)."""
    (top, bottom), shapes = _scene(name)
    scale, dx, dy = _view(width, height)
    sky = _gradient((width, round(ORIGINAL[1] * scale)), top, bottom)
    img = sky.crop((0, round(dy), width, round(dy) + height))
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    boxes = [
        (kind, (x0 * scale - dx, y0 * scale - dy, x1 * scale - dx, y1 * scale - dy), colour)
        for kind, (x0, y0, x1, y1), colour in shapes
    ]
    for kind, box, colour in boxes:  # translucent shapes first, the skyline over them
        if kind == "ellipse":
            draw.ellipse(box, fill=colour)
        elif kind == "rectangle" and colour[3] < 255:
            draw.rectangle(box, fill=colour)
    img = Image.alpha_composite(img, layer)
    solid = ImageDraw.Draw(img)
    for kind, box, colour in boxes:
        if colour[3] == 255 and (kind == "rectangle" or scale >= 0.5):  # no windows when small
            solid.rectangle(box, fill=colour[:3])
    return _encode(img, "JPEG")


def _text(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill: Colour
) -> None:
    draw.text(xy, text, font=_font(size), fill=fill, anchor="lm")


@lru_cache(maxsize=8)
def logo(width: int, height: int, on_dark: bool) -> bytes:
    """PNG of the site's logo: a red badge and the name, transparent around them."""
    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    side = height - 16
    draw.rounded_rectangle((4, 8, 4 + side, 8 + side), radius=8, fill=(200, 30, 40))
    _text(draw, (4 + side * 0.18, height / 2), "FR", int(side * 0.5), (255, 255, 255))
    ink: Colour = (255, 255, 255) if on_dark else (17, 17, 17)
    _text(draw, (side + 16, height * 0.40), "FORT RUSS", int(height * 0.36), ink)
    _text(draw, (side + 18, height * 0.76), "NEWS", int(height * 0.2), (200, 30, 40))
    return _encode(img, "PNG")


@lru_cache(maxsize=8)
def banner(width: int, height: int, text: str) -> bytes:
    """JPEG of a house advert (``support-*``): a dark gradient and a line of text."""
    img = _gradient((width, height), (120, 14, 22), (28, 28, 34))
    draw = ImageDraw.Draw(img)
    size = height // 3
    while size > 10 and _font(size).getlength(text) > width * 0.86:
        size -= 2
    draw.text((width / 2, height / 2), text, font=_font(size), fill=(255, 255, 255), anchor="mm")
    return _encode(img, "JPEG")


@lru_cache(maxsize=8)
def backdrop(name: str, width: int, height: int) -> bytes:
    """JPEG of a quiet texture for a header (light) or footer (``footer*``: dark) background:
    a gradient crossed by faint diagonal bands."""
    hue = _rng("backdrop", name).random()
    dark = name.startswith("footer")
    top, bottom = (
        (_hsv(hue, 0.3, 0.16), _hsv(hue, 0.2, 0.06))
        if dark
        else (
            _hsv(hue, 0.06, 0.99),
            _hsv(hue, 0.1, 0.92),
        )
    )
    img = _gradient((width, height), top, bottom)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for x in range(-height, width, 48):
        draw.line((x, height, x + height, 0), fill=(255, 255, 255, 10 if dark else 40), width=12)
    return _encode(Image.alpha_composite(img, layer), "JPEG")


@lru_cache(maxsize=8)
def site_icon(size: int) -> bytes:
    """PNG of the site icon (the logo's badge) at ``size`` pixels square."""
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=max(2, size // 6), fill=(200, 30, 40))
    draw.text((size / 2, size / 2), "FR", font=_font(max(8, size // 2)), fill="white", anchor="mm")
    return _encode(img, "PNG")


@lru_cache(maxsize=1)
def favicon() -> bytes:
    """``/favicon.ico``: the site icon at 16 and 32 pixels."""
    return _encode(Image.open(io.BytesIO(site_icon(32))), "ICO")


@lru_cache(maxsize=8)
def theme_image(name: str) -> bytes:
    """PNGs the stylesheet uses: the page's pattern, the menu bar's shade, the scroll-up arrow."""
    if name == "page-bg.png":
        img = Image.new("RGB", (8, 8), (244, 244, 244))
        img.putpixel((0, 0), (232, 232, 232))
        img.putpixel((4, 4), (236, 236, 236))
    elif name == "menu-bg.png":
        img = _gradient((4, 48), (52, 52, 52), (24, 24, 24)).convert("RGB")
    elif name == "arrow-up.png":
        img = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
        ImageDraw.Draw(img).polygon([(8, 3), (14, 11), (2, 11)], fill=(255, 255, 255))
    else:
        raise KeyError(name)
    return _encode(img, "PNG")


@lru_cache(maxsize=1)
def placeholder_gif() -> bytes:
    """The lazy-load placeholder: one transparent pixel."""
    img = Image.new("P", (1, 1), 0)
    img.putpalette([255, 255, 255])
    out = io.BytesIO()
    img.save(out, "GIF", transparency=0)
    return out.getvalue()
