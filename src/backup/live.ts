import { timingSafeEqual } from "node:crypto";
import { readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { BACKUP_ACCESS_FILE, type Bytes, writePrivate } from "./format.ts";
import { BackupRefused, snapshotPglite } from "./snapshot.ts";

type Access = { pid: number; port: number; token: string };

/**
 * While the server runs, the embedded database's files are locked to it, so `parley backup`
 * asks it for a dump. It asks a listener of its own on 127.0.0.1 (a port picked by the system,
 * never the site's, so no proxy or HOST setting reaches it), and proves with a random token that
 * the server writes into DATA_DIR, readable by its owner only: whoever may read DATA_DIR may back
 * it up, and no one else on the machine. (A Unix socket in DATA_DIR would be simpler, but
 * PGlite's dump of the folder fails on a socket file.)
 */
export function serveBackups(database: Database, dataDir: string, log: Logger): { stop(): void } | undefined {
  const pglite = database.pglite;
  if (!pglite) return undefined;
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  const expected = Buffer.from(`Bearer ${token}`);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      const given = Buffer.from(request.headers.get("authorization") ?? "");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return new Response("Not allowed.", { status: 403 });
      }
      if (new URL(request.url).pathname !== "/backup") return new Response("Not found.", { status: 404 });
      const started = performance.now();
      try {
        const pieces = await snapshotPglite(pglite, dataDir);
        const bytes = pieces.reduce((n, p) => n + p.length, 0);
        log.info("backup dumped", { bytes, ms: Math.round(performance.now() - started) });
        // Sent a piece at a time: joining hundreds of megabytes into one buffer would be work on this thread.
        return new Response(piecewise(pieces), {
          headers: { "content-type": "application/x-tar", "content-length": String(bytes) },
        });
      } catch (err) {
        if (err instanceof BackupRefused) return new Response(err.message, { status: 409 });
        log.error("backup failed", { error: err });
        return new Response(`the dump failed (${(err as Error).message})`, { status: 500 });
      }
    },
  });
  const path = join(dataDir, BACKUP_ACCESS_FILE);
  const access: Access = { pid: process.pid, port: server.port!, token };
  const temp = `${path}.${process.pid}`;
  writePrivate(temp, new TextEncoder().encode(JSON.stringify(access)));
  renameSync(temp, path);
  return {
    stop() {
      rmSync(path, { force: true });
      void server.stop(true);
    },
  };
}

/** Asks the server holding DATA_DIR (process `pid`) for a dump of its database, as a tar. */
export async function fetchLiveDump(dataDir: string, pid: number): Promise<Bytes> {
  const unreachable = (why: string) =>
    new ConfigError(
      `The Parley running on DATA_DIR (${dataDir}, process ${pid}) did not answer for the backup (${why}); stop it and run parley backup again, which then reads the files itself.`,
    );
  let access: Access;
  try {
    access = JSON.parse(readFileSync(join(dataDir, BACKUP_ACCESS_FILE), "utf8"));
  } catch (err) {
    throw unreachable(`${BACKUP_ACCESS_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (access.pid !== pid) throw unreachable(`${BACKUP_ACCESS_FILE} is another process's`);
  let res: Response;
  try {
    res = await fetch(`http://127.0.0.1:${access.port}/backup`, {
      headers: { authorization: `Bearer ${access.token}` },
    });
  } catch (err) {
    throw unreachable((err as Error).message);
  }
  if (res.status === 409) throw new ConfigError(await res.text());
  if (!res.ok) throw new ConfigError(`The running Parley could not make the backup: ${await res.text()}.`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * The pieces as a body, 256 KB at a time, each let go once sent. Bun writes a chunk to the socket
 * in one go: an 87 MB table file handed over whole held the server's thread for 340 ms.
 */
function piecewise(pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  const CHUNK = 256 * 1024;
  let next = 0;
  return new ReadableStream({
    pull(controller) {
      const piece = pieces[next];
      if (!piece) return controller.close();
      if (piece.length > CHUNK) {
        pieces[next] = piece.subarray(CHUNK);
        controller.enqueue(piece.subarray(0, CHUNK));
      } else {
        pieces[next++] = new Uint8Array(0);
        controller.enqueue(piece);
      }
    },
  });
}
