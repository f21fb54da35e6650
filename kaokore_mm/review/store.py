"""The corrections of a book under review, on disk (framework-free).

Reads what the annotate tool (``annotate.py``) wrote into ``OUT`` (``annotations.coco.json``,
``w3c/<stem>.json``) and keeps the annotator's work in ``OUT/corrections/``:

* ``<stem>.json``: the page's corrected W3C AnnotationPage (the same model as
  the proposals: ``SpecificResource`` targets with integer ``xywh=``
  fragments, ``TextualBody`` tags for status and gender; each item keeps its
  provenance, :class:`~kaokore_mm.converters.schemas.ReviewProvenance`:
  proposal (score, model) or drawn, proposed / accepted / edited, the
  classifier's labels and the ones the annotator confirmed), with
  ``kaokore:version`` (a counter: a save names the version it started from, and
  a stale one is refused as a conflict, never overwritten) and
  ``kaokore:state`` (``in progress`` or ``done``); written atomically, the version checked and
  the page written under a lock that every server of the book and the merge share;
* ``<stem>.log.jsonl``: one line per annotator action (operation, time), from
  which the correction effort is measured.

``merge_corrections.py --corrections OUT/corrections`` reads the pages directly.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Iterator
from pathlib import Path

from kaokore_mm.annotation.pages import page_stem
from kaokore_mm.converters.import_pages import page_scale
from kaokore_mm.converters.schemas import CocoImage, problem, provenance
from kaokore_mm.converters.web_annotation import CONTEXT, GENDER_WORDS, STATUS_WORDS, parse_xywh, pixel_fragment
from kaokore_mm.core.iiif_presentation import to_canvas, to_pixels
from kaokore_mm.core.text import parse_json
from kaokore_mm.utils.io import append_jsonl, atomic_write_json, folder_lock, read_jsonl

STATES = ('to review', 'in progress', 'done')
OPERATIONS = ('accept', 'delete', 'draw', 'move', 'resize', 'relabel', 'bulk', 'undo', 'redo', 'done', 'open')


class ConflictError(Exception):
    """The page changed since the client loaded it (another tab or person)."""


class ReviewError(ValueError):
    """A request the store cannot accept (malformed annotations, a bad state)."""


class NotFound(ReviewError):
    """No such page (or page id, image, tile) in this book."""


class Damaged(ReviewError):
    """A file of the book on disk that cannot be read (cut short, edited by hand): the page's
    problem, named with its file, never the whole book's."""


MAX_TIME = 1e11  # an action's time, seconds since 1970 (the year 5138): 10**400 or -1 is not a time


