/**
 * The HTML report's script, as text embedded in the page: reads the run's JSON, draws the matrix,
 * applies the filters, shows a result's details on click. Plain ES2017, no dependencies; every
 * report string is inserted with textContent.
 */
export const HTML_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var MARK = { pass: '✓', fail: '✗', 'not-applicable': '–', 'not-implemented': '?', error: '!' };
  var STATUSES = ['pass', 'fail', 'error', 'not-applicable', 'not-implemented'];
  var shown = { pass: true, fail: true, error: true, 'not-applicable': true, 'not-implemented': true };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // result lookup and the case rows in run order
  var byCase = {}, order = [];
  data.results.forEach(function (r) {
    if (!byCase[r.caseId]) { byCase[r.caseId] = { id: r.caseId, area: r.area, title: r.title, cells: {} }; order.push(r.caseId); }
    byCase[r.caseId].cells[r.profile] = r;
  });

  var counts = document.getElementById('counts');
  STATUSES.forEach(function (s) { counts.appendChild(el('span', { class: s }, MARK[s] + ' ' + data.counts[s] + ' ' + s)); });

  var sf = document.getElementById('status-filters');
  STATUSES.forEach(function (s) {
    var label = el('label', { class: s });
    var box = el('input', { type: 'checkbox', 'data-status': s });
    box.checked = true;
    box.addEventListener('change', function () { shown[s] = box.checked; render(); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' ' + MARK[s] + ' ' + s));
    sf.appendChild(label);
  });

  var areaSel = document.getElementById('area-filter');
  var areas = [];
  order.forEach(function (id) { if (areas.indexOf(byCase[id].area) < 0) areas.push(byCase[id].area); });
  areas.forEach(function (a) { areaSel.appendChild(el('option', { value: a }, a)); });
  areaSel.addEventListener('change', render);
  var text = document.getElementById('text-filter');
  text.addEventListener('input', render);
  var problems = document.getElementById('problem-rows');
  problems.addEventListener('change', render);

  var thead = document.querySelector('#matrix thead'), tbody = document.querySelector('#matrix tbody');
  var head = el('tr');
  head.appendChild(el('th', { class: 'case' }, 'case'));
  data.profiles.forEach(function (p) { head.appendChild(el('th', { title: p }, p)); });
  thead.appendChild(head);

  var details = document.getElementById('details');
  var selected = null;
  function showDetails(r, cell) {
    if (selected) selected.classList.remove('selected');
    selected = cell; cell.classList.add('selected');
    details.textContent = '';
    details.classList.remove('hidden');
    details.appendChild(el('h3', null, r.caseId + ' on ' + r.profile));
    details.appendChild(el('div', { class: r.status }, MARK[r.status] + ' ' + r.status + ' · ' + r.durationMs + ' ms'));
    details.appendChild(el('p', null, r.title));
    if (r.reason) { details.appendChild(el('h4', null, r.status === 'pass' ? 'note' : 'reason')); details.appendChild(el('pre', { class: 'reason' }, r.reason)); }
    if (r.driverLog) { details.appendChild(el('h4', null, 'driver log during this case')); details.appendChild(el('pre', { class: 'log' }, r.driverLog)); }
  }

  function visible(c) {
    if (areaSel.value && c.area !== areaSel.value) return false;
    var q = text.value.trim().toLowerCase();
    if (q && (c.id + ' ' + c.title).toLowerCase().indexOf(q) < 0) return false;
    var statuses = data.profiles.map(function (p) { return c.cells[p] && c.cells[p].status; });
    if (problems.checked && !statuses.some(function (s) { return s === 'fail' || s === 'error'; })) return false;
    return statuses.some(function (s) { return s && shown[s]; });
  }

  function render() {
    tbody.textContent = '';
    var lastArea = null;
    order.forEach(function (id) {
      var c = byCase[id];
      if (!visible(c)) return;
      if (c.area !== lastArea) {
        var ar = el('tr', { class: 'area' });
        ar.appendChild(el('td', { colspan: String(data.profiles.length + 1) }, c.area));
        tbody.appendChild(ar);
        lastArea = c.area;
      }
      var tr = el('tr', { 'data-case': id });
      tr.appendChild(el('td', { class: 'case', title: c.title }, id));
      data.profiles.forEach(function (p) {
        var r = c.cells[p];
        if (!r) { tr.appendChild(el('td')); return; }
        var td = el('td', { class: 'cell ' + r.status, title: p + ': ' + r.status + (r.reason ? ' — ' + r.reason.split('\n')[0] : '') }, shown[r.status] ? MARK[r.status] : '');
        td.addEventListener('click', function () { showDetails(r, td); });
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  var failures = document.getElementById('failures');
  data.results.filter(function (r) { return r.status === 'fail' || r.status === 'error'; }).forEach(function (r) {
    var li = el('li', { class: r.status });
    li.appendChild(el('strong', null, MARK[r.status] + ' ' + r.caseId + ' [' + r.profile + ']'));
    li.appendChild(el('pre', null, r.reason || '(no reason given)'));
    if (r.driverLog) li.appendChild(el('pre', { class: 'log' }, r.driverLog));
    failures.appendChild(li);
  });
  if (!failures.children.length) failures.appendChild(el('li', { class: 'pass' }, 'none'));

  var facts = document.querySelector('#facts tbody');
  data.facts.forEach(function (f) {
    var tr = el('tr');
    tr.appendChild(el('th', null, f.name));
    var td = el('td');
    td.appendChild(el('div', { class: 'muted' }, f.description));
    var dl = el('div');
    dl.textContent = f.facts.map(function (kv) { return kv[0] + ': ' + kv[1]; }).join(' · ');
    td.appendChild(dl);
    tr.appendChild(td);
    facts.appendChild(tr);
  });

  render();
})();
`;
