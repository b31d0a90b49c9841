'use strict';

/**
 * Media files with real bytes, generated from the seed: PNG images (valid zlib-compressed
 * RGB data, 64-400 px, a different pattern each) and one-page PDFs. They are uploaded through
 * the upload plugin's service, so Strapi stores them (and their thumbnails) as it would an
 * upload from the admin panel.
 */
const crypto = require('node:crypto');
const fs = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const { createRandom } = require('./random');

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

const crc32 = (buffer) => {
  let c = 0xffffffff;
  for (const byte of buffer) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

const pngChunk = (type, data) => {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
};

/**
 * A width x height RGB PNG: a two-colour gradient with a few solid rectangles on top.
 * @param {ReturnType<typeof createRandom>} random
 */
const makePng = (random, width, height) => {
  const [from, to] = [random.bytes(3), random.bytes(3)];
  const boxes = Array.from({ length: random.int(1, 5) }, () => ({
    x: random.int(0, width - 1),
    y: random.int(0, height - 1),
    w: random.int(8, Math.max(8, width >> 1)),
    h: random.int(8, Math.max(8, height >> 1)),
    colour: random.bytes(3),
  }));
  const stride = width * 3 + 1;
  const raw = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * stride] = 0; // filter type: none
    for (let x = 0; x < width; x += 1) {
      const t = (x + y) / (width + height);
      const box = boxes.find((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h);
      for (let c = 0; c < 3; c += 1) {
        raw[y * stride + 1 + x * 3 + c] = box ? box.colour[c] : Math.round(from[c] + (to[c] - from[c]) * t);
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, RGB, deflate, no filter, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(raw, { level: 6 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
};

/**
 * `bytes` of incompressible data, the same for a seed and a file (AES-128-CTR over zeros under a
 * key from both: fast enough for gigabytes, unlike a JS generator).
 */
const padding = (seed, index, bytes) => {
  const key = crypto.createHash('sha256').update(`pacta-seed-media:${seed}:${index}`).digest();
  const cipher = crypto.createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()]);
};

/**
 * A one-page PDF showing `text`, with a correct cross-reference table; with `embedded`, also an
 * object of that many binary bytes (the size of a scanned contract, which compresses no further).
 */
const makePdf = (text, embedded = null) => {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const stream = `BT /F1 18 Tf 72 720 Td (${escaped}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  if (embedded) objects.push(`<< /Length ${embedded.length} >>\nstream\n${embedded.toString('latin1')}\nendstream`);
  let body = '%PDF-1.4\n';
  const offsets = objects.map((object, i) => {
    const offset = body.length;
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = body.length;
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
};

/**
 * The description of media file #index: about 60% images, 40% PDFs (file 0 is always an image
 * and file 1 always a PDF, so both kinds exist as soon as there are two files).
 * @returns {{ name: string, mime: string, bytes: Buffer, alternativeText: string, caption: string }}
 */
const makeMediaFile = (seed, index, pdfBytes = 0) => {
  const random = createRandom(seed, 'media', index);
  const number = String(index + 1).padStart(4, '0');
  const isImage = index === 0 || (index !== 1 && random.chance(0.6));
  if (isImage) {
    const [width, height] = [random.int(64, 400), random.int(64, 400)];
    return {
      name: `figure-${number}.png`,
      mime: 'image/png',
      bytes: makePng(random, width, height),
      alternativeText: `Figure ${number} (${width}x${height})`,
      caption: `Seeded image ${number}`,
    };
  }
  const text = `PACTA annex ${number} - reference ${random.int(100000, 999999)}`;
  return {
    name: `annex-${number}.pdf`,
    mime: 'application/pdf',
    bytes: makePdf(text, pdfBytes > 0 ? padding(seed, index, pdfBytes) : null),
    alternativeText: `Annex ${number}`,
    caption: text,
  };
};

/**
 * Generates and uploads `count` files; returns them in order as { id, mime } (upload rows).
 * @param {import('@strapi/strapi').Core.Strapi} strapi
 */
const uploadMedia = async (strapi, { seed, count, pdfBytes = 0 }) => {
  const uploadService = strapi.plugin('upload').service('upload');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pacta-seed-'));
  const uploaded = [];
  try {
    for (let index = 0; index < count; index += 1) {
      const file = makeMediaFile(seed, index, pdfBytes);
      const filepath = path.join(dir, file.name);
      await fs.writeFile(filepath, file.bytes);
      const [row] = await uploadService.upload({
        data: { fileInfo: { name: file.name, alternativeText: file.alternativeText, caption: file.caption } },
        files: { filepath, originalFilename: file.name, mimetype: file.mime, size: file.bytes.length },
      });
      uploaded.push({ id: row.id, mime: row.mime });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return uploaded;
};

module.exports = { makePng, makePdf, makeMediaFile, uploadMedia };
