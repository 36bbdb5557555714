import postgres from "postgres";
import type { Logger } from "../log.ts";

/**
 * Instances sharing one Postgres tell each other what their tabs should see through LISTEN/NOTIFY:
 * no broker to run beside the database. Each instance publishes on one connection of its own, so
 * its events arrive everywhere in the order it sent them, and listens on another.
 */
const CHANNEL = "parley";
/** Postgres refuses a notification of 8,000 bytes or more; a larger batch goes through bus_events. */
const MAX_NOTIFICATION_BYTES = 7800;
/** An event too large for a notification is kept this long for instances to read it. */
const OVERFLOW_KEEP = "5 minutes";
const SWEEP_MS = 60_000;
/** How often the listening connection is checked; a dead one is replaced and tabs resynchronise. */
const CHECK_MS = 5_000;
/** Sending is retried this long (the database restarting) before the events are dropped. */
const RETRY_FOR_MS = 15_000;
/** How long closing waits for events still being sent. */
const CLOSE_WAIT_MS = 2_000;
/** Each instance says it is there this often (and at once to one it has not heard before). */
const HERE_EVERY_MS = 10_000;
/** Heard from no other instance for this long, this one is alone. */
const ALONE_AFTER_MS = 3 * HERE_EVERY_MS;
/**
 * Every instance answers a newcomer's "here" at once: a new instance that has heard none this
 * long after its own went out is alone (a slower answer only costs a resynchronisation).
 */
const ANSWERED_WITHIN_MS = 2_000;
/**
 * The bus's own events, never handed to `receive`: "I am here", and "I am here, and sent nothing
 * while I was alone" (its hearers read what their tabs show afresh).
 */
const HERE = { bus: "here" } as const;
const HERE_AFTER_SILENCE = { bus: "here", silent: true } as const;
const isHere = (e: unknown) => (e as { bus?: unknown } | null)?.bus === "here";
const isAfterSilence = (e: unknown) => isHere(e) && (e as { silent?: unknown }).silent === true;

/** One notification: who sent it, its place in that sender's sequence, and its events or the row holding them. */
type Envelope = { from: string; seq: number; events?: unknown[]; ref?: number };

export type PeerBusOptions = {
  url: string;
  log: Logger;
  /** Events from other instances, in the order each sent them. */
  receive(events: unknown[]): void;
  /**
   * Events may have been missed (the listening connection was lost, or a sender's sequence has a
   * gap): what tabs show must be read again from the database.
   */
  resync(): void;
  /**
   * Events worth sending only while another instance is heard (an answer's words: every token of
   * every answer would otherwise be a notification with nobody listening), from the start. One
   * heard later follows an answer from the database, then from its next words.
   */
  onlyForPeers?: (event: unknown) => boolean;
  /** After how long without hearing another instance this one is alone (tests shorten it). */
  aloneAfterMs?: number;
  /** After how long without an answer to its first "here" a new instance is alone (tests shorten it). */
  answeredWithinMs?: number;
};

export type PeerBus = {
  /** Queues an event for every other instance; sent with the others queued in the same moment. */
  send(event: unknown): void;
  /** Resolves once this instance listens (events sent before then by others are not seen). */
  ready: Promise<void>;
  close(): Promise<void>;
};

