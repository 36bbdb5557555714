/*
 * OpenRouter's parse annotations: when its file-parser reads a PDF (text extraction or OCR), the
 * answer carries what it read, as `annotations` of type "file" (streamed in
 * `choices[0].delta.annotations`). Sent back on that assistant message in a later request, they let
 * OpenRouter skip parsing the same PDF again (and charging for OCR again). The native engine
 * forwards the PDF to the model and makes none. The wire format, from OpenRouter's PDF guide:
 *
 *   { type: "file", file: { hash, name?, content: [{ type: "text", text } | { type: "image_url", image_url: { url } }] } }
 */

/** One PDF as OpenRouter parsed it; `hash` identifies the parsed file. */
export type FileAnnotation = {
  type: "file";
  file: { hash: string; name?: string; content: AnnotationPart[] };
};

export type AnnotationPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

/**
 * The most an answer's annotations may take, as JSON. OCR of an image-heavy PDF returns its
 * pictures as data URLs; past this, the rest are not kept (those PDFs are parsed again later,
 * which costs what it did the first time, but the request stays the size the person sent).
 */
export const MAX_ANNOTATIONS_BYTES = 4 * 1024 * 1024;
const MAX_HASH_LENGTH = 200;
const MAX_NAME_LENGTH = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function part(raw: unknown): AnnotationPart | undefined {
  if (!isObject(raw)) return undefined;
  if (raw.type === "text" && typeof raw.text === "string") return { type: "text", text: raw.text };
  const url = isObject(raw.image_url) ? raw.image_url.url : undefined;
  if (raw.type === "image_url" && typeof url === "string") return { type: "image_url", image_url: { url } };
  return undefined;
}

/**
 * The file annotations among what the upstream sent, rebuilt from the fields known (nothing else
 * is stored or sent back). An annotation with a part of another shape is left out whole: half of
 * a parse sent back under its hash would stand for the whole PDF. Others (url citations) are ignored.
 */
export function fileAnnotations(raw: unknown): FileAnnotation[] {
  if (!Array.isArray(raw)) return [];
  const found: FileAnnotation[] = [];
  for (const entry of raw) {
    if (!isObject(entry) || entry.type !== "file" || !isObject(entry.file)) continue;
    const { hash, name, content } = entry.file;
    if (typeof hash !== "string" || !hash || hash.length > MAX_HASH_LENGTH || !Array.isArray(content)) continue;
    const parts = content.map(part);
    if (parts.some((p) => !p)) continue;
    const file: FileAnnotation["file"] = { hash, content: parts as AnnotationPart[] };
    if (typeof name === "string") file.name = name.slice(0, MAX_NAME_LENGTH);
    found.push({ type: "file", file });
  }
  return found;
}

/**
 * `more` added to `kept`: one per hash (a later one replaces an earlier), and only while the whole
 * stays within MAX_ANNOTATIONS_BYTES; an annotation that does not fit is left out whole.
 */
export function keepAnnotations(kept: FileAnnotation[], more: FileAnnotation[]): FileAnnotation[] {
  const byHash = new Map(kept.map((a) => [a.file.hash, a]));
  for (const a of more) byHash.set(a.file.hash, a);
  const out: FileAnnotation[] = [];
  let bytes = 2;
  for (const a of byHash.values()) {
    const size = Buffer.byteLength(JSON.stringify(a)) + 1;
    if (bytes + size > MAX_ANNOTATIONS_BYTES) continue;
    bytes += size;
    out.push(a);
  }
  return out;
}
