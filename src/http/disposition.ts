/**
 * A Content-Disposition header: the name in ASCII for every browser, and as written (`filename*`,
 * RFC 5987) for those that read it. `ascii` must hold no quote or backslash (see asciiName).
 */
export function contentDisposition(kind: "inline" | "attachment", name: { ascii: string; utf8?: string }): string {
  const utf8 = name.utf8 && name.utf8 !== name.ascii ? `; filename*=UTF-8''${rfc5987(name.utf8)}` : "";
  return `${kind}; filename="${name.ascii}"${utf8}`;
}

/** A name as a quoted header value may hold it: printable ASCII, less quotes, backslashes and percent signs. */
export function asciiName(name: string): string {
  return name.normalize("NFKD").replace(/[^\x20-\x7e]|["\\%]/g, (c) => (/\p{M}/u.test(c) ? "" : "_"));
}

/** RFC 5987 percent-encoding: encodeURIComponent leaves ' ( ) * as they are, which the header may not hold. */
function rfc5987(text: string): string {
  return encodeURIComponent(text.toWellFormed()).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
