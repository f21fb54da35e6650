"""A scripted annotator: corrects the proposals of a page to its ground truth in the review app, in a
real browser (Chromium through Selenium), counting the actions (accept, adjust, delete, draw) a
person would make. :func:`correct_book` does it for a whole book; the correction-effort
benchmark tool is its command line.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from kaokore_mm.converters.web_annotation import parse_xywh
from kaokore_mm.core.boxes import iou_matrix
from kaokore_mm.core.coco_faces import faces_by_file_name, labels_by_file_name
from kaokore_mm.core.labels import TASKS
from kaokore_mm.core.operating_point import ADJUST_BELOW, COSTS
from kaokore_mm.review.app import serve
from kaokore_mm.utils.cli import UserError


class Browser:
    """Headless Chromium (Debian's chromium + chromium-driver) driving the review page."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        chromium = shutil.which('chromium') or shutil.which('chromium-browser')
        driver = shutil.which('chromedriver')
        if not (chromium and driver):
            raise UserError('needs chromium and chromedriver (apt-get install chromium chromium-driver)')
        opts = webdriver.ChromeOptions()
        for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--window-size=1280,900'):
            opts.add_argument(a)
        opts.binary_location = chromium
        self.drv = webdriver.Chrome(service=Service(driver), options=opts)

    def js(self, script, *args) -> Any:
        return self.drv.execute_script(script, *args)

    def wait(self, script, *args, timeout=30.0) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.js(script, *args):
                return
            time.sleep(0.03)
        raise RuntimeError(f'timed out: {script}')

    def keys(self, *k) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.drv).send_keys(*k).perform()

    def saved(self, before) -> None:
        self.wait(f'return window.review.state.saves > {before}')

    def saves(self) -> int:
        return self.js('return window.review.state.saves')

    def focus(self, box) -> None:
        """Zoom the viewer onto an image region ``x1, y1, x2, y2`` (with a margin)."""
        x1, y1, x2, y2 = box
        pad = max(x2 - x1, y2 - y1)
        # within the viewer's constraints (the app applies them after every key: a view beyond its
        # greatest zoom would spring back while a box is being drawn, and the box would miss the face)
        self.js(
            'const v = window.review.viewer.viewport; v.fitBoundsWithConstraints(v.imageToViewportRectangle('
            'arguments[0], arguments[1], arguments[2], arguments[3]), true);',
            x1 - pad,
            y1 - pad,
            x2 - x1 + 2 * pad,
            y2 - y1 + 2 * pad,
        )
        self.still()

    def still(self) -> None:
        """Wait until the view is still (OpenSeadragon springs towards its targets and constraints)."""
        self.wait(
            'const v = window.review.viewer.viewport; const a = v.getCenter(true), b = v.getCenter(false); '
            'return Math.abs(v.getZoom(true) - v.getZoom(false)) < 1e-9 && a.distanceTo(b) < 1e-9;'
        )
        time.sleep(0.05)

    def screen(self, x, y) -> tuple[float, float]:
        return self.js(
            'const p = window.review.viewer.viewport.imageToViewerElementCoordinates('
            'new OpenSeadragon.Point(arguments[0], arguments[1])); return [p.x, p.y];',
            x,
            y,
        )

    def drag(self, start, end) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        el = self.drv.find_element('id', 'viewer')
        r = el.rect
        ActionChains(self.drv).move_to_element_with_offset(
            el, start[0] - r['width'] / 2, start[1] - r['height'] / 2
        ).click_and_hold().move_by_offset(3, 3).move_by_offset(
            end[0] - start[0] - 3, end[1] - start[1] - 3
        ).release().perform()


def xywh_boxes(items) -> np.ndarray:
    """``x1, y1, x2, y2`` of W3C annotations with pixel ``xywh=`` selectors."""
    out = []
    for a in items:
        _, (x, y, w, h) = parse_xywh(a['target']['selector']['value'])
        out.append([x, y, x + w, y + h])
    return np.array(out, float).reshape(-1, 4)


