"""The inline CSS and JavaScript of the HTML report (no external asset: the file stands alone)."""

from __future__ import annotations

__all__ = ["SCRIPT", "STYLE"]

STYLE = """
:root { --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --emit: #0969da; --dim: #6e7781; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; }
header, main { padding: 12px 24px; }
header { background: var(--bg); border-bottom: 1px solid #d0d7de; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 0 8px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.meta { color: var(--dim); }
.verdict { padding: 8px 12px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.verdict.ok { background: #dafbe1; color: var(--ok); }
.verdict.failed { background: #ffebe9; color: var(--bad); }
.chips span { display: inline-block; margin: 2px 6px 2px 0; padding: 2px 8px; border-radius: 10px;
  background: #eaeef2; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #d8dee4; vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
.status-completed, .stage-admitted, .stage-redacted { color: var(--ok); }
.status-compensated, .status-compensating { color: var(--warn); }
.status-failed, .status-denied, .stage-denied, .stage-unreadable { color: var(--bad); }
.status-running, .stage-emitted { color: var(--emit); }
.status-awaiting-approval, .stage-parked { color: #8250df; }
.status-proposed, .stage-proposed { color: var(--dim); }
section.workflow { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
section.workflow h3 { margin: 0 0 6px; font-size: 15px; }
.lane { position: relative; height: 26px; background: var(--bg); border-radius: 4px; margin: 6px 0 8px; }
.lane .mark { position: absolute; top: 4px; width: 10px; height: 18px; margin-left: -5px; border-radius: 3px;
  background: var(--ok); }
.lane .mark.stage-emitted { background: var(--emit); }
.lane .mark.stage-denied, .lane .mark.stage-unreadable { background: var(--bad); }
.lane .mark.stage-proposed { background: var(--dim); }
.lane .mark.stage-parked { background: #8250df; }
details summary { cursor: pointer; color: var(--dim); }
pre { white-space: pre-wrap; word-break: break-all; margin: 4px 0; }
.toolbar { margin: 8px 0; }
.toolbar input, .toolbar select { font: inherit; padding: 3px 6px; margin-right: 8px; }
.hidden { display: none; }
.pager button { font: inherit; padding: 2px 8px; }
"""

SCRIPT = """
(function () {
  function byId(id) { return document.getElementById(id); }
  var PAGE = CORPS_PAGE;
  var text = byId('filter-text'), status = byId('filter-status'), shown = byId('shown');
  var body = byId('workflows').tBodies[0], box = byId('sections');
  var prev = byId('page-prev'), next = byId('page-next');
  var items = [], at = {};
  var rows = body.querySelectorAll('tr.workflow-row'), secs = box.querySelectorAll('section.workflow');
  for (var i = 0; i < secs.length; i += 1) {
    items.push({w: secs[i].dataset.workflow, s: secs[i].dataset.status, q: secs[i].dataset.search,
                row: rows[i], sec: secs[i]});
  }
  JSON.parse(byId('deferred-workflows').textContent).forEach(function (d) {
    items.push({w: d[0], s: d[1], q: d[2], rowHtml: d[3], secHtml: d[4], row: null, sec: null});
  });
  items.forEach(function (it, n) { at[it.w] = n; });
  var matching = items, page = 0;
  function made(html) {
    var t = document.createElement('template');
    t.innerHTML = html;
    return t.content.firstElementChild;
  }
  function draw(it) {
    if (!it.row) { it.row = made(it.rowHtml); it.rowHtml = null; }
    if (!it.sec) { it.sec = made(it.secHtml); it.secHtml = null; }
  }
  function render() {
    var pages = Math.max(1, Math.ceil(matching.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    var old = body.querySelectorAll('tr.workflow-row');
    for (var k = old.length - 1; k >= 0; k -= 1) { old[k].remove(); }
    box.textContent = '';
    matching.slice(page * PAGE, (page + 1) * PAGE).forEach(function (it) {
      draw(it);
      body.appendChild(it.row);
      box.appendChild(it.sec);
    });
    shown.textContent = String(matching.length);
    byId('page-at').textContent = String(page + 1);
    byId('page-count').textContent = String(pages);
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    document.body.dataset.page = String(page + 1);
    document.body.dataset.rows = String(box.querySelectorAll('tr.event').length);
  }
  function apply() {
    var needle = (text.value || '').toLowerCase();
    var wanted = status.value;
    matching = items.filter(function (it) {
      return (!wanted || it.s === wanted) && (!needle || it.q.indexOf(needle) >= 0);
    });
    page = 0;
    render();
  }
  function fromHash() {
    var hash = decodeURIComponent(location.hash.slice(1));
    if (hash.indexOf('page=') === 0) {
      page = parseInt(hash.slice(5), 10) - 1 || 0;
      render();
    } else if (hash.indexOf('wf-') === 0 && at.hasOwnProperty(hash.slice(3))) {
      var it = items[at[hash.slice(3)]];
      if (matching.indexOf(it) < 0) { text.value = ''; status.value = ''; matching = items; }
      page = Math.floor(matching.indexOf(it) / PAGE);
      render();
      it.sec.scrollIntoView();
    }
  }
  text.addEventListener('input', apply);
  status.addEventListener('change', apply);
  prev.addEventListener('click', function () { page -= 1; render(); });
  next.addEventListener('click', function () { page += 1; render(); });
  window.addEventListener('hashchange', fromHash);
  apply();
  fromHash();
  document.body.dataset.workflows = String(items.length);
  document.body.dataset.ready = 'yes';
})();
"""
