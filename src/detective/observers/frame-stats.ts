/**
 * Per-frame measurements of the video observer, on frames ffmpeg has already scaled down (about
 * 160 pixels wide): luma statistics, chroma, the share of each colour name, a coarse RGB histogram,
 * and against the previous frame the global shift of the picture (block matching on a three-level
 * pyramid, sub-pixel by a parabola through the best match) with what the shift does not explain.
 * Brightness and contrast are in OKLab lightness (perceptual); the shift works on Rec. 709 luma.
 */
import { COLOUR_NAMES, colourNamer, lightnessMeter } from './colour';

export interface FrameStats {
  time: number;
  /** Mean OKLab lightness, 0-1 (over every other pixel in each direction). */
  lightness: number;
  /** RMS contrast: standard deviation of OKLab lightness, 0-0.5 (same pixels). */
  contrast: number;
  /** Mean chroma, (max - min) / 255 per pixel, 0-1. */
  chroma: number;
  /** Share of black pixels: every channel under 10 % of full scale. */
  darkShare: number;
  /** Share of the picture per entry of COLOUR_NAMES. */
  colours: Float32Array;
  /** Half the L1 distance of 4x4x4 RGB histograms to the previous frame (0 same, 1 disjoint); 0 for the first frame. */
  histDistance: number;
  /** Mean absolute luma difference to the previous frame, 0-1. */
  difference: number;
  /** Share of pixels whose luma changed by 10/255 or more since the previous frame (a small change: text, a cursor). */
  changedShare: number;
  /** Displacement of the picture since the previous frame, in pixels of the analysed size. */
  shiftX: number;
  shiftY: number;
  /** Mean absolute luma difference after undoing the shift (over the area both frames cover), 0-1. */
  residual: number;
  /** False when the frame has too little texture for the shift to mean anything. */
  textured: boolean;
}

/** Luma standard deviation (0-255) under which block matching has nothing to lock on to. */
const MIN_TEXTURE = 6;
/** A pixel is black when its brightest channel is under this (10 % of 255). */
const BLACK_LEVEL = 25.5;
/** A pixel whose luma moves by this much (0-255) has changed (compression noise of a still picture stays well under it). */
const CHANGED_LEVEL = 10;
/** A camera shift must leave at most this share of the difference of no shift at all. */
const EXPLAINED = 0.7;
/** Largest shift searched, as a share of the frame width per analysed frame. */
const MAX_SHIFT_SHARE = 0.1;

/** A luma plane (0-255). */
export interface GreyImage {
  w: number;
  h: number;
  px: Float32Array;
}

function halve(l: GreyImage): GreyImage {
  const w = Math.max(1, l.w >> 1);
  const h = Math.max(1, l.h >> 1);
  const px = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = 2 * y * l.w + 2 * x;
      px[y * w + x] = (l.px[i] + l.px[i + 1] + l.px[i + l.w] + l.px[i + l.w + 1]) / 4;
    }
  }
  return { w, h, px };
}

/**
 * Mean |cur(x + dx, y + dy) - prev(x, y)| over the frame less a margin `m` on each side. The hot
 * loops of this file use no global (such as Math): inside a vm context (jest) every global lookup
 * goes through the context's interceptor and costs some 40 times more.
 */
