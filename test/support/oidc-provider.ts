import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { decodeJwt, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import Provider from "oidc-provider";

/**
 * A real OpenID provider in the test process: oidc-provider (the certified implementation), with
 * its development login and consent pages (any password is accepted for a known login), Parley
 * as a confidential client, and people the tests define. Only what a test must provoke is
 * adjustable: how long a code lives, the signing key (rotated), and a provider that sends an ID
 * token for another audience (signed with its real key).
 */

export type ProviderPerson = {
  sub: string;
  preferred_username?: string;
  email?: string;
  name?: string;
  groups?: string[];
};

export const CLIENT_ID = "parley";
export const CLIENT_SECRET = "parley-test-client-secret";

export type TestProvider = {
  issuer: string;
  /** People by their login at the provider. */
  people: Map<string, ProviderPerson>;
  /** Lets a Parley at this URL use the provider (its callback and sign-out return are registered). */
  register(parleyUrl: string): Promise<void>;
  /** A new signing key replaces the old one (published and used at once, as a hasty rotation does). */
  rotateKeys(): Promise<void>;
  /** The kid the provider signs with now. */
  kid(): string;
  /** Seconds a code lives (the provider's default is 60). */
  codeSeconds: number;
  /** Set: ID tokens are issued for this audience instead of Parley's. */
  audience: string | undefined;
  /** The token endpoint's requests, counted: a replayed code still reaches it. */
  tokenRequests: number;
  /**
   * Set: the provider does not send the browser back to Parley but shows the return URL on a page
   * (`#held`), as if the browser stopped there: a test can then change it, delay it or repeat it.
   */
  holdReturns: boolean;
  stop(): Promise<void>;
};

async function signingKey(): Promise<{ jwk: JWK; key: CryptoKey }> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: crypto.randomUUID(), alg: "RS256", use: "sig" };
  return { jwk, key: privateKey as CryptoKey };
}

export async function startOidcProvider(): Promise<TestProvider> {
  let handler: ((req: never, res: never) => void) | undefined;
  const http = createServer((req, res) => {
    if (handler) handler(req as never, res as never);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const parleys = new Set<string>();
  let signing = await signingKey();

  const state: TestProvider = {
    issuer,
    people: new Map(),
    codeSeconds: 60,
    audience: undefined,
    tokenRequests: 0,
    holdReturns: false,
    kid: () => signing.jwk.kid!,
    async register(parleyUrl) {
      parleys.add(parleyUrl);
      build();
    },
    async rotateKeys() {
      signing = await signingKey();
      build();
    },
    stop: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };

  function build() {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [...parleys].map((url) => `${url}/auth/oidc/callback`),
          post_logout_redirect_uris: [...parleys].map((url) => `${url}/signin?done=signed-out`),
          token_endpoint_auth_method: "client_secret_post",
        },
      ],
      jwks: { keys: [signing.jwk] },
      // Authentik's way: the groups come with the profile scope.
      claims: { openid: ["sub"], profile: ["preferred_username", "name", "groups"], email: ["email"] },
      // Each set, or the provider prints a notice for each in every test run.
      ttl: {
        AuthorizationCode: () => state.codeSeconds,
        AccessToken: 3600,
        IdToken: 3600,
        Interaction: 3600,
        Session: 86_400,
        Grant: 86_400,
      },
      cookies: { keys: ["a test provider's cookie key"] },
      async findAccount(_ctx, id) {
        // The development login page names the account by the login typed; its claims carry the person's own sub.
        const person = state.people.get(id);
        if (!person) return undefined;
        return { accountId: id, claims: async () => ({ ...person }) };
      },
    });
    // Its own failures would otherwise be only "oops! something went wrong" on a page.
    provider.on("server_error", (_ctx: unknown, err: unknown) =>
      console.error("the test OpenID provider failed:", err),
    );
    provider.use(async (ctx, next) => {
      if (ctx.path === "/token") state.tokenRequests++;
      await next();
      const location = String(ctx.response.get("location") ?? "");
      if (state.holdReturns && location.includes("/auth/oidc/callback")) {
        ctx.remove("location");
        ctx.status = 200;
        ctx.type = "html";
        ctx.body = `<p id="held">${location.replaceAll("&", "&amp;").replaceAll("<", "&lt;")}</p>`;
        return;
      }
      const body = ctx.body as { id_token?: string } | undefined;
      if (ctx.path === "/token" && state.audience && body?.id_token) {
        const claims = decodeJwt(body.id_token);
        ctx.body = {
          ...body,
          id_token: await new SignJWT({ ...claims, aud: state.audience })
            .setProtectedHeader({ alg: "RS256", kid: signing.jwk.kid })
            .sign(signing.key),
        };
      }
    });
    handler = provider.callback() as never;
  }
  return state;
}