def correct_page(
    b: Browser,
    url: str,
    truth: np.ndarray,
    done_file: Path,
    iou: float = 0.5,
    adjust_below: float = ADJUST_BELOW,
    labels: list | None = None,
) -> dict:
    """Correct one page in the review app to ``truth`` (x1, y1, x2, y2 rows) as an annotator would.

    Proposals are visited best first: one that matches a true face (IoU >=
    ``iou``) is accepted, or adjusted (both corners dragged) when its IoU is
    below ``adjust_below``; any other is deleted; true faces left are drawn.
    With ``labels`` (``{kind: label}`` of each true face) the labels follow
    (:func:`correct_labels`). Then the page is marked done (waited for in ``done_file``).

    Returns:
        The actions: ``dict(accept, resize, delete, draw)``, and with ``labels`` the
        label counts of :func:`correct_labels` under ``'labels'``.
    """
    b.drv.get(url)
    b.wait('return window.review && window.review.ready')
    items = b.js('return window.review.anno.getAnnotations()')
    props = xywh_boxes(items)
    ious = iou_matrix(props, truth)
    ops = dict(accept=0, resize=0, delete=0, draw=0)
    taken = set()
    order = np.argsort(-np.array([a.get('kaokore:score', 0) for a in items])) if items else []
    for i in order:
        j = int(np.argmax(ious[i])) if len(truth) else -1
        if j >= 0 and ious[i, j] >= iou and j not in taken:
            taken.add(j)
            if ious[i, j] < adjust_below:  # drag the two corners onto the face
                t = truth[j]
                b.focus(t)
                b.js('window.review.anno.selectAnnotation(arguments[0]);', items[i]['id'])
                for corner in ((0, 1), (2, 3)):
                    handles = b.js(
                        "return [...document.querySelectorAll('.a9s-annotation.editable .a9s-handle')]"
                        '.map(e => { const r = e.getBoundingClientRect(); const v = '
                        "document.getElementById('viewer').getBoundingClientRect(); "
                        'return [r.x + r.width / 2 - v.x, r.y + r.height / 2 - v.y]; });'
                    )
                    pick = min if corner == (0, 1) else max
                    start = pick(handles, key=lambda p: p[0] + p[1])
                    before = b.saves()
                    b.drag(start, b.screen(t[corner[0]], t[corner[1]]))
                    b.saved(before)
                    b.js('window.review.anno.selectAnnotation(arguments[0]);', items[i]['id'])
                ops['resize'] += 1
            else:
                ops['accept'] += 1
                b.js('window.review.anno.selectAnnotation(arguments[0]);', items[i]['id'])
                before = b.saves()
                b.keys('a')  # saved (the accept is part of the page's record), then on to the next box
                b.saved(before)
        else:
            b.js('window.review.anno.selectAnnotation(arguments[0]);', items[i]['id'])
            before = b.saves()
            b.keys('\ue017')  # Delete
            b.saved(before)
            ops['delete'] += 1
    for j, t in enumerate(truth):
        if j in taken:
            continue
        b.focus(t)
        before, ids = b.saves(), b.js('return window.review.anno.getAnnotations().map((a) => a.id)')
        b.keys('d')
        b.wait("return document.body.classList.contains('drawing')")
        b.still()
        b.drag(b.screen(t[0], t[1]), b.screen(t[2], t[3]))
        b.saved(before)
        # the app selects (and zooms to) the new box after saving it: the next action waits for that
        b.wait(
            'const s = window.review.anno.getSelected(); return !!s && !arguments[0].includes(s.id) && '
            '!!window.review.anno.getAnnotationById(s.id);',
            ids,
        )
        # and, with a classifier behind the app, for the label it proposes for the drawn face
        b.wait('return window.review.state.labelling === 0')
        b.still()
        ops['draw'] += 1
    if labels is not None:
        ops['labels'] = correct_labels(b, truth, labels, iou)
    b.js('window.review.anno.cancelSelected();')
    b.keys('\ue007')  # Enter: done, next page
    end = time.time() + 30
    while time.time() < end:  # the page is saved as done before the app moves on
        doc = json.loads(done_file.read_text()) if done_file.exists() else {}
        if doc.get('kaokore:state') == 'done':
            return ops
        time.sleep(0.05)
    raise RuntimeError(f'{url}: not marked done')


LABEL_KEYS = {  # the review app's keys that set a label
    'status': {s: str(i + 1) for i, s in enumerate(TASKS['status'])},
    'gender': dict(zip(TASKS['gender'], 'mf')),
}
LABEL_COUNTS = ('bulk', 'sure', 'sure_right', 'sure_fixed', 'one_by_one', 'proposed', 'proposed_right')


def correct_labels(b: Browser, truth: np.ndarray, labels: list, iou: float = 0.5) -> dict:
    """Give every box of the corrected page the true labels of its face, as an annotator would
    with the classifier's proposals: a *sure* label (``kaokore:sure``) that is right is left for
    the bulk confirmation; one that is wrong is caught among the crops and set by hand (the
    person's decision); every other label (doubtful, or of a box without proposals: drawn) is
    set by hand, one by one; then ``b`` confirms the sure ones in bulk.

    Returns the counts: ``bulk`` (confirmed in bulk), ``one_by_one`` (set by hand), ``sure``
    and ``sure_right`` (the sure proposals and how many of them were right), ``sure_fixed``
    (sure but wrong, set by hand), ``proposed`` and ``proposed_right`` (every proposed label of
    a box kept).
    """
    n = dict.fromkeys(LABEL_COUNTS, 0)
    items = b.js('return window.review.items()')  # with their provenance: a drawn box's proposed labels too
    if not items or not len(truth):
        return n
    match = iou_matrix(xywh_boxes(items), truth)
    for a, row in zip(items, match):
        j = int(np.argmax(row))
        if row[j] < iou:
            continue
        proposed, sure = a.get('kaokore:proposed') or {}, set(a.get('kaokore:sure') or [])
        for kind, want in labels[j].items():
            got = proposed.get(kind)
            n['proposed'] += got is not None
            n['proposed_right'] += got == want
            n['sure'] += kind in sure
            n['sure_right'] += kind in sure and got == want
            if kind in sure and got == want:
                continue  # for the bulk confirmation
            n['sure_fixed'] += kind in sure
            b.js('window.review.anno.selectAnnotation(arguments[0]);', a['id'])
            before = b.saves()
            b.keys(LABEL_KEYS[kind][want])
            b.saved(before)
            n['one_by_one'] += 1
    left = b.js('return document.getElementById("bulk").hidden ? 0 : 1')
    if left:
        b.js('window.review.anno.cancelSelected();')
        before = b.saves()
        b.keys('b')
        b.saved(before)
        n['bulk'] = n['sure_right']
    return n


