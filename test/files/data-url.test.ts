import { expect, test } from "bun:test";
import { imageFromDataUrl } from "../../src/files/data-url.ts";
import { fileSize } from "../../src/limits.ts";
import { gif, jpeg, pdf, png, webp } from "./samples.ts";

const url = (bytes: Uint8Array, type = "image/png") => `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
const MB = 1024 * 1024;
const refusal = (dataUrl: string, maxBytes = MB) => {
  try {
    imageFromDataUrl(dataUrl, maxBytes);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

test("a data URL's image is decoded, its type taken from its bytes (not the type the URL claims)", () => {
  const picture = png(5, 3, 2);
  const decoded = imageFromDataUrl(url(picture, "image/gif"), MB);
  expect(decoded.type).toBe("image/png");
  expect(decoded.extension).toBe("png");
  expect(Buffer.from(decoded.bytes).equals(picture)).toBe(true);
  expect(imageFromDataUrl(url(jpeg(), "image/jpeg"), MB)).toMatchObject({ type: "image/jpeg", extension: "jpg" });
  expect(imageFromDataUrl(url(gif(), "image/gif"), MB)).toMatchObject({ type: "image/gif", extension: "gif" });
  expect(imageFromDataUrl(url(webp(), "image/webp"), MB)).toMatchObject({ type: "image/webp", extension: "webp" });
});

test("base64 broken over lines, URL-safe or unpadded still decodes", () => {
  const picture = png(7, 7, 5);
  const b64 = Buffer.from(picture).toString("base64");
  const wrapped = `data:image/png;base64,${b64.replace(/(.{60})/g, "$1\n")}`;
  expect(Buffer.from(imageFromDataUrl(wrapped, MB).bytes).equals(picture)).toBe(true);
  const urlSafe = `data:image/png;base64,${Buffer.from(picture).toString("base64url")}`;
  expect(Buffer.from(imageFromDataUrl(urlSafe, MB).bytes).equals(picture)).toBe(true);
});

test("what is not a raster image in a base64 data URL is refused with a sentence", () => {
  expect(refusal("https://example.com/a.png")).toBe(
    "The model sent an image that is not a base64 data URL; it was left out.",
  );
  expect(refusal("data:image/png,rawbytes")).toBe(
    "The model sent an image that is not a base64 data URL; it was left out.",
  );
  expect(refusal("")).toBe("The model sent an image that is not a base64 data URL; it was left out.");
  expect(refusal("data:image/png;base64,abc$def")).toBe(
    "The model sent an image whose data is not valid base64; it was left out.",
  );
  expect(refusal("data:image/png;base64,")).toBe("The model sent an empty image; it was left out.");
  expect(refusal(url(pdf(), "image/png"))).toBe(
    "The model sent an image that is not a PNG, JPEG, WebP or GIF; it was left out.",
  );
  expect(refusal(url(Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>"), "image/svg+xml"))).toBe(
    "The model sent an image that is not a PNG, JPEG, WebP or GIF; it was left out.",
  );
});

test("an image over the size limit (MAX_FILE_MB) is refused", () => {
  const picture = png(40, 40, 9);
  expect(refusal(url(picture), picture.length)).toBeUndefined();
  expect(refusal(url(picture), picture.length - 1)).toBe(
    `The model sent an image larger than ${fileSize(picture.length - 1)}, the most a file may be; it was left out.`,
  );
  expect(refusal(`data:image/png;base64,${"A".repeat(8 * MB)}`, MB)).toBe(
    "The model sent an image larger than 1 MB, the most a file may be; it was left out.",
  );
});
