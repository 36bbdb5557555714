import { audit } from "../audit/log.ts";
import type { Database } from "../db/client.ts";
import type { User } from "../db/schema.ts";
import { MAX_KEY_NAME, MAX_KEYS_PER_PERSON } from "../limits.ts";
import * as repo from "./repo.ts";

export type { KeySummary } from "./types.ts";

/** `pk_` and 32 random bytes (256 bits) in base64url: what a person pastes into another tool. */
const TOKEN = /^pk_[A-Za-z0-9_-]{43}$/;
const TOKEN_BYTES = 32;
/** What the list shows of a key, enough to tell keys apart: `pk_` and four characters. */
const PREFIX_LENGTH = 7;
/** A key's last use is written at most this often: not a write per request. */
const TOUCH_EVERY_MS = 60_000;

const hashToken = (token: string) => new Bun.CryptoHasher("sha256").update(token).digest("hex");

/** A refusal the person reads, with the status it is sent with. */
export class KeyError extends Error {
  constructor(
    message: string,
    readonly status = 422,
  ) {
    super(message);
  }
}

/** Why a request's key was not accepted: always a sentence for the tool's log. */
export type KeyRefusal = { refused: string };
export type KeyHolder = { keyId: string; userId: string };

/** The name as given, or the sentence that says what is wrong with it. */
function keyName(raw: unknown): string {
  const name = typeof raw === "string" ? raw.trim() : "";
  if (!name) throw new KeyError("Give the key a name, such as the editor or script that will use it.");
  if (name.length > MAX_KEY_NAME) throw new KeyError(`A key's name can be at most ${MAX_KEY_NAME} characters.`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is the point
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new KeyError("A key's name must be one line of text.");
  return name;
}

/** Personal API keys: made (the token returned this once), listed, revoked, and checked on each /v1 request. */
export function createKeyService({ database }: { database: Database }) {
  const { db } = database;
  return {
    list: (userId: string) => repo.liveKeys(db, userId),

    /** A new key for this person; throws KeyError with a sentence when refused. */
    async create(user: Pick<User, "id" | "username">, rawName: unknown, ip?: string) {
      const name = keyName(rawName);
      const token = `pk_${Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url")}`;
      const made = await repo.insertKey(
        db,
        { userId: user.id, name, tokenHash: hashToken(token), prefix: token.slice(0, PREFIX_LENGTH) },
        MAX_KEYS_PER_PERSON,
      );
      if (made === "too-many") {
        throw new KeyError(
          `You have ${MAX_KEYS_PER_PERSON} keys, the most one person may have: revoke one you no longer use first.`,
        );
      }
      if (made === "name-taken") throw new KeyError(`You already have a key named “${name}”: choose another name.`);
      await audit(db, {
        actorId: user.id,
        actorName: user.username,
        action: "key.create",
        target: `key ${name}`,
        detail: { keyId: made.id, prefix: made.prefix },
        ip,
      });
      return { key: made, token };
    },

    /** Revokes one of this person's keys; false when there is no such live key of theirs. */
    async revoke(user: Pick<User, "id" | "username">, keyId: unknown, ip?: string): Promise<boolean> {
      const name = await repo.revokeKey(db, user.id, keyId);
      if (name === undefined) return false;
      await audit(db, {
        actorId: user.id,
        actorName: user.username,
        action: "key.revoke",
        target: `key ${name}`,
        detail: { keyId },
        ip,
      });
      return true;
    },

    /**
     * Who a request's `Authorization: Bearer` token belongs to, or why it is refused. Notes the
     * key's use (at most once a minute).
     */
    async authenticate(token: string): Promise<KeyHolder | KeyRefusal> {
      const unknown = {
        refused: "This API key is not one Parley knows: check that it was copied whole, or create a new one.",
      };
      if (!TOKEN.test(token)) return unknown;
      const key = await repo.keyByHash(db, hashToken(token));
      if (!key) return unknown;
      if (key.revokedAt) return { refused: `This API key (“${key.name}”) was revoked: create a new one.` };
      if (key.userDisabledAt) return { refused: "The account this API key belongs to is disabled." };
      if (!key.lastUsedAt || Date.now() - key.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
        await repo.touchKey(db, key.id, TOUCH_EVERY_MS);
      }
      return { keyId: key.id, userId: key.userId };
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
