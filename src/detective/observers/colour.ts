/**
 * Colour words for the video observer: pixels are named by the nearest entry of a small table of
 * plain colour names in OKLab (Ottosson 2020), a perceptual space where Euclidean distance follows
 * perceived difference, and brightness, contrast and saturation get the words a caption uses.
 */

/** Plain colour names and a representative sRGB value for each. */
export const COLOUR_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['black', 0x000000],
  ['dark grey', 0x454545],
  ['grey', 0x808080],
  ['light grey', 0xbdbdbd],
  ['white', 0xffffff],
  ['red', 0xe01b1b],
  ['dark red', 0x7a0c0c],
  ['pink', 0xffa0b8],
  ['magenta', 0xf020d0],
  ['orange', 0xff8a00],
  ['brown', 0x8a4b1c],
  ['dark brown', 0x472712],
  ['beige', 0xe6d5ac],
  ['tan', 0xc8a678],
  ['yellow', 0xffe21a],
  ['olive', 0x7f7d10],
  ['light green', 0x98ec8a],
  ['green', 0x1fa531],
  ['bright green', 0x4cf03c],
  ['dark green', 0x0b5216],
  ['teal', 0x0a7f7f],
  ['cyan', 0x35dde0],
  ['light blue', 0x8ccaf0],
  ['blue', 0x1c4de6],
  ['dark blue', 0x182a64],
  ['purple', 0x7a1e96],
  ['lavender', 0xb9a0e8],
];

function linear(c8: number): number {
  const c = c8 / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

/** Linear-light RGB -> OKLab [L, a, b]. */
function oklabOfLinear(r: number, g: number, b: number): [number, number, number] {
  const { cbrt } = Math;
  const l = cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s, 1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s, 0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s];
}

/** sRGB (0-255 each) -> OKLab [L, a, b]. */
export function oklab(r8: number, g8: number, b8: number): [number, number, number] {
  return oklabOfLinear(linear(r8), linear(g8), linear(b8));
}

/**
 * Hue and chroma count this much more than lightness: a name is first a hue (a dark or light
 * green is still green), and OKLab's a/b span is about a third of its L span.
 */
const CHROMA_WEIGHT = 4;

/** OKLab of each entry of {@link COLOUR_NAMES}. */
function tableLab(): Array<[number, number, number]> {
  return COLOUR_NAMES.map(([, hex]) => oklab((hex >> 16) & 255, (hex >> 8) & 255, hex & 255));
}

/**
 * OKLab chroma under which a pixel is named by a grey only: near-greys (a #1e1e1e background after
 * video coding is about 0.005) must not take the name of the nearest dark colour (dark brown's
 * chroma is 0.07, a muted brown's about 0.05).
 */
const ACHROMATIC_CHROMA = 0.03;
const chroma = (p: readonly [number, number, number]): number => Math.hypot(p[1], p[2]);

function nearestIn(table: ReadonlyArray<readonly [number, number, number]>, p: readonly [number, number, number]): number {
  const greyOnly = chroma(p) < ACHROMATIC_CHROMA;
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < table.length; i++) {
    const q = table[i];
    if (greyOnly && chroma(q) >= ACHROMATIC_CHROMA) continue;
    const dl = p[0] - q[0];
    const da = p[1] - q[1];
    const db = p[2] - q[2];
    const d = dl * dl + CHROMA_WEIGHT * (da * da + db * db);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Index into {@link COLOUR_NAMES} of the name nearest to an sRGB colour. */
export function nearestColour(r: number, g: number, b: number): number {
  return nearestIn(tableLab(), oklab(r, g, b));
}

export function colourName(r: number, g: number, b: number): string {
  return COLOUR_NAMES[nearestColour(r, g, b)][0];
}

const LEVELS = 32;

/**
 * A pixel namer: index into {@link COLOUR_NAMES} by a lookup table over RGB quantised to 32
 * levels per channel (each cell named by its centre), built once per call, so naming every pixel
 * of every frame stays cheap.
 */
export function colourNamer(): (r: number, g: number, b: number) => number {
  const step = 256 / LEVELS;
  const table = tableLab();
  const names = new Uint8Array(LEVELS ** 3);
  for (let r = 0; r < LEVELS; r++) {
    for (let g = 0; g < LEVELS; g++) {
      for (let b = 0; b < LEVELS; b++) names[(r * LEVELS + g) * LEVELS + b] = nearestIn(table, oklab((r + 0.5) * step, (g + 0.5) * step, (b + 0.5) * step));
    }
  }
  return (r, g, b) => names[((r >> 3) * LEVELS + (g >> 3)) * LEVELS + (b >> 3)];
}

/** OKLab lightness L (0 black - 1 white) of sRGB pixels, with the sRGB decoding tabulated. */
export function lightnessMeter(): (r: number, g: number, b: number) => number {
  const lin = Float64Array.from({ length: 256 }, (_, i) => linear(i));
  const { cbrt } = Math;
  return (r8, g8, b8) => {
    const [r, g, b] = [lin[r8], lin[g8], lin[b8]];
    const l = cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
    const m = cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
    const s = cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
    return 0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s;
  };
}

/** Mean OKLab lightness (0-1; mid grey #808080 is 0.60, pure blue 0.45, pure red 0.63) in words. */
export function brightnessWord(lightness: number): string {
  if (lightness < 0.25) return 'very dark';
  if (lightness < 0.45) return 'dark';
  if (lightness < 0.7) return 'medium-bright';
  if (lightness < 0.85) return 'bright';
  return 'very bright';
}

/** RMS contrast (standard deviation of OKLab lightness, 0-0.5) in words. */
export function contrastWord(rms: number): string {
  if (rms < 0.02) return 'flat (no contrast)';
  if (rms < 0.08) return 'low-contrast';
  if (rms < 0.18) return 'moderate-contrast';
  return 'high-contrast';
}

/** Mean chroma ((max - min) / 255 of each pixel, 0-1) in words. */
export function saturationWord(chroma: number): string {
  if (chroma < 0.05) return 'colourless (greys only)';
  if (chroma < 0.15) return 'muted in colour';
  if (chroma < 0.35) return 'moderately colourful';
  return 'vividly colourful';
}
