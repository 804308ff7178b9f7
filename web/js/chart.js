// Small SVG charts drawn by hand: vertical (stacked) bars and horizontal
// bars, each with a title, a description and a table of its numbers.
import { h, svg } from './core.js';

let seq = 0;

// A "nice" step so that about four gridlines cover max (whole numbers when int).
function ticks(max, int) {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * p).find((s) => s >= raw);
  if (int) step = Math.max(1, Math.ceil(step));
  const out = [];
  for (let v = 0; v < max + step - 1e-9; v += step) out.push(+v.toFixed(6));
  return out;
}

function frame(w, hgt, title, desc) {
  const id = `ch${++seq}`;
  return svg('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'chart', role: 'img', 'aria-labelledby': `${id}t ${id}d` },
    svg('title', { id: `${id}t` }, title), svg('desc', { id: `${id}d` }, desc));
}

export function legend(series) {
  return h('ul', { class: 'legend' }, series.map((s) => h('li', null, h('span', { class: `key ${s.cls}`, 'aria-hidden': 'true' }), s.label)));
}

// The numbers behind a chart, folded away under "Show the numbers".
export function numbers(caption, head, rows) {
  return h('details', { class: 'numbers' }, h('summary', { text: 'Show the numbers' }),
    h('div', { class: 'table-wrap' }, h('table', null, h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', null, h('tr', null, head.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => (i ? h('td', { text: c }) : h('th', { scope: 'row', text: c })))))))));
}

// labels[i] under each bar; series [{label, cls, values}] stacked bottom up.
// width: the drawing's width in CSS pixels (text stays 12 px at that width).
export function vbars({ labels, series, title, desc, fmt = String, int = true, width = 640 }) {
  const W = width, H = 240, L = 44, B = 28, T = 10;
  const tot = labels.map((_, i) => series.reduce((a, s) => a + (s.values[i] || 0), 0));
  const tk = ticks(Math.max(...tot, 0), int);
  const top = tk[tk.length - 1] || 1;
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const bw = (W - L - 8) / labels.length, every = Math.ceil(62 / bw);
  const el = frame(W, H, title, desc);
  for (const v of tk) {
    el.append(svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }),
      svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
  }
  labels.forEach((lab, i) => {
    const x = L + 4 + i * bw;
    let base = 0;
    for (const s of series) {
      const v = s.values[i] || 0;
      if (v > 0) {
        el.append(svg('rect', { x: x + bw * 0.15, width: bw * 0.7, y: y(base + v), height: Math.max(0, y(base) - y(base + v)), rx: 2, class: s.cls },
          svg('title', null, `${lab}: ${s.label} ${fmt(v)}`)));
      }
      base += v;
    }
    if ((labels.length - 1 - i) % every === 0) el.append(svg('text', x + bw / 2 + 24 > W ? { x: W - 2, y: H - 8, 'text-anchor': 'end', class: 'tick' } : { x: x + bw / 2, y: H - 8, 'text-anchor': 'middle', class: 'tick' }, lab));
  });
  return el;
}

// items [{label, value, cls}], one bar each, longest first as given.
export function hbars({ items, title, desc, width = 640 }) {
  const W = width, R = 26, L = Math.min(150, W * 0.45);
  const H = Math.max(1, items.length) * R + 8;
  const max = Math.max(1, ...items.map((i) => i.value));
  const el = frame(W, H, title, desc);
  items.forEach((it, i) => {
    const y = 4 + i * R;
    const w = ((W - L - 50) * it.value) / max;
    el.append(svg('text', { x: L - 8, y: y + 16, 'text-anchor': 'end', class: 'tick lab' }, it.label),
      svg('rect', { x: L, y: y + 3, width: Math.max(w, 1), height: R - 8, rx: 3, class: it.cls || 'bar' }),
      svg('text', { x: L + w + 6, y: y + 16, class: 'tick val' }, String(it.value)));
  });
  return el;
}
