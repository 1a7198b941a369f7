// A small line chart in SVG: built once, its lines' paths replaced on each update (a few hundred points).

import { h, svg } from './dom.js';

const WIDTH = 600;
const HEIGHT = 170;
const LEFT = 52;
const RIGHT = 8;
const TOP = 8;
const BOTTOM = 20;

/** The smallest "round" number (1, 2, 5 × 10^n) at or above n. */
function niceCeiling(n) {
  if (!(n > 0)) {
    return 1;
  }
  const power = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= n) {
      return step * power;
    }
  }
  return 10 * power;
}

export class LineChart {
  /**
   * @param title  the chart's heading
   * @param lines  [{key, label, color}]: which value of each point each line draws
   * @param format how to print a value (axis and legend)
   */
  constructor(title, lines, format) {
    this.lines = lines;
    this.format = format;
    this.svg = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', role: 'img' });
    this.svg.setAttribute('aria-label', title);
    this.gridLabels = [];
    for (const fraction of [0, 0.5, 1]) {
      const y = TOP + (1 - fraction) * (HEIGHT - TOP - BOTTOM);
      this.svg.append(svg('line', { class: 'grid', x1: LEFT, x2: WIDTH - RIGHT, y1: y, y2: y }));
      const label = svg('text', { class: 'axis', x: LEFT - 6, y: y + 3, 'text-anchor': 'end' });
      this.gridLabels.push({ fraction, label });
      this.svg.append(label);
    }
    this.startLabel = svg('text', { class: 'axis', x: LEFT, y: HEIGHT - 5 });
    this.endLabel = svg('text', { class: 'axis', x: WIDTH - RIGHT, y: HEIGHT - 5, 'text-anchor': 'end' });
    this.svg.append(this.startLabel, this.endLabel);
    this.paths = lines.map(line => {
      const path = svg('path', { class: 'line', stroke: line.color, d: '' });
      this.svg.append(path);
      return path;
    });
    this.latest = lines.map(() => h('b'));
    const legend = h('div', { class: 'legend' }, lines.map((line, i) => h('span', {},
      h('span', { class: 'swatch', style: { background: line.color } }), `${line.label} `, this.latest[i])));
    this.element = h('div', { class: 'chart' }, h('h3', {}, title), this.svg, legend);
  }

  /** Draws the points ({start, ...values}, oldest first); a null value breaks its line. */
  update(points) {
    let max = 0;
    for (const point of points) {
      for (const line of this.lines) {
        const value = point[line.key];
        if (value !== null && value !== undefined && value > max) {
          max = value;
        }
      }
    }
    const top = niceCeiling(max);
    for (const { fraction, label } of this.gridLabels) {
      label.textContent = this.format(top * fraction);
    }
    const span = Math.max(points.length - 1, 1);
    const x = i => LEFT + (i / span) * (WIDTH - LEFT - RIGHT);
    const y = v => TOP + (1 - v / top) * (HEIGHT - TOP - BOTTOM);
    this.lines.forEach((line, n) => {
      let d = '';
      let drawing = false;
      points.forEach((point, i) => {
        const value = point[line.key];
        if (value === null || value === undefined) {
          drawing = false;
          return;
        }
        d += `${drawing ? 'L' : 'M'}${x(i).toFixed(1)},${y(value).toFixed(1)}`;
        drawing = true;
      });
      this.paths[n].setAttribute('d', d);
      const last = points.length ? points[points.length - 1][line.key] : null;
      this.latest[n].textContent = last === null || last === undefined ? '–' : this.format(last);
    });
    if (points.length) {
      const minutes = (Date.parse(points[points.length - 1].start) - Date.parse(points[0].start)) / 60000;
      this.startLabel.textContent = minutes >= 1 ? `${Math.round(minutes)} min ago` : `${Math.round(minutes * 60)} s ago`;
      this.endLabel.textContent = 'now';
    } else {
      this.startLabel.textContent = 'collecting…';
      this.endLabel.textContent = '';
    }
  }
}
