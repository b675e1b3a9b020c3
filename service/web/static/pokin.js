// pokin explorer: tree, search, element detail, diagram zoom/pan. No external libraries.
"use strict";

function $(sel, root) { return (root || document).querySelector(sel); }
function $all(sel, root) { return Array.from((root || document).querySelectorAll(sel)); }

/* ---- diagram: load SVG inline, zoom with wheel/buttons/keys, pan by dragging ---- */
function initDiagram(box) {
  const src = box.dataset.src;
  const holder = $(".svg-holder", box);
  let svg, vb, orig;
  function apply() { svg.setAttribute("viewBox", vb.join(" ")); }
  function zoom(f, cx, cy) {
    const w = vb[2] * f, h = vb[3] * f;
    cx = cx === undefined ? vb[0] + vb[2] / 2 : cx; cy = cy === undefined ? vb[1] + vb[3] / 2 : cy;
    vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, w, h]; apply();
  }
  function load(url) {
    holder.setAttribute("aria-busy", "true");
    return fetch(url).then(r => {
      if (!r.ok) return r.json().then(j => { throw new Error(j.error ? j.error.message : r.statusText); });
      return r.text();
    }).then(text => {
      holder.innerHTML = text;
      svg = $("svg", holder);
      svg.removeAttribute("width"); svg.removeAttribute("height");
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", box.dataset.label || "diagram");
      orig = svg.getAttribute("viewBox").split(/[ ,]+/).map(Number); vb = orig.slice();
      let drag = null;
      svg.addEventListener("wheel", e => {
        e.preventDefault();
        const pt = toSvg(e.clientX, e.clientY);
        zoom(e.deltaY < 0 ? 0.85 : 1 / 0.85, pt[0], pt[1]);
      }, { passive: false });
      svg.addEventListener("pointerdown", e => { drag = [e.clientX, e.clientY, vb[0], vb[1]]; svg.setPointerCapture(e.pointerId); svg.style.cursor = "grabbing"; });
      // The capture that drags the diagram takes the click from the box under the pointer: a press and
      // release without moving selects that box's element.
      svg.addEventListener("pointermove", e => {
        if (!drag) return;
        const s = vb[2] / svg.clientWidth;
        vb[0] = drag[2] - (e.clientX - drag[0]) * s; vb[1] = drag[3] - (e.clientY - drag[1]) * s; apply();
      });
      const plan = box.dataset.plan, ids = new Map();
      $all("g.node", svg).forEach(g => {  // the boxes of this plan's elements, to select by a click
        const t = $("title", g); if (!t) return;
        const id = t.textContent.trim();
        if (plan && id.startsWith(plan + "/")) { g.style.cursor = "pointer"; ids.set(g, id.slice(plan.length + 1)); }
      });
      svg.addEventListener("pointerup", e => {
        const still = drag && Math.abs(e.clientX - drag[0]) < 5 && Math.abs(e.clientY - drag[1]) < 5;
        drag = null; svg.style.cursor = "grab";
        if (svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
        if (!still || !window.pokinSelect) return;
        const hit = document.elementFromPoint(e.clientX, e.clientY);
        const g = hit && hit.closest("g.node");
        if (g && ids.has(g)) window.pokinSelect(ids.get(g));
      });
      holder.removeAttribute("aria-busy");
      if (box.pending) { const n = box.pending; box.pending = null; box.focusNode(n); }
    }).catch(err => { holder.innerHTML = '<p class="pill error" role="alert">' + err.message + "</p>"; });
  }
  function toSvg(x, y) {
    const r = svg.getBoundingClientRect();
    return [vb[0] + (x - r.left) / r.width * vb[2], vb[1] + (y - r.top) / r.height * vb[3]];
  }
  $(".zoom-in", box).addEventListener("click", () => zoom(0.8));
  $(".zoom-out", box).addEventListener("click", () => zoom(1.25));
  $(".zoom-reset", box).addEventListener("click", () => { vb = orig.slice(); apply(); });
  box.addEventListener("keydown", e => {
    if (!svg) return;
    const step = vb[2] * 0.1;
    if (e.key === "+" || e.key === "=") zoom(0.8); else if (e.key === "-") zoom(1.25);
    else if (e.key === "0") { vb = orig.slice(); apply(); }
    else if (e.key === "ArrowLeft") { vb[0] -= step; apply(); } else if (e.key === "ArrowRight") { vb[0] += step; apply(); }
    else if (e.key === "ArrowUp") { vb[1] -= step; apply(); } else if (e.key === "ArrowDown") { vb[1] += step; apply(); }
    else return;
    e.preventDefault();
  });
  box.reload = load;
  // highlight one element's box and bring it to the middle of the view
  box.focusNode = function (nodeId) {
    if (!svg) { box.pending = nodeId; return; }
    let found = null;
    $all("g.node", svg).forEach(g => {
      const t = $("title", g), hit = t && t.textContent.trim() === nodeId;
      g.classList.toggle("selected", !!hit); if (hit) found = g;
    });
    if (found) {
      const b = found.getBBox(), m = found.getCTM(), root = svg.getCTM();
      const k = root ? root.inverse().multiply(m) : m;
      const cx = k.a * (b.x + b.width / 2) + k.e, cy = k.d * (b.y + b.height / 2) + k.f;
      const w = Math.min(orig[2], Math.max(b.width * 6, orig[2] / 4)), h = w * (orig[3] / orig[2]);
      vb = [cx - w / 2, cy - h / 2, w, h]; apply();
    }
  };
  return load(src);
}