def correct_book(
    out,
    truth_coco: dict,
    iou: float = 0.5,
    adjust_below: float = ADJUST_BELOW,
    log=print,
    labels=(),
    labeler=None,
) -> dict:
    """Correct every page of ``out`` (what the annotate tool wrote) to the true faces of
    ``truth_coco`` (pages matched by file name) through the review app in Chromium;
    each corrected page must equal its truth. Returns the operations, the effort
    share at :data:`COSTS` (drawing every face from scratch = 1 per face) and the
    app's own effort log. With ``labels`` (label kinds, e.g. ``('status',)``: those a classifier
    proposed) the true faces' labels of those kinds (``attributes``) are set too
    (:func:`correct_labels`) and checked, and their counts summed under ``'labels'``; with a
    ``labeler`` (:class:`~kaokore_mm.review.box_labeler.BoxLabeler`, as ``review.py --classifier``)
    the faces it draws get the classifier's labels proposed too."""
    out = Path(out)
    try:
        faces = faces_by_file_name(truth_coco, key=lambda name: Path(name).name)
    except ValueError as e:
        raise UserError(f'the truth file: {e}') from None
    true_labels = labels_by_file_name(truth_coco, key=lambda name: Path(name).name, kinds=labels) if labels else {}
    url, server, store = serve(out, labeler)
    totals = dict(accept=0, resize=0, delete=0, draw=0)
    label_totals = dict.fromkeys(LABEL_COUNTS, 0)
    n_faces, t0 = 0, time.time()
    browser = Browser()
    try:
        for stem, page in store.pages.items():
            name = Path(page['key']).name
            if name not in faces:
                raise UserError(f'the truth file has no page named {name}: give the COCO file of the same pages')
            truth = faces[name][faces[name][:, 4] == 0, :4]
            done_file = out / 'corrections' / f'{stem}.json'
            want = true_labels.get(name) if labels else None
            ops = correct_page(browser, f'{url}/review/{stem}', truth, done_file, iou, adjust_below, want)
            for k, v in ops.pop('labels', {}).items():
                label_totals[k] += v
            for k, v in ops.items():
                totals[k] += v
            n_faces += len(truth)
            items = json.loads(done_file.read_text())['items']
            got = xywh_boxes(items)
            best = iou_matrix(got, truth).max(0) if len(got) and len(truth) else np.zeros(len(truth))
            if len(got) != len(truth) or (len(truth) and best.min() < iou):
                raise UserError(
                    f'page {page["key"]}: the corrected boxes do not match the truth ({len(got)} boxes for '
                    f'{len(truth)} faces, best IoU of each face {best.round(2).tolist()}; operations {ops})'
                )
            if want is not None and not _labels_match(items, got, truth, want, iou):
                raise UserError(f'page {page["key"]}: the corrected labels do not match the truth')
            log(
                f'{page["key"]}: {len(truth)} faces; accepted {ops["accept"]}, adjusted {ops["resize"]}, '
                f'deleted {ops["delete"]}, drew {ops["draw"]}'
            )
    finally:
        browser.drv.quit()
        server.should_exit = True
    cost = sum(COSTS[k] * v for k, v in totals.items())
    return dict(
        pages=len(store.pages),
        faces=n_faces,
        operations=totals,
        costs=COSTS,
        effort_share=cost / max(1, n_faces),
        logged=store.effort(),
        script_seconds=time.time() - t0,
        **({'labels': label_totals} if labels else {}),
    )


def _labels_match(items, boxes: np.ndarray, truth: np.ndarray, want: list, iou: float) -> bool:
    """Every corrected box carries its face's true labels, confirmed."""
    match = iou_matrix(boxes, truth)
    for a, row in zip(items, match):
        j = int(np.argmax(row))
        tags = {b.get('value') for b in a.get('body', []) if b.get('purpose') == 'tagging'}
        confirmed = set(a.get('kaokore:confirmed') or []) if a.get('kaokore:origin') == 'proposal' else set(want[j])
        if row[j] < iou or any(v not in tags or k not in confirmed for k, v in want[j].items()):
            return False
    return True
