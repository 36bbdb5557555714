/**
 * A form POST the way a browser on the page sends it (same Origin, no redirect followed), for the
 * programs that drive a separately started server: the binary smoke test and the benchmarks.
 */
export function postForm(base: string, path: string, fields: Record<string, string>, cookie = "") {
  return fetch(base + path, {
    method: "POST",
    headers: { Origin: base, cookie },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}