/* ---- tree: expand/collapse, search, level filter, selection ---- */
function initTree(tree) {
  tree.addEventListener("click", e => {
    const t = e.target.closest(".toggle");
    if (!t) return;
    const open = t.getAttribute("aria-expanded") === "true";
    t.setAttribute("aria-expanded", String(!open));
    t.textContent = open ? "▸" : "▾";
    t.closest("li").classList.toggle("collapsed", open);
  });
  const q = $("#tree-search"), lv = $("#tree-level"), count = $("#tree-count");
  function filter() {
    const term = (q.value || "").trim().toLowerCase(), level = lv.value;
    let n = 0;
    $all("li[data-id]", tree).forEach(li => {
      const own = li.dataset.search.includes(term) && (!level || li.dataset.level === level);
      li.dataset.match = own ? "1" : "";
    });
    $all("li[data-id]", tree).forEach(li => {
      const match = li.dataset.match === "1";
      const inside = $all("li[data-match='1']", li).length > 0;
      const active = term || level;
      li.classList.toggle("hidden", !!active && !match && !inside);
      if (active && (match || inside)) { li.classList.remove("collapsed"); const t = $(":scope > .row > button.toggle", li); if (t) { t.setAttribute("aria-expanded", "true"); t.textContent = "▾"; } }
      if (match && active) n++;
      const label = $(":scope > .row > .node .text", li);
      label.innerHTML = label.dataset.raw;
      if (term && match) label.innerHTML = highlight(label.dataset.raw, term);
    });
    count.textContent = (term || level) ? n + " cocok" : "";
  }
  function highlight(html, term) {
    const i = html.toLowerCase().indexOf(term);
    return i < 0 ? html : html.slice(0, i) + "<mark>" + html.slice(i, i + term.length) + "</mark>" + html.slice(i + term.length);
  }
  $all(".node .text", tree).forEach(s => { s.dataset.raw = s.innerHTML; });
  q.addEventListener("input", filter); lv.addEventListener("change", filter);
}

