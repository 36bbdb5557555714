/**
 * The baseline for the load benchmark: the least a relay can do. It passes each piece of an
 * upstream answer straight to the WebSocket that asked, with no database, no Markdown and no
 * HTML. Parley's figures beside this one show the cost of Parley's own work on the same machine.
 * Run by bench/load.ts: PORT=... OPENROUTER_BASE_URL=... bun bench/relay.ts
 */
const base = process.env.OPENROUTER_BASE_URL!;

const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  fetch: (req, srv) => (srv.upgrade(req) ? undefined : new Response("WebSocket only", { status: 400 })),
  websocket: {
    async message(ws, raw) {
      const { content } = JSON.parse(String(raw)) as { content: string };
      const res = await fetch(`${base}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer relay" },
        body: JSON.stringify({ model: "fake/fast", stream: true, messages: [{ role: "user", content }] }),
      });
      const decoder = new TextDecoder();
      let buffer = "";
      for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
          if (!event.startsWith("data: ")) continue;
          const data = event.slice(6);
          if (data === "[DONE]") {
            ws.send("[done]");
            continue;
          }
          const piece = (JSON.parse(data) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta
            ?.content;
          if (piece) ws.send(piece);
        }
      }
    },
  },
});
console.log(`relay listening on ${server.port}`);
