// heapsift report: sortable and filterable tables, and the icicle graph.
// Names from the core are inserted as text only (textContent), never as
// markup.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";

  function fmtBytes(n) {
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 1 : 0)) + " " + units[i];
  }

  function fmtCount(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  // Tables: a click on a header sorts by that column.
  function cellValue(row, col, numeric) {
    var td = row.cells[col];
    if (!numeric) { return td.textContent.toLowerCase(); }
    var v = td.getAttribute("data-v");
    if (v === null) { v = td.textContent.replace(/[^0-9.+-]/g, ""); }
    return parseFloat(v) || 0;
  }

  function sortTable(table, col) {
    var th = table.tHead.rows[0].cells[col];
    var numeric = th.getAttribute("data-type") === "num";
    var desc = !th.classList.contains("sorted-desc");
    if (!numeric && !th.classList.contains("sorted-asc") && !th.classList.contains("sorted-desc")) { desc = false; }
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, col, numeric), y = cellValue(b, col, numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.classList.remove("sorted-asc", "sorted-desc");
    });
    th.classList.add(desc ? "sorted-desc" : "sorted-asc");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortTable(table, col); });
    });
  });

  // The type filter keeps the rows whose type contains the text.
  var filter = document.getElementById("type-filter");
  var typeTable = document.getElementById("type-table");
  var shown = document.getElementById("type-shown");
  function applyFilter() {
    var q = filter.value.toLowerCase();
    var n = 0, rows = typeTable.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var keep = rows[i].cells[0].textContent.toLowerCase().indexOf(q) >= 0;
      rows[i].style.display = keep ? "" : "none";
      if (keep) { n++; }
    }
    shown.textContent = q ? fmtCount(n) + " of " + fmtCount(rows.length) + " types" : "";
  }
  if (filter && typeTable) { filter.addEventListener("input", applyFilter); }

  // The icicle graph: the tree from the JSON island, laid out from the
  // zoomed frame down, one row per level.
  var svg = document.getElementById("flame-graph");
  var dataEl = document.getElementById("flame-data");
  if (!svg || !dataEl) { return; }
  var rootFrame = JSON.parse(dataEl.textContent);
  if (!rootFrame) { return; }
  var status = document.getElementById("flame-status");
  var search = document.getElementById("flame-search");
  var matchInfo = document.getElementById("flame-match");
  var ROW = 18, MAXDEPTH = 40;
  var zoomed = rootFrame;
  var ancestors = [];

  function parentsOf(target) {
    var path = [];
    function walk(f, chain) {
      if (f === target) { path = chain; return true; }
      var kids = f.k || [];
      for (var i = 0; i < kids.length; i++) {
        if (walk(kids[i], chain.concat([f]))) { return true; }
      }
      return false;
    }
    walk(rootFrame, []);
    return path;
  }

  function color(name, depth) {
    var h = 0;
    for (var i = 0; i < name.length; i++) { h = (h * 31 + name.charCodeAt(i)) >>> 0; }
    var hue = 10 + (h % 40), light = 62 + (h >> 8) % 18;
    return depth === 0 ? "#c9ced6" : "hsl(" + hue + ",78%," + light + "%)";
  }

  function describe(f) {
    var total = rootFrame.v || 1;
    return f.n + " — " + fmtBytes(f.v) + " in " + fmtCount(f.c) + " objects, " +
      (100 * f.v / total).toFixed(1) + "% of the live heap";
  }

  function frameNode(f, x, y, w, depth, query) {
    var g = document.createElementNS(SVG, "g");
    g.setAttribute("class", "frame" + (query && f.n.toLowerCase().indexOf(query) >= 0 ? " match" : ""));
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("y", y);
    r.setAttribute("width", Math.max(w, 0.5).toFixed(2));
    r.setAttribute("height", ROW - 1);
    r.setAttribute("fill", color(f.n, depth));
    g.appendChild(r);
    var title = document.createElementNS(SVG, "title");
    title.textContent = describe(f);
    g.appendChild(title);
    if (w > 40) {
      var t = document.createElementNS(SVG, "text");
      t.setAttribute("x", (x + 4).toFixed(2));
      t.setAttribute("y", y + 13);
      var chars = Math.floor((w - 8) / 6.7);
      t.textContent = f.n.length > chars ? f.n.slice(0, Math.max(chars - 1, 0)) + "…" : f.n;
      g.appendChild(t);
    }
    g.addEventListener("click", function () { zoom(depth === 0 && ancestors.length ? ancestors[ancestors.length - 1] : f); });
    g.addEventListener("mouseenter", function () { status.textContent = describe(f); });
    return g;
  }

  function render() {
    var width = svg.clientWidth || 1000;
    var query = search.value.toLowerCase();
    var matched = 0;
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var chain = ancestors.concat([zoomed]);
    var maxDepth = 0;
    // The ancestors, full width, then the zoomed frame's subtree.
    chain.forEach(function (f, i) {
      svg.appendChild(frameNode(f, 0, i * ROW, width, i, query));
    });
    var base = chain.length - 1;
    function layout(f, x, w, depth) {
      maxDepth = Math.max(maxDepth, depth);
      if (query && f.n.toLowerCase().indexOf(query) >= 0) { matched++; }
      if (depth > base) { svg.appendChild(frameNode(f, x, depth * ROW, w, depth, query)); }
      if (depth - base >= MAXDEPTH) { return; }
      var kids = (f.k || []).slice().sort(function (a, b) { return b.v - a.v; });
      var cx = x;
      kids.forEach(function (k) {
        var kw = f.v ? w * k.v / f.v : 0;
        if (kw >= 0.3) { layout(k, cx, kw, depth + 1); }
        cx += kw;
      });
    }
    layout(zoomed, 0, width, base);
    svg.setAttribute("height", (maxDepth + 1) * ROW + 2);
    svg.setAttribute("viewBox", "0 0 " + width + " " + ((maxDepth + 1) * ROW + 2));
    svg.setAttribute("data-zoom", zoomed.n);
    matchInfo.textContent = query ? matched + " frames match" : "";
  }

  function zoom(f) {
    zoomed = f;
    ancestors = f === rootFrame ? [] : parentsOf(f);
    status.textContent = describe(f);
    render();
  }

  document.getElementById("flame-reset").addEventListener("click", function () { zoom(rootFrame); });
  search.addEventListener("input", render);
  window.addEventListener("resize", render);
  render();
}());