function initPlan() {
  const tree = $("#tree"); if (!tree) return;
  initTree(tree);
  const plan = tree.dataset.plan, panel = $("#detail");
  window.pokinSelect = function (id, push) {
    $all(".node[aria-current]", tree).forEach(n => n.removeAttribute("aria-current"));
    const li = $('li[data-id="' + CSS.escape(id) + '"]', tree);
    for (let up = li && li.parentElement.closest("li"); up; up = up.parentElement.closest("li")) {
      up.classList.remove("collapsed");
      const t = $(":scope > .row > button.toggle", up); if (t) { t.setAttribute("aria-expanded", "true"); t.textContent = "▾"; }
    }
    const btn = li && $(":scope > .row > .node", li);
    if (btn) { btn.setAttribute("aria-current", "true"); btn.scrollIntoView({ block: "nearest" }); }
    const box = $(".diagram");
    if (box && box.focusNode) box.focusNode(plan + "/" + id);
    panel.setAttribute("aria-busy", "true");
    fetch("/plans/" + encodeURIComponent(plan) + "/nodes/" + encodeURIComponent(id) + "?fragment=1")
      .then(r => r.text().then(html => [r.ok, html])).then(([ok, html]) => {
        panel.removeAttribute("aria-busy");
        if (!ok) {  // the error page's message, not the whole page inside the panel
          const msg = new DOMParser().parseFromString(html, "text/html").querySelector('[role="alert"] p');
          panel.innerHTML = '<p class="pill error" role="alert"></p>';
          $("p", panel).textContent = msg ? msg.textContent : "Elemen ini tidak dapat dimuat.";
          return;
        }
        panel.innerHTML = html;
        const h = $("h2", panel);
        if (h && push !== false) { h.setAttribute("tabindex", "-1"); h.focus({ preventScroll: true }); }
        // one column (a phone): the detail is below the tree and the diagram, out of sight
        if (push !== false && window.matchMedia("(max-width: 900px)").matches) panel.scrollIntoView({ block: "start" });
      });
    if (push !== false) history.replaceState(null, "", "?node=" + encodeURIComponent(id));
  };
  tree.addEventListener("click", e => {
    const n = e.target.closest(".node"); if (!n) return;
    e.preventDefault(); window.pokinSelect(n.closest("li").dataset.id);
  });
  const start = new URLSearchParams(location.search).get("node");
  if (start) window.pokinSelect(start, false);
  const view = $("#diagram-view");
  if (view) view.addEventListener("change", () => {
    const box = $(".diagram");
    const url = new URL(box.dataset.src, location.origin);
    url.searchParams.set("collapse", view.value); if (!view.value) url.searchParams.delete("collapse");
    box.dataset.src = url.pathname + url.search; $("#diagram-download").href = box.dataset.src;
    box.reload(box.dataset.src);
  });
}

function initLoad() {
  const form = $("#load-form"); if (!form) return;
  const out = $("#load-result");
  form.addEventListener("submit", e => {
    e.preventDefault();
    const file = $("#file").files[0], token = $("#token").value;
    if (!file) { out.innerHTML = '<p class="pill error" role="alert">Pilih berkas YAML terlebih dahulu.</p>'; return; }
    const data = new FormData(); data.append("file", file);
    out.setAttribute("aria-busy", "true");
    fetch("/api/plans", { method: "POST", body: data, headers: token ? { "Authorization": "Bearer " + token } : {} })
      .then(r => r.json().then(j => [r.status, j]).catch(() => [r.status, {}]))
      .then(([status, j]) => {
        out.removeAttribute("aria-busy");
        if (status === 201) {
          out.innerHTML = '<p class="pill ok" role="status">Tersimpan: ' + esc(j.id) + " (" + j.elements + ' elemen)</p> <a href="/plans/' + encodeURIComponent(j.id) + '">Buka rencana</a>';
          return;
        }
        const err = j.error || { message: "HTTP " + status };
        const head = err.problems ? "Berkas ditolak: " + err.problems.length + " masalah" : err.message.split("\n")[0];
        let html = '<div role="alert"><p class="pill error">' + esc(head) + "</p>";
        if (err.problems) {
          html += "<p>Tidak ada yang disimpan. Masalah:</p><ul class=\"errors\">" + err.problems.map(p =>
            "<li>" + esc(p.file) + (p.line ? ":" + p.line : "") + " — <b>" + esc(p.field || "") + "</b> " + esc(p.message) + "</li>").join("") + "</ul>";
        }
        out.innerHTML = html + "</div>";
      });
  });
}

function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c])); }

document.addEventListener("DOMContentLoaded", () => {
  $all(".diagram[data-src]").forEach(initDiagram);
  initPlan();
  initLoad();
});