class CorrectionStore:
    def __init__(self, out_dir):
        self.out = Path(out_dir)
        coco_file = self.out / 'annotations.coco.json'
        if not coco_file.exists():
            raise ReviewError(f'{coco_file} not found: run annotate.py first')
        try:
            coco = parse_json(coco_file.read_bytes())
        except ValueError as e:
            raise ReviewError(f'{coco_file}: not readable ({e}); run annotate.py again') from None
        images = coco.get('images') if isinstance(coco, dict) else None
        anns = coco.get('annotations', []) if isinstance(coco, dict) else None
        if not isinstance(images, list) or not isinstance(anns, list):
            raise ReviewError(f'{coco_file}: not a COCO file; give the folder annotate.py wrote')
        for k, im in enumerate(images):
            why = problem(CocoImage, im)
            if why is None and not isinstance(im.get('canvas'), str):
                why = 'no canvas'
            if why is not None:  # e.g. a training COCO: its pages have no canvas
                raise ReviewError(
                    f'{coco_file}, image {k}: {why}: this is not the output of annotate.py (a training COCO?); '
                    'give the folder annotate.py wrote'
                )
        info = coco.get('info') if isinstance(coco.get('info'), dict) else {}
        self.images_root = Path(info.get('images_root') or self.out)
        self.pages = {}
        counts = {}
        for a in anns:
            if isinstance(a, dict):
                counts[a.get('image_id')] = counts.get(a.get('image_id'), 0) + 1
        for im in images:
            key = im.get('page_key') or im['file_name']
            self.pages[page_stem(key)] = dict(
                stem=page_stem(key),
                key=key,
                canvas=im['canvas'],
                width=im['width'],
                height=im['height'],
                scale=page_scale(im),  # canvas units per pixel: W3C is in the canvas's coordinates
                path=self.images_root / im['file_name'],
                proposals=counts.get(im['id'], 0),
            )
        (self.out / 'corrections').mkdir(exist_ok=True)
        self._lock = threading.Lock()
        with self.locked():  # makes the lock file, which tells the merge to take the lock too
            pass

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The book's corrections to this block alone: threads of this server (a lock) and other
        processes (another review server on the same book, a merge: :func:`folder_lock`)."""
        with self._lock, folder_lock(self.out / 'corrections'):
            yield

    def page(self, stem: str) -> dict:
        if stem not in self.pages:
            raise NotFound(f'no page {stem!r} in {self.out}')
        return self.pages[stem]

    def image_path(self, page: dict) -> Path:
        """The page's image, only from the book's own folder (a crafted ``file_name``
        such as ``../../../etc/hostname`` is refused) and only when it is there."""
        root = self.images_root.resolve()
        path = Path(page['path']).resolve()
        if not path.is_relative_to(root):
            raise NotFound(f"page {page['key']}: its image is outside the book's folder {root}: not served")
        if not path.is_file():
            raise NotFound(f'page {page["key"]}: its image {path} is missing')
        return path

    def _corrected(self, stem: str):
        """The page's saved corrections, ``None`` when never saved; :class:`Damaged` when unreadable."""
        path = self.out / 'corrections' / f'{stem}.json'
        return self._read(path) if path.exists() else None

    def _read(self, path: Path) -> dict:
        try:
            doc = parse_json(path.read_bytes())
        except (OSError, ValueError, RecursionError) as e:
            raise Damaged(
                f'{path} cannot be read ({type(e).__name__}: {str(e)[:120]}): restore it, or delete it '
                'to start the page again'
            ) from None
        if not isinstance(doc, dict) or not isinstance(doc.get('items', []), list):
            raise Damaged(f'{path} is not an AnnotationPage: restore it, or delete it to start the page again')
        return doc

    def summary(self) -> list[dict]:
        """Pages in book order with their state and counts, for the page list (a page whose
        file is damaged is listed as ``damaged``, with why)."""
        rows = []
        for stem, p in self.pages.items():
            try:
                doc = self._corrected(stem)
            except Damaged as e:
                rows.append(
                    dict(
                        stem=stem,
                        key=p['key'],
                        proposals=p['proposals'],
                        state='damaged',
                        faces=None,
                        version=None,
                        error=str(e),
                    )
                )
                continue
            rows.append(
                dict(
                    stem=stem,
                    key=p['key'],
                    proposals=p['proposals'],
                    state=doc.get('kaokore:state', 'in progress') if doc else 'to review',
                    faces=len(doc['items']) if doc else None,
                    version=doc.get('kaokore:version', 0) if doc else 0,
                )
            )
        return rows

    def load(self, stem: str) -> dict:
        """The page's AnnotationPage: the saved corrections, else the proposals (version 0)."""
        p = self.page(stem)
        doc = self._corrected(stem)
        if doc is None:
            proposals = self.out / 'w3c' / f'{stem}.json'
            if not proposals.is_file():
                raise Damaged(f'page {p["key"]}: its proposals {proposals} are missing; run annotate.py again')
            doc = self._read(proposals)
            doc['kaokore:version'] = 0
            doc['kaokore:state'] = 'to review'
        tiles = (self.out / 'iiif' / stem / 'info.json').is_file()
        page = dict(stem=stem, key=p['key'], canvas=p['canvas'], width=p['width'], height=p['height'], tiles=tiles)
        if p['scale'] != (1.0, 1.0):  # the page's viewer works in the image's pixels
            doc = dict(doc, items=[_in_pixels(a, p['scale']) for a in doc.get('items', [])])
        return dict(doc, page=page)

    def _clean(self, stem: str, items) -> list:
        """Validated annotations: boxes on the page (integer pixels), known labels."""
        p = self.page(stem)
        if not isinstance(items, list):
            raise ReviewError('items must be a list of annotations')
        clean, seen = [], {}
        for k, a in enumerate(items):
            try:
                target = a['target']
                selector = target['selector']
                selector = selector[0] if isinstance(selector, list) else selector
                unit, (x, y, w, h) = parse_xywh(selector['value'])
            except (KeyError, TypeError, IndexError, ValueError) as e:
                raise ReviewError(f'annotation {k}: no xywh box ({e})') from None
            if unit != 'pixel' or not all(math.isfinite(v) for v in (x, y, w, h)):
                raise ReviewError(f'annotation {k}: the box must be in pixels')
            x1, y1 = max(0.0, x), max(0.0, y)
            x2, y2 = min(float(p['width']), x + w), min(float(p['height']), y + h)
            if x2 - x1 < 1 or y2 - y1 < 1:
                raise ReviewError(f'annotation {k}: box {selector["value"]} is not on the page')
            bodies = a.get('body') or []
            bodies = bodies if isinstance(bodies, list) else [bodies]
            tags = []
            for b in bodies:
                if not isinstance(b, dict) or not isinstance(b.get('value', ''), str):
                    raise ReviewError(f'annotation {k}: a body must be an object with a text value, got {b!r:.60}')
                value = b.get('value', '').strip()
                if b.get('purpose') == 'tagging' and value and value != 'face':
                    if value not in STATUS_WORDS and value not in GENDER_WORDS:
                        raise ReviewError(f'annotation {k}: unknown label {value!r}')
                    tags.append(value)
            try:
                prov = provenance(a)
            except ValueError as e:
                raise ReviewError(f'annotation {k}: {e}') from None
            for kind, word in prov.proposed.items():
                if word not in (STATUS_WORDS if kind == 'status' else GENDER_WORDS):
                    raise ReviewError(f'annotation {k}: unknown proposed {kind} {word!r}')
            fx, fy, fw, fh = pixel_fragment(to_canvas([x1, y1, x2 - x1, y2 - y1], p['scale']))
            ann_id = a.get('id') or f'{p["canvas"]}/correction/{k}'
            if not isinstance(ann_id, str):
                raise ReviewError(f'annotation {k}: its id must be a string (an IRI), got {type(ann_id).__name__}')
            if ann_id in seen:  # one face, one box: a page that repeats an annotation is refused, not half-saved
                raise ReviewError(f'annotation {k}: id {ann_id} is already annotation {seen[ann_id]} of this page')
            seen[ann_id] = k
            clean.append(
                dict(
                    id=ann_id,
                    type='Annotation',
                    motivation='tagging',
                    body=[dict(type='TextualBody', purpose='tagging', value='face')]
                    + [dict(type='TextualBody', purpose='tagging', value=t) for t in tags],
                    target=dict(
                        type='SpecificResource',
                        source=p['canvas'],
                        selector=dict(
                            type='FragmentSelector',
                            conformsTo='http://www.w3.org/TR/media-frags/',
                            value=f'xywh={fx},{fy},{fw},{fh}',
                        ),
                    ),
                    **prov.as_keys(),
                )
            )
        return clean

    def save(self, stem: str, items, base_version: int, state: str = 'in progress', actions=None) -> dict:
        """Save the page's corrections if nobody saved since ``base_version``, and log
        ``actions`` (the annotator's operations that led to this save) with it: a save refused
        as a conflict logs nothing, so the effort counts only work the book kept. Returns the
        stored document (with the new version)."""
        if state not in STATES[1:]:
            raise ReviewError(f'state must be one of {", ".join(STATES[1:])}, got {state!r}')
        if isinstance(base_version, bool) or not isinstance(base_version, int) or not 0 <= base_version <= 10**9:
            raise ReviewError(f'version must be the integer version the page was loaded at, got {base_version!r:.40}')
        lines = checked_actions([] if actions is None else actions)
        clean = self._clean(stem, items)
        p = self.page(stem)
        with self.locked():
            old = self._corrected(stem)
            current = old.get('kaokore:version', 0) if old else 0
            if base_version != current:  # an int, checked above
                raise ConflictError(
                    f'page {p["key"]} was saved elsewhere (version {current}, this view has '
                    f'{base_version}): reload it before editing'
                )
            doc = {
                '@context': CONTEXT,
                'id': f'{p["canvas"]}/corrections',
                'type': 'AnnotationPage',
                'kaokore:version': current + 1,
                'kaokore:state': state,
                'kaokore:canvas': p['canvas'],  # the page, also when no face is left on it
                'items': clean,
            }
            atomic_write_json(self.out / 'corrections' / f'{stem}.json', doc, indent=1)
            if lines:
                append_jsonl(self.out / 'corrections' / f'{stem}.log.jsonl', lines)
        return doc

    def log(self, stem: str, actions) -> int:
        """Append the annotator's actions (``op``, ``t`` in seconds since the epoch)."""
        self.page(stem)
        lines = checked_actions(actions)
        with self.locked():
            return append_jsonl(self.out / 'corrections' / f'{stem}.log.jsonl', lines)

    def effort(self) -> dict:
        """Operations and active seconds per page from the action logs (pauses over
        ``idle`` seconds are not counted), against drawing every corrected face."""
        idle = 60.0
        pages, ops, seconds, damaged = 0, {}, 0.0, {}
        for stem in self.pages:
            acts, bad = read_jsonl(self.out / 'corrections' / f'{stem}.log.jsonl', valid=_valid_action)
            if bad:  # a record cut by a crash or a full disk: reported, the rest counts
                damaged[stem] = bad
            if not any(a['op'] != 'open' for a in acts):  # only opened: not worked on
                continue
            pages += 1
            times = sorted(a['t'] for a in acts)
            seconds += sum(min(b - a, idle) for a, b in zip(times, times[1:]))
            for a in acts:
                ops[a['op']] = ops.get(a['op'], 0) + 1
        edits = sum(v for k, v in ops.items() if k not in ('open', 'done', 'accept'))
        return dict(
            pages=pages, operations=ops, edit_operations=edits, active_seconds=seconds, damaged_log_lines=damaged
        )