/** Cookies by origin, as a browser keeps them (paths and expiry beyond Max-Age=0 ignored: tests are short). */
export class CookieJar {
  private jars = new Map<string, Map<string, string>>();
  take(url: string, res: Response) {
    const jar = this.jars.get(new URL(url).origin) ?? new Map<string, string>();
    this.jars.set(new URL(url).origin, jar);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (/max-age=0/i.test(line) || !value) jar.delete(name);
      else jar.set(name, value);
    }
  }
  header(url: string): string {
    return [...(this.jars.get(new URL(url).origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  get(url: string, name: string): string | undefined {
    return this.jars.get(new URL(url).origin)?.get(name);
  }
  set(url: string, name: string, value: string) {
    const jar = this.jars.get(new URL(url).origin) ?? new Map<string, string>();
    this.jars.set(new URL(url).origin, jar);
    jar.set(name, value);
  }
}

/** One request as a browser makes it: the jar's cookies in, Set-Cookie into the jar, redirects not followed. */
export async function browse(jar: CookieJar, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set("cookie", cookie);
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  jar.take(url, res);
  return res;
}

const formAction = (html: string) => /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");

/**
 * A person at the provider's pages, without a browser: from `start` (a URL that sends the browser
 * to the provider), through its login (as `login`) and consent (given or refused), until the
 * provider sends the browser back to `until`. Answers that URL, not yet followed.
 */
export async function throughProvider(
  jar: CookieJar,
  start: string,
  opts: { login: string; consent?: "give" | "refuse"; until: string; init?: RequestInit },
): Promise<string> {
  let url = start;
  let init: RequestInit = opts.init ?? {};
  for (let hop = 0; hop < 20; hop++) {
    const res = await browse(jar, url, init);
    init = {};
    const location = res.headers.get("location");
    if (location) {
      const next = new URL(location, url).href;
      if (next.startsWith(opts.until)) return next;
      url = next;
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`the provider answered ${res.status} at ${url}: ${html.slice(0, 300)}`);
    const action = formAction(html);
    if (!action) throw new Error(`no form on the provider's page at ${url}: ${html.slice(0, 300)}`);
    const target = new URL(action, url).href;
    if (html.includes('name="login"')) {
      url = target;
      init = { method: "POST", body: new URLSearchParams({ prompt: "login", login: opts.login, password: "any" }) };
    } else if (html.includes('value="consent"')) {
      if (opts.consent === "refuse") {
        const abort = /href="([^"]*\/abort)"/.exec(html)?.[1];
        if (!abort) throw new Error("the consent page has no way to refuse");
        url = new URL(abort, url).href;
      } else {
        url = target;
        init = { method: "POST", body: new URLSearchParams({ prompt: "consent" }) };
      }
    } else if (html.includes('name="logout"')) {
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
      url = target;
      init = { method: "POST", body: new URLSearchParams({ xsrf, logout: "yes" }) };
    } else {
      throw new Error(`an unexpected page at the provider (${url}): ${html.slice(0, 300)}`);
    }
  }
  throw new Error(`the provider never sent the browser back to ${opts.until}`);
}
