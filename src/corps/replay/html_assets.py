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
"""

SCRIPT = """
(function () {
  var text = document.getElementById('filter-text');
  var status = document.getElementById('filter-status');
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.workflow'));
  var shown = document.getElementById('shown');
  function apply() {
    var needle = (text.value || '').toLowerCase();
    var wanted = status.value;
    var count = 0;
    sections.forEach(function (s) {
      var ok = (!wanted || s.dataset.status === wanted) &&
               (!needle || s.dataset.search.indexOf(needle) >= 0);
      s.classList.toggle('hidden', !ok);
      if (ok) { count += 1; }
    });
    shown.textContent = String(count);
  }
  text.addEventListener('input', apply);
  status.addEventListener('change', apply);
  apply();
  document.body.dataset.ready = 'yes';
  document.body.dataset.rows = String(document.querySelectorAll('tr.event').length);
})();
"""
