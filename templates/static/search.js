// Client-side search of the registry: loads the sharded index lazily (on first use), filters in
// the browser, and renders with DOM methods only (no HTML from data). No server, no tracking.
(function () {
  'use strict';
  var form = document.getElementById('search');
  if (!form) return;
  var base = form.getAttribute('data-index');
  var certBase = form.getAttribute('data-cert-base');
  var status = document.getElementById('search-status');
  var results = document.getElementById('results');
  var T = JSON.parse(form.getAttribute('data-strings') || '{}');
  var q = document.getElementById('q');
  var fTier = document.getElementById('f-tier');
  var fCat = document.getElementById('f-category');
  var fStatus = document.getElementById('f-status');
  var fMaker = document.getElementById('f-maker');
  var meta = null;
  var rows = [];
  var loading = null;
  var LIMIT = 200;

  function getJSON(url) {
    return fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': ' + r.status);
      return r.json();
    });
  }

  function load() {
    if (loading) return loading;
    status.textContent = T.loading || '…';
    loading = getJSON(base + 'meta.json').then(function (m) {
      meta = m;
      var next = 0;
      function more() {
        if (next >= m.shards.length) return Promise.resolve();
        var file = m.shards[next++];
        return getJSON(base + file).then(function (s) {
          // Each shard names its own manufacturers; keep the name in the row.
          s.rows.forEach(function (r) { r[2] = s.makers[r[2]]; rows.push(r); });
          run();
          return more();
        });
      }
      return more();
    });
    return loading;
  }

  function norm(s) { return String(s).toLowerCase(); }

  function run() {
    if (!meta) return;
    var text = norm(q.value.trim());
    var maker = norm(fMaker.value.trim());
    var tier = fTier.value, cat = fCat.value, st = fStatus.value;
    if (!text && !maker && !tier && !cat && !st) { results.textContent = ''; status.textContent = ''; return; }
    var hits = [], total = 0;
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i]; // [serial, number, maker name, model, product, tier, category, status, valid_until]
      var mk = r[2];
      if (tier && String(r[5]) !== tier) continue;
      if (cat && meta.categories[r[6]] !== cat) continue;
      if (st && meta.statuses[r[7]] !== st) continue;
      if (maker && norm(mk).indexOf(maker) < 0) continue;
      if (text && (norm(mk) + ' ' + norm(r[3]) + ' ' + norm(r[4]) + ' ' + r[1]).indexOf(text) < 0) continue;
      total++;
      if (hits.length < LIMIT) hits.push(r);
    }
    render(hits, total);
  }

  function cell(tr, text, href) {
    var td = document.createElement('td');
    if (href) { var a = document.createElement('a'); a.href = href; a.textContent = text; td.appendChild(a); }
    else td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function render(hits, total) {
    results.textContent = '';
    status.textContent = total === 0 ? (T.none || '0') : total + ' ' + ((total === 1 ? T.result : T.results) || '') + (total > LIMIT ? ' · ' + (T.more || '') : '');
    if (!hits.length) return;
    var table = document.createElement('table');
    table.className = 'certs';
    var tbody = document.createElement('tbody');
    hits.forEach(function (r) {
      var tr = document.createElement('tr');
      cell(tr, r[1], certBase + r[0] + '.html');
      cell(tr, r[2]);
      cell(tr, r[3]);
      cell(tr, r[4]);
      var stars = cell(tr, '★★★'.slice(0, r[5]) + '☆☆☆'.slice(0, 3 - r[5]));
      stars.className = 'stars';
      var s = document.createElement('span');
      var code = meta.statuses[r[7]];
      s.className = 'status status-' + code;
      s.textContent = (T.status && T.status[code]) || code;
      tr.appendChild(document.createElement('td')).appendChild(s);
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    results.appendChild(table);
  }

  var timer = null;
  function onInput() {
    load().catch(function (e) { status.textContent = String(e); });
    clearTimeout(timer);
    timer = setTimeout(run, 80);
  }
  [q, fMaker].forEach(function (el) { el.addEventListener('input', onInput); });
  [fTier, fCat, fStatus].forEach(function (el) { el.addEventListener('change', onInput); });
  form.addEventListener('submit', function (e) { e.preventDefault(); onInput(); });
})();
