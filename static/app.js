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
  // A search result opens the chat at its message (#msg-…): show it, and do not follow the
  // stream until the reader scrolls to the bottom themselves. Done again after the socket's
  // first resync, which swaps the live part of the transcript in again.
  let showTarget = location.hash.startsWith("#msg-");
  const scrollToTarget = () => {
    const el = showTarget && document.getElementById(location.hash.slice(1));
    if (!el) return;
    followStream = false;
    el.dataset.found = "";
    el.scrollIntoView({ block: "center" });
  };

  document.addEventListener("htmx:wsAfterMessage", (event) => {
    scrollToTarget();
    if (String(event.detail?.message).includes('id="transcript-live"')) showTarget = false;
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

  // With several instances, a tab that caught up from the database may already hold messages
  // whose announcement from another instance arrives after: each message appears once.
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const { target, fragment } = event.detail ?? {};
    if (target?.id !== "transcript-live" || !fragment?.children) return;
    for (const el of [...fragment.children]) {
      if (el.id && el.id !== target.id && document.getElementById(el.id)) el.remove();
    }
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
  // The composer's status line as the server renders an error (views/components/composer.tsx).
  const composerError = (text) => {
    const status = document.getElementById("composer-status");
    if (!status) return;
    status.dataset.kind = "error";
    status.setAttribute("role", "alert");
    status.classList.remove("text-zinc-500", "dark:text-zinc-400");
    status.classList.add("text-red-700", "dark:text-red-400");
    status.textContent = text;
  };
  document.addEventListener("htmx:wsClose", (event) => {
    // 4029: this person has too many tabs connected (SOCKETS_PER_PERSON). htmx-ext-ws does not
    // reconnect, so "reconnecting" would not be true; the reason says what to do.
    if (event.detail?.event?.code === 4029) return composerError(event.detail.event.reason);
    connection(false);
    // 4001: this session ended (signed out here or elsewhere, password changed): go sign in.
    if (event.detail?.event?.code === 4001) return location.assign("/signin");
    // 1009: a frame over the server's limit (the composer's maxlength keeps typed text under it).
    if (event.detail?.event?.code === 1009) {
      composerError("That was too large to send; shorten it, then reload the page to reconnect.");
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

  // Copy: a message's Markdown source (an answer's is in its <template data-source>, a user
  // message's is its text), a code block's code, or the value of the field a button names (the
  // share dialog's new link). The Clipboard API exists only in a secure context (https, or
  // localhost/127.0.0.1); over plain http elsewhere the older select-and-copy is the only way left.
  const copyText = async (text) => {
    if (navigator.clipboard?.writeText) return navigator.clipboard.writeText(text);
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "fixed -left-[9999px]";
    const back = document.activeElement;
    document.body.append(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    if (back instanceof HTMLElement) back.focus();
    if (!done) throw new Error("copy refused");
  };
  document.addEventListener("click", (event) => {
    const button =
      event.target instanceof Element ? event.target.closest("[data-copy], [data-copy-code], [data-copy-field]") : null;
    if (!button) return;
    const article = button.closest("article");
    const field = button.dataset.copyField ? document.getElementById(button.dataset.copyField) : null;
    const text = field
      ? (field.value ?? "")
      : button.hasAttribute("data-copy-code")
        ? (button.parentElement?.querySelector("pre")?.textContent ?? "").replace(/\n$/, "")
        : (article?.querySelector("template[data-source]")?.content.textContent ??
          article?.querySelector("[data-body]")?.textContent ??
          "");
    const label = button.dataset.label ?? button.textContent;
    button.dataset.label = label;
    copyText(text).then(
      () => (button.textContent = "Copied"),
      () => (button.textContent = "Could not copy"),
    );
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(() => (button.textContent = label), 1500);
  });

  // Each code block of a finished answer gets its own Copy button. Added here rather than in the
  // stored HTML; not while an answer streams, as frames append into its last block.
  const codeButtons = (root) => {
    for (const pre of root.querySelectorAll("article:not([data-status=streaming]) .markdown pre")) {
      if (pre.parentElement?.classList.contains("code-block")) continue;
      const box = document.createElement("div");
      box.className = "code-block relative";
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.copyCode = "";
      button.setAttribute("aria-live", "polite");
      button.className =
        "absolute top-1.5 right-1.5 rounded border border-zinc-300 bg-white/90 px-1.5 py-0.5 text-xs text-zinc-600 hover:text-zinc-900 dark:border-zinc-700 dark:bg-zinc-800/90 dark:text-zinc-300 dark:hover:text-white";
      button.textContent = "Copy code";
      pre.replaceWith(box);
      box.append(pre, button);
    }
  };
  document.addEventListener("htmx:load", (event) =>
    codeButtons(event.target instanceof Element ? event.target : document),
  );

  // Keyboard shortcuts, listed in the #shortcuts dialog (which only the chat pages have). Keys that
  // type (/ and ?) wait until focus leaves a text box; Ctrl/Cmd combinations work anywhere.
  const mac = /mac|iphone|ipad/i.test(navigator.userAgentData?.platform ?? navigator.platform);
  const typingIn = (el) => el instanceof HTMLElement && (el.isContentEditable || el.matches("input, textarea, select"));
  const focusComposer = () => {
    const box = textarea();
    box?.focus();
    box?.setSelectionRange(box.value.length, box.value.length);
  };
  document.addEventListener("keydown", (event) => {
    const help = document.getElementById("shortcuts");
    if (!help || help.open || event.isComposing || event.defaultPrevented) return;
    const mod = mac ? event.metaKey && !event.ctrlKey : event.ctrlKey && !event.metaKey;
    const key = event.key.toLowerCase();
    const typing = typingIn(event.target);
    if (mod && event.shiftKey && !event.altKey && key === "o") {
      event.preventDefault();
      location.assign("/");
    } else if (mod && !event.shiftKey && !event.altKey && key === "k") {
      // The search box, where there is one; otherwise the browser keeps its own Ctrl/Cmd+K.
      const search = document.getElementById("search");
      if (!search) return;
      event.preventDefault();
      search.focus();
      search.select?.();
    } else if (event.key === "Escape" && event.shiftKey) {
      event.preventDefault();
      focusComposer();
    } else if (event.key === "Escape" && !mod && !event.altKey) {
      // Stop, from the page or the message box; Esc in another box (rename, search) is its own.
      if (typing && event.target !== textarea()) return;
      const stop = document
        .querySelector("#composer-controls input[name=action][value=stop]")
        ?.form?.querySelector("button");
      if (!stop) return;
      event.preventDefault();
      stop.click();
    } else if (typing || mod || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    } else if (event.key === "/") {
      event.preventDefault();
      focusComposer();
    } else if (event.key === "?") {
      event.preventDefault();
      help.showModal();
    }
  });
  document.addEventListener("click", (event) => {
    const help = document.getElementById("shortcuts");
    if (!(help instanceof HTMLDialogElement)) return;
    if (event.target instanceof Element && event.target.closest("[data-open-shortcuts]")) help.showModal();
    // A click on the backdrop lands on the dialog itself (its content fills the box): close.
    else if (event.target === help) help.close();
  });
  const macKeys = () => {
    if (mac) for (const el of document.querySelectorAll("kbd[data-mod]")) el.textContent = "Cmd";
  };

  document.addEventListener("DOMContentLoaded", () => {
    macKeys();
    localTimes(document);
    scrollToTarget();
    stickToBottom();
  });
})();
