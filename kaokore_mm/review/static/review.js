// The review page: OpenSeadragon + Annotorious (headless: our own keyboard-first panel).
// Every change is saved at once (PUT with the version it started from; a conflict is shown, never
// overwritten) and logged as an action, so closing the browser loses nothing.
//
// Each box keeps its provenance (kaokore:origin proposal|drawn, kaokore:review proposed|accepted|edited|drawn,
// kaokore:score, kaokore:model, kaokore:proposed = the classifier's labels, kaokore:confirmed = the label kinds the
// annotator set, kaokore:sure = the proposed kinds the classifier is sure of (calibrated on its validation: right at
// least 95 % of the time there), kaokore:bulk = the kinds confirmed in bulk): it lives in `meta` (by annotation id), is sent with every save and comes back on reload, so
// colours, the doubtful-first order and what was accepted survive; a page can be resumed where it was left.
// Keys belong to the page: menus and buttons give the focus back, and every key works after every control.
(function () {
  'use strict';
  const stem = decodeURIComponent(location.pathname.split('/').pop());
  // the label vocabulary comes from the server (kaokore_mm/core/labels.py), in KaoKore's label order
  let STATUS = [];
  let GENDER = [];
  const state = { version: 0, state: 'to review', page: null, blocked: false, pending: Promise.resolve(), saves: 0,
    actions: [], labelling: 0, classifier: true,
                  undo: [], redo: [], restoring: false, targetChanged: false };
  const meta = new Map();  // annotation id -> provenance (the kaokore: keys)
  const $ = (id) => document.getElementById(id);
  const KEYS = ['kaokore:origin', 'kaokore:review', 'kaokore:score', 'kaokore:model', 'kaokore:proposed',
                'kaokore:confirmed', 'kaokore:sure', 'kaokore:bulk'];

  const viewer = OpenSeadragon({
    id: 'viewer', prefixUrl: '/static/vendor/openseadragon/images/', showNavigator: true,
    // the page's level-0 tiles when annotate wrote them (a 6000-px scan loads what is on screen), else the image
    // small faces on a 6000-px scan: zoom to 4 screen pixels per scan pixel (OpenSeadragon's default stops at 1.1)
    maxZoomPixelRatio: 4, visibilityRatio: 0.2,
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: false },
  });
  // the review keys are ours (below): OpenSeadragon's own (w/a/s/d pan, f flip, r rotate, ...) would fight them
  viewer.addHandler('canvas-key', (e) => { e.preventDefaultAction = true; });

  const info = (a) => meta.get(a.id) || {};
  const score = (a) => {
    const s = info(a)['kaokore:score'];
    return typeof s === 'number' ? s : null;
  };
  const reviewOf = (a) => info(a)['kaokore:review'] || (score(a) === null ? 'drawn' : 'proposed');
  const words = (kind) => (kind === 'status' ? STATUS : GENDER);
  function tags(a) {
    return (a.body || []).filter((b) => b.purpose === 'tagging').map((b) => b.value);
  }
  function labelOf(a, kind) {
    return words(kind).find((v) => tags(a).includes(v)) || '';
  }
  function confirmed(a) { return info(a)['kaokore:confirmed'] || []; }
  // the label kinds of a box the classifier is sure of and nobody has confirmed yet
  function sureToConfirm(a) {
    const c = confirmed(a);
    return (info(a)['kaokore:sure'] || []).filter((k) => !c.includes(k) && labelOf(a, k));
  }

  const SVG = 'http://www.w3.org/2000/svg';
  const anno = OpenSeadragon.Annotorious(viewer, {
    disableEditor: true, disableDeleteKey: true, allowEmpty: true,
    // colour by what the box is and how sure the detector was; a label above every box
    formatter: (a) => {
      const r = reviewOf(a), s = score(a);
      const cls = r === 'drawn' ? 'mine' : r === 'accepted' ? 'accepted' : r === 'edited' ? 'edited'
        : (s < 0.5 ? 'doubtful' : 'sure');
      const text = document.createElementNS(SVG, 'text');
      text.setAttribute('class', 'a9s-label');
      text.setAttribute('y', '-4');
      const st = labelOf(a, 'status'), ge = labelOf(a, 'gender');
      const mark = (kind, v) => (v ? (confirmed(a).includes(kind) ? v : `${v}?`) : '');
      const parts = [s === null ? '' : s.toFixed(2), r === 'accepted' ? '✓' : '', mark('status', st),
                     mark('gender', ge)].filter(Boolean);
      text.textContent = parts.join(' ');
      return { className: cls, element: text };
    },
  });

  // an action goes to the log with the save it leads to, and only if the server accepts that save (a stale
  // tab's "accept" or "done" refused with a conflict is not work done); opening a page is logged at once
  function log(op) { state.actions.push({ op, t: Date.now() / 1000 }); }
  function logNow(op) {
    fetch(`/api/pages/${stem}/log`, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ actions: [{ op, t: Date.now() / 1000 }] }) });
  }

  function items() {
    // one item per id: Annotorious can list a box twice around a selection change; the last copy is the edit
    const list = [...new Map(anno.getAnnotations().map((a) => [a.id, a])).values()];
    return list.map((a) => {
      const plain = JSON.parse(JSON.stringify(a.underlying || a));
      for (const k of KEYS) delete plain[k];
      return Object.assign(plain, info(a));
    });
  }

  function snapshot() { return JSON.stringify(items()); }

  function showConflict(message) {
    state.blocked = true;
    anno.readOnly = true;
    $('conflict').hidden = false;
    $('conflict-text').textContent = `Conflict: ${message}. Your last change was not saved.`;
  }

  // resolves to true when saved; false (and nothing navigates) on a conflict or an error
  function save(newState, before) {
    if (before !== undefined && !state.restoring) { state.undo.push(before); state.redo = []; }
    // serialised: each save starts from the version the previous one returned
    state.pending = state.pending.then(async () => {
      if (state.blocked) { state.actions = []; return false; }
      const actions = state.actions.splice(0);
      const body = { items: items(), version: state.version, state: newState || 'in progress', actions };
      let r, doc;
      try {
        r = await fetch(`/api/pages/${stem}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body) });
        doc = await r.json();
      } catch (err) {
        state.actions.unshift(...actions);  // not sent: they go with the next save
        $('saved').textContent = `not saved: ${err}`;
        return false;
      }
      if (r.status === 409) { showConflict(doc.error); return false; }
      if (!r.ok) { $('saved').textContent = `not saved: ${doc.error}`; return false; }
      state.version = doc['kaokore:version'];
      state.state = doc['kaokore:state'];
      state.saves += 1;
      showBulk();
      $('state').textContent = state.state;
      $('saved').textContent = `saved (version ${state.version})`;
      return true;
    });
    return state.pending;
  }

  function ordered() {  // proposals doubtful (lowest score) first, the annotator's own boxes last
    return anno.getAnnotations().slice().sort((a, b) => {
      const sa = score(a), sb = score(b);
      return (sa === null ? 2 : sa) - (sb === null ? 2 : sb);
    });
  }

  function showSelected(a) {
    if (!a) { $('selected').textContent = 'no box selected'; $('status').value = ''; $('gender').value = ''; return; }
    const s = score(a), r = reviewOf(a);
    $('selected').textContent = s === null ? 'your box' : `proposal, score ${s.toFixed(2)}, ${r}`;
    for (const kind of ['status', 'gender']) {
      $(kind).value = labelOf(a, kind);
      $(kind).classList.toggle('guess', !!labelOf(a, kind) && !confirmed(a).includes(kind));
    }
  }
  const refresh = () => showSelected(anno.getSelected());

  const NUM = /xywh=(?:pixel:)?(-?[\d.]+),(-?[\d.]+),([\d.]+),([\d.]+)/;
  function zoomTo(a) {
    const m = NUM.exec(a.target.selector.value);
    if (!m) return;
    const [x, y, w, h] = m.slice(1).map(Number);
    const pad = Math.max(w, h) * 2;
    const rect = viewer.viewport.imageToViewportRectangle(x - pad, y - pad, w + 2 * pad, h + 2 * pad);
    viewer.viewport.fitBoundsWithConstraints(rect);
  }

  function select(a) {
    if (!a) return;
    anno.selectAnnotation(a.id);
    showSelected(a);
    zoomTo(a);
  }

  function step(delta) {
    const list = ordered();
    if (!list.length) return;
    const sel = anno.getSelected();
    const i = sel ? list.findIndex((a) => a.id === sel.id) : -1;
    // nothing selected: n starts at the first box, p at the last
    const j = i < 0 ? (delta > 0 ? 0 : list.length - 1) : (i + delta + list.length) % list.length;
    select(list[j]);
  }

  function nextToReview(from) {  // the next box still as proposed, after `from` in the order (wrapping)
    const list = ordered();
    const i = from ? list.findIndex((a) => a.id === from.id) : -1;
    const rest = list.slice(i + 1).concat(list.slice(0, i + 1));
    return rest.find((a) => reviewOf(a) === 'proposed');
  }

  function setMeta(id, patch) { meta.set(id, Object.assign({}, meta.get(id) || {}, patch)); }

  // re-render a box after its provenance or labels changed (the formatter runs on add/update)
  function redraw(id, body) {
    const a = anno.getAnnotationById(id);
    if (!a) return;
    const plain = JSON.parse(JSON.stringify(a.underlying || a));
    if (body) plain.body = body;
    anno.addAnnotation(plain);
  }

  // a box's body with its `kind` label replaced by `value` (none: removed)
  function withLabel(body, kind, value) {
    const out = (body || []).filter((b) => !(b.purpose === 'tagging' && words(kind).includes(b.value)));
    if (value) out.push({ type: 'TextualBody', purpose: 'tagging', value });
    return out;
  }

  async function relabel(kind, value) {
    const sel = anno.getSelected();
    if (!sel) return;
    const before = snapshot();
    const body = withLabel(sel.body, kind, value);
    const c = new Set(confirmed(sel));
    c.add(kind);  // setting a label, even the one proposed, confirms it
    // decided by a person now, not in bulk
    const bulk = (info(sel)['kaokore:bulk'] || []).filter((k) => k !== kind);
    setMeta(sel.id, { 'kaokore:confirmed': [...c], 'kaokore:bulk': bulk });
    const id = sel.id;
    anno.cancelSelected();
    redraw(id, body);
    log('relabel');
    await save(undefined, before);
    select(anno.getAnnotationById(id));
  }

  async function accept() {
    const sel = anno.getSelected();
    if (!sel) return;
    const before = snapshot();
    if (reviewOf(sel) === 'proposed') setMeta(sel.id, { 'kaokore:review': 'accepted' });
    const id = sel.id;
    anno.cancelSelected();
    redraw(id);
    log('accept');
    const ok = await save(undefined, before);
    const cur = anno.getAnnotationById(id);
    if (ok) select(nextToReview(cur) || cur);
  }

  // the labels the classifier is sure of, side by side as crops of the page: one key confirms them all (a
  // crop that looks wrong is clicked, its box selected and relabelled first: that label is then the person's)
  const CROP = 72;
  let pageImage = null;
  function pageImg() {
    if (!pageImage) {
      pageImage = new Image();
      pageImage.src = `/pages/${encodeURIComponent(stem)}`;
    }
    return pageImage;
  }
  function showBulk() {
    const list = ordered().filter((a) => sureToConfirm(a).length);
    const n = list.reduce((t, a) => t + sureToConfirm(a).length, 0);
    $('bulk').hidden = !n;
    $('bulk-count').textContent = `${n} sure label${n === 1 ? '' : 's'}`;
    const grid = $('bulk-crops');
    grid.replaceChildren();
    const img = n ? pageImg() : null;
    for (const a of list) {
      const m = NUM.exec(a.target.selector.value);
      if (!m) continue;
      const [x, y, w, h] = m.slice(1).map(Number);
      const fig = document.createElement('figure');
      fig.className = 'crop';
      fig.dataset.id = a.id;
      const cv = document.createElement('canvas');
      cv.width = cv.height = CROP;
      const side = Math.max(w, h);  // square, the face in the middle
      const draw = () => cv.getContext('2d').drawImage(img, x + w / 2 - side / 2, y + h / 2 - side / 2, side, side,
        0, 0, CROP, CROP);
      if (img.complete && img.naturalWidth) draw(); else img.addEventListener('load', draw, { once: true });
      const cap = document.createElement('figcaption');
      cap.textContent = sureToConfirm(a).map((k) => labelOf(a, k)).join(' ');
      fig.append(cv, cap);
      fig.addEventListener('click', () => select(anno.getAnnotationById(a.id)));
      grid.append(fig);
    }
  }

  async function bulkConfirm() {
    const list = anno.getAnnotations().filter((a) => sureToConfirm(a).length);
    if (!list.length) return;
    const before = snapshot();
    const sel = anno.getSelected();
    anno.cancelSelected();
    for (const a of list) {
      const kinds = sureToConfirm(a);
      setMeta(a.id, { 'kaokore:confirmed': [...new Set([...confirmed(a), ...kinds])],
        'kaokore:bulk': [...new Set([...(info(a)['kaokore:bulk'] || []), ...kinds])] });
      redraw(a.id);
    }
    log('bulk');
    await save(undefined, before);
    if (sel && anno.getAnnotationById(sel.id)) select(anno.getAnnotationById(sel.id));
  }

  async function removeSelected() {
    const sel = anno.getSelected();
    if (!sel) return;
    const before = snapshot();
    const next = ordered().find((a) => a.id !== sel.id && (score(a) ?? 2) >= (score(sel) ?? 2));
    anno.cancelSelected();
    anno.removeAnnotation(sel.id);
    log('delete');
    await save(undefined, before);
    if (next) select(next); else refresh();
  }

  function restore(snap) {
    const list = JSON.parse(snap);
    meta.clear();
    for (const a of list) meta.set(a.id, Object.fromEntries(KEYS.filter((k) => k in a).map((k) => [k, a[k]])));
    anno.cancelSelected();
    state.restoring = true;
    anno.setAnnotations(list);
    state.restoring = false;
    refresh();
    showBulk();
  }

  async function undo(redo) {
    const from = redo ? state.redo : state.undo, to = redo ? state.undo : state.redo;
    if (!from.length || state.blocked) return;
    to.push(snapshot());
    restore(from.pop());
    log(redo ? 'redo' : 'undo');
    state.restoring = true;
    await save();
    state.restoring = false;
  }

  async function done() {
    log('done');
    // a stale tab gets the conflict here and stays: "done" goes through the version check like every save
    if (!(await save('done'))) return;
    const r = await fetch('/api/pages');
    const pages = (await r.json()).pages;
    const i = pages.findIndex((p) => p.stem === stem);
    const next = pages.slice(i + 1).concat(pages.slice(0, i)).find((p) => p.state !== 'done');
    location.href = next ? `/review/${next.stem}` : '/';
  }

  anno.on('createSelection', async (selection) => {
    selection.body = [{ type: 'TextualBody', purpose: 'tagging', value: 'face' }];
    await anno.updateSelected(selection);
    anno.saveSelected();
  });
  function drawing(on) {  // while drawing, existing boxes do not catch the mouse (a face next to a box)
    anno.setDrawingEnabled(on);
    $('draw').classList.toggle('on', on);
    document.body.classList.toggle('drawing', on);
  }

  // a face the annotator drew gets the classifier's labels as a proposal does (when the review tool runs with
  // --classifier): a sure one joins the bulk confirmation, a doubtful one shows as a guess; a label the person
  // set meanwhile stands. Not an action of the person's: saved without an undo step.
  async function proposeLabels(id) {
    const a = anno.getAnnotationById(id);
    const m = a && NUM.exec(a.target.selector.value);
    if (!m || !state.classifier) return;
    state.labelling += 1;
    try {
      let r, got;
      try {
        r = await fetch(`/api/pages/${stem}/labels`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ bbox: m.slice(1).map(Number) }) });
        got = await r.json();
      } catch (err) {
        $('saved').textContent = `no label proposed: ${err}`;
        return;
      }
      if (r.status === 501) { state.classifier = false; return; }  // no classifier here: not asked again
      if (!r.ok) { $('saved').textContent = `no label proposed: ${got.error}`; return; }
      const cur = anno.getAnnotationById(id);
      if (!cur || state.blocked) return;  // deleted meanwhile, or a conflict to resolve first
      let body = cur.body;
      const proposed = Object.assign({}, info(cur)['kaokore:proposed'] || {});
      const sure = new Set(info(cur)['kaokore:sure'] || []);
      for (const [kind, p] of Object.entries(got)) {
        if (confirmed(cur).includes(kind) || !words(kind).includes(p.label)) continue;
        body = withLabel(body, kind, p.label);
        proposed[kind] = p.label;
        if (p.sure) sure.add(kind); else sure.delete(kind);
      }
      setMeta(id, { 'kaokore:proposed': proposed, 'kaokore:sure': [...sure] });
      const wasSelected = (anno.getSelected() || {}).id === id;
      if (wasSelected) anno.cancelSelected();
      redraw(id, body);
      await save();
      if (wasSelected) select(anno.getAnnotationById(id));
    } finally {
      state.labelling -= 1;
    }
  }

  anno.on('createAnnotation', async (a) => {
    const before = state.lastSnapshot;
    setMeta(a.id, { 'kaokore:origin': 'drawn', 'kaokore:review': 'drawn', 'kaokore:confirmed': [] });
    drawing(false);
    redraw(a.id);
    log('draw');
    await save(undefined, before);
    select(anno.getAnnotationById(a.id));
    await proposeLabels(a.id);
  });
  anno.on('changeSelectionTarget', () => { state.targetChanged = true; });
  anno.on('updateAnnotation', async (a, previous) => {
    if (state.restoring) return;
    const moved = JSON.stringify(a.target) !== JSON.stringify(previous.target);
    const before = state.lastSnapshot;
    if (moved) {
      if (reviewOf(a) !== 'drawn') setMeta(a.id, { 'kaokore:review': 'edited' });
      log('resize');
    }
    await save(undefined, moved ? before : undefined);
  });
  anno.on('selectAnnotation', (a) => { state.lastSnapshot = snapshot(); showSelected(a); });
  // the side panel follows the selection: after the event loop settles (a resize re-selects its box, a
  // released key may deselect and select again in one tick), never the transient state in between
  const settle = () => setTimeout(refresh, 0);
  anno.on('cancelSelected', () => { state.targetChanged = false; settle(); });
  document.addEventListener('keyup', settle);
  viewer.addHandler('canvas-press', () => { state.lastSnapshot = snapshot(); });

  // a moved or resized box is saved when the mouse is released, and stays selected (the next corner)
  viewer.element.addEventListener('mouseup', () => {
    setTimeout(() => {
      const sel = anno.getSelected();
      if (state.targetChanged && sel) {
        state.targetChanged = false;
        const id = sel.id;
        anno.saveSelected();
        setTimeout(() => { if (anno.getAnnotationById(id)) { anno.selectAnnotation(id); refresh(); settle(); } }, 0);
      }
    }, 0);
  });

  // menus and buttons hand the focus back to the page: keys never reach a widget
  for (const kind of ['status', 'gender']) {
    $(kind).addEventListener('change', (e) => { e.target.blur(); relabel(kind, e.target.value); });
  }
  $('draw').addEventListener('click', (e) => { e.currentTarget.blur(); anno.cancelSelected(); drawing(true); });
  $('done').addEventListener('click', (e) => { e.currentTarget.blur(); done(); });
  $('reload').addEventListener('click', (e) => { e.currentTarget.blur(); reload(); });
  $('bulk-confirm').addEventListener('click', (e) => { e.currentTarget.blur(); bulkConfirm(); });

  const PAN = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  document.addEventListener('keydown', async (e) => {
    const k = e.key;
    const t = e.target;
    if (t && ['SELECT', 'BUTTON', 'INPUT'].includes(t.tagName)) {
      if (t.tagName === 'INPUT' && t.type === 'text') return;
      e.preventDefault();  // a select would take the letter as a choice, a button Enter as a click
      t.blur();
    }
    if (state.blocked) return;
    const ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && (k === 'z' || k === 'Z')) { e.preventDefault(); await undo(e.shiftKey); return; }
    if (ctrl && k === 'y') { e.preventDefault(); await undo(true); return; }
    if (ctrl || e.altKey) return;
    if (k === 'n' || k === 'Tab') { e.preventDefault(); step(e.shiftKey ? -1 : 1); }
    else if (k === 'p') step(-1);
    else if (k === 'a') await accept();
    else if (k === 'Delete' || k === 'Backspace') { e.preventDefault(); await removeSelected(); }
    else if (k === 'd') { anno.cancelSelected(); drawing(true); }
    else if (k === 'z') { const s = anno.getSelected(); if (s) zoomTo(s); }
    else if (k === 'Escape') {
      if (anno.getSelected() || document.body.classList.contains('drawing')) { anno.cancelSelected(); drawing(false); }
      else viewer.viewport.goHome();
    }
    else if (k >= '1' && k <= '4') await relabel('status', STATUS[Number(k) - 1]);
    else if (k === 'm') await relabel('gender', GENDER[0]);
    else if (k === 'f') await relabel('gender', GENDER[1]);
    else if (k === 'b') await bulkConfirm();
    else if (k === '+' || k === '=') viewer.viewport.zoomBy(1.5);
    else if (k === '-' || k === '_') viewer.viewport.zoomBy(1 / 1.5);
    else if (k === '0') viewer.viewport.goHome();
    else if (PAN[k]) {
      e.preventDefault();
      const b = viewer.viewport.getBounds();
      viewer.viewport.panBy(new OpenSeadragon.Point(PAN[k][0] * b.width * 0.2, PAN[k][1] * b.height * 0.2));
    }
    else if (k === 'Enter') { e.preventDefault(); await done(); }
    viewer.viewport.applyConstraints();
    refresh();
  }, true);  // capture: ours before Annotorious' own Escape handling
  // the panel follows the selection whatever changed it (Annotorious cancels a selection on its own keys too)
  document.addEventListener('keyup', () => setTimeout(refresh, 0));

  async function labels() {
    const tasks = await (await fetch('/api/labels')).json();
    STATUS = tasks.status;
    GENDER = tasks.gender;
    for (const [kind, ws] of [['status', STATUS], ['gender', GENDER]]) {
      for (const w of ws) $(kind).add(new Option(w, w));
    }
  }

  async function fetchDoc(doc) {
    if (!doc) doc = await (await fetch(`/api/pages/${stem}`)).json();
    state.version = doc['kaokore:version'];
    state.state = doc['kaokore:state'];
    state.page = doc.page;
    $('title').textContent = doc.page.key;
    $('state').textContent = state.state;
    restore(JSON.stringify(doc.items));
    state.undo = [];
    state.redo = [];
  }

  // the conflict banner's button: the page as saved elsewhere, in place (the viewer does not move)
  async function reload() {
    await fetchDoc();
    state.blocked = false;
    anno.readOnly = false;
    $('conflict').hidden = true;
    $('saved').textContent = `reloaded (version ${state.version})`;
  }

  async function load(doc) {
    await fetchDoc(doc);
    logNow('open');
    const first = nextToReview(null);  // resume: the first box still to review (nothing selected when none)
    if (first && state.state !== 'to review') select(first);
  }

  (async () => {
    await labels();
    const doc = await (await fetch(`/api/pages/${stem}`)).json();
    const page = encodeURIComponent(stem);
    viewer.addOnceHandler('open', () => load(doc).then(() => { window.review.ready = true; }));
    viewer.open(doc.page.tiles ? `/iiif/${page}/info.json` : { type: 'image', url: `/pages/${page}` });
  })();
  window.review = { anno, viewer, state, meta, save, select, step, items, bulkConfirm, ready: false };
})();
