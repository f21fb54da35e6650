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
  ``kaokore:state`` (``in progress`` or ``done``); written atomically;
* ``<stem>.log.jsonl``: one line per annotator action (operation, time), from
  which the correction effort is measured.

``merge_corrections.py --corrections OUT/corrections`` reads the pages directly.
"""

from __future__ import annotations

import json
import math
import re
import threading
from pathlib import Path

from kaokore_mm.annotation.pages import page_stem
from kaokore_mm.converters.schemas import provenance
from kaokore_mm.converters.web_annotation import CONTEXT, GENDER_WORDS, STATUS_WORDS, parse_xywh, pixel_fragment
from kaokore_mm.utils.io import append_jsonl, atomic_write_json, read_jsonl

STATES = ('to review', 'in progress', 'done')
OPERATIONS = ('accept', 'delete', 'draw', 'move', 'resize', 'relabel', 'undo', 'redo', 'done', 'open')


class ConflictError(Exception):
    """The page changed since the client loaded it (another tab or person)."""


class ReviewError(ValueError):
    """A request the store cannot accept (malformed annotations, a bad state)."""


class NotFound(ReviewError):
    """No such page (or page id, image, tile) in this book."""


class CorrectionStore:
    def __init__(self, out_dir):
        self.out = Path(out_dir)
        coco_file = self.out / 'annotations.coco.json'
        if not coco_file.exists():
            raise ReviewError(f'{coco_file} not found: run annotate.py first')
        coco = json.loads(coco_file.read_text())
        self.images_root = Path(coco.get('info', {}).get('images_root') or self.out)
        self.pages = {}
        counts = {}
        for a in coco['annotations']:
            counts[a['image_id']] = counts.get(a['image_id'], 0) + 1
        for im in coco['images']:
            key = im.get('page_key') or im['file_name']
            self.pages[page_stem(key)] = dict(
                stem=page_stem(key),
                key=key,
                canvas=im['canvas'],
                width=im['width'],
                height=im['height'],
                path=self.images_root / im['file_name'],
                proposals=counts.get(im['id'], 0),
            )
        (self.out / 'corrections').mkdir(exist_ok=True)
        self._lock = threading.Lock()

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
        path = self.out / 'corrections' / f'{stem}.json'
        return json.loads(path.read_text()) if path.exists() else None

    def summary(self) -> list[dict]:
        """Pages in book order with their state and counts, for the page list."""
        rows = []
        for stem, p in self.pages.items():
            doc = self._corrected(stem)
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
            doc = json.loads((self.out / 'w3c' / f'{stem}.json').read_text())
            doc['kaokore:version'] = 0
            doc['kaokore:state'] = 'to review'
        tiles = (self.out / 'iiif' / stem / 'info.json').is_file()
        page = dict(stem=stem, key=p['key'], canvas=p['canvas'], width=p['width'], height=p['height'], tiles=tiles)
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
            fx, fy, fw, fh = pixel_fragment([x1, y1, x2 - x1, y2 - y1])
            ann_id = str(a.get('id') or f'{p["canvas"]}/correction/{k}')
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

    def save(self, stem: str, items, base_version: int, state: str = 'in progress') -> dict:
        """Save the page's corrections if nobody saved since ``base_version``;
        returns the stored document (with the new version)."""
        if state not in STATES[1:]:
            raise ReviewError(f'state must be one of {", ".join(STATES[1:])}, got {state!r}')
        clean = self._clean(stem, items)
        p = self.page(stem)
        with self._lock:
            old = self._corrected(stem)
            current = old.get('kaokore:version', 0) if old else 0
            if int(base_version) != current:
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
        return doc

    def log(self, stem: str, actions) -> int:
        """Append the annotator's actions (``op``, ``t`` in seconds since the epoch)."""
        self.page(stem)
        lines = []
        for a in actions if isinstance(actions, list) else []:
            op = a.get('op') if isinstance(a, dict) else None
            t = a.get('t') if isinstance(a, dict) else None
            if op not in OPERATIONS or not isinstance(t, (int, float)) or not math.isfinite(t):
                raise ReviewError(f'bad action {a!r}: op in {", ".join(OPERATIONS)}, t a number')
            lines.append(dict(op=op, t=float(t)))
        with self._lock:
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
            if not acts:
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


def _valid_action(a: dict) -> bool:
    t = a.get('t')
    return a.get('op') in OPERATIONS and isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)


_SAFE = re.compile(r'^[A-Za-z0-9._-]+$')


def safe_stem(stem: str) -> str:
    if not _SAFE.match(stem or ''):
        raise NotFound(f'bad page id {stem!r}')
    return stem
