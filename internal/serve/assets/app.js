// flowsift serve: tooltips, flow table, overview charts and the per-flow
// plots, drawn as SVG without a library. Everything from the capture is
// inserted as text (textContent / createTextNode), never as HTML.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
// Okabe–Ito palette (colour-blind safe).
const C = { blue: "#0072B2", orange: "#E69F00", sky: "#56B4E9", green: "#009E73", yellow: "#F0E442", verm: "#D55E00", purple: "#CC79A7", black: "#000000", grey: "#999999" };
const CLASS_COLOR = { "new": C.blue, "retx": C.verm, "retx_spur": C.orange, "reord": C.purple, "dup": C.green, "keepalive": C.grey, "probe": C.grey, "lost": C.black };
const CLASS_LABEL = { "new": "data segment", "retx": "retransmission", "retx_spur": "spurious retransmission", "reord": "reordered", "dup": "network duplicate", "keepalive": "keep-alive", "probe": "zero-window probe", "lost": "lost (original of a retransmission)" };

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function sv(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
  return e;
}

// ---- bit-field tooltips (tawk -V) ----
const decodeCache = new Map();
function decode(name, value) {
  const key = name + "=" + value;
  if (!decodeCache.has(key)) {
    decodeCache.set(key, fetch("/api/decode?name=" + encodeURIComponent(name) + "&value=" + encodeURIComponent(value)).then(r => r.ok ? r.json() : []));
  }
  return decodeCache.get(key);
}
function initTips() {
  const tip = document.getElementById("tip");
  if (!tip) return;
  let current = null;
  document.addEventListener("mouseover", ev => {
    const td = ev.target.closest && ev.target.closest("td.bits");
    if (!td || td === current) return;
    current = td;
    const name = td.dataset.col, val = td.dataset.val;
    decode(name, val).then(lines => {
      if (current !== td) return;
      tip.replaceChildren();
      tip.appendChild(el("div", { class: "tiphead" }, name + " = " + val));
      if (!lines.length) tip.appendChild(el("div", {}, "no bit set"));
      for (const l of lines) tip.appendChild(el("div", { class: "lvl-" + (l.Level || "none") }, l.Text));
      const r = td.getBoundingClientRect();
      tip.style.left = Math.min(window.scrollX + r.left, window.scrollX + window.innerWidth - 660) + "px";
      tip.style.top = (window.scrollY + r.bottom + 4) + "px";
      tip.hidden = false;
    });
  });
  document.addEventListener("mouseout", ev => {
    const td = ev.target.closest && ev.target.closest("td.bits");
    if (td && !td.contains(ev.relatedTarget)) { current = null; tip.hidden = true; }
  });
}

// ---- flow table ----
function initFlows() {
  const table = document.getElementById("flowtable");
  if (!table) return;
  table.querySelector("thead").addEventListener("click", ev => {
    const th = ev.target.closest("th");
    if (!th) return;
    const u = new URL(location.href);
    const desc = u.searchParams.get("sort") === th.dataset.col && u.searchParams.get("desc") !== "1";
    u.searchParams.set("sort", th.dataset.col);
    if (desc) u.searchParams.set("desc", "1"); else u.searchParams.delete("desc");
    u.searchParams.delete("page");
    location.href = u.toString();
  });
  table.querySelector("tbody").addEventListener("click", ev => {
    const tr = ev.target.closest("tr");
    if (tr && tr.dataset.flow) location.href = "/flow/" + encodeURIComponent(tr.dataset.flow);
  });
  const form = document.getElementById("colform");
  const boxes = () => form.querySelectorAll("input[type=checkbox]");
  form.addEventListener("submit", () => {
    const on = [...boxes()].filter(b => b.checked).map(b => b.value);
    document.getElementById("colsvalue").value = on.length === boxes().length ? "all" : on.join(",");
  });
  const set = f => ev => { ev.preventDefault(); boxes().forEach(f); };
  document.getElementById("colsall").addEventListener("click", set(b => b.checked = true));
  document.getElementById("colsnone").addEventListener("click", set(b => b.checked = false));
  document.getElementById("colsdefault").addEventListener("click", ev => { ev.preventDefault(); document.getElementById("colsvalue").value = "default"; form.submit(); });
}

