// Parley's only script of its own: small behaviours htmx cannot express without eval (which the
// Content-Security-Policy forbids). Everything else is server-rendered HTML swapped in by htmx.
(() => {
  const composer = () => document.querySelector("form[data-composer]");
  const textarea = () => document.getElementById("message");
  const transcript = () => document.getElementById("transcript");
  let lastSent = "";

  // Enter sends, Shift+Enter makes a new line (and an IME composition is left alone).
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || target.id !== "message") return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (target.value.trim() === "") return;
    // Sent even while an answer streams: the server then says why it cannot take it yet.
    composer()?.requestSubmit();
  });

  // The textarea grows with its text, up to its max height.
  const grow = (el) => {
    el.style.height = "auto";
    el.style.height = `${el.scrollHeight}px`;
  };
  document.addEventListener("input", (event) => {
    if (event.target instanceof HTMLTextAreaElement && event.target.id === "message") grow(event.target);
  });

  // After a send over the socket, clear the box; if the server refuses, put the text back.
  document.addEventListener("htmx:wsAfterSend", (event) => {
    const form = event.detail?.elt;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer")) return;
    const box = textarea();
    if (!box) return;
    lastSent = box.value;
    box.value = "";
    grow(box);
    followStream = true;
  });

  // Follow the stream while the reader is at the bottom; stop following once they scroll up.
  let followStream = true;
  document.addEventListener(
    "scroll",
    (event) => {
      const el = event.target;
      if (el instanceof HTMLElement && el.id === "transcript") {
        followStream = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
      }
    },
    true,
  );
  const stickToBottom = () => {
    const el = transcript();
    if (el && followStream) el.scrollTop = el.scrollHeight;
  };

  document.addEventListener("htmx:wsAfterMessage", () => {
    stickToBottom();
    const status = document.getElementById("composer-status");
    const box = textarea();
    if (status?.dataset.kind === "error" && box && box.value === "" && lastSent) {
      box.value = lastSent;
      grow(box);
    }
    lastSent = "";
    localTimes(document);
    markCurrentChat();
  });

  // The chat list is pushed alike to every tab; each marks the chat it shows.
  const markCurrentChat = () => {
    for (const link of document.querySelectorAll("#chat-nav a")) {
      if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  };

  // Times arrive in UTC; show them in the reader's locale and time zone.
  const localTimes = (root) => {
    for (const el of root.querySelectorAll("time[datetime]:not([data-local])")) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      el.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      el.title = date.toString();
      el.dataset.local = "";
    }
  };
  document.addEventListener("htmx:load", (event) => localTimes(event.detail?.elt ?? document));

  // Say so while the socket is down; htmx-ext-ws reconnects with backoff by itself.
  const connection = (up) => document.getElementById("connection-status")?.classList.toggle("hidden", up);
  document.addEventListener("htmx:wsClose", (event) => {
    connection(false);
    // 4001: this session ended (signed out here or elsewhere, password changed): go sign in.
    if (event.detail?.event?.code === 4001) return location.assign("/signin");
    // 1009: a frame over the server's limit (the composer's maxlength keeps typed text under it).
    if (event.detail?.event?.code === 1009) {
      const status = document.getElementById("composer-status");
      if (status) {
        status.dataset.kind = "error";
        status.textContent = "That was too large to send; shorten it, then reload the page to reconnect.";
      }
    }
    // A socket refused at the door (1006) may mean the session expired while the tab slept:
    // /signin answers 200 only to someone signed out (it redirects anyone signed in).
    if (event.detail?.event?.code === 1006) {
      fetch("/signin", { redirect: "manual" })
        .then((res) => res.status === 200 && location.assign("/signin"))
        .catch(() => {});
    }
  });
  document.addEventListener("htmx:wsError", () => connection(false));
  document.addEventListener("htmx:wsOpen", () => connection(true));

  // "New chat" is a real button in a form (it works without this script); go to "/" rather
  // than the "/?" a field-less GET form would leave in the address bar.
  document.addEventListener("submit", (event) => {
    if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-new-chat")) {
      event.preventDefault();
      location.assign("/");
    }
  });

  // A popover form (Rename) closes once its request succeeded.
  document.addEventListener("htmx:afterRequest", (event) => {
    const details = event.detail?.elt?.closest?.("details");
    if (details && event.detail.successful) details.open = false;
  });

  // The phone layout's menu button shows and hides the chat list.
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-toggle=sidebar]") : null;
    if (!button) return;
    const sidebar = document.getElementById("sidebar");
    const open = sidebar?.classList.toggle("hidden") === false;
    sidebar?.classList.toggle("flex", open);
    button.setAttribute("aria-expanded", String(open));
  });

  document.addEventListener("DOMContentLoaded", () => {
    localTimes(document);
    stickToBottom();
  });
})();
