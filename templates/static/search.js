// Client-side search of the registry: loads the sharded index lazily (on first use), filters in
// the browser, and renders with DOM methods only (no HTML from data). No server, no tracking.
// The query's words must each be found in the certificate number, the manufacturer's Chinese or
// English name, the model, the product or the category (code, Chinese or English name), in any
// case; a number also finds its certificate without the leading zeros ("1" finds 00000001, first).
(function () {
  'use strict';
  var form = document.getElementById('search');
  if (!form) return;
  var base = form.getAttribute('data-index');
  var certBase = form.getAttribute('data-cert-base');
  var status = document.getElementById('search-status');
  var results = document.getElementById('results');
  var T = JSON.parse(form.getAttribute('data-strings') || '{}');
  var english = form.getAttribute('data-lang') !== 'zh';
  var q = document.getElementById('q');
  var fTier = document.getElementById('f-tier');
  var fCat = document.getElementById('f-category');
  var fStatus = document.getElementById('f-status');
  var fMaker = document.getElementById('f-maker');
  var meta = null;
  // { r: the shard's row, zh and en: the manufacturer's names ('' for none), who: both names,
  // cat: the category's code and names, own: number, model and product }, the last three
  // normalised, who and cat shared by the rows of one manufacturer or category.
  var rows = [];
  var catNames = [];
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
      catNames = m.categories.map(function (code, i) {
        return norm([code, (m.categories_zh || [])[i], (m.categories_en || [])[i]].join(' '));
      });
      var next = 0;
      function more() {
        if (next >= m.shards.length) return Promise.resolve();
        var file = m.shards[next++];
        return getJSON(base + file).then(function (s) {
          // Each shard names its own manufacturers; keep the names with the row.
          var makersEn = s.makers_en || [];
          var who = s.makers.map(function (zh, i) { return norm(zh + ' ' + (makersEn[i] || '')); });
          s.rows.forEach(function (r) {
            rows.push({
              r: r, zh: s.makers[r[2]], en: makersEn[r[2]] || '', who: who[r[2]],
              cat: catNames[r[6]] || '', own: norm(r[1] + ' ' + r[3] + ' ' + r[4]),
            });
          });
          run();
          return more();
        });
      }
      return more();
    });
    return loading;
  }

  // Full-width letters and digits as ASCII, then lower case.
  function norm(s) {
    s = String(s == null ? '' : s);
    return (s.normalize ? s.normalize('NFKC') : s).toLowerCase();
  }

  function run() {
    if (!meta) return;
    var text = norm(q.value.trim());
    var maker = norm(fMaker.value.trim());
    var tier = fTier.value, cat = fCat.value, st = fStatus.value;
    if (!text && !maker && !tier && !cat && !st) { results.textContent = ''; status.textContent = ''; return; }
    var words = text.split(/\s+/).filter(Boolean);
    // The serials the query names, for "1" as for "00000001".
    var serials = words.filter(function (w) { return /^[0-9]+$/.test(w); }).map(Number);
    var exact = [], others = [], total = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i], r = row.r; // [serial, number, maker, model, product, tier, category, status, valid_until]
      if (tier && String(r[5]) !== tier) continue;
      if (cat && meta.categories[r[6]] !== cat) continue;
      if (st && meta.statuses[r[7]] !== st) continue;
      if (maker && row.who.indexOf(maker) < 0) continue;
      var named = serials.indexOf(r[0]) >= 0;
      var found = true;
      for (var j = 0; j < words.length && found; j++) {
        var w = words[j];
        found = row.own.indexOf(w) >= 0 || row.who.indexOf(w) >= 0 || row.cat.indexOf(w) >= 0 ||
          (named && Number(w) === r[0] && /^[0-9]+$/.test(w));
      }
      if (!found) continue;
      total++;
      if (named) exact.push(row); else if (others.length < LIMIT) others.push(row);
    }
    render(exact.concat(others).slice(0, LIMIT), total);
  }

  // The manufacturer as the page's language shows it: on English pages the English name, when
  // there is one, with the Chinese beside it.
  function makerCell(tr, row) {
    var td = document.createElement('td');
    if (english && row.en) {
      var en = document.createElement('bdi');
      en.textContent = row.en;
      var beside = document.createElement('span');
      beside.className = 'muted';
      var zh = document.createElement('bdi');
      zh.lang = 'zh-Hans';
      zh.textContent = row.zh;
      beside.append('(', zh, ')');
      td.append(en, ' ', beside);
    } else {
      td.textContent = row.zh;
    }
    tr.appendChild(td);
  }

  // A name in the other language than the page's is tagged with its own (as the pages do), so
  // that screen readers pronounce it.
  var pageLang = form.getAttribute('data-lang');
  var HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\ud840-\ud87f][\udc00-\udfff]/;
  function langOf(text) {
    var han = HAN.test(text);
    if (pageLang === 'zh') return !han && /[A-Za-z]/.test(text) ? 'en' : '';
    return han ? 'zh-Hans' : '';
  }

  function cell(tr, text, href) {
    var td = document.createElement('td');
    if (href) { var a = document.createElement('a'); a.href = href; a.textContent = text; td.appendChild(a); }
    else td.textContent = text;
    var lang = langOf(text);
    if (lang) td.lang = lang;
    tr.appendChild(td);
    return td;
  }

  // The tier as one named image ("2 of 3 stars"), its glyphs decoration, as on the pages.
  function starsCell(tr, tier) {
    var td = document.createElement('td');
    var img = document.createElement('span');
    img.className = 'stars';
    img.setAttribute('role', 'img');
    img.setAttribute('aria-label', (T.stars && T.stars[tier - 1]) || String(tier));
    var glyphs = document.createElement('span');
    glyphs.setAttribute('aria-hidden', 'true');
    glyphs.textContent = '★★★'.slice(0, tier) + '☆☆☆'.slice(0, 3 - tier);
    img.appendChild(glyphs);
    td.appendChild(img);
    tr.appendChild(td);
    return td;
  }

  function render(hits, total) {
    results.textContent = '';
    results.setAttribute('data-query', q.value); // what the results answer (for tests)
    var noun = total === 1 ? (T.result || T.results || '') : (T.results || '');
    status.textContent = total === 0 ? (T.none || '0') : total + ' ' + noun + (total > LIMIT ? ' · ' + (T.more || '') : '');
    if (!hits.length) return;
    var table = document.createElement('table');
    table.className = 'certs';
    var tbody = document.createElement('tbody');
    hits.forEach(function (row) {
      var r = row.r;
      var tr = document.createElement('tr');
      cell(tr, r[1], certBase + r[0] + '.html');
      makerCell(tr, row);
      cell(tr, r[3]);
      cell(tr, r[4]);
      starsCell(tr, r[5]);
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
