import { Elysia } from "elysia";
import type { Config } from "../config.ts";
import { errorPage } from "./errors.ts";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * Which Host names this site answers to. The check stops DNS rebinding: a page of
 * attacker.example whose name is then pointed at this server (often a laptop or a LAN box behind
 * no firewall) is, to the browser, the same origin as this server, so its requests pass the Origin
 * check and could create the admin on a fresh install or read /metrics. They carry
 * `Host: attacker.example`, which is what gives them away. A rebinding attack needs a DNS name the
 * attacker controls, so IP literals and loopback names are never one:
 * - PUBLIC_URL set: its host name, and loopback (localhost, 127.x.x.x, [::1]) for whoever runs
 *   the server on its own machine or a proxy beside it. Any other name or address is a mistake
 *   that would only lead to a session cookie the browser refuses (PUBLIC_URL decides Secure).
 * - PUBLIC_URL unset: localhost and any IP literal, since people reach an unconfigured install
 *   by its address on their network; a name needs PUBLIC_URL.
 */
export function hostAllowed(publicUrl: string | undefined): (hostname: string) => boolean {
  const named = publicUrl ? new URL(publicUrl).hostname : undefined;
  return (raw) => {
    const host = raw.replace(/\.$/, "");
    if (host === "localhost" || host === "[::1]" || (IPV4.test(host) && host.startsWith("127."))) return true;
    if (named) return host === named;
    return IPV4.test(host) || host.startsWith("[");
  };
}

/**
 * Refuses requests sent to any other Host with 421 and a sentence for the operator. Health checks
 * are exempt: load balancers and orchestrators ask them by a pod's address or a service's name,
 * and they tell nothing and change nothing. So is /metrics when METRICS_TOKEN is set: Prometheus
 * scrapes by such names too, and the token, which a rebinding page cannot know, guards it.
 */
export function allowedHosts(config: Config) {
  const allowed = hostAllowed(config.publicUrl);
  const exempt = new Set(["/healthz", "/readyz", ...(config.metricsToken ? ["/metrics"] : [])]);
  const sentence = config.publicUrl
    ? `This Parley answers at ${config.publicUrl} (its PUBLIC_URL); open it there, or if people reach it by another address, its operator sets PUBLIC_URL to that.`
    : "This Parley answers only to IP addresses and localhost until its operator sets PUBLIC_URL to the address people use (such as https://chat.example.com).";
  return new Elysia({ name: "allowed-hosts" }).onRequest(async ({ request }) => {
    const url = new URL(request.url);
    if (allowed(url.hostname) || exempt.has(url.pathname)) return;
    const html = (request.headers.get("accept") ?? "").includes("text/html");
    // Unstyled: the stylesheet, asked for at this same wrong address, would be refused too.
    return new Response(html ? await errorPage(421, sentence) : `${sentence}\n`, {
      status: 421,
      headers: { "content-type": html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8" },
    });
  });
}