export function openPeerBus({
  url,
  log,
  receive,
  resync,
  onlyForPeers,
  aloneAfterMs = ALONE_AFTER_MS,
  answeredWithinMs = ANSWERED_WITHIN_MS,
}: PeerBusOptions): PeerBus {
  const me = crypto.randomUUID();
  const writer = postgres(url, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: "parley-bus-send", jit: "off" },
  });
  let closed = false;

  // Sending: everything queued in one moment goes in one transaction, so many answers streaming
  // at once cost one commit per moment, not one per frame each.
  let queue: unknown[] = [];
  let sending: Promise<void> | undefined;
  let seq = 0;
  /** When another instance was last heard (any notification of its own, its "here" included). */
  let peerHeardAt = 0;
  /** When this instance's first "here" went out; undefined until it listens. */
  let greetedAt: number | undefined;
  /**
   * Alone, an instance sends nothing but its "here": every event would be a notification with
   * nobody listening (a single instance on Postgres notified, and heard back, every answer's
   * start and end). An instance it then hears may have tabs that missed some: the "here" it gets
   * says so, and its tabs read afresh. Only words are held back from the start: for the rest, a
   * new instance waits for the others to answer its first "here", as others may be there, unheard yet.
   */
  let silent = false;
  function send(event: unknown) {
    if (closed) return;
    const now = Date.now();
    if (!isHere(event) && now - peerHeardAt > aloneAfterMs) {
      if (onlyForPeers?.(event)) return;
      // Never waiting longer than being alone takes (tests shorten that one).
      if (greetedAt !== undefined && now - greetedAt > Math.min(answeredWithinMs, aloneAfterMs)) {
        silent = true;
        return;
      }
    }
    queue.push(event);
    sending ??= flush();
  }
  async function flush() {
    await Promise.resolve(); // let the rest of this moment's events join
    while (queue.length) {
      const batch = queue;
      queue = [];
      await deliver(batch);
    }
    sending = undefined;
  }
  async function deliver(batch: unknown[]) {
    const notifications = pack(batch.map((e) => JSON.stringify(e)));
    const first = seq + 1;
    seq += notifications.length;
    const head = (i: number) => `{"from":"${me}","seq":${first + i}`;
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        // Events too large for a notification are written first (rare: a long answer's end); a
        // crash before the notifications leaves rows nobody reads, swept later.
        const refs = await Promise.all(
          notifications.map(({ json, big }) =>
            big ? writer<{ id: string }[]>`insert into bus_events (payload) values (${json}) returning id` : undefined,
          ),
        );
        const payloads = notifications.map(({ json }, i) => {
          const ref = refs[i]?.[0]?.id;
          return ref === undefined ? `${head(i)},"events":${json}}` : `${head(i)},"ref":${ref}}`;
        });
        // One statement, one round trip, one commit for the whole batch: Postgres delivers one
        // transaction's notifications in the order they were made, which is the array's. Sent as
        // JSON, which is serialised natively: as a text[], the driver escaped it character by character.
        await writer`select pg_notify(${CHANNEL}, payload) from jsonb_array_elements_text(${writer.json(payloads)}) as payload`;
        return;
      } catch (err) {
        if (closed) return;
        if (Date.now() - started > RETRY_FOR_MS) {
          // Other instances see the gap in this sender's sequence and resynchronise their tabs.
          log.error("live events could not reach other instances; dropped", { events: batch.length, error: err });
          return;
        }
        log.warn("could not send live events to other instances; retrying", { attempt, error: err });
        await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }

  // Receiving: notifications are handled one after another, as one that refers to a row must be
  // read before the next is handled.
  const lastSeq = new Map<string, number>();
  let received: Promise<void> = Promise.resolve();
  const mine = `{"from":"${me}"`;
  function onNotify(payload: string) {
    if (payload.startsWith(mine)) return; // our own, heard back: not worth parsing
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload);
    } catch {
      log.warn("a notification that is not Parley's was ignored", { bytes: payload.length });
      return;
    }
    peerHeardAt = Date.now();
    received = received.then(async () => {
      const last = lastSeq.get(envelope.from);
      // A newcomer learns of this instance now rather than at the next "here"; after a silence,
      // every instance hears that it was (its silence ended above, with peerHeardAt).
      if (last === undefined || silent) {
        send(silent ? HERE_AFTER_SILENCE : HERE);
        silent = false;
      }
      lastSeq.set(envelope.from, envelope.seq);
      if (last !== undefined && envelope.seq !== last + 1) {
        log.warn("live events from another instance were missed; tabs resynchronise", { from: envelope.from });
        resync();
      }
      try {
        const events = envelope.events ?? (await readOverflow(envelope.ref));
        if (!events) resync();
        else {
          if (events.some(isAfterSilence)) resync();
          const theirs = events.filter((e) => !isHere(e));
          if (theirs.length) receive(theirs);
        }
      } catch (err) {
        log.error("live events from another instance could not be handled", { error: err });
        resync();
      }
    });
  }
  async function readOverflow(ref: number | undefined): Promise<unknown[] | undefined> {
    if (ref === undefined) return undefined;
    const [row] = await writer<{ payload: string }[]>`select payload from bus_events where id = ${ref}`;
    return row ? JSON.parse(row.payload) : undefined;
  }

  // The listening connection is ours rather than postgres.js's `listen`, which gives up for good
  // when re-listening fails once (the database still restarting).
  let listening = false;
  // Never recycled (postgres.js would by default every half hour or so): that would look like a
  // lost connection and make every tab resynchronise. onnotify is missing from postgres.js's types.
  const listenerOptions = {
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    onnotice: () => {},
    connection: { application_name: "parley-bus-listen" },
    onnotify: (channel: string, payload: string) => {
      if (channel === CHANNEL) onNotify(payload);
    },
    onclose: () => {
      if (closed || !listening) return;
      listening = false;
      log.warn("lost the connection that hears other instances; reconnecting");
      void listen();
    },
  };
  const listener = postgres(url, listenerOptions as unknown as postgres.Options<Record<string, never>>);
  let everListened = false;
  let listenAttempt: Promise<void> | undefined;
  function listen(): Promise<void> {
    listenAttempt ??= (async () => {
      for (let attempt = 1; !closed; attempt++) {
        try {
          await listener`listen ${listener(CHANNEL)}`;
          listening = true;
          if (everListened) {
            log.info("hearing other instances again; tabs resynchronise");
            // Whatever was sent meanwhile is lost to us; every sender starts a fresh sequence here.
            lastSeq.clear();
            resync();
          }
          everListened = true;
          return;
        } catch (err) {
          if (attempt === 1 || attempt % 10 === 0) log.warn("cannot listen for other instances yet", { error: err });
          await Bun.sleep(Math.min(2000, 100 * 2 ** attempt));
        }
      }
    })().finally(() => {
      listenAttempt = undefined;
    });
    return listenAttempt;
  }
  const ready = listen().then(() => {
    greetedAt = Date.now();
    send(HERE);
  });
  const here = setInterval(() => send(HERE), HERE_EVERY_MS);
  here.unref();

  // A connection cut without a word (a network that drops packets) is found by asking it something.
  const checker = setInterval(() => {
    if (!listening) return;
    listener`select 1`.catch(() => {
      if (!listening) return;
      listening = false;
      void listen();
    });
  }, CHECK_MS);
  checker.unref();
  const sweeper = setInterval(() => {
    writer`delete from bus_events where created_at < now() - ${OVERFLOW_KEEP}::interval`.catch((err) =>
      log.warn("could not delete old live events", { error: err }),
    );
  }, SWEEP_MS);
  sweeper.unref();

  return {
    send,
    ready,
    async close() {
      // The last events (answers ended by the shutdown) go out, unless the database is gone.
      await Promise.race([sending, Bun.sleep(CLOSE_WAIT_MS)]);
      closed = true;
      clearInterval(here);
      clearInterval(checker);
      clearInterval(sweeper);
      await Promise.all([writer.end({ timeout: 1 }), listener.end({ timeout: 1 })]);
    },
  };
}

/**
 * Groups serialised events into as few notifications as fit, in order; an event too large for any
 * notification travels alone, through bus_events (`big`).
 */
export function pack(events: string[]): { json: string; big: boolean }[] {
  const room = MAX_NOTIFICATION_BYTES - 100; // the envelope's sender and sequence
  const out: { json: string; big: boolean }[] = [];
  let group: string[] = [];
  let bytes = 2;
  const close = () => {
    if (group.length) out.push({ json: `[${group.join(",")}]`, big: false });
    group = [];
    bytes = 2;
  };
  for (const event of events) {
    const size = Buffer.byteLength(event) + 1;
    if (size + 2 > room) {
      close();
      out.push({ json: `[${event}]`, big: true });
      continue;
    }
    if (bytes + size > room) close();
    group.push(event);
    bytes += size;
  }
  close();
  return out;
}
