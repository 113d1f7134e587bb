// codex_ml catalogue: filter components as one types. The index is window.CODEX_ML_INDEX,
// written at build time into assets/search-index.js and loaded by a <script> tag, which
// works from file:// (a fetch() of a JSON file would not).
(function () {
  "use strict";
  var input = document.getElementById("search");
  var panel = document.getElementById("search-results");
  var root = document.body.getAttribute("data-root") || "./";
  var index = window.CODEX_ML_INDEX || [];
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-search]"));

  function terms(query) {
    return query.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; });
  }

  function matches(text, words) {
    text = text.toLowerCase();
    return words.every(function (w) { return text.indexOf(w) !== -1; });
  }

  function filterRows(words) {
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row.getAttribute("data-search"), words);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    var count = document.getElementById("match-count");
    if (count) { count.textContent = words.length ? shown + " of " + rows.length + " match" : ""; }
    var none = document.getElementById("no-match");
    if (none) { none.hidden = shown > 0 || !words.length; }
  }

  function entryText(e) {
    return [e.name, e.kind, e.tags.join(" "), e.aliases.join(" "), e.description].join(" ");
  }

  function link(e) {
    var a = document.createElement("a");
    a.href = root + e.url;
    a.className = "hit";
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = e.name;
    a.appendChild(name);
    var kind = document.createElement("span");
    kind.className = "kind";
    kind.textContent = e.kind;
    a.appendChild(kind);
    if (e.description) {
      var desc = document.createElement("span");
      desc.className = "desc";
      desc.textContent = e.description;
      a.appendChild(desc);
    }
    return a;
  }

  function showPanel(words) {
    panel.textContent = "";
    if (!words.length) { panel.hidden = true; return; }
    var hits = index.filter(function (e) { return matches(entryText(e), words); });
    hits.slice(0, 30).forEach(function (e) { panel.appendChild(link(e)); });
    if (!hits.length) {
      var none = document.createElement("div");
      none.className = "none";
      none.textContent = "No component matches.";
      panel.appendChild(none);
    }
    panel.hidden = false;
  }

  function apply() {
    var words = terms(input.value);
    if (rows.length) { filterRows(words); } else { showPanel(words); }
  }

  if (!input) { return; }
  input.addEventListener("input", apply);
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { input.value = ""; apply(); }
  });
  document.addEventListener("click", function (ev) {
    if (panel && !panel.contains(ev.target) && ev.target !== input) { panel.hidden = true; }
  });
  var q = new URLSearchParams(window.location.search).get("q");
  if (q) { input.value = q; apply(); }
}());
