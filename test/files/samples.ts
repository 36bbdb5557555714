/*
 * Real files, made here byte by byte: a PNG that decodes (zlib-compressed rows, CRCs), a JPEG's
 * header, a one-pixel GIF, a WebP's header, a one-page PDF with text and a correct xref, UTF-8 text.
 */
import { deflateSync } from "node:zlib";

const bytes = (...parts: (string | number[] | Uint8Array)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = bytes(type, data);
  return bytes(u32(data.length), body, u32(Bun.hash.crc32(body)));
}

/** A width × height RGB PNG; `seed` changes the pixels, so that two images differ byte for byte. */
export function png(width = 4, height = 3, seed = 0): Buffer {
  const rows: number[] = [];
  for (let y = 0; y < height; y++) {
    rows.push(0); // filter: none
    for (let x = 0; x < width; x++) rows.push((x * 60 + seed) & 255, (y * 80 + seed) & 255, (seed * 7) & 255);
  }
  return bytes(
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    pngChunk("IHDR", bytes(u32(width), u32(height), [8, 2, 0, 0, 0])),
    pngChunk("IDAT", deflateSync(Buffer.from(rows))),
    pngChunk("IEND", new Uint8Array()),
  );
}

/** A JPEG's start: SOI and a JFIF APP0 segment, then a comment, then EOI. */
export function jpeg(): Buffer {
  const comment = "Parley test";
  return bytes(
    [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10],
    "JFIF\0",
    [1, 1, 0, 0, 1, 0, 1, 0, 0],
    [0xff, 0xfe, 0, comment.length + 2],
    comment,
    [0xff, 0xd9],
  );
}

/** One white pixel. */
export function gif(): Buffer {
  return bytes(
    "GIF89a",
    [1, 0, 1, 0, 0x80, 0, 0],
    [255, 255, 255, 0, 0, 0],
    [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0],
    [2, 2, 0x44, 1, 0],
    ";",
  );
}

/** A RIFF container holding a WEBP with a VP8L chunk's header. */
export function webp(): Buffer {
  const chunk = bytes("VP8L", [5, 0, 0, 0], [0x2f, 0, 0, 0, 0x10]);
  return bytes("RIFF", u32(4 + chunk.length).reverse(), "WEBP", chunk);
}

/** A one-page PDF that says `text` in Helvetica, with its xref offsets computed. */
export function pdf(text = "Quarterly figures: 42 loaves"): Buffer {
  const content = `BT /F1 18 Tf 36 72 Td (${text}) Tj ET`;
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 144] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) out += `${String(offset).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

/** Text in UTF-8, with letters from outside ASCII. */
export function text(words = "Proofing notes — crème fraîche, 2 h at 24 °C; ライ麦パン.\n"): Buffer {
  return Buffer.from(words, "utf8");
}

/** A File as a browser sends it: a name, and a type the browser claims (which Parley ignores). */
export const file = (content: Uint8Array | string, name: string, claimed = "application/octet-stream") =>
  new File([content as Uint8Array<ArrayBuffer> | string], name, { type: claimed });
