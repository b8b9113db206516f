// Draws the add-on's icon.png (128×128) and logo.png (250×100) into kasa2mqtt/: a smart-plug face
// and, on the logo, the radio waves of a message leaving it. Plain RGBA PNGs from node:zlib, so no
// image tool is needed; run with `npx tsx scripts/addon-images.ts` after changing a colour.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

type Rgba = readonly [number, number, number, number];
type Shade = (x: number, y: number) => Rgba | undefined;

const TEAL: Rgba = [11, 114, 133, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const DARK: Rgba = [8, 60, 72, 255];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Each pixel is the average of 4×4 samples of the topmost shape that covers it (anti-aliasing). */
function png(width: number, height: number, layers: Shade[]): Buffer {
  const rows: Buffer[] = [];
  const samples = 4;
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 4); // filter byte 0, then RGBA
    for (let x = 0; x < width; x++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const px = x + (sx + 0.5) / samples;
          const py = y + (sy + 0.5) / samples;
          let colour: Rgba = [0, 0, 0, 0];
          for (const layer of layers) colour = layer(px, py) ?? colour;
          for (let i = 0; i < 4; i++) sum[i]! += colour[i]!;
        }
      }
      for (let i = 0; i < 4; i++) row[1 + x * 4 + i] = Math.round(sum[i]! / samples ** 2);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const roundedRect = (x0: number, y0: number, x1: number, y1: number, r: number, colour: Rgba): Shade => (x, y) => {
  const dx = Math.max(x0 + r - x, 0, x - (x1 - r));
  const dy = Math.max(y0 + r - y, 0, y - (y1 - r));
  return x >= x0 && x <= x1 && y >= y0 && y <= y1 && dx * dx + dy * dy <= r * r ? colour : undefined;
};
const circle = (cx: number, cy: number, r: number, colour: Rgba): Shade => (x, y) =>
  (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? colour : undefined;
/** A ring segment opening to the right (the waves). */
const arc = (cx: number, cy: number, r: number, width: number, colour: Rgba): Shade => (x, y) => {
  const d = Math.hypot(x - cx, y - cy);
  return Math.abs(d - r) <= width / 2 && x > cx && Math.abs(y - cy) < (x - cx) * 1.1 ? colour : undefined;
};

/** A plug face centred on (cx, cy) with radius r: two slots and a ground hole. */
function plug(cx: number, cy: number, r: number): Shade[] {
  const slotW = r * 0.16;
  const slotH = r * 0.55;
  return [
    circle(cx, cy, r, WHITE),
    roundedRect(cx - r * 0.42 - slotW / 2, cy - r * 0.45, cx - r * 0.42 + slotW / 2, cy - r * 0.45 + slotH, slotW / 2, DARK),
    roundedRect(cx + r * 0.42 - slotW / 2, cy - r * 0.45, cx + r * 0.42 + slotW / 2, cy - r * 0.45 + slotH, slotW / 2, DARK),
    circle(cx, cy + r * 0.45, r * 0.14, DARK),
  ];
}

const folder = new URL('../kasa2mqtt/', import.meta.url);
writeFileSync(new URL('icon.png', folder), png(128, 128, [roundedRect(4, 4, 124, 124, 24, TEAL), ...plug(64, 64, 40)]));
writeFileSync(
  new URL('logo.png', folder),
  png(250, 100, [
    roundedRect(2, 2, 248, 98, 20, TEAL),
    ...plug(58, 50, 34),
    arc(100, 50, 20, 7, WHITE),
    arc(100, 50, 36, 7, WHITE),
    arc(100, 50, 52, 7, WHITE),
  ]),
);
