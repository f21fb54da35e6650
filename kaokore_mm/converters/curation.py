"""IIIF Curation API documents (``cr:Curation``) <-> face boxes (pure Python).

The format of CODH's IIIF Curation Viewer and IIIF Curation Platform, with which
the Collection of Facial Expressions (the source of KaoKore) is curated: a
curation lists ``selections`` (``sc:Range``), each ``within`` a manifest, whose
``members`` are canvas regions ``<canvas>#xywh=x,y,w,h`` with ``metadata``
label/value pairs (here ``status``, ``gender`` and, for proposals, ``score``).
See http://codh.rois.ac.jp/iiif/curation/ .

Why not a library: there is no maintained Python package for the Curation API;
``iiif-prezi3`` covers Presentation 3 only, and a curation is Presentation 2
JSON-LD with CODH's context, a few keys, written here and read back below.
"""

from __future__ import annotations

import math

from kaokore_mm.core.labels import GENDER_WORDS, STATUS_WORDS

from .web_annotation import AnnotationError, imported_face, parse_xywh, pixel_fragment

CONTEXT = ['http://iiif.io/api/presentation/2/context.json', 'http://codh.rois.ac.jp/iiif/curation/1/context.json']
LABELS = ('status', 'gender')


def curation(curation_id: str, manifest_id: str, label: str, faces) -> dict:
    """A ``cr:Curation`` of one book: one range of face regions; ``faces``: dicts
    with ``canvas``, ``bbox`` [x, y, w, h] and optional ``status``, ``gender``, ``score``."""
    members = []
    for k, f in enumerate(faces):
        x, y, w, h = pixel_fragment(f['bbox'])
        meta = [dict(label=key, value=str(f[key])) for key in LABELS if f.get(key)]
        if f.get('score') is not None:
            meta.append(dict(label='score', value=f'{float(f["score"]):.4f}'))
        members.append(
            {
                '@id': f'{f["canvas"]}#xywh={x},{y},{w},{h}',
                '@type': 'sc:Canvas',
                'label': f'face {k + 1}',
                'metadata': meta,
            }
        )
    return {
        '@context': CONTEXT,
        '@type': 'cr:Curation',
        '@id': curation_id,
        'label': label,
        'selections': [
            {
                '@id': f'{curation_id.rsplit(".json", 1)[0]}/range/faces',
                '@type': 'sc:Range',
                'label': f'Faces of {label}',
                'members': members,
                'within': {'@id': manifest_id, '@type': 'sc:Manifest', 'label': label},
            }
        ],
    }


def is_curation(doc) -> bool:
    return isinstance(doc, dict) and doc.get('@type') == 'cr:Curation'


def read_curation(doc) -> tuple[list[dict], list[tuple]]:
    """``(faces, problems)`` of a ``cr:Curation``: faces as :func:`read_annotations`
    gives them (``canvas``, ``bbox``, ``attributes``, ``tags``, ``score``; the labels
    of a curation are its curator's); problems ``(index, reason)``, counted over
    the members of all selections in order."""
    if not is_curation(doc):
        raise AnnotationError('not a cr:Curation (IIIF Curation API) document')
    selections = doc.get('selections')
    if not isinstance(selections, list):
        raise AnnotationError('"selections" is not a list')
    faces, problems, k = [], [], -1
    for sel in selections:
        members = sel.get('members') if isinstance(sel, dict) else None
        for m in members if isinstance(members, list) else []:
            k += 1
            try:
                ident = m.get('@id') if isinstance(m, dict) else None
                if not isinstance(ident, str) or '#' not in ident:
                    raise AnnotationError('a member must be "<canvas>#xywh=..."')
                canvas, _, frag = ident.partition('#')
                unit, box = parse_xywh(frag)
                if unit != 'pixel':
                    raise AnnotationError('percent regions need the canvas size: give pixels')
                attrs, score = {}, None
                meta = m.get('metadata') or []
                for entry in meta if isinstance(meta, list) else []:
                    key, value = (entry.get('label'), entry.get('value')) if isinstance(entry, dict) else (None, None)
                    if not isinstance(value, str):
                        continue
                    if key == 'status' and value.lower() in STATUS_WORDS:
                        attrs['status'] = STATUS_WORDS[value.lower()]
                    elif key == 'gender' and value.lower() in GENDER_WORDS:
                        attrs['gender'] = GENDER_WORDS[value.lower()]
                    elif key == 'score':
                        try:
                            score = float(value)
                        except ValueError:
                            raise AnnotationError(f'score {value!r:.40} is not a number') from None
                        if not (math.isfinite(score) and 0 <= score <= 1):
                            raise AnnotationError(f'score {value!r:.40} is not a number in [0, 1]')
            except AnnotationError as e:
                problems.append((k, str(e)))
                continue
            words = [m.get('label'), m.get('description')]
            words += [e.get('value') for e in meta if isinstance(e, dict)] if isinstance(meta, list) else []
            faces.append(imported_face(canvas, box, attrs.values(), attrs, ident, score, words=words))
    return faces, problems
