// The review page: OpenSeadragon + Annotorious (headless: our own keyboard-first panel).
// Every change is saved at once (PUT with the version it started from; a conflict is shown, never
// overwritten) and logged as an action, so closing the browser loses nothing.
(function () {
  'use strict';
  const stem = decodeURIComponent(location.pathname.split('/').pop());
  // the label vocabulary comes from the server (kaokore_mm/core/labels.py), in KaoKore's label order
  let STATUS = [];
  let GENDER = [];
  const state = { version: 0, state: 'to review', page: null, order: [], cursor: -1, blocked: false,
                  pending: Promise.resolve(), saves: 0 };
  const $ = (id) => document.getElementById(id);

  const viewer = OpenSeadragon({
    id: 'viewer', prefixUrl: '/static/vendor/openseadragon/images/', showNavigator: true,
    tileSources: { type: 'image', url: `/pages/${encodeURIComponent(stem)}` },
    gestureSettingsMouse: { clickToZoom: false, dblClickToZoom: false },
  });
  // the review keys are ours: OpenSeadragon's own (w/a/s/d pan, f flip, r rotate, ...) would move the page
  viewer.addHandler('canvas-key', (e) => { e.preventDefaultAction = true; });
  const score = (a) => {
    const s = (a.underlying || a)['kaokore:score'];
    return typeof s === 'number' ? s : null;
  };
  const anno = OpenSeadragon.Annotorious(viewer, {
    disableEditor: true, disableDeleteKey: true, allowEmpty: true,
    formatter: (a) => {
      const s = score(a);
      return s === null ? 'mine' : (s < 0.5 ? 'doubtful' : 'sure');
    },
  });

  function log(op) {
    fetch(`/api/pages/${stem}/log`, { method: 'POST', keepalive: true, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ actions: [{ op, t: Date.now() / 1000 }] }) });
  }

  function tags(a) {
    return (a.body || []).filter((b) => b.purpose === 'tagging').map((b) => b.value);
  }

  function save(newState) {
    // serialised: each save starts from the version the previous one returned
    state.pending = state.pending.then(async () => {
      if (state.blocked) return;
      // one item per id: Annotorious can list a box twice around a selection change; the last copy is the edit
      const items = [...new Map(anno.getAnnotations().map((a) => [a.id, a])).values()];
      const body = { items, version: state.version, state: newState || 'in progress' };
      const r = await fetch(`/api/pages/${stem}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body) });
      const doc = await r.json();
      if (r.status === 409) {
        state.blocked = true;
        $('conflict').hidden = false;
        $('conflict').textContent = `Conflict: ${doc.error}. Your last change was not saved.`;
        anno.readOnly = true;
        return;
      }
      if (!r.ok) { $('saved').textContent = `not saved: ${doc.error}`; return; }
      state.version = doc['kaokore:version'];
      state.state = doc['kaokore:state'];
      state.saves += 1;
      $('state').textContent = state.state;
      $('saved').textContent = `saved (version ${state.version})`;
    });
    return state.pending;
  }

  function ordered() {  // doubtful (lowest score) first, the annotator's own boxes last
    return anno.getAnnotations().slice().sort((a, b) => {
      const sa = score(a), sb = score(b);
      return (sa === null ? 2 : sa) - (sb === null ? 2 : sb);
    });
  }

  function showSelected(a) {
    if (!a) { $('selected').textContent = 'no box selected'; $('status').value = ''; $('gender').value = ''; return; }
    const s = score(a);
    $('selected').textContent = s === null ? 'your box' : `proposal, score ${s.toFixed(2)}`;
    const t = tags(a);
    $('status').value = STATUS.find((v) => t.includes(v)) || '';
    $('gender').value = GENDER.find((v) => t.includes(v)) || '';
  }

  function select(a) {
    if (!a) return;
    anno.selectAnnotation(a.id);
    showSelected(a);
    const m = /xywh=(?:pixel:)?(\d+),(\d+),(\d+),(\d+)/.exec(a.target.selector.value);
    if (m) {
      const [x, y, w, h] = m.slice(1).map(Number);
      const pad = Math.max(w, h) * 2;
      const rect = viewer.viewport.imageToViewportRectangle(x - pad, y - pad, w + 2 * pad, h + 2 * pad);
      viewer.viewport.fitBoundsWithConstraints(rect);
    }
  }

  function step(delta) {
    const list = ordered();
    if (!list.length) return;
    const sel = anno.getSelected();
    let i = sel ? list.findIndex((a) => a.id === sel.id) : -1;
    i = (i + delta + list.length) % list.length;
    select(list[i]);
  }

  async function relabel(kind, value) {
    const sel = anno.getSelected();
    if (!sel) return;
    const words = kind === 'status' ? STATUS : GENDER;
    const body = (sel.body || []).filter((b) => !(b.purpose === 'tagging' && words.includes(b.value)));
    if (value) body.push({ type: 'TextualBody', purpose: 'tagging', value });
    await anno.updateSelected(Object.assign({}, sel, { body }), true);
    log('relabel');
    await save();
    select(anno.getAnnotationById ? anno.getAnnotationById(sel.id) : sel);
  }

  async function removeSelected() {
    const sel = anno.getSelected();
    if (!sel) return;
    const next = ordered().find((a) => a.id !== sel.id && (score(a) ?? 2) >= (score(sel) ?? 2));
    anno.cancelSelected();
    anno.removeAnnotation(sel.id);
    log('delete');
    await save();
    if (next) select(next);
  }

  async function done() {
    log('done');
    await save('done');
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

  anno.on('createAnnotation', async (a) => {
    drawing(false);
    log('draw');
    await save();
  });
  anno.on('changeSelectionTarget', () => { state.targetChanged = true; });
  anno.on('updateAnnotation', async (a, previous) => {
    if (JSON.stringify(a.target) !== JSON.stringify(previous.target)) log('resize');
    await save();
  });
  anno.on('selectAnnotation', (a) => showSelected(a));
  anno.on('cancelSelected', (a) => {
    if (state.targetChanged) { state.targetChanged = false; }
    showSelected(null);
  });

  // a moved or resized box is saved when the mouse is released
  viewer.element.addEventListener('mouseup', () => {
    setTimeout(() => {
      if (state.targetChanged && anno.getSelected()) { state.targetChanged = false; anno.saveSelected(); }
    }, 0);
  });

  $('status').addEventListener('change', (e) => relabel('status', e.target.value));
  $('gender').addEventListener('change', (e) => relabel('gender', e.target.value));
  $('draw').addEventListener('click', () => { anno.cancelSelected(); drawing(true); });
  $('done').addEventListener('click', done);

  document.addEventListener('keydown', async (e) => {
    if (e.target.tagName === 'SELECT' || state.blocked) return;
    const k = e.key;
    if (k === 'n' || k === 'Tab') { e.preventDefault(); step(e.shiftKey ? -1 : 1); }
    else if (k === 'p') step(-1);
    else if (k === 'a') { if (anno.getSelected()) { log('accept'); step(1); } }
    else if (k === 'Delete' || k === 'Backspace') { e.preventDefault(); await removeSelected(); }
    else if (k === 'd') { anno.cancelSelected(); drawing(true); }
    else if (k === 'Escape') { anno.cancelSelected(); drawing(false); }
    else if (k >= '1' && k <= '4') await relabel('status', STATUS[Number(k) - 1]);
    else if (k === 'm') await relabel('gender', GENDER[0]);
    else if (k === 'f') await relabel('gender', GENDER[1]);
    else if (k === 'Enter') { e.preventDefault(); await done(); }
  });

  async function labels() {
    const tasks = await (await fetch('/api/labels')).json();
    STATUS = tasks.status;
    GENDER = tasks.gender;
    for (const [kind, words] of [['status', STATUS], ['gender', GENDER]]) {
      for (const w of words) $(kind).add(new Option(w, w));
    }
  }

  async function load() {
    await labels();
    const r = await fetch(`/api/pages/${stem}`);
    const doc = await r.json();
    state.version = doc['kaokore:version'];
    state.state = doc['kaokore:state'];
    state.page = doc.page;
    $('title').textContent = doc.page.key;
    $('state').textContent = state.state;
    anno.setAnnotations(doc.items);
    log('open');
  }

  viewer.addHandler('open', () => load().then(() => { window.review.ready = true; }));
  window.review = { anno, viewer, state, save, select, step, ready: false };
})();