// ---- axes and plots ----
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { hi = lo + 1; }
  const span = hi - lo, step0 = span / n, mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const err = step0 / mag;
  const step = mag * (err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}
function fmtNum(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return +(v / 1e9).toPrecision(3) + "G";
  if (a >= 1e6) return +(v / 1e6).toPrecision(3) + "M";
  if (a >= 1e3) return +(v / 1e3).toPrecision(3) + "k";
  if (a === 0) return "0";
  return String(+v.toPrecision(3));
}

// chart draws series into container; spec: {xlabel, ylabel, x:[lo,hi], y:[lo,hi],
// series:[{kind:"bars"|"line"|"step"|"dots", color, label, pts:[[x,y,(y2),i]] }],
// points: count reported in data-points, onZoom(lo,hi), onPick(i)}.
function chart(container, spec) {
  container.replaceChildren();
  const W = Math.max(container.clientWidth, 320), H = spec.height || 280;
  const m = { l: 62, r: 14, t: 8, b: 40 };
  const legend = el("div", { class: "legend" });
  for (const s of spec.series) {
    if (!s.label) continue;
    const sp = el("span");
    const sw = el("i"); sw.style.background = s.color; sp.appendChild(sw);
    sp.appendChild(document.createTextNode(s.label));
    legend.appendChild(sp);
  }
  container.appendChild(legend);
  const svg = sv("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}` });
  container.appendChild(svg);
  const [x0, x1] = spec.x[1] > spec.x[0] ? spec.x : [spec.x[0], spec.x[0] + 1];
  const [y0, y1] = spec.y[1] > spec.y[0] ? spec.y : [spec.y[0], spec.y[0] + 1];
  const X = v => m.l + (v - x0) / (x1 - x0) * (W - m.l - m.r);
  const Y = v => H - m.b - (v - y0) / (y1 - y0) * (H - m.t - m.b);
  const grid = sv("g", { class: "grid" }), axis = sv("g", { class: "axis" });
  for (const t of niceTicks(x0, x1, 8)) {
    grid.appendChild(sv("line", { x1: X(t), x2: X(t), y1: m.t, y2: H - m.b }));
    const tx = sv("text", { x: X(t), y: H - m.b + 14, "text-anchor": "middle" }); tx.textContent = fmtNum(t); axis.appendChild(tx);
  }
  for (const t of niceTicks(y0, y1, 6)) {
    grid.appendChild(sv("line", { x1: m.l, x2: W - m.r, y1: Y(t), y2: Y(t) }));
    const tx = sv("text", { x: m.l - 5, y: Y(t) + 4, "text-anchor": "end" }); tx.textContent = fmtNum(t); axis.appendChild(tx);
  }
  axis.appendChild(sv("path", { d: `M${m.l},${m.t}V${H - m.b}H${W - m.r}`, fill: "none" }));
  const xl = sv("text", { x: (m.l + W - m.r) / 2, y: H - 6, "text-anchor": "middle" }); xl.textContent = spec.xlabel; axis.appendChild(xl);
  const yl = sv("text", { x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }); yl.textContent = spec.ylabel; axis.appendChild(yl);
  svg.appendChild(grid); svg.appendChild(axis);
  const clip = "c" + Math.random().toString(36).slice(2);
  const defs = sv("defs"); const cp = sv("clipPath", { id: clip }); cp.appendChild(sv("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b })); defs.appendChild(cp); svg.appendChild(defs);
  const body = sv("g", { "clip-path": `url(#${clip})` });
  for (const s of spec.series) {
    if (s.kind === "line" || s.kind === "step") {
      let d = "";
      s.pts.forEach((p, k) => {
        if (k === 0) d += `M${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`;
        else if (s.kind === "step") d += `H${X(p[0]).toFixed(1)}V${Y(p[1]).toFixed(1)}`;
        else d += `L${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`;
      });
      if (d) body.appendChild(sv("path", { d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5, "stroke-dasharray": s.dash || "" }));
      if (s.dots) for (const p of s.pts) body.appendChild(sv("circle", { cx: X(p[0]), cy: Y(p[1]), r: 2.2, fill: s.color, "data-i": p[3] ?? "" }));
    } else if (s.kind === "bars" && s.path) {
      // Many plain segments: one path (a vertical stroke each) keeps the DOM small.
      let d = "";
      for (const p of s.pts) { const ya = Y(p[1]); d += `M${X(p[0]).toFixed(1)},${ya.toFixed(1)}V${Math.min(Y(p[2]), ya - 2).toFixed(1)}`; }
      body.appendChild(sv("path", { d, stroke: s.color, "stroke-width": s.width || 2, fill: "none", class: "segs" }));
    } else if (s.kind === "bars") {
      // Time-sequence segments: a vertical bar from seq to seq+len.
      for (const p of s.pts) {
        const x = X(p[0]), ya = Y(p[1]), yb = Y(p[2]);
        body.appendChild(sv("line", { x1: x, x2: x, y1: ya, y2: Math.min(yb, ya - 2), stroke: s.color, "stroke-width": s.width || 2, "data-i": p[3] }));
        if (s.marker === "x") body.appendChild(sv("path", { d: `M${x - 4},${ya - 4}l8,8m0,-8l-8,8`, stroke: s.color, "stroke-width": 1.5, "data-i": p[3] }));
      }
    } else if (s.kind === "dots") {
      for (const p of s.pts) body.appendChild(sv("circle", { cx: X(p[0]), cy: Y(p[1]), r: s.r || 2.5, fill: s.color, "data-i": p[3] ?? "" }));
    } else if (s.kind === "hist") {
      for (const p of s.pts) body.appendChild(sv("rect", { x: X(p[0]), y: Y(p[1]), width: Math.max(X(p[2]) - X(p[0]) - 0.5, 0.5), height: Math.max(Y(0) - Y(p[1]), 0), fill: s.color }));
    }
  }
  svg.appendChild(body);
  container.dataset.points = String(spec.points);
  // Drag to zoom the x range, double-click to reset, click to pick.
  const brush = sv("rect", { class: "brush", y: m.t, height: H - m.t - m.b, width: 0, visibility: "hidden" });
  svg.appendChild(brush);
  let start = null;
  const px = ev => { const r = svg.getBoundingClientRect(); return Math.min(Math.max(ev.clientX - r.left, m.l), W - m.r); };
  svg.addEventListener("mousedown", ev => { start = px(ev); brush.setAttribute("x", start); brush.setAttribute("width", 0); brush.setAttribute("visibility", "visible"); ev.preventDefault(); });
  svg.addEventListener("mousemove", ev => { if (start === null) return; const p = px(ev); brush.setAttribute("x", Math.min(p, start)); brush.setAttribute("width", Math.abs(p - start)); });
  svg.addEventListener("mouseup", ev => {
    if (start === null) return;
    const p = px(ev), a = start; start = null; brush.setAttribute("visibility", "hidden");
    if (Math.abs(p - a) > 4 && spec.onZoom) {
      const inv = v => x0 + (v - m.l) / (W - m.l - m.r) * (x1 - x0);
      spec.onZoom(inv(Math.min(p, a)), inv(Math.max(p, a)));
    } else if (spec.onPick) {
      // The nearest drawn point within 10 px.
      const r = svg.getBoundingClientRect(), cx = ev.clientX - r.left, cy = ev.clientY - r.top;
      let best = null, bd = 100;
      for (const s of spec.series) for (const q of s.pts) {
        if (q[3] === undefined) continue;
        const dx = X(q[0]) - cx;
        if (dx > 10 || dx < -10) continue;
        // The same extent as drawn (bars are at least 2 px tall).
        const y1 = Y(q[1]), y2 = s.kind === "bars" ? Math.min(Y(q[2]), y1 - 2) : y1;
        const dy = cy < Math.min(y1, y2) ? Math.min(y1, y2) - cy : cy > Math.max(y1, y2) ? cy - Math.max(y1, y2) : 0;
        const d2 = dx * dx + dy * dy + (s.pickBias || 0);
        if (d2 <= bd) { bd = d2; best = q[3]; }
      }
      if (best !== null) spec.onPick(best);
    }
  });
  svg.addEventListener("dblclick", () => spec.onZoom && spec.onZoom(null, null));
}

// ---- overview ----
function hbars(id, items, fmt) {
  const box = document.getElementById(id);
  if (!box) return;
  const max = Math.max(1, ...items.map(i => i.value));
  box.replaceChildren();
  for (const it of items) {
    const row = el("div", { class: "row" });
    row.appendChild(el("span", { class: "k", title: it.key }, it.key));
    const bw = el("div"); const b = el("div", { class: "bar" }); b.style.width = (100 * it.value / max) + "%"; bw.appendChild(b); row.appendChild(bw);
    row.appendChild(el("span", { class: "n" }, fmt(it.value)));
    box.appendChild(row);
  }
}
function initOverview() {
  const box = document.getElementById("ov-time");
  if (!box) return;
  fetch("/api/overview").then(r => r.json()).then(d => {
    const n = d.packets.length, w = d.bucket > 0 ? d.bucket : 1;
    const xs = k => k * w;
    const mk = (arr, scale) => arr.map((v, k) => [xs(k), v * scale, xs(k + 1)]);
    const pk = mk(d.packets, 1 / w), by = mk(d.bytes, 8 / w), fl = mk(d.flows, 1);
    const maxOf = a => Math.max(1, ...a.map(p => p[1]));
    box.replaceChildren();
    const parts = [
      ["packets/s", pk, C.blue, "packets per second"], [d.exact ? "bit/s" : "payload bit/s", by, C.verm, d.exact ? "bits per second (whole frames)" : "payload bits per second (approximate)"], ["flows started", fl, C.green, "flows started per bucket"]];
    for (const [yl, pts, color, label] of parts) {
      const div = el("div", { class: "plot" }); box.appendChild(div);
      chart(div, { xlabel: "time since capture start (s)", ylabel: yl, x: [0, xs(n)], y: [0, maxOf(pts) * 1.05], height: 150,
        series: [{ kind: "hist", pts, color, label }], points: pts.length });
    }
    document.getElementById("ov-time-note").textContent = `${n} buckets of ${fmtNum(w)}s. ` + (d.exact ? "Packets and bytes from every packet." : "Packets and bytes spread evenly over each flow's duration until the packet index is built (reload later for exact figures).");
    const bytes = v => fmtNum(v) + "B";
    hbars("ov-talkers", d.talkers, bytes);
    hbars("ov-ports", d.ports, v => String(v));
    hbars("ov-protos", d.protocols, v => String(v));
  });
}

// ---- flow page ----
function initFlow() {
  const plots = document.getElementById("plots");
  if (!plots) return;
  const N = plots.dataset.flow;
  const status = document.getElementById("plot-status");
  fetch("/api/flow/" + encodeURIComponent(N) + "/series").then(r => {
    if (!r.ok) throw new Error("packets: HTTP " + r.status);
    return r.json();
  }).then(d => {
    performance.mark("packets-loaded");
    const flow = buildFlow(d);
    status.textContent = `${flow.pkts.length} packets` + (flow.pkts.length > 5000 ? " (plots thinned for display; marked events always drawn)" : "");
    const view = { dir: "A", zoom: null, sel: -1 };
    const list = packetList(N, flow, i => { view.sel = i; });
    performance.mark("list-built");
    const draw = () => drawPlots(flow, view, (lo, hi) => { view.zoom = lo === null ? null : [lo, hi]; draw(); }, i => { view.sel = i; list.select(i); });
    document.getElementById("dirsel").addEventListener("change", ev => { view.dir = ev.target.value; draw(); });
    document.getElementById("zoomreset").addEventListener("click", () => { view.zoom = null; draw(); });
    // Default to the direction that sends the data.
    if (flow.dataCount.B > flow.dataCount.A) { view.dir = "B"; document.getElementById("dirsel").value = "B"; }
    draw();
    // For speed measurements: time from navigation start to plots drawn.
    performance.mark("plots-drawn");
    let t = null;
    window.addEventListener("resize", () => { clearTimeout(t); t = setTimeout(draw, 150); });
  }).catch(err => { status.textContent = String(err); });
}

// buildFlow turns the columnar series into per-packet TCP facts.
function buildFlow(d) {
  const pkts = new Array(d.n);
  const dataCount = { A: 0, B: 0 };
  for (let i = 0; i < d.n; i++) {
    const dir = d.dir[i] ? "B" : "A";
    const p = { i, dir, t: d.t[i], seq: d.seq[i], ack: d.ack[i], len: d.len[i], flags: d.flags[i], win: d.win[i], cls: d.classes[d.cls[i]], tcp: d.tcp[i] === 1 };
    if (p.tcp && p.len > 0 && !(p.flags & 0x02)) dataCount[dir]++;
    pkts[i] = p;
  }
  // Initial sequence numbers per direction (relative sequence numbers).
  const isn = {};
  for (const p of pkts) if (p.tcp && isn[p.dir] === undefined) isn[p.dir] = (p.flags & 0x02) ? (p.seq + 1) >>> 0 : p.seq;
  const rel = (v, dir) => isn[dir] === undefined ? 0 : ((v - isn[dir]) >>> 0);
  // The original of a necessary retransmission was lost: mark it.
  const firstBySeq = { A: new Map(), B: new Map() };
  for (const p of pkts) {
    if (!p.tcp || p.len === 0) continue;
    const m = firstBySeq[p.dir];
    if (p.cls === "retx" && m.has(p.seq)) { const o = pkts[m.get(p.seq)]; if (o.cls === "new" || o.cls === "-") o.lost = true; }
    if (!m.has(p.seq)) m.set(p.seq, p.i);
  }
  const sacks = [];
  for (let k = 0; k + 2 < (d.sack || []).length; k += 3) sacks.push({ i: d.sack[k], left: d.sack[k + 1], right: d.sack[k + 2] });
  return { pkts, rel, isn, dataCount, sacks, duration: d.n ? pkts[d.n - 1].t : 0 };
}

// decimate keeps at most 2 points per pixel column (min and max y),
// never dropping points for which keep() is true.
function decimate(pts, x0, x1, width, keep) {
  if (pts.length <= 4 * width) return pts;
  const bins = new Map(), out = [];
  for (const p of pts) {
    if (keep(p)) { out.push(p); continue; }
    const b = Math.floor((p[0] - x0) / (x1 - x0) * width);
    const e = bins.get(b);
    if (!e) bins.set(b, [p, p]);
    else { if (p[1] < e[0][1]) e[0] = p; if (p[1] > e[1][1]) e[1] = p; }
  }
  for (const [, e] of bins) { out.push(e[0]); if (e[1] !== e[0]) out.push(e[1]); }
  return out;
}

function drawPlots(flow, view, onZoom, onPick) {
  const dir = view.dir, other = dir === "A" ? "B" : "A";
  const x = view.zoom || [0, Math.max(flow.duration, 1e-6)];
  const inX = p => p.t >= x[0] && p.t <= x[1];
  const width = document.getElementById("p-ts").clientWidth || 600;
  const pk = flow.pkts.filter(p => p.tcp);
  // Time-sequence.
  const segs = pk.filter(p => p.dir === dir && p.len > 0 && !(p.flags & 0x02) && inX(p));
  const byClass = {};
  for (const p of segs) {
    const cls = p.lost ? "lost" : (p.cls === "-" ? "new" : p.cls);
    (byClass[cls] = byClass[cls] || []).push([p.t, flow.rel(p.seq, dir), flow.rel(p.seq, dir) + p.len, p.i]);
  }
  const acks = pk.filter(p => p.dir === other && (p.flags & 0x10) && inX(p));
  const ackPts = acks.map(p => [p.t, flow.rel(p.ack, dir), 0, p.i]);
  const winPts = acks.map(p => [p.t, flow.rel(p.ack, dir) + p.win, 0, p.i]);
  const series = [];
  let drawn = 0, yMin = Infinity, yMax = -Infinity;
  for (const cls of ["new", "lost", "retx", "retx_spur", "reord", "dup", "keepalive", "probe"]) {
    if (!byClass[cls]) continue;
    const pts = cls === "new" ? decimate(byClass[cls], x[0], x[1], width, () => false) : byClass[cls];
    drawn += pts.length;
    for (const p of pts) { yMin = Math.min(yMin, p[1]); yMax = Math.max(yMax, p[2]); }
    series.push({ kind: "bars", pts, color: CLASS_COLOR[cls] || C.grey, label: `${CLASS_LABEL[cls] || cls} (${pts.length})`, marker: cls === "lost" ? "x" : "", width: cls === "new" ? 1.5 : 2.5, path: cls === "new" });
  }
  // SACK blocks the other side reports for this direction's data.
  const sackPts = [];
  for (const b of flow.sacks) {
    const p = flow.pkts[b.i];
    if (p.dir === other && inX(p)) sackPts.push([p.t, flow.rel(b.left, dir), flow.rel(b.right, dir), p.i]);
  }
  if (sackPts.length) series.unshift({ kind: "bars", path: true, pts: sackPts, color: C.yellow, label: `SACK block (${sackPts.length})`, width: 3, pickBias: 9 });
  const ackD = decimate(ackPts, x[0], x[1], width, () => false), winD = decimate(winPts, x[0], x[1], width, () => false);
  for (const p of ackD) { yMin = Math.min(yMin, p[1]); yMax = Math.max(yMax, p[1]); }
  let winMax = yMax;
  for (const p of winD) winMax = Math.max(winMax, p[1]);
  series.unshift({ kind: "step", pts: winD, color: "#555555", label: "receive window (ACK + rwnd)", dash: "4 3", width: 1.2 });
  series.unshift({ kind: "step", pts: ackD, color: C.sky, label: "ACK", width: 1.5 });
  if (!isFinite(yMin)) { yMin = 0; yMax = 1; }
  // The window line may run far above the data: cap it at twice the data range.
  const yTop = Math.min(winMax, yMax + (yMax - yMin) * 1.0);
  const tsEl = document.getElementById("p-ts");
  chart(tsEl, { xlabel: "time since first packet (s)", ylabel: "relative sequence number (bytes)", x, y: [yMin, yTop + (yTop - yMin) * 0.03 + 1], series, points: drawn, onZoom, onPick, height: 320 });
  tsEl.dataset.ackPoints = String(ackD.length);
  tsEl.dataset.retx = String((byClass.retx || []).length);
  tsEl.dataset.lost = String((byClass.lost || []).length);
  tsEl.dataset.sackPoints = String(sackPts.length);

  // Throughput: payload bits per second in 100 bins of the visible range.
  const nb = 100, bw = (x[1] - x[0]) / nb;
  const bins = new Array(nb).fill(0), binsO = new Array(nb).fill(0);
  for (const p of flow.pkts) {
    if (!inX(p)) continue;
    const b = Math.min(Math.floor((p.t - x[0]) / bw), nb - 1);
    if (p.dir === dir) bins[b] += p.len; else binsO[b] += p.len;
  }
  const tp = bins.map((v, k) => [x[0] + (k + 0.5) * bw, v * 8 / bw]);
  const tpo = binsO.map((v, k) => [x[0] + (k + 0.5) * bw, v * 8 / bw]);
  const tmax = Math.max(1, ...tp.map(p => p[1]), ...tpo.map(p => p[1]));
  chart(document.getElementById("p-tp"), { xlabel: "time since first packet (s)", ylabel: "payload throughput (bit/s)", x, y: [0, tmax * 1.05],
    series: [{ kind: "line", pts: tp, color: C.blue, label: `${dir} → (sent by ${dir})` }, { kind: "line", pts: tpo, color: C.orange, label: `${other} → (sent by ${other})`, dash: "5 3" }],
    points: tp.length + tpo.length, onZoom });

  // RTT: data segment → first ACK covering its end; Karn: no sample for
  // segments sent more than once.
  const sent = new Map(), resent = new Set(), rtt = [];
  let pending = [];
  for (const p of pk) {
    if (p.dir === dir && p.len > 0) {
      const end = flow.rel(p.seq, dir) + p.len;
      if (sent.has(end)) resent.add(end); else { sent.set(end, p); pending.push(end); }
    } else if (p.dir === other && (p.flags & 0x10)) {
      const a = flow.rel(p.ack, dir);
      let best = -1;
      const rest = [];
      for (const e of pending) { if (e <= a) { if (e > best) best = e; } else rest.push(e); }
      pending = rest;
      if (best >= 0 && !resent.has(best)) { const s = sent.get(best); if (inX(p)) rtt.push([p.t, (p.t - s.t) * 1000, 0, p.i]); }
    }
  }
  let rttD = decimate(rtt, x[0], x[1], width, () => false);
  let rmax = Math.max(0.000001, ...rttD.map(p => p[1]));
  let unit = "ms";
  if (rmax < 1) { unit = "µs"; rttD = rttD.map(p => [p[0], p[1] * 1000, p[2], p[3]]); rmax *= 1000; }
  chart(document.getElementById("p-rtt"), { xlabel: "time since first packet (s)", ylabel: `RTT (${unit})`, x, y: [0, rmax * 1.1],
    series: [{ kind: "dots", pts: rttD, color: C.purple, label: `data → ACK samples (${rttD.length})` }], points: rttD.length, onZoom, onPick });

  // Bytes in flight (highest sent − highest ACKed, at each data segment) and the peer's window.
  let hiSent = 0, hiAck = 0;
  const fl = [], win = [];
  for (const p of pk) {
    if (p.dir === dir && p.len > 0) { hiSent = Math.max(hiSent, flow.rel(p.seq, dir) + p.len); if (inX(p)) fl.push([p.t, Math.max(hiSent - hiAck, 0), 0, p.i]); }
    else if (p.dir === other && (p.flags & 0x10)) { hiAck = Math.max(hiAck, flow.rel(p.ack, dir)); if (inX(p)) win.push([p.t, p.win, 0, p.i]); }
  }
  const flD = decimate(fl, x[0], x[1], width, () => false), winW = decimate(win, x[0], x[1], width, () => false);
  const fmax = Math.max(1, ...flD.map(p => p[1]), ...winW.map(p => p[1]));
  chart(document.getElementById("p-if"), { xlabel: "time since first packet (s)", ylabel: "bytes", x, y: [0, fmax * 1.05],
    series: [{ kind: "step", pts: winW, color: "#555555", dash: "4 3", label: `receive window advertised by ${other}` }, { kind: "line", pts: flD, color: C.verm, label: `bytes in flight from ${dir}`, dots: flD.length < 2000 }],
    points: flD.length + winW.length, onZoom, onPick });
}

// packetList shows the flow's packets in a virtualised table: only the
// visible rows exist, fetched from the server in chunks as they scroll in.
function packetList(N, flow, onSelect) {
  const want = ["pktNo", "time", "pktIAT", "srcIP", "srcPort", "dstIP", "dstPort", "l7Len", "seq", "ack", "tcpFlags", "tcpWin", "diagPktClass", "tcpAnomaly", "tcpStatesAFlags", "l7Content"];
  const wrap = document.getElementById("pktwrap"), table = document.getElementById("pkttable");
  const tbody = table.querySelector("tbody"), thead = table.querySelector("thead");
  const total = flow.pkts.length, CH = 200, RH = 22;
  const bitCols = new Set(["tcpFlags", "tcpAnomaly", "tcpStatesAFlags"]);
  const chunks = new Map();
  let names = null, sel = -1;
  document.getElementById("pktcount").textContent = `(${total}; all packet-mode columns at /api/flow/${N}/packets)`;
  const load = k => {
    if (chunks.has(k)) return;
    chunks.set(k, null);
    fetch(`/api/flow/${encodeURIComponent(N)}/packets?format=compact&cols=${want.join(",")}&from=${k * CH}&to=${(k + 1) * CH}`)
      .then(r => r.json()).then(d => {
        if (!names) {
          names = d.names;
          const hr = el("tr"); hr.appendChild(el("th", {}, "#")); hr.appendChild(el("th", {}, "dir"));
          for (const n of names) hr.appendChild(el("th", {}, n));
          thead.replaceChildren(hr);
        }
        chunks.set(k, d.rows);
        render();
      });
  };
  const render = () => {
    const first = Math.max(0, Math.floor(wrap.scrollTop / RH) - 10), last = Math.min(total, first + Math.ceil(wrap.clientHeight / RH) + 20);
    const ncol = (names ? names.length : want.length) + 2;
    const frag = document.createDocumentFragment();
    const pad = h => { const tr = el("tr"); const td = el("td", { colspan: ncol }); td.style.height = h + "px"; td.style.padding = "0"; tr.appendChild(td); return tr; };
    frag.appendChild(pad(first * RH));
    for (let i = first; i < last; i++) {
      const k = Math.floor(i / CH), rows = chunks.get(k);
      if (!rows) {
        load(k);
        const tr = el("tr"); tr.appendChild(el("td", { colspan: ncol }, "…")); frag.appendChild(tr);
        continue;
      }
      const r = rows[i - k * CH], tr = el("tr", { "data-i": i });
      if (i === sel) tr.className = "sel";
      tr.appendChild(el("td", {}, String(i + 1)));
      tr.appendChild(el("td", {}, flow.pkts[i].dir));
      names.forEach((n, c) => {
        const td = el("td", {}, r[c] ?? "");
        if (n === "diagPktClass") td.className = "cls-" + r[c];
        if (bitCols.has(n)) { td.classList.add("bits"); td.dataset.col = n; td.dataset.val = r[c]; }
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    }
    frag.appendChild(pad((total - last) * RH));
    tbody.replaceChildren(frag);
  };
  wrap.addEventListener("scroll", render);
  tbody.addEventListener("click", ev => { const tr = ev.target.closest("tr[data-i]"); if (tr) { api.select(+tr.dataset.i); onSelect(sel); } });
  const api = {
    select(i) {
      sel = i;
      wrap.scrollTop = Math.max(i * RH - wrap.clientHeight / 2, 0);
      render();
      document.body.dataset.selectedPacket = String(i);
    },
  };
  render();
  return api;
}

document.addEventListener("DOMContentLoaded", () => {
  initTips();
  initFlows();
  initOverview();
  initFlow();
});