function sad(prev: GreyImage, cur: GreyImage, dx: number, dy: number, m: number): number {
  let sum = 0;
  let n = 0;
  const a = prev.px;
  const b = cur.px;
  for (let y = m; y < prev.h - m; y++) {
    const ro = y * prev.w;
    const rc = (y + dy) * cur.w + dx;
    for (let x = m; x < prev.w - m; x++) {
      const d = b[rc + x] - a[ro + x];
      sum += d < 0 ? -d : d;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** Best integer shift within `radius` of (cx, cy); ties go to the smaller shift. */
function search(prev: GreyImage, cur: GreyImage, cx: number, cy: number, radius: number, m: number): { dx: number; dy: number; cost: number } {
  let best = { dx: cx, dy: cy, cost: Infinity };
  for (let dy = cy - radius; dy <= cy + radius; dy++) {
    for (let dx = cx - radius; dx <= cx + radius; dx++) {
      if (Math.abs(dx) > m || Math.abs(dy) > m) continue;
      const cost = sad(prev, cur, dx, dy, m) + 1e-3 * Math.hypot(dx, dy);
      if (cost < best.cost) best = { dx, dy, cost };
    }
  }
  return best;
}

/** Mean absolute difference of two same-size images, and the share of pixels that changed by {@link CHANGED_LEVEL} or more. */
function frameDifference(a: GreyImage, b: GreyImage): { mean: number; changedShare: number } {
  let sum = 0;
  let changed = 0;
  const pa = a.px;
  const pb = b.px;
  const n = pa.length;
  for (let i = 0; i < n; i++) {
    const d = pb[i] - pa[i];
    const x = d < 0 ? -d : d;
    sum += x;
    if (x >= CHANGED_LEVEL) changed++;
  }
  return { mean: n === 0 ? 0 : sum / n, changedShare: n === 0 ? 0 : changed / n };
}

/** Offset of a parabola's vertex through (-1, a), (0, b), (1, c), within +-0.5. */
function vertex(a: number, b: number, c: number): number {
  const den = a - 2 * b + c;
  return den > 1e-9 ? Math.max(-0.5, Math.min(0.5, (a - c) / (2 * den))) : 0;
}

/** Global shift of `cur` against `prev` (same size), with the residual difference after it. */
export function globalShift(prev: GreyImage, cur: GreyImage): { dx: number; dy: number; residual: number } {
  const l1p = halve(prev);
  const l1c = halve(cur);
  const l2p = halve(l1p);
  const l2c = halve(l1c);
  const r2 = Math.max(1, Math.ceil((MAX_SHIFT_SHARE * prev.w) / 4));
  const m2 = Math.min(r2, Math.floor((l2p.h - 2) / 2), Math.floor((l2p.w - 2) / 2));
  if (m2 < 1) return { dx: 0, dy: 0, residual: sad(prev, cur, 0, 0, 0) / 255 };
  const s2 = search(l2p, l2c, 0, 0, m2, m2);
  const m1 = 2 * m2 + 1;
  const s1 = search(l1p, l1c, 2 * s2.dx, 2 * s2.dy, 1, m1);
  const m0 = 2 * m1 + 1;
  const s0 = search(prev, cur, 2 * s1.dx, 2 * s1.dy, 1, m0);
  const at = (dx: number, dy: number): number => (Math.abs(dx) > m0 || Math.abs(dy) > m0 ? s0.cost : sad(prev, cur, dx, dy, m0));
  const c0 = sad(prev, cur, s0.dx, s0.dy, m0);
  // a shift that barely improves on none is a part of the picture moving, not the camera
  const still = sad(prev, cur, 0, 0, m0);
  if ((s0.dx !== 0 || s0.dy !== 0) && c0 > EXPLAINED * still) return { dx: 0, dy: 0, residual: still / 255 };
  const fx = vertex(at(s0.dx - 1, s0.dy), c0, at(s0.dx + 1, s0.dy));
  const fy = vertex(at(s0.dx, s0.dy - 1), c0, at(s0.dx, s0.dy + 1));
  return { dx: s0.dx + fx, dy: s0.dy + fy, residual: c0 / 255 };
}

/** Measures frames in order; each call compares with the frame before. */
export class FrameMeter {
  private readonly name = colourNamer();
  private readonly lightness = lightnessMeter();
  private prev: { grey: GreyImage; hist: Float32Array } | undefined;

  measure(rgb: Uint8Array, width: number, height: number, time: number): FrameStats {
    const n = width * height;
    const grey = new Float32Array(n);
    const hist = new Float32Array(64);
    const colours = new Float32Array(COLOUR_NAMES.length);
    let sum = 0;
    let sum2 = 0;
    let light = 0;
    let light2 = 0;
    let lit = 0;
    let chroma = 0;
    let dark = 0;
    for (let p = 0, i = 0; p < n; p++, i += 3) {
      const r = rgb[i];
      const g = rgb[i + 1];
      const b = rgb[i + 2];
      const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
      grey[p] = y;
      sum += y;
      sum2 += y * y;
      const hi = r > g ? (r > b ? r : b) : g > b ? g : b;
      const lo = r < g ? (r < b ? r : b) : g < b ? g : b;
      chroma += hi - lo;
      if (hi < BLACK_LEVEL) dark++;
      hist[((r >> 6) << 4) | ((g >> 6) << 2) | (b >> 6)]++;
      colours[this.name(r, g, b)]++;
      if ((p & 1) === 0 && ((p / width) & 1) === 0) {
        const l = this.lightness(r, g, b);
        light += l;
        light2 += l * l;
        lit++;
      }
    }
    for (let k = 0; k < hist.length; k++) hist[k] /= n;
    for (let k = 0; k < colours.length; k++) colours[k] /= n;
    const mean = sum / n;
    const std = Math.sqrt(Math.max(0, sum2 / n - mean * mean));
    const level: GreyImage = { w: width, h: height, px: grey };
    const lightness = light / lit;
    const stats: FrameStats = {
      time,
      lightness,
      contrast: Math.sqrt(Math.max(0, light2 / lit - lightness * lightness)),
      chroma: chroma / n / 255,
      darkShare: dark / n,
      colours,
      histDistance: 0,
      difference: 0,
      changedShare: 0,
      shiftX: 0,
      shiftY: 0,
      residual: 0,
      textured: std >= MIN_TEXTURE,
    };
    if (this.prev !== undefined) {
      let h = 0;
      for (let k = 0; k < 64; k++) h += Math.abs(hist[k] - this.prev.hist[k]);
      stats.histDistance = h / 2;
      const d = frameDifference(this.prev.grey, level);
      stats.difference = d.mean / 255;
      stats.changedShare = d.changedShare;
      if (stats.textured) {
        const s = globalShift(this.prev.grey, level);
        stats.shiftX = s.dx;
        stats.shiftY = s.dy;
        stats.residual = Math.min(s.residual, stats.difference);
      } else stats.residual = stats.difference;
    }
    this.prev = { grey: level, hist };
    return stats;
  }
}