def _in_pixels(ann: dict, scale) -> dict:
    """A stored annotation (its box in the canvas's coordinates) as the viewer takes it: in pixels."""
    try:
        selector = ann['target']['selector']
        selector = selector[0] if isinstance(selector, list) else selector
        _, box = parse_xywh(selector['value'])
    except (KeyError, TypeError, IndexError, ValueError):
        return ann
    x, y, w, h = (repr(float(v)) for v in to_pixels(box, scale))  # exact: saved back, the same canvas units
    target = dict(ann['target'], selector=dict(selector, value=f'xywh=pixel:{x},{y},{w},{h}'))
    return dict(ann, target=target)


def _valid_action(a: dict) -> bool:
    t = a.get('t')
    return (
        a.get('op') in OPERATIONS
        and isinstance(t, (int, float))
        and not isinstance(t, bool)
        and 0 <= t <= MAX_TIME  # also refuses NaN, inf and 10**400 (compared exactly, never converted)
    )


def checked_actions(actions) -> list[dict]:
    """The actions of a request body, each ``{op, t}``; :class:`ReviewError` for anything else
    (not a list, an unknown operation, a time that is not a number of seconds since 1970)."""
    if not isinstance(actions, list):
        raise ReviewError(f'actions must be a list of {{"op", "t"}} objects, got {type(actions).__name__}')
    lines = []
    for a in actions:
        if not isinstance(a, dict) or not _valid_action(a):
            raise ReviewError(
                f'bad action {str(a)[:80]}: op one of {", ".join(OPERATIONS)}, t seconds since 1970 (0..{MAX_TIME:g})'
            )
        lines.append(dict(op=a['op'], t=float(a['t'])))
    return lines


_SAFE = re.compile(r'^[A-Za-z0-9._-]+$')


def safe_stem(stem: str) -> str:
    if not _SAFE.match(stem or ''):
        raise NotFound(f'bad page id {stem!r}')
    return stem
