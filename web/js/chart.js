// SVG charts (vertical stacked bars, horizontal bars), legends and tables.
// width: the drawing's width in CSS pixels, so that text keeps its size.
import { h, svg } from './core.js';

let seq = 0;

// About four "nice" gridline steps up to max.
function ticks(max, int) {
  const p = 10 ** Math.floor(Math.log10(max / 4 || 1));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * p).find((s) => s >= max / 4);
  if (int) step = Math.max(1, Math.ceil(step));
  const out = [0];
  while (out[out.length - 1] < max) out.push(+(out.length * step).toFixed(6));
  return out.length > 1 ? out : [0, 1];
}

function frame(w, ht, title, desc) {
  const id = `ch${++seq}`;
  return svg('svg', { viewBox: `0 0 ${w} ${ht}`, class: 'chart', role: 'img', 'aria-labelledby': `${id}t ${id}d` },
    svg('title', { id: id + 't' }, title), svg('desc', { id: id + 'd' }, desc));
}

export const legend = (series) => h('ul', { class: 'legend' },
  series.map((s) => h('li', null, h('span', { class: `key ${s.cls}`, 'aria-hidden': 'true' }), s.label)));

// A row; the first cell heads it; opt[i]: hidden on phones.
export const row = (cells, opt = []) => h('tr', null, cells.map((v, i) => h(i ? 'td' : 'th', { scope: i ? null : 'row', class: opt[i] ? 'opt' : null }, v)));

// A table; a '?' heading is an optional column; tbody is .lastChild.lastChild.
export function grid(caption, head, rows, cls) {
  const opt = head.map((t) => t[0] === '?');
  return h('div', { class: 'table-wrap', role: 'region', tabindex: 0, 'aria-label': caption }, h('table', { class: ['rows', cls] }, h('caption', { class: 'visually-hidden', text: caption }),
    h('thead', null, h('tr', null, head.map((t, i) => h('th', { scope: 'col', class: opt[i] ? 'opt' : null }, t.replace('?', ''))))),
    h('tbody', null, rows.map((r) => row(r, opt)))));
}

export const numbers = (caption, head, rows) => h('details', { class: 'numbers' }, h('summary', { text: 'Show the numbers' }), grid(caption, head, rows));

// labels[i] under bar i; series [{label, cls, values}] stacked bottom up.
export function vbars({ labels, series, title, desc, fmt = String, int = true, width: W = 640 }) {
  const H = 240, L = 44, B = 28, T = 10, bw = (W - L - 8) / labels.length, every = Math.ceil(62 / bw);
  const tk = ticks(Math.max(0, ...labels.map((_, i) => series.reduce((a, s) => a + s.values[i], 0))), int);
  const y = (v) => T + (H - T - B) * (1 - v / tk[tk.length - 1]);
  const el = frame(W, H, title, desc);
  for (const v of tk) {
    el.append(svg('line', { x1: L, x2: W - 4, y1: y(v), y2: y(v), class: v ? 'grid' : 'axis' }),
      svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, fmt(v)));
  }
  labels.forEach((lab, i) => {
    const x = L + 4 + i * bw;
    let base = 0;
    for (const s of series) {
      const v = s.values[i];
      if (v > 0) el.append(svg('rect', { x: x + bw * 0.15, width: bw * 0.7, y: y(base + v), height: y(base) - y(base + v), rx: 2, class: s.cls }, svg('title', null, `${lab}: ${s.label} ${fmt(v)}`)));
      base += v;
    }
    const end = x + bw / 2 + 24 > W; // the last label
    if ((labels.length - 1 - i) % every === 0) el.append(svg('text', { x: end ? W - 2 : x + bw / 2, y: H - 8, 'text-anchor': end ? 'end' : 'middle', class: 'tick' }, lab));
  });
  return el;
}

// items [{label, value, cls}]: a bar each, in the order given.
export function hbars({ items, title, desc, width: W = 640 }) {
  const R = 26, L = Math.min(150, W * 0.45), max = Math.max(1, ...items.map((i) => i.value));
  const el = frame(W, items.length * R + 8, title, desc);
  items.forEach((it, i) => {
    const y = 4 + i * R, w = ((W - L - 50) * it.value) / max;
    el.append(svg('text', { x: L - 8, y: y + 16, 'text-anchor': 'end', class: 'tick lab' }, it.label),
      svg('rect', { x: L, y: y + 3, width: Math.max(w, 1), height: R - 8, rx: 3, class: it.cls }),
      svg('text', { x: L + w + 6, y: y + 16, class: 'tick val' }, String(it.value)));
  });
  return el;
}
