"""Drawing primitives of synthetic emaki pages (NumPy + OpenCV only).

A book has a :class:`BookStyle` (paper, ink, palette, format, figure scale,
line weight, face proportions). A page is drawn in layers: textured paper,
golden mist bands, scenery, calligraphy columns, and figures. Each figure's
status and gender are drawn, not only labelled:

======== ====================================================
status   status part (recorded box)
======== ====================================================
noble    male: tall black *eboshi* cap; female: gold-and-red crown
warrior  helmet with golden V horns
incarn.  golden halo disc behind the head (and a gold dot on the brow)
commoner wide straw hat (male) or white headscarf (female)
======== ====================================================

Face colour, eyes, brows and robes vary independently of the status, so the
status part is the only cue of the status: a CAM that is right points there.
The recorded part box is the headgear (or halo) together with the hair cap
under it, whose visible share the headgear decides.
Gender: women have long black hair falling past the shoulders and red lips;
men a short hair cap and a plain mouth line.

Colours are BGR (OpenCV's order). Sizes scale with the face width ``s``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

LINE = cv2.LINE_AA
SKINS = ((235, 240, 245), (200, 235, 245), (150, 185, 215), (120, 160, 200))


@dataclass
class BookStyle:
    book_id: str
    title: str
    fmt: str  # 'scroll' (wide) or 'book' (portrait pages)
    paper: np.ndarray  # BGR float
    ink: tuple
    gold: tuple
    robes: list  # BGR robe colours for nobles
    face_range: tuple  # (min, max) face width in px
    aspect: float  # face height / width
    line: float  # line weight multiplier
    text_share: float  # share of pages that are text only
    mist: float  # amount of golden mist
    realistic: bool = False  # the look of real scans (see REALISTIC below)
    detail_px: int = 0  # width of eye, brow, nose and mouth strokes in px (0: scaled with the face)
    distractors: int = 2  # most round, face-sized things (crests, fans, moons) drawn per page
    stains: float = 0.0  # share of pages with foxing and water stains
    size_range: tuple | None = None  # realistic look: KaoKore's face sizes cut to this range (None: all of them)


# The realistic look (make_synthetic(look='realistic')), each choice from the real material, not tuned:
# - face sizes: KaoKore 1.0's face regions (urls.txt, 5552 regions, longest side in page pixels), drawn
#   from this quantile table (0, 5, ..., 95, 99, 99.9, 100 %) by inverse CDF;
# - facial detail: Yamato-e faces are drawn "hikime kagibana" (a line for each eye, a hook for the nose)
#   with strokes of 1-2 px on the scans, whatever the face size: the strokes are fixed in pixels, so
#   they vanish when a page is shrunk to a detector's input (a 5000 px page to 1333 px: 1/3.75);
# - face-like distractors: round crests (mon), fans, moons and flowers at face sizes, some with inner
#   marks, as on robes, screens and banners of the scrolls;
# - paper and ink: aged papers from pale cream to brown, ink from black to faded grey-brown, foxing
#   and water stains on some pages.
KAOKORE_FACE_QUANTILES = (
    (0, 40),
    (5, 88),
    (10, 104),
    (15, 114),
    (20, 123),
    (25, 134),
    (30, 143),
    (35, 151),
    (40, 160),
    (45, 169),
    (50, 179),
    (55, 186),
    (60, 196),
    (65, 204),
    (70, 216),
    (75, 224),
    (80, 236),
    (85, 251),
    (90, 270),
    (95, 300),
    (99, 424),
    (99.9, 652),
    (100, 1296),
)


def kaokore_face_size(rng: np.random.Generator, size_range=None) -> float:
    """A face's longest side in px, drawn from KaoKore 1.0's distribution (:data:`KAOKORE_FACE_QUANTILES`),
    or from that distribution cut to ``size_range = (lo, hi)`` px (its quantiles between lo and hi: e.g.
    (40, 120) draws KaoKore's smallest fifth of faces as often as they occur among themselves)."""
    q, v = zip(*KAOKORE_FACE_QUANTILES)
    lo_q, hi_q = (0.0, 100.0) if size_range is None else (float(np.interp(x, v, q)) for x in size_range)
    return float(np.interp(rng.uniform(lo_q, hi_q), q, v))


def make_book_style(rng: np.random.Generator, index: int, face_range=(30, 250), realistic: bool = False) -> BookStyle:
    paper = np.array([rng.uniform(170, 215), rng.uniform(200, 232), rng.uniform(215, 245)])
    lo, hi = face_range
    # each book draws its figures at its own scale, inside the requested range
    a = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    b = np.exp(rng.uniform(np.log(lo), np.log(hi)))
    fr = (int(min(a, b)), int(max(max(a, b), min(a, b) * 2.2, lo + 1)))
    fr = (max(lo, fr[0]), min(hi, fr[1]))
    robes = [tuple(int(c) for c in rng.integers(20, 200, 3)) for _ in range(4)]
    kana = '一二三四五六七八九十'
    style = BookStyle(
        book_id=f'book{index:03d}',
        title=f'合成絵巻 {kana[index % 10]}{index // 10 or ""} (synthetic emaki {index})',
        fmt='scroll' if rng.random() < 0.5 else 'book',
        paper=paper,
        ink=tuple(int(c) for c in rng.integers(15, 50, 3)),
        gold=(int(rng.uniform(60, 110)), int(rng.uniform(170, 205)), int(rng.uniform(210, 240))),
        robes=robes,
        face_range=fr,
        aspect=float(rng.uniform(1.1, 1.35)),
        line=float(rng.uniform(0.7, 1.4)),
        text_share=float(rng.uniform(0.05, 0.25)),
        mist=float(rng.uniform(0.2, 0.8)),
    )
    if realistic:
        age = rng.uniform(0, 1)  # pale cream (0) to brown (1) paper, BGR
        style.paper = np.array([215 - 95 * age, 228 - 70 * age, 238 - 40 * age]) + rng.normal(0, 6, 3)
        fade = rng.uniform(0, 1)  # black to faded grey-brown ink
        style.ink = tuple(int(v) for v in np.array([20, 22, 28]) + fade * np.array([70, 80, 95]))
        style.realistic = True
        style.detail_px = 1  # OpenCV's thinnest anti-aliased stroke: 1-2 px wide, as the scans' strokes
        style.distractors = 8
        style.stains = float(rng.uniform(0.2, 0.7))
    return style


def page_size(rng: np.random.Generator, style: BookStyle, long_side=(2000, 6000)) -> tuple[int, int]:
    long = int(rng.uniform(*long_side))
    aspect = rng.uniform(1.8, 2.8) if style.fmt == 'scroll' else rng.uniform(1.25, 1.5)
    short = int(long / aspect)
    return (long, short) if style.fmt == 'scroll' else (short, long)


def _noise(rng, h, w, cell):
    small = rng.random((max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def paper(rng, style: BookStyle, w: int, h: int) -> np.ndarray:
    """Textured paper with golden mist bands, drawn at 1/4 scale and upsampled."""
    sw, sh = max(8, w // 4), max(8, h // 4)
    tex = 0.6 * _noise(rng, sh, sw, 40) + 0.4 * _noise(rng, sh, sw, 6)
    img = style.paper[None, None, :] * (0.9 + 0.2 * tex[..., None])
    mist = np.zeros((sh, sw), np.float32)
    for _ in range(int(rng.integers(1, 4))):
        if rng.random() > style.mist:
            continue
        cy, bh = rng.uniform(0, sh), rng.uniform(0.05, 0.15) * sh
        x0, x1 = sorted(rng.uniform(-0.2 * sw, 1.2 * sw, 2))
        for _k in range(6):
            ex = int(rng.uniform(x0, x1))
            cv2.ellipse(
                mist,
                (ex, int(cy + rng.normal(0, bh / 3))),
                (int(rng.uniform(0.1, 0.3) * sw), int(bh)),
                0,
                0,
                360,
                1.0,
                -1,
            )
    mist = cv2.GaussianBlur(mist, (0, 0), 3) * 0.85
    img = img * (1 - mist[..., None]) + np.array(style.gold)[None, None, :] * mist[..., None]
    img = cv2.resize(np.clip(img, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    fibres = rng.integers(-12, 12, (256, 256, 1), dtype=np.int16)
    reps = (h // 256 + 1, w // 256 + 1, 3)
    grain = np.tile(fibres, reps)[:h, :w]
    return np.clip(img.astype(np.int16) + grain, 0, 255).astype(np.uint8)


def _t(v, style):
    return max(1, int(round(v * style.line)))


def calligraphy(rng, img, style: BookStyle, box, size) -> None:
    """Columns of brush marks, right to left, inside ``box``."""
    x0, y0, x1, y1 = box
    x = x1 - size
    while x > x0:
        y = y0 + rng.uniform(0, size)
        end = y0 + rng.uniform(0.5, 1.0) * (y1 - y0)
        while y < end:
            n = int(rng.integers(2, 5))
            pts = np.stack([x + rng.normal(0, size * 0.3, n), y + np.sort(rng.uniform(0, size, n))], 1)
            cv2.polylines(img, [pts.astype(np.int32)], False, style.ink, _t(size / 8, style), LINE)
            y += size * rng.uniform(1.0, 1.4)
        x -= size * rng.uniform(1.6, 2.0)


def scenery(rng, img, style: BookStyle, scale: float) -> None:
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(1, 4))):  # pines
        x, y = rng.uniform(0, w), rng.uniform(0.3 * h, h)
        trunk = np.cumsum(rng.normal(0, scale * 0.3, (6, 2)), 0) + [x, y]
        trunk[:, 1] = y - np.linspace(0, scale * 4, 6)
        cv2.polylines(img, [trunk.astype(np.int32)], False, (40, 60, 80), _t(scale / 5, style), LINE)
        for px, py in trunk[2:]:
            cv2.ellipse(
                img,
                (int(px + rng.normal(0, scale)), int(py)),
                (int(scale * 1.4), int(scale * 0.45)),
                0,
                0,
                360,
                (50, 100, 45),
                -1,
                LINE,
            )
    for _ in range(int(rng.integers(0, 3))):  # buildings: posts, beams and a roof
        x, y = rng.uniform(0, w), rng.uniform(0.3 * h, h)
        bw, bh = scale * rng.uniform(5, 10), scale * rng.uniform(3, 5)
        for k in range(4):
            xx = int(x + k * bw / 3)
            cv2.line(img, (xx, int(y)), (xx + int(bw * 0.2), int(y - bh)), (50, 70, 110), _t(scale / 8, style), LINE)
        roof = np.array(
            [
                [x - scale, y - bh],
                [x + bw * 0.2 + bw * 1.1, y - bh],
                [x + bw * 0.9, y - bh - scale * 1.5],
                [x + bw * 0.1, y - bh - scale * 1.5],
            ],
            np.int32,
        )
        cv2.fillPoly(img, [roof], (60, 70, 90), LINE)
    if rng.random() < 0.5:  # water
        y = rng.uniform(0.6, 0.95) * h
        for k in range(int(rng.integers(3, 7))):
            xs = np.linspace(0, w, 80)
            ys = y + k * scale * 0.5 + np.sin(xs / scale * 1.3 + k) * scale * 0.2
            cv2.polylines(
                img, [np.stack([xs, ys], 1).astype(np.int32)], False, (150, 110, 60), _t(scale / 10, style), LINE
            )
    for _ in range(int(rng.integers(0, style.distractors + 1))):  # round distractors: moons, fans, flowers, crests
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        r = int(kaokore_face_size(rng, style.size_range) / 2) if style.realistic else int(scale * rng.uniform(0.3, 0.8))
        colour = tuple(int(v) for v in rng.integers(120, 250, 3))
        if style.realistic and rng.random() < 0.5:  # pale, like a powdered face
            colour = tuple(int(v) for v in rng.integers(215, 250, 3))
        cv2.circle(img, c, r, colour, -1, LINE)
        cv2.circle(img, c, r, style.ink, style.detail_px or _t(scale / 12, style), LINE)
        if style.realistic and rng.random() < 0.6:  # a crest's inner marks: short strokes like features
            for _k in range(int(rng.integers(2, 5))):
                a, ln = rng.uniform(0, 2 * np.pi), rng.uniform(0.2, 0.5) * r
                p0 = np.array(c) + rng.uniform(-0.5, 0.5, 2) * r
                p1 = p0 + ln * np.array([np.cos(a), np.sin(a)])
                cv2.line(img, tuple(int(v) for v in p0), tuple(int(v) for v in p1), style.ink, style.detail_px, LINE)
    if style.realistic and rng.random() < style.stains:  # foxing and water stains
        for _ in range(int(rng.integers(3, 15))):
            r = int(rng.uniform(5, 0.04 * min(w, h)))
            cx, cy = int(rng.uniform(r, w - r)), int(rng.uniform(r, h - r))
            roi = img[cy - r : cy + r, cx - r : cx + r]
            stain = roi.copy()
            cv2.ellipse(
                stain, (r, r), (r, int(r * rng.uniform(0.4, 1))), rng.uniform(0, 180), 0, 360, (70, 110, 150), -1, LINE
            )
            a = rng.uniform(0.1, 0.35)
            roi[:] = cv2.addWeighted(stain, a, roi, 1 - a, 0)


def _ellipse(img, c, axes, colour, thick=-1, angle=0.0, a0=0, a1=360):
    cv2.ellipse(
        img, (int(c[0]), int(c[1])), (max(1, int(axes[0])), max(1, int(axes[1]))), angle, a0, a1, colour, thick, LINE
    )


def _poly(img, pts, colour):
    cv2.fillPoly(img, [np.asarray(pts, np.float64).round().astype(np.int32)], colour, LINE)


def figure(
    rng, img, style: BookStyle, cx: float, cy: float, s: float, gender: str, status: str
) -> tuple[list[float], list[float]]:
    """Draw one figure whose face (width ``s``) is centred at ``(cx, cy)``.

    Returns ``(face_box, part_box)`` as ``[x1, y1, x2, y2]`` floats: the face, and
    the drawn part that carries the status.
    """
    fh = s * style.aspect
    ink, th = style.ink, _t(max(1.0, s / 25), style)
    female = gender == 'female'
    d = rng.choice([-1, 1]) * rng.uniform(0, 0.15)  # three-quarter view: features shift sideways
    # face colour, eyes, robe and its pattern vary freely: the status is carried by
    # the headgear (or halo) alone, so a CAM that points there is right
    skin = SKINS[int(rng.integers(0, len(SKINS)))]
    robe = style.robes[int(rng.integers(0, 4))]
    slit_eyes, frown = rng.random() < 0.5, rng.random() < 0.3
    # body below the head
    body = [
        (cx - s * 0.5, cy + fh * 0.45),
        (cx + s * 0.5, cy + fh * 0.45),
        (cx + s * 1.3, cy + fh * 2.8),
        (cx - s * 1.3, cy + fh * 2.8),
    ]
    if status == 'incarnation':  # the halo sits behind head and body
        r = s * 1.05
        _ellipse(img, (cx, cy - fh * 0.05), (r, r), style.gold)
        _ellipse(img, (cx, cy - fh * 0.05), (r, r), (30, 120, 200), th)
        part = [cx - r, cy - fh * 0.05 - r, cx + r, cy - fh * 0.05 + r]
    if female:  # long hair behind the face falls over the shoulders
        _poly(
            img,
            [
                (cx - s * 0.62, cy - fh * 0.3),
                (cx + s * 0.62, cy - fh * 0.3),
                (cx + s * 0.85, cy + fh * 2.2),
                (cx - s * 0.85, cy + fh * 2.2),
            ],
            (25, 20, 20),
        )
    _poly(img, body, robe)
    cv2.polylines(img, [np.asarray(body, np.int32)], True, ink, th, LINE)
    if rng.random() < 0.3:  # laced robe
        for k in range(1, 6):
            y = cy + fh * (0.45 + 0.42 * k)
            cv2.line(
                img,
                (int(cx - s * (0.5 + 0.16 * k)), int(y)),
                (int(cx + s * (0.5 + 0.16 * k)), int(y)),
                (40, 40, 170),
                th,
                LINE,
            )
    elif rng.random() < 0.5:  # patterned robe
        for _ in range(4):
            _ellipse(
                img,
                (cx + rng.uniform(-0.8, 0.8) * s, cy + fh * rng.uniform(1.0, 2.5)),
                (s * 0.12, s * 0.12),
                style.gold,
            )
    # face
    _ellipse(img, (cx, cy), (s / 2, fh / 2), skin)
    _ellipse(img, (cx, cy), (s / 2, fh / 2), ink, th)
    # hair on top of the head
    _ellipse(img, (cx, cy - fh * 0.22), (s * 0.52, fh * 0.33), (25, 20, 20), -1, 0, 180, 360)
    # eyes, brows, nose, mouth
    if style.detail_px:  # strokes of the scans, fixed in pixels; "hikime kagibana": line eyes, hooked nose
        th, slit_eyes = style.detail_px, True
    ex, ey = s * 0.2, cy - fh * 0.02
    for side in (-1, 1):
        x = cx + side * ex + d * s
        if slit_eyes:
            cv2.line(img, (int(x - s * 0.09), int(ey)), (int(x + s * 0.09), int(ey)), ink, th, LINE)
        else:
            _ellipse(img, (x, ey), (s * 0.06, s * 0.05), (255, 255, 255))
            _ellipse(img, (x, ey), (s * 0.035, s * 0.035), ink)
        slope = 0.08 if frown else -0.02
        cv2.line(
            img,
            (int(x - s * 0.1), int(ey - fh * (0.12 + side * slope))),
            (int(x + s * 0.1), int(ey - fh * (0.12 - side * slope))),
            ink,
            th,
            LINE,
        )
    cv2.line(
        img, (int(cx + d * s), int(cy + fh * 0.02)), (int(cx + d * s + s * 0.05), int(cy + fh * 0.12)), ink, th, LINE
    )
    if female:
        _ellipse(img, (cx + d * s, cy + fh * 0.26), (s * 0.07, s * 0.05), (40, 40, 200))
    else:
        cv2.line(
            img,
            (int(cx + d * s - s * 0.1), int(cy + fh * 0.26)),
            (int(cx + d * s + s * 0.1), int(cy + fh * 0.26)),
            ink,
            th,
            LINE,
        )
    # headgear carrying the status
    top = cy - fh / 2
    if status == 'noble' and not female:  # eboshi
        pts = [
            (cx - s * 0.3, top + fh * 0.1),
            (cx + s * 0.3, top + fh * 0.1),
            (cx + s * 0.22, top - fh * 0.75),
            (cx - s * 0.05, top - fh * 0.95),
        ]
        _poly(img, pts, (20, 20, 20))
        part = [cx - s * 0.3, top - fh * 0.95, cx + s * 0.3, top + fh * 0.1]
    elif status == 'noble':  # crown ornament on long hair
        pts = [
            (cx - s * 0.45, top + fh * 0.05),
            (cx + s * 0.45, top + fh * 0.05),
            (cx + s * 0.35, top - fh * 0.3),
            (cx + s * 0.15, top - fh * 0.12),
            (cx, top - fh * 0.38),
            (cx - s * 0.15, top - fh * 0.12),
            (cx - s * 0.35, top - fh * 0.3),
        ]
        _poly(img, pts, style.gold)
        for k in (-0.3, 0, 0.3):
            _ellipse(img, (cx + k * s, top - fh * 0.02), (s * 0.06, s * 0.06), (40, 40, 200))
        part = [cx - s * 0.45, top - fh * 0.38, cx + s * 0.45, top + fh * 0.05]
    elif status == 'warrior':  # kabuto with V horns
        _ellipse(img, (cx, top + fh * 0.18), (s * 0.62, fh * 0.4), (60, 60, 60), -1, 0, 180, 360)
        cv2.line(
            img,
            (int(cx - s * 0.7), int(top + fh * 0.2)),
            (int(cx + s * 0.7), int(top + fh * 0.2)),
            (60, 60, 60),
            _t(s / 8, style),
            LINE,
        )
        for side in (-1, 1):
            _poly(
                img,
                [
                    (cx, top - fh * 0.15),
                    (cx + side * s * 0.12, top - fh * 0.15),
                    (cx + side * s * 0.6, top - fh * 0.75),
                    (cx + side * s * 0.45, top - fh * 0.75),
                ],
                style.gold,
            )
        part = [cx - s * 0.7, top - fh * 0.75, cx + s * 0.7, top + fh * 0.25]
    elif status == 'incarnation':  # the halo is the part; a gold urna on the brow
        _ellipse(img, (cx, cy - fh * 0.2), (s * 0.05, s * 0.05), style.gold)
    elif not female:  # commoner man: wide straw hat
        _poly(
            img,
            [(cx - s * 0.9, top + fh * 0.2), (cx + s * 0.9, top + fh * 0.2), (cx, top - fh * 0.45)],
            (110, 180, 210),
        )
        for k in (-0.45, 0, 0.45):
            cv2.line(
                img,
                (int(cx), int(top - fh * 0.45)),
                (int(cx + k * s * 2), int(top + fh * 0.2)),
                (60, 110, 140),
                th,
                LINE,
            )
        part = [cx - s * 0.9, top - fh * 0.45, cx + s * 0.9, top + fh * 0.2]
    else:  # commoner woman: white headscarf tied under the chin
        _ellipse(img, (cx, top + fh * 0.2), (s * 0.6, fh * 0.42), (235, 235, 230), -1, 0, 180, 360)
        _ellipse(img, (cx, top + fh * 0.2), (s * 0.6, fh * 0.42), ink, th, 0, 180, 360)
        part = [cx - s * 0.6, top - fh * 0.22, cx + s * 0.6, top + fh * 0.2]
    # the headgear also decides how much of the hair cap shows (a helmet hides it,
    # an eboshi sits on it): the status-dependent pixels are the headgear and the
    # hair cap it covers or reveals
    hair = [cx - s * 0.52, cy - fh * 0.55, cx + s * 0.52, cy - fh * 0.22]
    part = [min(part[0], hair[0]), min(part[1], hair[1]), max(part[2], hair[2]), max(part[3], hair[3])]
    face = [cx - s / 2, cy - fh / 2, cx + s / 2, cy + fh / 2]
    return face, part
