// Runs inside a diagram's sandboxed frame (src/diagrams/routes.ts): draws the one Mermaid diagram
// the chat page sends, then tells the page its height, or that it could not draw it (the page
// then keeps showing the code). Redrawn when the light/dark setting changes, as the page's
// colours follow it (Tailwind's dark: variant reads the same media query here).
(() => {
  const dark = matchMedia("(prefers-color-scheme: dark)");
  const box = document.getElementById("diagram");
  document.body.style.margin = "0";
  let source;
  let drawn = 0;
  // Only the chat page may frame this document (frame-ancestors 'self'), so the page is on this
  // document's URL's origin; the frame's own origin is opaque ("null"), which the page checks.
  const tell = (message) => parent.postMessage(message, location.origin);
  const height = () => Math.ceil(box.getBoundingClientRect().height);

  const draw = async () => {
    mermaid.initialize({
      startOnLoad: false,
      // Labels are text (no HTML of the model's), and click handlers and links are off.
      securityLevel: "strict",
      theme: dark.matches ? "dark" : "default",
      fontFamily: "ui-sans-serif, system-ui, sans-serif",
      // A diagram that cannot be drawn leaves no error drawing behind: the page shows the code.
      suppressErrorRendering: true,
    });
    drawn++;
    try {
      const { svg } = await mermaid.render(`diagram-${drawn}`, source);
      box.innerHTML = svg;
      // Mermaid sizes it to the frame's width, up to its natural width; centred when narrower.
      box.firstElementChild.style.display = "block";
      box.firstElementChild.style.margin = "0 auto";
      tell({ kind: "drawn", height: height() });
    } catch (error) {
      box.replaceChildren();
      tell({ kind: "failed", reason: String(error?.message ?? error) });
    }
  };

  addEventListener("message", (event) => {
    if (event.source !== parent || event.origin !== location.origin || source !== undefined) return;
    if (typeof event.data?.source !== "string") return;
    source = event.data.source;
    draw();
  });
  dark.addEventListener("change", () => source !== undefined && draw());
  // The drawing scales with the frame's width (a phone turned, a window resized): so does its height.
  new ResizeObserver(() => box.firstElementChild && tell({ kind: "drawn", height: height() })).observe(box);
  tell({ kind: "ready" });
})();
