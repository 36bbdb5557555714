import { expect, test } from "bun:test";
import { FileError, fileName, fileType } from "../../src/files/kinds.ts";
import { gif, jpeg, pdf, png, text, webp } from "./samples.ts";

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    if (err instanceof FileError) return err.message;
    throw err;
  }
  return "accepted";
};

test("a file's type comes from its bytes, whatever its name says (when the name promises nothing)", () => {
  const cases: [Uint8Array, string, string][] = [
    [png(), "photo.png", "image/png"],
    [jpeg(), "photo.jpeg", "image/jpeg"],
    [jpeg(), "photo.JPG", "image/jpeg"],
    [gif(), "dot.gif", "image/gif"],
    [webp(), "dot.webp", "image/webp"],
    [pdf(), "report.pdf", "application/pdf"],
    [text(), "notes.txt", "text/plain"],
    [text("fn main() {}\n"), "main.rs", "text/plain"],
    [text("a,b\n1,2\n"), "Makefile", "text/plain"],
    // An image named like something else is still an image; text named like code is text.
    [png(), "screenshot", "image/png"],
    [png(), "notes.txt", "image/png"],
    [jpeg(), "photo.png", "image/jpeg"],
    // A byte-order mark is text too.
    [text("\ufeffhello"), "bom.txt", "text/plain"],
  ];
  for (const [bytes, name, type] of cases) expect([name, fileType(bytes, name)]).toEqual([name, type]);
});

test("text is UTF-8 to the letter: what Postgres would refuse to decode is not text", () => {
  const takes = "“x.txt” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.";
  const cases: [string, number[], string][] = [
    ["four-byte characters (emoji)", [...Buffer.from("bread 🍞\n")], "accepted"],
    ["a character cut off at the end", [...Buffer.from("ライ麦"), 0xe3, 0x83], takes],
    ["an overlong slash", [0x61, 0xc0, 0xaf], takes],
    ["an encoded surrogate", [0x61, 0xed, 0xa0, 0x80], takes],
    ["a code point past U+10FFFF", [0x61, 0xf4, 0x90, 0x80, 0x80], takes],
    ["a continuation byte alone", [0x61, 0x80, 0x62], takes],
  ];
  for (const [what, bytes, expected] of cases) {
    expect([what, refusal(() => fileType(new Uint8Array(bytes), "x.txt"))]).toEqual([what, expected]);
  }
});

test("SVG and HTML are text: stored as text/plain, never as something a browser renders", () => {
  const svg = text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>');
  expect(fileType(svg, "logo.svg")).toBe("text/plain");
  expect(fileType(text("<!doctype html><script>alert(1)</script>"), "page.html")).toBe("text/plain");
});

test("what is not an image, a PDF or UTF-8 text is refused with a sentence naming the file", () => {
  const elf = Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01", "latin1"), Buffer.alloc(64)]);
  const cases: [Uint8Array, string, string][] = [
    [new Uint8Array(), "empty.txt", "“empty.txt” is empty (0 bytes)."],
    [elf, "photo.png", "“photo.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says."],
    [text("just words"), "photo.png", "“photo.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says."],
    [pdf(), "photo.webp", "“photo.webp” is not an image: it is a PDF."],
    [png(), "report.pdf", "“report.pdf” is not a PDF: it is an image."],
    [text("just words"), "report.pdf", "“report.pdf” is not a PDF, whatever its name says."],
    [
      Buffer.from("%PDF-1.7\n1 0 obj << >> endobj\n"),
      "cut.pdf",
      "“cut.pdf” is not a PDF: it starts like one but does not end like one (cut off or damaged).",
    ],
    [
      pdf().subarray(0, 200),
      "half.pdf",
      "“half.pdf” is not a PDF: it starts like one but does not end like one (cut off or damaged).",
    ],
    [
      elf,
      "program",
      "“program” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.",
    ],
    // UTF-16 holds NUL bytes; Latin-1 is not valid UTF-8.
    [
      Buffer.from("hello", "utf16le"),
      "wide.txt",
      "“wide.txt” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.",
    ],
    [
      Buffer.from("crème", "latin1"),
      "latin.txt",
      "“latin.txt” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.",
    ],
    // A PNG signature without its IHDR chunk is not a PNG, and not text either.
    [
      png().subarray(0, 12),
      "stub",
      "“stub” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.",
    ],
  ];
  for (const [bytes, name, sentence] of cases)
    expect([name, refusal(() => fileType(bytes, name))]).toEqual([name, sentence]);
});

test("a PDF may end with a line break or a few bytes after %%EOF", () => {
  const withTail = Buffer.concat([pdf(), Buffer.from("\r\n\n   \n")]);
  expect(fileType(withTail, "tail.pdf")).toBe("application/pdf");
});

test("names are kept as given, or refused: no paths, control characters, markup, or empty names", () => {
  const kept = [
    "notes.txt",
    "Crème brûlée — recipe (v2).txt",
    "ライ麦パン.png",
    "👩‍🍳 chef.png",
    'a & b\'s "file".txt',
  ];
  for (const name of kept) expect(fileName(name)).toBe(name);
  expect(fileName("  spaced.txt  ")).toBe("spaced.txt");
  // One spelling for one name: a decomposed é is stored composed.
  expect(fileName("cre\u0300me.txt")).toBe("crème.txt");

  const refused: [string, string][] = [
    ["../../etc/passwd", "A file name may not contain / or \\: give the file's name, not a path."],
    ["C:\\Windows\\win.ini", "A file name may not contain / or \\: give the file's name, not a path."],
    ["<img src=x onerror=alert(1)>.png", "A file name may not contain < or >."],
    ["a<b.txt", "A file name may not contain < or >."],
    ["tab\there.txt", "A file name may not contain control or invisible characters."],
    ["line\nbreak.txt", "A file name may not contain control or invisible characters."],
    ["nul\0.txt", "A file name may not contain control or invisible characters."],
    ["invoice\u202efdp.exe", "A file name may not contain control or invisible characters."],
    ["isolate\u2066.txt", "A file name may not contain control or invisible characters."],
    ["", "Each file needs a name."],
    ["   ", "Each file needs a name."],
    ["..", "Each file needs a name."],
    [`${"a".repeat(252)}.txt`, "A file name can be at most 255 characters long."],
  ];
  for (const [name, sentence] of refused) expect([name, refusal(() => fileName(name))]).toEqual([name, sentence]);
  expect(fileName(`${"a".repeat(251)}.txt`)).toHaveLength(255);
});
