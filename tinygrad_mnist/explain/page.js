// The explain page: draws the data embedded as JSON (#explain-data) with plain DOM, SVG and canvas.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("explain-data").textContent);
  const SVGNS = "http://www.w3.org/2000/svg";
  const NODE_W = 262, NODE_H = 72, COL_W = 292, ROW_H = 118, PAD = 16;

  // ------------------------------------------------------------------ formatting
  function esc(s) {
    return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  }
  function fmt(x) {
    if (x === null || x === undefined) return "—";
    if (x === 0) return "0";
    const a = Math.abs(x);
    return (a >= 1e-3 && a < 1e5) ? String(Number(x.toPrecision(5))) : x.toExponential(3);
  }
  // a number on the page: shown rounded, the exact value in data-value (what the test reads)
  function num(x, field) {
    const f = field ? ` data-field="${esc(field)}"` : "";
    const v = (x === null || x === undefined) ? "" : ` data-value="${String(x)}"`;
    return `<span class="n"${f}${v}>${fmt(x)}</span>`;
  }
  function shp(s) { return s === null || s === undefined ? "?" : (s.length ? s.join("×") : "scalar"); }
  function bytes(b) {
    if (b < 1024) return b + " B";
    if (b < 1024 * 1024) return (b / 1024).toFixed(1) + " KiB";
    return (b / 1024 / 1024).toFixed(2) + " MiB";
  }
  function el(tag, attrs, html) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    return e;
  }

  // ------------------------------------------------------------------ pictures and histograms
  function colour(q, signed) {  // q in 0..255; signed: blue (-) white (0) red (+), else black..white
    if (!signed) return [q, q, q];
    const t = (q - 127.5) / 127.5;
    if (t < 0) { const u = Math.round(255 * (1 + t)); return [u, u, 255]; }
    const u = Math.round(255 * (1 - t)); return [255, u, u];
  }
  function drawPicture(pic) {
    const raw = atob(pic.data);
    const gap = (pic.rows * pic.cols > 1) ? 1 : 0;
    const W = pic.cols * (pic.w + gap) - gap, H = pic.rows * (pic.h + gap) - gap;
    const small = document.createElement("canvas");
    small.width = W; small.height = H;
    const ctx = small.getContext("2d");
    const img = ctx.createImageData(W, H);
    for (let i = 0; i < img.data.length; i += 4) { img.data[i] = img.data[i + 1] = img.data[i + 2] = 230; img.data[i + 3] = 255; }
    let k = 0;
    for (let r = 0; r < pic.rows; r++) for (let c = 0; c < pic.cols; c++)
      for (let y = 0; y < pic.h; y++) for (let x = 0; x < pic.w; x++) {
        const rgb = colour(raw.charCodeAt(k++), pic.signed);
        const o = 4 * ((r * (pic.h + gap) + y) * W + c * (pic.w + gap) + x);
        img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2];
      }
    ctx.putImageData(img, 0, 0);
    const cell = Math.max(pic.h, pic.w);
    let scale = pic.rows * pic.cols > 1 ? Math.max(1, Math.min(8, Math.floor(56 / cell))) : Math.max(2, Math.min(16, Math.floor(360 / pic.w)));
    while (scale > 1 && W * scale > 560) scale--;
    const big = document.createElement("canvas");
    big.width = W * scale; big.height = H * scale;
    const b = big.getContext("2d");
    b.imageSmoothingEnabled = false;
    b.drawImage(small, 0, 0, big.width, big.height);
    big.className = "picture";
    return big;
  }
  function drawHist(h) {
    const w = 260, hgt = 64, s = svg("svg", {width: w, height: hgt + 16, class: "hist"});
    const n = h.counts.length, max = Math.max(1, ...h.counts);
    h.counts.forEach((c, i) => {
      const bh = c ? Math.max(1, Math.round(hgt * Math.sqrt(c / max))) : 0;
      s.appendChild(svg("rect", {x: (i * w / n).toFixed(1), y: hgt - bh, width: Math.max(1, w / n - 1).toFixed(1), height: bh, fill: "#6f93d0"}));
    });
    if (h.lo < 0 && h.hi > 0) {
      const x0 = (w * (0 - h.lo) / (h.hi - h.lo)).toFixed(1);
      s.appendChild(svg("line", {x1: x0, x2: x0, y1: 0, y2: hgt, stroke: "#c0392b", "stroke-width": 1}));
    }
    const lo = svg("text", {x: 0, y: hgt + 13, "font-size": 10}); lo.textContent = fmt(h.lo);
    const hi = svg("text", {x: w, y: hgt + 13, "font-size": 10, "text-anchor": "end"}); hi.textContent = fmt(h.hi);
    s.appendChild(lo); s.appendChild(hi);
    return s;
  }
  // one tensor: its shape and statistics, a picture of a sample where it is an image, filter or small
  // matrix, and the histogram of all its values (height: square root of the count)
  function tensorBlock(title, t, field) {
    const box = el("div", {class: "tensor", "data-tensor": field || ""});
    if (!t) { box.innerHTML = `<div class="ttl">${esc(title)}</div><div class="stats">not recorded</div>`; return box; }
    box.innerHTML = `<div class="ttl">${esc(title)}</div>` +
      `<div class="stats">${shp(t.shape)} ${esc(t.dtype)} · norm ${num(t.norm, field && field + ".norm")}` +
      ` · min ${num(t.min)} · max ${num(t.max)} · mean ${num(t.mean)}` +
      (t.nonfinite ? ` · <span class="bad">${t.nonfinite} NaN/Inf</span>` : "") + `</div>`;
    if (t.picture) {
      box.appendChild(drawPicture(t.picture));
      box.appendChild(el("div", {class: "of"}, `picture: ${esc(t.picture.of)}; ` +
        (t.picture.signed ? `blue −${fmt(t.picture.hi)} · white 0 · red +${fmt(t.picture.hi)}` : `black ${fmt(t.picture.lo)} · white ${fmt(t.picture.hi)}`)));
    }
    if (t.numel > 1) {
      box.appendChild(drawHist(t.hist));
      box.appendChild(el("div", {class: "of"}, `histogram of all ${t.numel} values`));
    }
    return box;
  }

  // ------------------------------------------------------------------ header
  const top = document.getElementById("top");
  const opt = D.spec.optimizer + "(" + Object.entries(D.spec.optimizer_kwargs).map(([k, v]) => `${k}=${Array.isArray(v) ? "(" + v.join(", ") + ")" : v}`).join(", ") + ")";
  const correct = D.predictions.filter((p, i) => p === D.labels[i]).length;
  top.innerHTML = `<h1>One training step of <code>${esc(D.model)}</code> (${esc(D.class)}), explained</h1>` +
    `<div class="facts">A real MNIST batch of <b>${D.batch_size}</b> training images (the first batch the shuffled` +
    ` DataLoader draws for seed ${D.seed}); ${D.checkpoint ? "weights from <code>" + esc(D.checkpoint) + "</code>" : "initial weights from seed " + D.seed};` +
    ` optimizer <code>${esc(opt)}</code>. Loss <b>${num(D.loss, "loss")}</b> (PyTorch: ${num(D.torch_loss, "torch-loss")});` +
    ` after the step, on the same batch: <b>${num(D.loss_after, "loss-after")}</b>. ${correct} of ${D.batch_size} right before the step.` +
    ` First labels: ${D.labels.slice(0, 16).join(" ")}${D.batch_size > 16 ? " …" : ""}</div>` +
    (D.command ? `<div class="facts">Made by <code>${esc(D.command)}</code></div>` : "");
  document.getElementById("footer").textContent =
    `tinygrad_mnist explain · Python ${D.python} · NumPy ${D.numpy_version} · PyTorch ${D.torch_version} · ` +
    `step (forward + backward, profiled and traced) ${D.step_ms.toFixed(1)} ms · this page needs no network.`;

  // ------------------------------------------------------------------ the graph
  const nodes = D.nodes, edges = D.edges;
  const outEdges = nodes.map(() => []), inEdges = nodes.map(() => []);
  edges.forEach(e => { outEdges[e.src].push(e); inEdges[e.dst].push(e); });
  // when each node is done in backward: its own step, or (leaves) the step of the last parent that fed it
  const doneAt = nodes.map(n => n.step);
  nodes.forEach(n => {
    if (n.step === null) {
      const s = inEdges[n.id].map(e => nodes[e.src].step).filter(v => v !== null);
      doneAt[n.id] = s.length ? Math.max(...s) : null;
    }
  });
  const svgEl = document.getElementById("graph-svg");
  const maxCol = Math.max(...nodes.map(n => n.col)), maxRow = Math.max(...nodes.map(n => n.row));
  svgEl.setAttribute("width", PAD * 2 + maxCol * COL_W + NODE_W);
  svgEl.setAttribute("height", PAD * 2 + maxRow * ROW_H + NODE_H);
  const X = n => PAD + n.col * COL_W, Y = n => PAD + n.row * ROW_H;
  const edgeEls = [], nodeEls = [];
  edges.forEach(e => {
    const a = nodes[e.src], b = nodes[e.dst];
    const x1 = X(a) + NODE_W / 2 + (e.index ? 30 : 0), y1 = Y(a) + NODE_H, x2 = X(b) + NODE_W / 2, y2 = Y(b);
    const g = svg("g", {class: "edge" + (e.none ? " none" : ""), "data-edge": e.id});
    const my = (y1 + y2) / 2;
    g.appendChild(svg("path", {d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2 - 6}`, "marker-end": "url(#arrow)"}));
    // along a straight edge: beside its middle; a side edge (a parameter's): just above its end
    const t = e.index ? svg("text", {x: X(b) + 8, y: y2 - 9}) : svg("text", {x: x1 + 5, y: my + 4});
    t.textContent = e.grad ? `${shp(e.grad.shape)}  |g| ${fmt(e.grad.norm)}` : "no gradient";
    g.appendChild(t);
    svgEl.appendChild(g);
    edgeEls[e.id] = g;
  });
  const defs = svg("defs");
  const marker = svg("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"});
  marker.appendChild(svg("path", {d: "M0,0 L10,5 L0,10 z", fill: "#8a93a3"}));
  defs.appendChild(marker); svgEl.insertBefore(defs, svgEl.firstChild);
  nodes.forEach(n => {
    const g = svg("g", {class: "node " + n.kind, "data-node": n.id, transform: `translate(${X(n)},${Y(n)})`, tabindex: 0});
    g.appendChild(svg("rect", {width: NODE_W, height: n.kind === "none" ? 34 : NODE_H, rx: 6}));
    const lines = [];
    if (n.kind === "op") {
      lines.push([n.name + (n.id === 0 ? "  (loss)" : ""), "title"]);
      lines.push(["in  " + n.in_shapes.map(s => s === null ? "–" : shp(s)).join(", ")]);
      lines.push(["out " + shp(n.out_shape)]);
      lines.push([n.saved.length ? `saved ${n.saved.length}: ${bytes(n.saved_bytes)}` : "saved nothing"]);
    } else if (n.kind === "none") {
      lines.push(["None: needs no gradient", "title"]);
    } else {
      lines.push([n.label, "title"]);
      lines.push([n.name + (n.kind === "input" ? " (input image)" : " (parameter)")]);
      lines.push([shp(n.out_shape) + "  → .grad"]);
    }
    lines.forEach(([s, cls], i) => {
      const t = svg("text", {x: 8, y: 16 + i * 15, class: cls || ""});
      t.textContent = s.length > 38 ? s.slice(0, 37) + "…" : s;
      g.appendChild(t);
    });
    g.addEventListener("click", () => select(n.id));
    g.addEventListener("keydown", ev => { if (ev.key === "Enter") select(n.id); });
    svgEl.appendChild(g);
    nodeEls[n.id] = g;
  });

  // ------------------------------------------------------------------ stepping through backward
  const slider = document.getElementById("step-slider"), label = document.getElementById("step-label");
  const nSteps = D.trace.length;
  slider.max = nSteps; slider.value = nSteps;
  function showStep(k) {  // k steps done
    slider.value = k;
    nodes.forEach(n => {
      const d = doneAt[n.id];
      nodeEls[n.id].classList.toggle("pending", n.kind !== "none" && (d === null || d >= k));
      nodeEls[n.id].classList.toggle("current", n.step !== null && n.step === k - 1);
    });
    edges.forEach(e => edgeEls[e.id].classList.toggle("pending", nodes[e.src].step === null || nodes[e.src].step >= k));
    if (k === 0) label.textContent = `before backward (0 of ${nSteps} steps)`;
    else { const s = D.trace[k - 1]; label.textContent = `step ${k} of ${nSteps}: ${s.op} received |grad| ${fmt(s.grad_output_norm)}, took ${s.ms.toFixed(3)} ms`; }
  }
  slider.addEventListener("input", () => showStep(Number(slider.value)));
  document.getElementById("step-prev").addEventListener("click", () => showStep(Math.max(0, Number(slider.value) - 1)));
  document.getElementById("step-next").addEventListener("click", () => showStep(Math.min(nSteps, Number(slider.value) + 1)));
  showStep(nSteps);

  // ------------------------------------------------------------------ the details of one node
  const details = document.getElementById("details");
  let selected = null;
  function select(id) {
    if (selected !== null) nodeEls[selected].classList.remove("selected");
    selected = id;
    nodeEls[id].classList.add("selected");
    document.querySelectorAll("#trace-table tr.sel").forEach(r => r.classList.remove("sel"));
    const row = document.querySelector(`#trace-table tr[data-node="${id}"]`);
    if (row) row.classList.add("sel");
    const n = nodes[id];
    details.innerHTML = "";
    details.setAttribute("data-selected", id);
    details.appendChild(el("h3", {"data-field": "name"}, esc(n.kind === "op" ? n.name : `${n.name}: ${n.label}`)));
    if (n.kind === "none") {
      details.appendChild(el("p", {}, "This input of its parent needs no gradient (the labels, or a constant): its entry in <code>next_functions</code> is <code>None</code> and backward sends nothing there."));
      return;
    }
    const when = n.step !== null ? `Backward step ${n.step + 1} of ${nSteps}, ${num(n.ms)} ms.`
      : (doneAt[id] !== null ? `A leaf: its <code>.grad</code> was written at backward step ${doneAt[id] + 1}.` : "");
    details.appendChild(el("p", {}, when));
    if (n.doc) {
      details.appendChild(el("div", {class: "rule", "data-field": "rule"},
        `<div><b>forward</b>: ${n.doc.forward}</div><div><b>derivative</b>: ${n.doc.backward}</div>` +
        `<div><b>implemented in</b> ${n.doc.impl} (docs/backprop.md, ${n.doc.section})</div>`));
    } else {
      details.appendChild(el("p", {class: "hint"}, `docs/backprop.md has no entry for ${esc(n.op)}.`));
    }
    if (n.code) {
      details.appendChild(el("p", {}, `Code: <a data-field="code-link" href="${esc(n.code.href)}">${esc(n.code.path)}:${n.code.line}</a> (class <code>${esc(n.code.class)}</code>)`));
      const d = el("details", {});
      d.appendChild(el("summary", {}, "source"));
      d.appendChild(el("pre", {}, esc(n.code.source)));
      details.appendChild(d);
    }
    let rows = "<tr><th>input</th><th>from</th><th>shape</th><th class=num>|gradient| sent</th></tr>";
    outEdges[id].forEach(e => {
      const c = nodes[e.dst];
      rows += `<tr><td>${e.index}</td><td>${esc(c.kind === "op" ? c.name : c.label)}</td><td>${n.in_shapes[e.index] === null ? "– (no gradient)" : shp(n.in_shapes[e.index])}</td>` +
        `<td class=num>${e.grad ? num(e.grad.norm, "edge-norm-" + e.index) : "none"}</td></tr>`;
    });
    if (n.kind === "op") {
      details.appendChild(el("table", {}, rows));
      details.appendChild(el("p", {}, `Output ${shp(n.out_shape)}. Saved for backward: ` +
        (n.saved.length ? n.saved.map(s => `${shp(s.shape)} ${esc(s.dtype)} (${bytes(s.bytes)})`).join("; ") + ` — ${bytes(n.saved_bytes)} in all` : "nothing") + "."));
    }
    const isParam = n.kind === "param";
    details.appendChild(tensorBlock(n.kind === "op" ? "forward value (the output)" : (isParam ? "the parameter, before the step" : "the input batch"), n.value, "value"));
    details.appendChild(tensorBlock(n.kind === "op" ? "incoming gradient ∂loss/∂output" : "its gradient (.grad)", n.grad, "grad"));
    outEdges[id].forEach(e => {
      if (e.grad) details.appendChild(tensorBlock(`outgoing gradient ∂loss/∂input ${e.index} → ${nodes[e.dst].kind === "op" ? nodes[e.dst].name : nodes[e.dst].label}`, e.grad, "out" + e.index));
    });
    if (isParam) details.appendChild(el("p", {}, `<a href="#optim-${esc(n.param)}">Its update in the optimizer step</a> · <a href="#torch">against PyTorch</a>`));
  }

  // ------------------------------------------------------------------ trace table
  const trace = document.getElementById("trace-table");
  trace.innerHTML = "<tr><th>#</th><th>op</th><th>grad in (∂/∂output)</th><th>grads out (∂/∂inputs)</th><th class=num>|grad in|</th><th class=num>ms</th></tr>";
  D.trace.forEach(s => {
    const tr = el("tr", {class: "clickable", "data-node": s.node, "data-step": s.index},
      `<td>${s.index + 1}</td><td>${esc(s.op)}</td><td>${shp(s.grad_output)}</td>` +
      `<td>${s.grad_inputs.map(g => g === null ? "–" : shp(g)).join(", ")}</td>` +
      `<td class=num>${num(s.grad_output_norm, "trace-norm")}</td><td class=num>${s.ms.toFixed(3)}</td>`);
    tr.addEventListener("click", () => { showStep(s.index + 1); select(s.node); });
    trace.appendChild(tr);
  });
  const totalMs = D.trace.reduce((a, s) => a + s.ms, 0);
  trace.appendChild(el("tr", {}, `<td></td><td colspan=4>${nSteps} steps</td><td class=num>${totalMs.toFixed(3)}</td>`));

  // ------------------------------------------------------------------ profile
  const prof = document.getElementById("profile-table");
  const maxMs = Math.max(1e-9, ...D.profile.map(r => r.total_ms));
  prof.innerHTML = "<tr><th>op</th><th class=num>calls</th><th class=num>backward calls</th><th class=num>forward ms</th><th class=num>backward ms</th><th class=num>total ms</th><th></th></tr>";
  D.profile.forEach(r => prof.appendChild(el("tr", {},
    `<td>${esc(r.op)}</td><td class=num>${r.calls}</td><td class=num>${r.backward_calls}</td><td class=num>${r.forward_ms.toFixed(3)}</td>` +
    `<td class=num>${r.backward_ms.toFixed(3)}</td><td class=num>${r.total_ms.toFixed(3)}</td><td><span class="bar" style="width:${Math.round(200 * r.total_ms / maxMs)}px"></span></td>`)));

  // ------------------------------------------------------------------ PyTorch
  document.getElementById("torch-lede").innerHTML =
    `The same model built from <code>reference/models.py</code> in PyTorch ${esc(D.torch_version)}, with these weights copied in` +
    ` (<code>tinygrad_mnist.interop</code>), on the same batch. “max abs” is the largest |ours − PyTorch| over the` +
    ` tensor's elements, “max rel” that divided by PyTorch's largest |value|. Both compute in float32, so` +
    ` differences of about 1e-7 relative are rounding.`;
  const tt = document.getElementById("torch-table");
  tt.innerHTML = "<tr><th>gradient of</th><th>shape</th><th class=num>|grad| ours</th><th class=num>|grad| PyTorch</th><th class=num>max abs diff</th><th class=num>max rel diff</th></tr>";
  const rel = x => `<span class="${x < 1e-4 ? "ok" : "bad"}">${num(x)}</span>`;
  D.params.forEach(p => tt.appendChild(el("tr", {"data-param": p.name},
    `<td>${esc(p.name)}</td><td>${shp(p.shape)}</td><td class=num>${num(p.grad.norm, "ours")}</td><td class=num>${num(p.torch_grad_norm, "torch")}</td>` +
    `<td class=num>${num(p.vs_torch.max_abs, "max-abs")}</td><td class=num>${rel(p.vs_torch.max_rel)}</td>`)));
  const xin = nodes.find(n => n.kind === "input");
  tt.appendChild(el("tr", {"data-param": "input x"}, `<td>input x</td><td>${shp(xin ? xin.out_shape : null)}</td><td class=num>${num(xin && xin.grad ? xin.grad.norm : null)}</td><td class=num>—</td>` +
    `<td class=num>${num(D.input_grad_vs_torch.max_abs)}</td><td class=num>${rel(D.input_grad_vs_torch.max_rel)}</td>`));
  tt.appendChild(el("tr", {}, `<td>the loss itself</td><td>scalar</td><td class=num>${num(D.loss)}</td><td class=num>${num(D.torch_loss)}</td>` +
    `<td class=num>${num(Math.abs(D.loss - D.torch_loss))}</td><td class=num>${rel(Math.abs(D.loss - D.torch_loss) / Math.abs(D.torch_loss))}</td>`));

  // ------------------------------------------------------------------ finite differences
  document.getElementById("fd-lede").innerHTML =
    `For a few weights of each parameter (its largest gradient, and two picked at random), the loss of a float64 copy of the model` +
    ` with the weight moved by ±${D.fd_eps}: (L(w+ε) − L(w−ε)) / 2ε, against backprop's float64 gradient and this step's float32 one.` +
    ` Relative error = |numeric − backprop| / max(|numeric|, |backprop|).`;
  const fd = document.getElementById("fd-table");
  fd.innerHTML = "<tr><th>parameter</th><th>element</th><th class=num>finite difference (f64)</th><th class=num>backprop (f64)</th><th class=num>this step (f32)</th><th class=num>rel. error</th></tr>";
  D.params.forEach(p => p.fd.forEach(c => fd.appendChild(el("tr", {"data-param": p.name},
    `<td>${esc(p.name)}</td><td>[${c.index.join(", ")}]</td><td class=num>${num(c.numeric, "numeric")}</td><td class=num>${num(c.analytic64, "analytic")}</td>` +
    `<td class=num>${num(c.ours32, "ours32")}</td><td class=num><span class="${c.rel_err < 1e-5 ? "ok" : "bad"}">${num(c.rel_err, "rel")}</span></td>`))));
  if (!D.params.some(p => p.fd.length)) fd.appendChild(el("tr", {}, "<td colspan=6>not run for this page</td>"));

  // ------------------------------------------------------------------ optimizer
  document.getElementById("optim-lede").innerHTML =
    `<code>${esc(opt)}</code>.step() after backward: for each parameter, its values before, the update (after − before) and after.` +
    ` The last column compares “after” with PyTorch's optimizer run on PyTorch's gradients.`;
  const cards = document.getElementById("optim-cards");
  let orows = "<tr><th>parameter</th><th>shape</th><th class=num>|before|</th><th class=num>|update|</th><th class=num>max |update|</th><th class=num>|after|</th><th class=num>after vs PyTorch (max abs)</th></tr>";
  D.params.forEach(p => {
    orows += `<tr data-param="${esc(p.name)}"><td><a href="#optim-${esc(p.name)}">${esc(p.name)}</a></td><td>${shp(p.shape)}</td><td class=num>${num(p.before.norm, "before")}</td>` +
      `<td class=num>${num(p.update.norm, "update")}</td><td class=num>${num(Math.max(Math.abs(p.update.min), Math.abs(p.update.max)))}</td>` +
      `<td class=num>${num(p.after.norm, "after")}</td><td class=num>${num(p.after_vs_torch.max_abs, "after-vs-torch")}</td></tr>`;
  });
  cards.appendChild(el("table", {id: "optim-table"}, orows));
  const wrap = el("div", {class: "cards"});
  D.params.forEach(p => {
    const c = el("div", {class: "card", id: "optim-" + p.name}, `<h3>${esc(p.name)} ${shp(p.shape)}</h3>`);
    const trio = el("div", {class: "trio"});
    trio.appendChild(tensorBlock("before", p.before));
    trio.appendChild(tensorBlock("update (after − before)", p.update));
    trio.appendChild(tensorBlock("after", p.after));
    c.appendChild(trio);
    wrap.appendChild(c);
  });
  cards.appendChild(wrap);

  select(nodes.findIndex(n => n.op === "Conv2d") >= 0 ? nodes.findIndex(n => n.op === "Conv2d") : 0);
  document.body.setAttribute("data-ready", "1");
})();
