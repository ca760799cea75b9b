// cryoseed screens of treatment data (procedure entry, plan review), served only to the roles
// that may see them: the modality switch of the procedure form and the plan upload. Uses the
// helpers app.js exposes as window.cryoseed.
"use strict";

(function () {
  const { csrf, clearErrors, showErrors } = window.cryoseed;

  // Procedure entry: only the chosen modality's fields are sent.
  document.querySelectorAll("select[data-modality-switch]").forEach((select) => {
    const form = select.form;
    const apply = () => {
      form.querySelectorAll("fieldset[data-modality]").forEach((fs) => {
        fs.disabled = fs.dataset.modality !== select.value;
        fs.hidden = fs.disabled;
      });
    };
    select.addEventListener("change", apply);
    apply();
  });

  // Plan upload: the chosen plan.json is sent as it is (its SHA-256 is kept with the plan); with
  // a review.json, both texts go together as {"plan": TEXT, "review": TEXT}, stored all or none.
  document.querySelectorAll("form[data-upload]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const file = form.querySelector('input[name="plan"]').files[0];
      if (!file) return;
      const text = await file.text();
      const reviewInput = form.querySelector('input[name="review"]');
      const review = reviewInput && reviewInput.files[0];
      const body = review ? JSON.stringify({ plan: text, review: await review.text() }) : text;
      const response = await fetch(form.dataset.upload, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, Accept: "application/json" },
        body: body,
      });
      if (response.ok) {
        window.location.reload();
        return;
      }
      const data = await response.json().catch(() => null);
      if (data && data.error) showErrors(form, data.error);
    });
  });

  // Plan review: the DVH chart and the slice viewer, drawn from the plan's review bundle
  // (review.json of `cryoseed plan`: DVH samples, and per orientation a stack of slices whose
  // outlines, isodose lines and isotherms are delta-encoded polylines in tenths of a millimetre).
  const SVG = "http://www.w3.org/2000/svg";
  const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
  const OAR_COLOURS = ["#00c853", "#ff6d00", "#d500f9", "#76ff03", "#ffd600", "#00b8d4", "#f50057", "#aeea00"];
  const ZONE_COLOURS = { core: "#00e5ff", "margin (PTV)": "#ffa500", "high-risk": "#ff00ff" };
  const ISODOSE_COLOURS = { 50: "#7cfc00", 100: "#ffff00", 150: "#ff8c00", 200: "#ff0000" };
  const STRUCTURE_KINDS = ["target", "zone", "oar", "vessel", "body"];
  // Radiological convention (as the report's slices): [left, right, top, bottom] of the picture.
  const EDGES = { axial: ["R", "L", "A", "P"], coronal: ["R", "L", "S", "I"], sagittal: ["A", "P", "S", "I"] };

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function text(parent, x, y, content, attrs) {
    const node = el("text", Object.assign({ x: x, y: y, "font-size": 11, fill: "#000" }, attrs || {}), parent);
    node.textContent = content;
    return node;
  }

  function ticks(max, count) {
    const raw = max / count;
    const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
    const out = [];
    for (let t = 0; t <= max + 1e-9; t += step) out.push(Number(t.toFixed(6)));
    return out;
  }

  function layerStyle(layer, index, layers) {
    switch (layer.kind) {
      case "target": return { colour: "#ff3030", dash: null };
      case "zone": return { colour: ZONE_COLOURS[layer.name] || "#ffa500", dash: "4 2" };
      case "oar": {
        const n = layers.slice(0, index).filter((l) => l.kind === "oar").length;
        return { colour: OAR_COLOURS[n % OAR_COLOURS.length], dash: null };
      }
      case "vessel": return { colour: "#c58cff", dash: null };
      case "body": return { colour: "#9e9e9e", dash: null };
      case "isodose": return { colour: ISODOSE_COLOURS[layer.percent] || "#ffff00", dash: "2 2" };
      default: return { colour: layer.level >= 0 ? "#9ecbff" : layer.level > -30 ? "#1e90ff" : "#3d5afe", dash: layer.level >= 0 ? "5 2" : null };
    }
  }

  function dvhChart(figure, review, labels) {
    figure.textContent = "";
    const curves = review.dvh.curves;
    if (!curves.length || review.prescription_gy == null) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = labels.noDose;
      figure.appendChild(p);
      return;
    }
    const [w, h, left, right, top, bottom] = [760, 400, 60, 230, 20, 50];
    const [pw, ph] = [w - left - right, h - top - bottom];
    const step = review.dvh.dose_step_gy;
    const maxDose = step * Math.max(...curves.map((c) => c.volume_permille.length - 1), 1);
    const x = (d) => left + pw * Math.min(d / maxDose, 1);
    const y = (v) => top + ph * (1 - v / 100);
    const svg = el("svg", { viewBox: `0 0 ${w} ${h}`, width: w, height: h, role: "img", class: "dvh" });
    el("rect", { x: 0, y: 0, width: w, height: h, fill: "#fff" }, svg);
    for (const t of ticks(maxDose, 6)) {
      el("line", { x1: x(t), y1: top, x2: x(t), y2: top + ph, stroke: "#ddd" }, svg);
      text(svg, x(t), top + ph + 16, String(t), { "text-anchor": "middle" });
    }
    for (const t of ticks(100, 5)) {
      el("line", { x1: left, y1: y(t), x2: left + pw, y2: y(t), stroke: "#ddd" }, svg);
      text(svg, left - 6, y(t) + 4, String(t), { "text-anchor": "end" });
    }
    el("rect", { x: left, y: top, width: pw, height: ph, fill: "none", stroke: "#000" }, svg);
    text(svg, left + pw / 2, h - 12, labels.doseAxis, { "text-anchor": "middle", "font-size": 12 });
    text(svg, 16, top + ph / 2, labels.volumeAxis, { "text-anchor": "middle", "font-size": 12, transform: `rotate(-90 16 ${top + ph / 2})` });
    const rx = review.prescription_gy;
    el("line", { x1: x(rx), y1: top, x2: x(rx), y2: top + ph, stroke: "#666", "stroke-dasharray": "4 3", class: "rx-line" }, svg);
    text(svg, x(rx) + 3, top + 12, `${labels.rx} ${rx} Gy`, { "font-size": 10, fill: "#444" });
    curves.forEach((c, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const dash = c.kind === "oar" ? "6 3" : c.kind === "zone" ? "2 2" : null;
      const points = c.volume_permille.map((v, k) => `${x(k * step).toFixed(1)},${y(v / 10).toFixed(1)}`);
      // The curve ends where no voxel gets more dose: drop to 0 % there.
      const line = el("polyline", { points: points.join(" "), fill: "none", stroke: colour, "stroke-width": 2, class: "dvh-curve" }, svg);
      if (dash) line.setAttribute("stroke-dasharray", dash);
      const at = (pct) => c.volume_permille.findIndex((v) => v < pct * 10);
      const d90 = at(90);
      el("title", {}, line).textContent = `${c.name}: D90 ≈ ${d90 > 0 ? ((d90 - 1) * step).toFixed(1) : "0"} Gy`;
      const ly = top + 14 + 18 * i;
      const key = el("line", { x1: left + pw + 12, y1: ly - 4, x2: left + pw + 36, y2: ly - 4, stroke: colour, "stroke-width": 2 }, svg);
      if (dash) key.setAttribute("stroke-dasharray", dash);
      text(svg, left + pw + 42, ly, c.name);
    });
    figure.appendChild(svg);
  }

  function decode(deltas) {
    const points = [];
    let u = 0;
    let v = 0;
    for (let i = 0; i + 1 < deltas.length; i += 2) {
      u += deltas[i];
      v += deltas[i + 1];
      points.push([u / 10, v / 10]);
    }
    return points;
  }

  function sliceView(root, review, labels) {
    const figure = root.querySelector(".slice-view");
    const slider = root.querySelector(".slice-slider");
    const output = root.querySelector(".slice-position");
    const layers = review.layers;
    const styles = layers.map((l, i) => layerStyle(l, i, layers));
    const stacks = Object.fromEntries(review.planes.map((p) => [p.plane, p]));
    let plane = "axial";
    const shown = () => {
      const on = new Set();
      root.querySelectorAll("input[data-layers]").forEach((box) => {
        if (!box.checked) return;
        (box.dataset.layers === "structures" ? STRUCTURE_KINDS : [box.dataset.layers]).forEach((k) => on.add(k));
      });
      return on;
    };
    const draw = () => {
      const stack = stacks[plane];
      figure.textContent = "";
      if (!stack || !stack.slices.length) return;
      const slice = stack.slices[Math.min(Number(slider.value), stack.slices.length - 1)];
      output.textContent = `${stack.axes[2]} = ${slice.position_mm.toFixed(1)} mm (${Number(slider.value) + 1}/${stack.slices.length})`;
      const [u0, u1, v0, v1] = stack.view_mm;
      const half = Math.max(u1 - u0, v1 - v0) / 2 + 5;
      const [cu, cv] = [(u0 + u1) / 2, (v0 + v1) / 2];
      const size = 480;
      const scale = size / (2 * half);
      const up = plane !== "axial";
      const px = (u) => (u - (cu - half)) * scale;
      const py = (v) => (up ? size - (v - (cv - half)) * scale : (v - (cv - half)) * scale);
      const svg = el("svg", { viewBox: `0 0 ${size} ${size}`, width: size, height: size, role: "img", class: "slice", "data-plane": plane });
      el("rect", { x: 0, y: 0, width: size, height: size, fill: "#111" }, svg);
      const on = shown();
      const present = new Set();
      for (const [index, deltas] of slice.lines) {
        const layer = layers[index];
        if (!on.has(layer.kind)) continue;
        present.add(index);
        const points = decode(deltas).map(([u, v]) => `${px(u).toFixed(1)},${py(v).toFixed(1)}`).join(" ");
        const line = el("polyline", { points: points, fill: "none", stroke: styles[index].colour, "stroke-width": 1.5, "data-kind": layer.kind }, svg);
        if (styles[index].dash) line.setAttribute("stroke-dasharray", styles[index].dash);
      }
      const axes = { x: 0, y: 1, z: 2 };
      const [ha, va] = [axes[stack.axes[0]], axes[stack.axes[1]]];
      for (const [tip, back] of review.probes) {
        el("line", { x1: px(tip[ha] / 10), y1: py(tip[va] / 10), x2: px(back[ha] / 10), y2: py(back[va] / 10), stroke: "#00ffff", "stroke-width": 2.5, class: "probe" }, svg);
      }
      for (const [u, v] of slice.seeds) {
        el("circle", { cx: px(u / 10), cy: py(v / 10), r: 3, fill: "#ffff00", stroke: "#000", class: "seed" }, svg);
      }
      const [l, r, t, b] = EDGES[plane];
      const white = { fill: "#fff", "font-size": 14, "font-weight": 700 };
      text(svg, 6, size / 2, l, white);
      text(svg, size - 6, size / 2, r, Object.assign({ "text-anchor": "end" }, white));
      text(svg, size / 2, 18, t, Object.assign({ "text-anchor": "middle" }, white));
      text(svg, size / 2, size - 6, b, Object.assign({ "text-anchor": "middle" }, white));
      el("line", { x1: 10, y1: size - 24, x2: 10 + 10 * scale, y2: size - 24, stroke: "#fff", "stroke-width": 2 }, svg);
      text(svg, 10, size - 30, "10 mm", { fill: "#fff", "font-size": 10 });
      figure.appendChild(svg);
      // Legend: the layers drawn on this slice, then seeds and probes.
      const legend = document.createElement("ul");
      legend.className = "slice-legend";
      const item = (colour, dash, label, dot) => {
        const li = document.createElement("li");
        const key = el("svg", { width: 26, height: 10 }, li);
        if (dot) el("circle", { cx: 13, cy: 5, r: 3, fill: colour, stroke: "#000" }, key);
        else {
          const k = el("line", { x1: 1, y1: 5, x2: 25, y2: 5, stroke: colour, "stroke-width": 2 }, key);
          if (dash) k.setAttribute("stroke-dasharray", dash);
        }
        li.appendChild(document.createTextNode(" " + label));
        legend.appendChild(li);
      };
      [...present].sort((a, b) => a - b).forEach((i) => {
        const layer = layers[i];
        item(styles[i].colour, styles[i].dash, `${labels.kinds[layer.kind] || layer.kind}: ${layer.name}`);
      });
      if (slice.seeds.length) item("#ffff00", null, labels.seeds, true);
      if (review.probes.length) item("#00ffff", null, labels.probes);
      figure.appendChild(legend);
    };
    const choose = (name) => {
      plane = name;
      const stack = stacks[plane];
      const n = stack ? stack.slices.length : 0;
      slider.max = String(Math.max(n - 1, 0));
      slider.value = String(Math.floor(n / 2));
      draw();
    };
    root.querySelectorAll(".orientation input").forEach((radio) => radio.addEventListener("change", () => choose(radio.value)));
    slider.addEventListener("input", draw);
    root.querySelectorAll("input[data-layers]").forEach((box) => box.addEventListener("change", draw));
    choose(plane);
  }

  document.querySelectorAll(".plan-review[data-review]").forEach(async (root) => {
    const d = root.dataset;
    const labels = {
      doseAxis: d.doseAxis, volumeAxis: d.volumeAxis, rx: d.rx, seeds: d.seeds, probes: d.probes, noDose: d.noDose,
      kinds: {
        target: d.kindTarget, zone: d.kindZone, oar: d.kindOar, vessel: d.kindVessel, body: d.kindBody,
        isodose: d.kindIsodose, isotherm: d.kindIsotherm,
      },
    };
    const status = root.querySelector(".review-status");
    try {
      const response = await fetch(d.review, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      const review = await response.json();
      dvhChart(root.querySelector(".dvh-chart"), review, labels);
      sliceView(root, review, labels);
      status.hidden = true;
      root.dataset.ready = "true";
    } catch (e) {
      status.textContent = d.failed;
    }
  });
})();
