import * as oidc from "openid-client";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";

/**
 * Parley as a client of the OpenID provider: discovery, the authorization code flow with PKCE,
 * `state` and `nonce`, and the ID token's checks (issuer, audience, expiry, signature from the
 * provider's JWKS) are all openid-client's; this file only asks and names what went wrong.
 */

/** Why a sign-in with the provider failed; each has its sentence (see sso/words.ts). */
export type SsoFailure =
  | "unreachable"
  | "setup"
  | "secret"
  | "refused"
  | "provider"
  | "state"
  | "code"
  | "audience"
  | "expired"
  | "keys"
  | "token";

export class SsoError extends Error {
  constructor(
    readonly reason: SsoFailure,
    /** What the provider said, if anything (its error_description), for the log and the page. */
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`single sign-on failed: ${reason}${detail ? ` (${detail})` : ""}`, options);
  }
}

/** What the browser carries between leaving for the provider and coming back (see sso/routes.ts). */
export type Flow = {
  state: string;
  nonce: string;
  verifier: string;
  /** Where to go once signed in (a path of this site). */
  next: string;
  /** Linking the provider's account to the signed-in person, rather than signing in. */
  link: boolean;
};

export type Claims = Record<string, unknown> & { sub: string; iss: string };

const TIMEOUT_SECONDS = 10;

export function createSsoClient(config: Config, log: Logger) {
  const issuer = config.oidcIssuer!;
  const insecure = issuer.startsWith("http:");
  if (insecure) log.warn("OIDC_ISSUER is plain http: use https unless the provider is on this machine or network");
  const options = { timeout: TIMEOUT_SECONDS, execute: insecure ? [oidc.allowInsecureRequests] : [] };
  let discovered: Promise<oidc.Configuration> | undefined;

  /** The provider's metadata, fetched once; a failure is not kept, so the next sign-in asks again. */
  function configuration(): Promise<oidc.Configuration> {
    discovered ??= oidc
      .discovery(
        new URL(issuer),
        config.oidcClientId!,
        undefined,
        config.oidcClientSecret ? oidc.ClientSecretPost(config.oidcClientSecret) : oidc.None(),
        options,
      )
      .then((server) => {
        // The ID token's signature too, from the provider's JWKS: openid-client skips it by
        // default for a token fetched straight from the provider (OIDC Core 3.1.3.7), and the
        // provider may be reached over plain http (see OIDC_ISSUER's warning).
        oidc.enableNonRepudiationChecks(server);
        return server;
      })
      .catch((err) => {
        discovered = undefined;
        // Not answering at all, or answering with something other than this issuer's OpenID configuration.
        const away =
          err instanceof TypeError || ["OAUTH_TIMEOUT", "OAUTH_ABORT"].includes((err as { code?: string }).code ?? "");
        throw new SsoError(away ? "unreachable" : "setup", away ? undefined : String((err as Error).message), {
          cause: err,
        });
      });
    return discovered;
  }

  return {
    /** The provider's authorization URL to send the browser to, and what it must bring back. */
    async begin(redirectUri: string, next: string, link: boolean): Promise<{ url: URL; flow: Flow }> {
      const server = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const flow = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, next, link };
      const url = oidc.buildAuthorizationUrl(server, {
        redirect_uri: redirectUri,
        scope: config.oidcScopes,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: flow.state,
        nonce: flow.nonce,
      });
      return { url, flow };
    },

    /**
     * The provider sent the browser back: the code is exchanged and the ID token checked, then
     * the claims are completed from userinfo (providers put groups in either). Throws SsoError.
     */
    async finish(callback: URL, flow: Flow, redirectUri: string): Promise<Claims> {
      const params = callback.searchParams;
      // Checked here first, so that a forged or stale return is named as such.
      if (params.get("state") !== flow.state) throw new SsoError("state");
      const error = params.get("error");
      if (error) {
        const detail = params.get("error_description")?.slice(0, 200) ?? error;
        throw new SsoError(error === "access_denied" ? "refused" : "provider", detail);
      }
      const server = await configuration();
      try {
        const tokens = await oidc.authorizationCodeGrant(
          server,
          callback,
          {
            pkceCodeVerifier: flow.verifier,
            expectedState: flow.state,
            expectedNonce: flow.nonce,
            idTokenExpected: true,
          },
          // Named rather than read from the URL the request came in at: behind a proxy that differs.
          { redirect_uri: redirectUri },
        );
        const claims = tokens.claims() as Claims;
        if (!server.serverMetadata().userinfo_endpoint) return claims;
        const more = await oidc.fetchUserInfo(server, tokens.access_token, claims.sub);
        return { ...more, ...claims };
      } catch (err) {
        throw classify(err);
      }
    },

    /** The provider's sign-out page (RP-initiated logout), or undefined if it offers none. */
    async signOutUrl(returnTo: string): Promise<URL | undefined> {
      const server = await configuration();
      if (!server.serverMetadata().end_session_endpoint) return undefined;
      return oidc.buildEndSessionUrl(server, { client_id: config.oidcClientId!, post_logout_redirect_uri: returnTo });
    },
  };
}

export type SsoClient = ReturnType<typeof createSsoClient>;

/** openid-client's errors, named by what a person or an admin can do about them. */
function classify(err: unknown): SsoError {
  if (err instanceof SsoError) return err;
  if (err instanceof oidc.ResponseBodyError) {
    if (err.error === "invalid_client") return new SsoError("secret", err.error_description, { cause: err });
    if (err.error === "invalid_grant") return new SsoError("code", err.error_description, { cause: err });
    return new SsoError("provider", err.error_description ?? err.error, { cause: err });
  }
  if (err instanceof TypeError) return new SsoError("unreachable", undefined, { cause: err });
  if (err instanceof oidc.ClientError) {
    const inner = (err.cause as { cause?: { claim?: string } } | undefined)?.cause;
    switch (err.code) {
      case "OAUTH_TIMEOUT":
      case "OAUTH_ABORT":
        return new SsoError("unreachable", undefined, { cause: err });
      case "OAUTH_RESPONSE_IS_NOT_CONFORM":
      case "OAUTH_RESPONSE_IS_NOT_JSON":
        // A proxy's error page or a provider falling over: it is not answering as it should.
        return new SsoError("unreachable", undefined, { cause: err });
      case "OAUTH_JWT_CLAIM_COMPARISON_FAILED":
        if (inner?.claim === "aud") return new SsoError("audience", undefined, { cause: err });
        if (inner?.claim === "nonce") return new SsoError("state", undefined, { cause: err });
        return new SsoError("token", `its ${inner?.claim ?? "claims"} did not match`, { cause: err });
      case "OAUTH_JWT_TIMESTAMP_CHECK_FAILED":
        return new SsoError("expired", undefined, { cause: err });
      case "OAUTH_KEY_SELECTION_FAILED":
        return new SsoError("keys", undefined, { cause: err });
    }
  }
  return new SsoError("token", undefined, { cause: err });
}
