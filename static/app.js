// Parley's only script of its own: small behaviours htmx cannot express without eval (which the
// Content-Security-Policy forbids). Everything else is server-rendered HTML swapped in by htmx.
(() => {
  const composer = () => document.querySelector("form[data-composer]");
  const textarea = () => document.getElementById("message");
  const transcript = () => document.getElementById("transcript");
  let lastSent = "";

  // Enter sends, Shift+Enter makes a new line (and an IME composition is left alone): in the
  // message box and in a message's edit box alike.
  const editForm = (el) => (el instanceof HTMLTextAreaElement ? el.closest("form[data-edit-form]") : null);
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    const edit = editForm(target);
    if (!(target instanceof HTMLTextAreaElement) || (target.id !== "message" && !edit)) return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    if (target.required && target.value.trim() === "") return;
    // Sent even while an answer streams: the server then says why it cannot take it yet.
    (edit ?? composer())?.requestSubmit();
  });

  // An edit's Cancel (a reset button: it puts the message's words back) also closes the editor,
  // as Esc in the edit box does; focus goes back to its Edit.
  const closeEdit = (form) => {
    const details = form.closest("details[data-edit]");
    if (!details) return;
    details.open = false;
    details.querySelector("summary")?.focus();
  };
  document.addEventListener("reset", (event) => {
    if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-edit-form")) {
      closeEdit(event.target);
    }
  });
  document.addEventListener("keydown", (event) => {
    const edit = editForm(event.target);
    if (!edit || event.key !== "Escape" || event.isComposing) return;
    event.preventDefault();
    edit.reset();
  });
  // Opening an editor puts the cursor at the end of the words.
  document.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (!(details instanceof HTMLDetailsElement) || !details.open || !details.hasAttribute("data-edit")) return;
      const box = details.querySelector("textarea");
      box?.focus();
      box?.setSelectionRange(box.value.length, box.value.length);
    },
    true,
  );

  // "Thinking… 3 s": the seconds count on from what the server measured when it sent them. The
  // thinking collapses once the answer begins (its summary then says "Thought for N s").
  const thinkingSince = new WeakMap();
  const tickThinking = () => {
    for (const el of document.querySelectorAll("[data-thinking-ms]")) {
      if (!thinkingSince.has(el)) thinkingSince.set(el, Date.now() - Number(el.dataset.thinkingMs));
      el.textContent = `${Math.floor((Date.now() - thinkingSince.get(el)) / 1000)} s`;
    }
    for (const details of document.querySelectorAll("details[data-thinking][data-live]")) {
      if (!details.querySelector("summary[data-thought]")) continue;
      details.open = false;
      delete details.dataset.live;
    }
  };
  setInterval(tickThinking, 1000);

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
    showTarget = false;
  });

  // Follow the stream while the reader is at the bottom; stop following once they scroll up, and
  // offer "Jump to latest" until they are back.
  let followStream = true;
  const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  const jumpButton = () => {
    const el = transcript();
    const jump = document.getElementById("jump-latest");
    if (el && jump) jump.hidden = atBottom(el);
  };
  document.addEventListener(
    "scroll",
    (event) => {
      const el = event.target;
      if (el instanceof HTMLElement && el.id === "transcript") {
        followStream = atBottom(el);
        jumpButton();
      }
    },
    true,
  );
  const stickToBottom = () => {
    const el = transcript();
    if (el && followStream) el.scrollTop = el.scrollHeight;
    jumpButton();
  };
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || !event.target.closest("#jump-latest")) return;
    followStream = true;
    stickToBottom();
    // The button goes away under the pointer: the keyboard goes on from the message box, except
    // where focusing it would open a touch screen's keyboard.
    if (!matchMedia("(pointer: coarse)").matches) textarea()?.focus();
  });
  // A search result opens the chat at its message (#msg-…): show it, and do not follow the
  // stream until the reader scrolls to the bottom themselves. Done again if the socket swaps the
  // live part of the transcript in again (the page was out of date), until the person sends.
  let showTarget = location.hash.startsWith("#msg-");
  const scrollToTarget = () => {
    const el = showTarget && document.getElementById(location.hash.slice(1));
    if (!el) return;
    followStream = false;
    el.dataset.found = "";
    el.scrollIntoView({ block: "center" });
  };

  document.addEventListener("htmx:wsAfterMessage", (event) => {
    // Only a conversation swapped in whole moves the message found out of view (a tab that
    // already shows it all is sent nothing on connecting).
    if (showTarget && String(event.detail?.message).includes('id="transcript-live" hx-swap-oob="true"')) {
      scrollToTarget();
      showTarget = false;
    }
    stickToBottom();
    // A refusal that only held while an answer was written goes when Send is back.
    if (String(event.detail?.message).includes('id="composer-controls"')) {
      const status = document.getElementById("composer-status");
      const writing = document.querySelector('#composer-controls input[name="action"][value="stop"]');
      if (status?.dataset.whileWriting !== undefined && !writing) composerStatus("", "info");
    }
    // The answer to a send is the composer's status: cleared when the send was taken, an error
    // when refused. Other frames (the words of an answer still streaming) say nothing about it,
    // and must not drop the text before a refusal puts it back.
    if (String(event.detail?.message).includes('id="composer-status"')) {
      const status = document.getElementById("composer-status");
      const box = textarea();
      if (status?.dataset.kind === "error" && box && box.value === "" && lastSent) {
        box.value = lastSent;
        grow(box);
      }
      lastSent = "";
    }
    tickThinking();
    localTimes(document);
    markCurrentChat();
    followTitle();
  });

  // The tab's title follows the chat's: a title the model wrote, or a Rename in this tab or another.
  const followTitle = () => {
    const shown = document.getElementById("chat-title")?.textContent?.trim();
    if (shown && document.title !== `${shown} · Parley`) document.title = `${shown} · Parley`;
  };
  document.addEventListener("htmx:afterSettle", followTitle);

  // With several instances, a tab that caught up from the database may already hold messages
  // whose announcement from another instance arrives after: each message appears once.
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const { target, fragment } = event.detail ?? {};
    if (target?.id !== "transcript-live" || !fragment?.children) return;
    for (const el of [...fragment.children]) {
      if (el.id && el.id !== target.id && document.getElementById(el.id)) el.remove();
    }
  });

  // The chat list pushed to every tab is its first page: a tab stays where it was scrolled (what
  // it had loaded below loads again as it comes into view), instead of jumping to the top.
  let navScroll;
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    if (event.detail?.target?.id === "chat-nav") navScroll = event.detail.target.scrollTop;
  });
  document.addEventListener("htmx:oobAfterSwap", () => {
    const nav = document.getElementById("chat-nav");
    if (navScroll === undefined || !nav) return;
    nav.scrollTop = navScroll;
    navScroll = undefined;
  });

  // The chat list is pushed alike to every tab; each marks the chat it shows.
  const markCurrentChat = () => {
    for (const link of document.querySelectorAll("#chat-nav a, #project-groups a")) {
      if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  };
  // A page of the list loaded by scrolling may hold the chat this tab shows.
  document.addEventListener("htmx:afterSwap", markCurrentChat);

  // Times arrive in UTC; show them in the reader's locale and time zone. A message shows its time
  // of day (its day is in the separator above it); the full date and time is in its title.
  const localTimes = (root) => {
    for (const el of root.querySelectorAll("time[datetime]:not([data-local])")) {
      const date = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      el.textContent = el.hasAttribute("data-msg-time")
        ? date.toLocaleTimeString(undefined, { timeStyle: "short" })
        : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      el.title = date.toLocaleString(undefined, { dateStyle: "full", timeStyle: "short" });
      el.dataset.local = "";
    }
    daySeparators();
  };

  // "Today", "Yesterday" or the date before the first message of each day, in the reader's time
  // zone (which the server does not know). Run after every change; it only mends what differs.
  const dayLabel = (date) => {
    const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
    const days = Math.round((day(new Date()) - day(date)) / 86_400_000);
    if (days === 0) return "Today";
    if (days === 1) return "Yesterday";
    return date.toLocaleDateString(undefined, { weekday: "long", year: "numeric", month: "long", day: "numeric" });
  };
  const daySeparators = () => {
    const box = transcript();
    if (!box) return;
    for (const sep of box.querySelectorAll("[data-day]")) {
      if (!sep.nextElementSibling?.matches("article")) sep.remove();
    }
    let last = "";
    for (const article of box.querySelectorAll("article[data-role]")) {
      const time = article.querySelector("time[data-msg-time]");
      const date = time && new Date(time.getAttribute("datetime"));
      if (!date || Number.isNaN(date.getTime())) continue;
      const key = date.toDateString();
      const before = article.previousElementSibling?.matches("[data-day]") ? article.previousElementSibling : null;
      if (key === last) {
        before?.remove();
        continue;
      }
      last = key;
      const label = dayLabel(date);
      if (before?.dataset.day === key && before.textContent === label) continue;
      const sep = before ?? document.createElement("div");
      sep.dataset.day = key;
      sep.setAttribute("role", "separator");
      sep.setAttribute("aria-label", label);
      sep.textContent = label;
      if (!before) article.before(sep);
    }
  };
  document.addEventListener("htmx:load", (event) => localTimes(event.detail?.elt ?? document));

  // Say so while the socket is down; htmx-ext-ws reconnects with backoff by itself.
  const connection = (up) => document.getElementById("connection-status")?.classList.toggle("hidden", up);
  // The composer's status line as the server renders it (views/components/composer.tsx).
  const composerStatus = (text, kind) => {
    const status = document.getElementById("composer-status");
    if (!status) return undefined;
    const error = kind === "error";
    status.dataset.kind = kind;
    status.setAttribute("role", error ? "alert" : "status");
    for (const c of ["text-zinc-500", "dark:text-zinc-400"]) status.classList.toggle(c, !error);
    for (const c of ["text-red-700", "dark:text-red-400"]) status.classList.toggle(c, error);
    status.textContent = text;
    delete status.dataset.uploads;
    delete status.dataset.whileWriting;
    return status;
  };
  const composerError = (text) => composerStatus(text, "error");
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

  // What the page shows, told to the socket at each (re)connect so that it sends only what the
  // page lacks (src/chat/page-state.ts). Read when the socket opens, not when the page loaded:
  // pushes have changed the page since.
  const pageState = () => {
    const version = (id) => document.getElementById(id)?.dataset.version;
    const articles = [...document.querySelectorAll("#transcript-live > article")];
    const last = articles.at(-1);
    const state = {
      page: "1",
      nav: version("chat-nav"),
      groups: version("project-groups"),
      title: version("chat-title"),
      usage: version("chat-usage"),
      last: last?.id.replace(/^msg-/, ""),
      status: last?.dataset.status,
      forks: String(
        articles.reduce((n, a) => n + (Number(a.querySelector("[data-siblings]")?.dataset.siblings) || 1), 0),
      ),
      banner: document.getElementById("service-status")?.textContent.trim() ? "1" : undefined,
    };
    return Object.entries(state).filter(([, value]) => value !== undefined);
  };
  const { htmx } = window;
  if (htmx) {
    htmx.createWebSocket = (source) => {
      const url = new URL(source);
      for (const [name, value] of pageState()) url.searchParams.set(name, value);
      const socket = new WebSocket(url, []);
      socket.binaryType = htmx.config.wsBinaryType;
      return socket;
    };
    // htmx-ext-ws waits up to 2^n seconds (n ≤ 6, so up to 64 s) between tries: after a restart
    // of ten seconds a tab came back only some 7 s after the server did. Here it tries every
    // 0.25-2 s (jittered, so a restart's tabs do not all arrive at once): each try is one refused
    // connection while the server is away, and a message waiting to go waits at most ~2 s more.
    htmx.config.wsReconnectDelay = (retries) => Math.min(2000, 500 * 2 ** retries) * (0.5 + Math.random() / 2);
  }

  // Whatever the socket sends never replaces a message whose Edit box is open or holds words
  // being written: htmx keeps that element as it is (hx-preserve), and focus stays in it.
  const holdsDraft = (article) =>
    [...article.querySelectorAll("textarea")].some(
      (box) => box === document.activeElement || box.value !== box.defaultValue || box.checkVisibility(),
    );
  let refocus;
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const { target, fragment } = event.detail ?? {};
    if (!(target instanceof Element) || !fragment?.querySelector) return;
    // Only what would replace such a message (the same id, in what is swapped in) is held back;
    // a message deleted (the person's own edit sent, a branch switched elsewhere) goes.
    const articles = target.matches("article[id]") ? [target] : [...target.querySelectorAll("article[id]")];
    for (const article of articles) {
      const kept = holdsDraft(article) && fragment.querySelector(`#${CSS.escape(article.id)}`);
      if (!kept) continue;
      // Pushed whole itself, it is left as it is; inside what is pushed, htmx moves it over.
      if (article === target) return event.preventDefault();
      kept.setAttribute("hx-preserve", "");
      const box = document.activeElement;
      if (article.contains(box)) refocus = { box, start: box.selectionStart, end: box.selectionEnd };
    }
  });

  // Browsers without Element.moveBefore lose focus when htmx moves the kept element: give it back.
  document.addEventListener("htmx:oobAfterSwap", () => {
    const kept = refocus;
    refocus = undefined;
    if (!kept?.box.isConnected || document.activeElement === kept.box) return;
    kept.box.focus();
    kept.box.setSelectionRange(kept.start, kept.end);
  });

  // Sending while the socket is down: the message waits at the end of the conversation, marked
  // "Queued", with Cancel, and goes once (never twice) when the socket is back, saying when it
  // went. Other actions (Stop, Edit, Retry, a branch switch) are refused with a sentence rather
  // than held: done minutes later, they would surprise.
  let connected = false;
  let reconnecting = true; // until the first open: the socket is on its way
  let waiting; // { body, text, chips } of the message queued, while it waits
  let sentQueued; // the same, sent and not yet shown by the server
  const queuedBox = () => document.getElementById("queued");
  const clock = () => new Date().toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  document.addEventListener("htmx:wsClose", (event) => {
    connected = false;
    reconnecting = [1006, 1011, 1012, 1013].includes(event.detail?.event?.code);
  });
  document.addEventListener("htmx:wsConfigSend", (event) => {
    if (connected) return;
    event.preventDefault();
    const form = event.target;
    if (!reconnecting) return composerError("Not connected: reload the page to send.");
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer") || !queuedBox()) {
      return composerError("Not connected: try again once the connection is back.");
    }
    if (waiting || sentQueued) {
      return composerError("A message is already waiting to be sent: cancel it to change it, or wait.");
    }
    const box = textarea();
    const { parameters, headers } = event.detail;
    const chips = [...(chipList()?.children ?? [])];
    waiting = { body: JSON.stringify({ ...parameters, HEADERS: headers }), text: box?.value ?? "", chips };
    for (const chip of chips) chip.remove();
    const shown = queuedBox();
    const files = chips.length ? `\n(${chips.length} file${chips.length === 1 ? "" : "s"} attached)` : "";
    shown.querySelector("[data-queued-text]").textContent = waiting.text + files;
    shown.querySelector("[data-queued-state]").textContent = "Queued — will send when reconnected";
    shown.hidden = false;
    if (box) {
      box.value = "";
      grow(box);
    }
    needsWords();
    composerStatus("", "info");
    stickToBottom();
  });
  // Cancel: the words (and files) go back to the message box, before whatever was typed since.
  const unqueue = (entry) => {
    queuedBox()?.setAttribute("hidden", "");
    const box = textarea();
    if (box && entry.text) {
      box.value = box.value ? `${entry.text}\n${box.value}` : entry.text;
      grow(box);
    }
    chipList()?.append(...entry.chips);
    needsWords();
  };
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element) || !event.target.closest("[data-queued-cancel]") || !waiting) return;
    unqueue(waiting);
    waiting = undefined;
    composerStatus("Not sent: your message is back in the box.", "info");
    focusComposer();
  });
  document.addEventListener("htmx:wsOpen", (event) => {
    connected = true;
    if (!waiting) return;
    sentQueued = waiting;
    waiting = undefined;
    event.detail.socketWrapper.sendImmediately(sentQueued.body);
    queuedBox().querySelector("[data-queued-state]").textContent = "Sending…";
  });
  // Shown by the server (the person's message is on the page): the queued copy goes, and the
  // composer says when it went. Refused: it goes back in the box, beside the server's reason.
  let sentNotice;
  document.addEventListener("htmx:wsAfterMessage", (event) => {
    if (!sentQueued) return;
    const message = String(event.detail?.message);
    const refused =
      message.includes('id="composer-status"') && document.getElementById("composer-status")?.dataset.kind === "error";
    if (refused) {
      unqueue(sentQueued);
      sentQueued = undefined;
    } else if (message.includes('data-role="user"')) {
      queuedBox()?.setAttribute("hidden", "");
      sentQueued = undefined;
      const status = composerStatus(
        `Sent at ${clock()}: your queued message went once the connection was back.`,
        "info",
      );
      clearTimeout(sentNotice);
      sentNotice = setTimeout(() => {
        if (status?.isConnected && status.textContent.startsWith("Sent at")) composerStatus("", "info");
      }, 6000);
    }
  });

  // Attachments. Files chosen with "Attach files", pasted into the message box or dropped on the
  // composer upload at once, one request each (POST /files), and show as chips cloned from the
  // composer's <template> and filled with text only: a file's name is never markup. A finished
  // upload leaves a hidden `attachment` input with the file's id in its chip, inside the form,
  // so the send carries it. Sending waits until no upload is under way.
  const chipList = () => document.getElementById("attachments");
  const uploadsUnderWay = () => document.querySelectorAll('#attachments > li[data-state="uploading"]').length;
  const requests = new WeakMap();
  // Larger images are scaled down here, before upload: the models read them at this size anyway.
  const MAX_SIDE = 2048;
  const SCALABLE = ["image/png", "image/jpeg", "image/webp"];
  const IMAGES = [...SCALABLE, "image/gif"];
  const EXTENSIONS = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif" };

  // As fileSize in src/limits.ts, so a chip says what the server's sentences say.
  const fileSize = (bytes) => {
    if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
    const round = (n) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);
    if (bytes < 1024 * 1024) return `${round(bytes / 1024)} KB`;
    if (bytes < 1024 ** 3) return `${round(bytes / 1024 ** 2)} MB`;
    return `${round(bytes / 1024 ** 3)} GB`;
  };
  const badge = (name) => {
    const ext = name.includes(".") ? name.split(".").pop() : "";
    return ext && ext.length <= 4 ? ext : "file";
  };
  const part = (chip, name) => chip.querySelector(`[data-${name}]`);
  // A message may be files alone (a screenshot can be the whole question): the box needs words
  // only while no file is attached or on its way.
  const needsWords = () => {
    const box = textarea();
    if (box) box.required = !document.querySelector('#attachments > li:not([data-state="error"])');
  };

  // The page's CSP allows data: images but not blob: URLs, so the preview is a small data URL.
  const showThumbnail = (chip, src) => {
    const img = part(chip, "thumb");
    img.src = src;
    img.hidden = false;
    part(chip, "badge").hidden = true;
  };
  const preview = (bitmap) => {
    const side = 80;
    const canvas = document.createElement("canvas");
    canvas.width = side;
    canvas.height = side;
    const scale = Math.max(side / bitmap.width, side / bitmap.height);
    const [w, h] = [bitmap.width * scale, bitmap.height * scale];
    canvas.getContext("2d")?.drawImage(bitmap, (side - w) / 2, (side - h) / 2, w, h);
    return canvas.toDataURL("image/png");
  };

  // An image over MAX_SIDE on its longest side is redrawn smaller, in its own type (a GIF is left
  // alone: redrawn, it would lose its animation). What the browser cannot decode goes as it is,
  // and the server says what it is.
  const prepare = async (file, chip) => {
    if (!IMAGES.includes(file.type)) return file;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      return file;
    }
    try {
      showThumbnail(chip, preview(bitmap));
      const scale = MAX_SIDE / Math.max(bitmap.width, bitmap.height);
      if (scale >= 1 || !SCALABLE.includes(file.type)) return file;
      const canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext("2d")?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, file.type, 0.9));
      if (!blob || blob.type !== file.type) return file;
      return new File([blob], file.name, { type: file.type, lastModified: file.lastModified });
    } finally {
      bitmap.close();
    }
  };

  const uploaded = (chip, stored) => {
    chip.dataset.state = "done";
    const bar = part(chip, "progress");
    bar.value = bar.max;
    bar.hidden = true;
    part(chip, "name").textContent = stored.name;
    part(chip, "name").title = stored.name;
    part(chip, "size").textContent = fileSize(stored.size);
    part(chip, "remove").setAttribute("aria-label", `Remove ${stored.name}`);
    if (stored.type.startsWith("image/")) {
      // Swapped in once loaded, so the preview does not blink.
      const src = `/files/${encodeURIComponent(stored.id)}`;
      const img = new Image();
      img.onload = () => showThumbnail(chip, src);
      img.src = src;
    }
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "attachment";
    input.value = stored.id;
    chip.append(input);
  };
  const refused = (chip, sentence) => {
    chip.dataset.state = "error";
    needsWords();
    part(chip, "progress").hidden = true;
    const error = part(chip, "error");
    error.textContent = sentence;
    error.hidden = false;
  };
  // POST /files answers JSON ({files} or {error}); what stops a request before it (sign-in, the
  // same-origin check, the body limit) answers a plain sentence.
  const sentenceOf = (xhr) => {
    try {
      const error = JSON.parse(xhr.responseText).error;
      if (typeof error === "string") return error;
    } catch {}
    const text = xhr.responseText.trim();
    if (/^text\/plain/.test(xhr.getResponseHeader("content-type") ?? "") && text && text.length < 300) return text;
    return `The upload failed (HTTP ${xhr.status}); remove the file and try again.`;
  };
  // The sentence asking to wait goes once the last upload is done.
  const settled = () => {
    const status = document.getElementById("composer-status");
    if (!uploadsUnderWay() && status?.dataset.uploads !== undefined) composerStatus("", "info");
  };

  const upload = (file, chip) => {
    const form = new FormData();
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    requests.set(chip, xhr);
    const bar = part(chip, "progress");
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) bar.value = event.loaded / event.total;
    };
    xhr.onload = () => {
      let stored;
      try {
        stored = JSON.parse(xhr.responseText).files?.[0];
      } catch {}
      if (xhr.status === 200 && stored) uploaded(chip, stored);
      else refused(chip, sentenceOf(xhr));
    };
    xhr.onerror = () =>
      refused(chip, "The upload failed: the connection to the server broke. Remove the file and try again.");
    xhr.onloadend = () => {
      requests.delete(chip);
      settled();
    };
    xhr.open("POST", "/files");
    xhr.send(form);
  };

  const attach = async (file) => {
    const list = chipList();
    const template = document.getElementById("attachment-chip");
    if (!list || !(template instanceof HTMLTemplateElement)) return;
    const chip = template.content.firstElementChild.cloneNode(true);
    part(chip, "name").textContent = file.name;
    part(chip, "name").title = file.name; // a long name is cut short in the chip
    part(chip, "size").textContent = fileSize(file.size);
    part(chip, "badge").textContent = badge(file.name);
    part(chip, "progress").setAttribute("aria-label", `Uploading ${file.name}`);
    part(chip, "remove").setAttribute("aria-label", `Remove ${file.name}`);
    list.append(chip);
    needsWords();
    const ready = await prepare(file, chip);
    if (!chip.isConnected) return settled(); // removed while it was being scaled
    part(chip, "size").textContent = fileSize(ready.size);
    if (ready !== file) offerOriginal(chip, file);
    upload(ready, chip);
  };

  // A scaled image's chip offers the image as it was (the models read 2,048 px, but a person may
  // want the photo itself kept): chosen, the original is uploaded in place of the scaled copy.
  const originals = new WeakMap();
  const offerOriginal = (chip, original) => {
    originals.set(chip, original);
    const button = part(chip, "original");
    button.textContent = `Use original (${fileSize(original.size)})`;
    button.setAttribute("aria-label", `Use the original of ${original.name} (${fileSize(original.size)})`);
    button.hidden = false;
  };
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("#attachments [data-original]") : null;
    const chip = button?.closest("li");
    const original = chip && originals.get(chip);
    if (!original) return;
    originals.delete(chip);
    requests.get(chip)?.abort();
    chip.querySelector('input[name="attachment"]')?.remove();
    button.hidden = true;
    chip.dataset.state = "uploading";
    part(chip, "error").hidden = true;
    const bar = part(chip, "progress");
    bar.value = 0;
    bar.hidden = false;
    part(chip, "size").textContent = fileSize(original.size);
    part(chip, "remove").focus();
    needsWords();
    upload(original, chip);
  });

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-attach")) return;
    for (const file of input.files ?? []) attach(file);
    input.value = ""; // so that the same file can be chosen again
  });

  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("#attachments [data-remove]") : null;
    const chip = button?.closest("li");
    if (!chip) return;
    requests.get(chip)?.abort();
    const next = chip.nextElementSibling ?? chip.previousElementSibling;
    chip.remove();
    needsWords();
    (next ? part(next, "remove") : textarea())?.focus();
    settled();
  });

  // A pasted image (a screenshot) has no name worth keeping: it gets one that says what it is.
  const pastedAt = () => {
    const d = new Date();
    const two = (v) => String(v).padStart(2, "0");
    return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
  };
  const pastedName = (type, n) => `pasted-image-${pastedAt()}${n ? `-${n + 1}` : ""}.${EXTENSIONS[type]}`;
  document.addEventListener("paste", (event) => {
    if (!(event.target instanceof HTMLTextAreaElement) || event.target.id !== "message") return;
    const files = [...(event.clipboardData?.files ?? [])];
    if (!files.length) return pasteText(event, event.target);
    // Text copied along with the files (from a document) is still pasted as text.
    if (!event.clipboardData.types.includes("text/plain")) event.preventDefault();
    files.forEach((file, n) => {
      attach(IMAGES.includes(file.type) ? new File([file], pastedName(file.type, n), { type: file.type }) : file);
    });
  });

  // Text longer than the box has room for would be cut off by the box without a word (its
  // maxlength): it goes with the message as a text file instead, and the composer says so.
  const pasteText = (event, box) => {
    const text = event.clipboardData?.getData("text/plain") ?? "";
    const room = box.maxLength - box.value.length + (box.selectionEnd - box.selectionStart);
    if (box.maxLength < 0 || text.length <= room || !document.getElementById("attachment-chip")) return;
    event.preventDefault();
    attach(new File([text], `pasted-text-${pastedAt()}.txt`, { type: "text/plain" }));
    composerStatus(
      `The pasted text (${text.length.toLocaleString()} characters) is more than a message holds (${box.maxLength.toLocaleString()}), so it is attached as a file.`,
      "info",
    );
  };

  // Dropping files on the composer attaches them; dropped anywhere else they do nothing (the
  // browser would otherwise leave the chat to show the file).
  const dropZone = (event) => (event.target instanceof Element ? event.target.closest("[data-drop-files]") : null);
  // Only on pages with a composer, and never in the way of another file input (the import form's).
  const carriesFiles = (event) =>
    [...(event.dataTransfer?.types ?? [])].includes("Files") &&
    !!document.querySelector("[data-drop-files]") &&
    !(event.target instanceof HTMLInputElement && event.target.type === "file");
  const highlight = (zone) => {
    for (const el of document.querySelectorAll("[data-drop-files][data-dragging]")) {
      if (el !== zone) delete el.dataset.dragging;
    }
    if (zone) zone.dataset.dragging = "";
  };
  // dragover repeats while the pointer is over the page; a drag that left it (or was cancelled)
  // stops them, and the highlight goes soon after the last one.
  let unhighlight;
  document.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    const zone = dropZone(event);
    event.dataTransfer.dropEffect = zone ? "copy" : "none";
    clearTimeout(unhighlight);
    highlight(zone);
  });
  document.addEventListener("dragleave", (event) => {
    const zone = dropZone(event);
    if (!zone || (event.relatedTarget instanceof Node && zone.contains(event.relatedTarget))) return;
    clearTimeout(unhighlight);
    unhighlight = setTimeout(() => highlight(null), 100);
  });
  document.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    clearTimeout(unhighlight);
    highlight(null);
    if (dropZone(event)) for (const file of event.dataTransfer.files) attach(file);
  });

  // No send while a file is still uploading: the send would go without it.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-composer")) return;
      const waiting = uploadsUnderWay();
      if (!waiting) return;
      // Stopped on its way down, before htmx's handler on the form sends it over the socket.
      event.preventDefault();
      event.stopPropagation();
      const status = composerStatus(
        `Wait for ${waiting === 1 ? "the file" : `${waiting} files`} to finish uploading, then send.`,
        "info",
      );
      if (status) status.dataset.uploads = "";
    },
    true,
  );

  // The chips of a send stay until the server takes it (its message appears); a refusal, which
  // puts the text back, keeps them, so the person can send again as it was.
  let sentChips;
  document.addEventListener("htmx:wsAfterSend", (event) => {
    if (event.detail?.elt instanceof HTMLFormElement && event.detail.elt.hasAttribute("data-composer")) {
      sentChips = [...(chipList()?.children ?? [])];
    }
  });
  document.addEventListener("htmx:wsAfterMessage", (event) => {
    if (!sentChips) return;
    const message = String(event.detail?.message);
    if (
      message.includes('id="composer-status"') &&
      document.getElementById("composer-status")?.dataset.kind === "error"
    ) {
      sentChips = undefined;
    } else if (message.includes('data-role="user"')) {
      for (const chip of sentChips) chip.remove();
      sentChips = undefined;
      needsWords();
    }
  });

  // "New chat" is a real button in a form (it works without this script); go to "/" rather
  // than the "/?" a field-less GET form would leave in the address bar.
  document.addEventListener("submit", (event) => {
    if (event.target instanceof HTMLFormElement && event.target.hasAttribute("data-new-chat")) {
      event.preventDefault();
      location.assign("/");
    }
  });

  // "Move to…" closes once the chat moved, and is emptied as it closes: opened for another chat,
  // it shows "Loading…" rather than this chat's choices until that chat's arrive.
  document.addEventListener("htmx:afterRequest", (event) => {
    const popover = event.detail?.elt?.closest?.("[popover][data-close-when-done]");
    if (popover && event.detail.successful && popover.matches(":popover-open")) popover.hidePopover();
  });
  document.addEventListener(
    "toggle",
    (event) => {
      const dialog = event.target;
      if (dialog instanceof HTMLElement && dialog.id === "move-dialog" && event.newState === "closed") {
        const loading = Object.assign(document.createElement("p"), { textContent: "Loading…" });
        loading.className = "text-sm text-zinc-500 dark:text-zinc-400";
        dialog.replaceChildren(loading);
      }
    },
    true,
  );
  // A sidebar chat's small Move to… (one per listed chat, so it carries no request of its own):
  // the choices for the chat of the item it is in. Its popovertarget opens the dialog.
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.(".chat-item > .move-button");
    if (!button) return;
    const chatId = button.parentElement.id.replace(/^chat-item-/, "");
    window.htmx?.ajax("GET", `/chats/${chatId}/move`, { target: "#move-dialog", swap: "innerHTML" });
  });

  // The sidebar's project groups this browser left open open again when the groups are pushed
  // again or another page opens (the server opens only the open chat's: it does not know). A
  // group loads its chats each time it opens, and again after each push of the list, when one of
  // them may have changed.
  const OPEN_PROJECTS = "parley.openProjects";
  const loadGroup = (group) =>
    window.htmx?.ajax("GET", `/projects/${group.dataset.projectGroup}/chats`, {
      target: group.querySelector("ul"),
      swap: "innerHTML",
    });
  // An open group is read again at every push of the list (a few times per answer), and twice
  // after a drop into it: what it shows already is not swapped in again, so a chat in it being
  // hovered or dragged stays the same element (a drag that began as the same list landed was lost).
  const groupShown = new WeakMap();
  document.addEventListener("htmx:beforeSwap", (event) => {
    const { target, serverResponse, shouldSwap } = event.detail;
    if (!shouldSwap || !target?.parentElement?.matches("details[data-project-group]")) return;
    if (groupShown.get(target) === serverResponse) event.detail.shouldSwap = false;
    else groupShown.set(target, serverResponse);
  });
  const openProjects = () => {
    try {
      return new Set(JSON.parse(localStorage.getItem(OPEN_PROJECTS) ?? "[]"));
    } catch {
      return new Set();
    }
  };
  const reopenProjects = () => {
    const open = openProjects();
    for (const group of document.querySelectorAll("details[data-project-group]")) {
      if (open.has(group.dataset.projectGroup)) group.open = true;
    }
  };
  document.addEventListener(
    "toggle",
    (event) => {
      const group = event.target;
      if (!(group instanceof HTMLDetailsElement) || !group.dataset.projectGroup) return;
      const open = openProjects();
      if (group.open) {
        open.add(group.dataset.projectGroup);
        loadGroup(group);
      } else open.delete(group.dataset.projectGroup);
      localStorage.setItem(OPEN_PROJECTS, JSON.stringify([...open]));
    },
    true,
  );
  let projectBefore;
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    const { target, fragment } = event.detail;
    if (target.id === "chat-project") projectBefore = target.dataset.project;
    if (target.id !== "project-groups") return;
    // The same projects: keep the groups as they are (open ones stay filled) and refresh the open ones.
    if (fragment.firstElementChild?.dataset.version === target.dataset.version) {
      event.detail.shouldSwap = false;
      for (const group of target.querySelectorAll("details[data-project-group][open]")) {
        loadGroup(group);
      }
    }
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.detail.target?.id === "project-groups") reopenProjects();
    // The open chat moved into a project (here or in another tab): its group opens to show it there.
    // (The same line comes again when the project's files change: then nothing opens.)
    const moved = document.getElementById("chat-project")?.dataset.project;
    if (event.detail.target?.id === "chat-project" && moved && moved !== projectBefore) {
      const group = document.querySelector(`details[data-project-group="${CSS.escape(moved)}"]`);
      if (group) group.open = true;
    }
  });
  // Back after a drop: what changed meanwhile in an open group was not pushed to this tab.
  let socketOpened = false;
  document.addEventListener("htmx:wsOpen", () => {
    if (socketOpened) {
      for (const group of document.querySelectorAll("details[data-project-group][open]")) {
        loadGroup(group);
      }
    }
    socketOpened = true;
  });
  reopenProjects();

  // A popover form (Rename) closes once its request succeeded.
  document.addEventListener("htmx:afterRequest", (event) => {
    const details = event.detail?.elt?.closest?.("details");
    // Not a sidebar project group: a "Move to…" inside one loads and sends as the group stays open.
    if (details && event.detail.successful && !details.dataset.projectGroup) details.open = false;
  });

  // On a phone the chat list is a drawer over the page. While it is open the rest of the page is
  // inert (so focus stays in the list, and screen readers read only it); Esc, a tap outside it,
  // or choosing a chat closes it, and focus goes back to the button that opened it.
  const drawerToggle = () => document.querySelector("[data-toggle=sidebar]");
  const drawerOpen = () => document.getElementById("sidebar")?.hasAttribute("data-open") ?? false;
  const setDrawer = (open) => {
    const sidebar = document.getElementById("sidebar");
    const toggle = drawerToggle();
    if (!sidebar || !toggle) return;
    sidebar.toggleAttribute("data-open", open);
    document.querySelector("[data-drawer-backdrop]")?.toggleAttribute("hidden", !open);
    for (const el of sidebar.parentElement?.children ?? []) {
      if (el !== sidebar && !el.hasAttribute("data-drawer-backdrop")) el.inert = open;
    }
    toggle.setAttribute("aria-expanded", String(open));
    if (open) (sidebar.querySelector("a[aria-current=page]") ?? sidebar.querySelector("a[href], button"))?.focus();
    else toggle.focus();
  };
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest("[data-toggle=sidebar]")) return setDrawer(!drawerOpen());
    if (!drawerOpen()) return;
    if (target?.closest("[data-drawer-backdrop]")) setDrawer(false);
    // A chat chosen (from the list or the search results) opens in this page: the list goes.
    else if (target?.closest("#sidebar a[href^='/chats/']")) setDrawer(false);
  });
  // Before the other Esc handlers (which would stop an answer being written). Tab goes round the
  // list rather than out to the browser's own controls.
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.isComposing || !drawerOpen()) return;
      // A popover open in the list (Select's Move to… or Delete) is what Esc closes first.
      if (event.key === "Escape" && document.querySelector("#sidebar :popover-open")) return;
      if (event.key === "Escape") {
        event.preventDefault();
        setDrawer(false);
      } else if (event.key === "Tab") {
        const stops = [...document.querySelectorAll("#sidebar :is(a[href], button, input, select, textarea)")].filter(
          (el) => el.checkVisibility() && !el.disabled,
        );
        const [first, last] = [stops[0], stops[stops.length - 1]];
        const at = document.activeElement;
        if (event.shiftKey ? at === first || !stops.includes(at) : at === last) {
          event.preventDefault();
          (event.shiftKey ? last : first)?.focus();
        }
      }
    },
    true,
  );
  // Select (views/components/bulk.tsx): how many chats are checked, said in the bar and in the
  // Delete question; the actions wait for one; what was checked stays checked when the list is
  // pushed again; a chat's name checks it rather than opening it; an action done ends Select.
  const selectForm = () => document.getElementById("chat-select");
  const selecting = () => document.getElementById("select-mode")?.checked === true;
  const checkedChats = () => [...(selectForm()?.elements ?? [])].filter((el) => el.name === "ids" && el.checked);
  const showSelection = () => {
    const form = selectForm();
    if (!form) return;
    const n = checkedChats().length;
    form.querySelector("[data-select-count]").textContent = `${n} selected`;
    const question = document.getElementById("bulk-delete-question");
    if (question) question.textContent = `Delete ${n === 1 ? "this chat" : `these ${n} chats`}?`;
    for (const button of form.querySelectorAll("[data-select-on] > button, #bulk-move button[value]")) {
      button.disabled = n === 0;
    }
  };
  document.addEventListener("change", (event) => {
    if (event.target?.form?.id !== "chat-select") return;
    if (event.target.id === "select-mode") document.getElementById("chat-select-status").textContent = "";
    showSelection();
  });
  document.addEventListener("reset", (event) => {
    if (event.target?.id !== "chat-select") return;
    // The reset itself happens after this event.
    setTimeout(() => {
      document.getElementById("chat-select-status").textContent = "";
      showSelection();
      if (event.target.contains(document.activeElement) || document.activeElement === document.body) {
        document.getElementById("select-mode")?.focus();
      }
    });
  });
  let checkedBefore;
  document.addEventListener("htmx:oobBeforeSwap", (event) => {
    if (event.detail?.target?.id === "chat-nav") checkedBefore = new Set(checkedChats().map((box) => box.value));
  });
  document.addEventListener("htmx:oobAfterSwap", () => {
    if (!checkedBefore) return;
    for (const box of document.querySelectorAll('#chat-nav input[name="ids"]')) {
      if (checkedBefore.has(box.value)) box.checked = true;
    }
    checkedBefore = undefined;
    showSelection();
  });
  document.addEventListener(
    "click",
    (event) => {
      const link = event.target.closest?.("#chat-nav .chat-item > a");
      if (!link || !selecting() || event.ctrlKey || event.metaKey || event.shiftKey) return;
      const box = link.parentElement.querySelector('input[name="ids"]');
      if (!box) return;
      event.preventDefault();
      event.stopPropagation();
      box.checked = !box.checked;
      showSelection();
    },
    true,
  );
  // What the server said when an action was refused (a sentence), or that it failed.
  const refusal = (xhr) => {
    const text = xhr?.responseText?.trim() ?? "";
    return /^text\/plain/.test(xhr?.getResponseHeader?.("content-type") ?? "") && text && text.length < 300
      ? text
      : `That did not work (HTTP ${xhr?.status ?? "?"}); try again.`;
  };
  document.addEventListener("htmx:afterRequest", (event) => {
    const form = selectForm();
    if (!form || event.detail?.elt !== form) return;
    for (const popover of form.querySelectorAll("[popover]")) {
      if (popover.matches(":popover-open")) popover.hidePopover();
    }
    if (event.detail.successful) form.reset();
    else document.getElementById("chat-select-status").textContent = refusal(event.detail.xhr);
  });
  // Move to…'s choices are the sidebar's groups as they are now (pushed live), and out of any.
  document.addEventListener(
    "toggle",
    (event) => {
      if (event.target?.id !== "bulk-move" || event.newState !== "open") return;
      const fieldset = document.getElementById("bulk-move-choices");
      const template = fieldset?.querySelector("label:last-of-type");
      if (!template) return;
      const choices = [...document.querySelectorAll("details[data-project-group]")].map((group) => {
        const label = template.cloneNode(true);
        label.querySelector("input").value = group.dataset.projectGroup;
        label.querySelector("input").checked = false;
        label.querySelector("span").textContent = group.querySelector("summary > span:last-child")?.textContent ?? "";
        return label;
      });
      const none = template.cloneNode(true);
      none.querySelector("input").checked = false;
      fieldset.replaceChildren(fieldset.querySelector("legend"), ...choices, none);
    },
    true,
  );
  showSelection();

  // Dragging a chat (its link, in the list or in a group) onto a project's group moves it there,
  // onto the list out of any project: the same route as Move to…, which keyboards use. The group
  // or the list under the pointer is marked while the chat would go there.
  let dragged;
  let dropMark;
  const markDrop = (target) => {
    if (dropMark === target) return;
    dropMark?.removeAttribute("data-drop");
    dropMark = target;
    target?.setAttribute("data-drop", "");
  };
  const dropTarget = (el) => {
    const target = el?.closest?.("details[data-project-group], #chat-nav");
    // A chat of the list dropped on the list goes nowhere.
    return target?.id === "chat-nav" && dragged?.fromList ? undefined : target;
  };
  document.addEventListener("dragstart", (event) => {
    const link = event.target.closest?.(".chat-item > a");
    if (!link || !event.dataTransfer) return;
    dragged = { id: link.parentElement.id.replace(/^chat-item-/, ""), fromList: !!link.closest("#chat-nav") };
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragend", () => {
    dragged = undefined;
    markDrop(undefined);
  });
  document.addEventListener("dragover", (event) => {
    if (!dragged) return;
    const target = dropTarget(event.target);
    markDrop(target);
    if (!target) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
  });
  document.addEventListener("dragleave", (event) => {
    if (dropMark && !dropMark.contains(event.relatedTarget)) markDrop(undefined);
  });
  document.addEventListener("drop", async (event) => {
    const target = dragged && dropTarget(event.target);
    if (!target) return;
    event.preventDefault();
    const { id } = dragged;
    dragged = undefined;
    markDrop(undefined);
    const project = target.dataset.projectGroup ?? "";
    try {
      const res = await fetch(`/chats/${encodeURIComponent(id)}/project`, {
        method: "POST",
        headers: { "HX-Request": "true" },
        body: new URLSearchParams({ project }),
      });
      if (!res.ok) throw new Error(res.headers.get("content-type")?.startsWith("text/plain") ? await res.text() : "");
      // The group opens to show the chat in it (and loads its chats as it opens).
      if (target instanceof HTMLDetailsElement) target.open = true;
    } catch (err) {
      const status = document.getElementById("chat-select-status");
      if (status) status.textContent = err?.message || "The chat could not be moved; try again.";
    }
  });

  // A panel read afresh at each opening (PanelButton's `fresh`) is read when it opens (its
  // "panel-opened"; an htmx filter on toggle would need eval, which the CSP forbids), and shows
  // "Loading…" once closed, not what it showed last time: a stale form typed into before the
  // fresh one came was replaced, and what was typed with it (the presets e2e test lost a
  // preset's name so in CI).
  document.addEventListener(
    "toggle",
    (event) => {
      const panel = event.target;
      if (!(panel instanceof HTMLElement) || !panel.hasAttribute("data-fresh")) return;
      if (event.newState === "open") {
        panel.dispatchEvent(new Event("panel-opened"));
        return;
      }
      const loading = document.createElement("p");
      loading.className = "text-sm text-zinc-500 dark:text-zinc-400";
      loading.textContent = "Loading…";
      panel.replaceChildren(loading);
    },
    true,
  );
  // The ⋯ and More buttons of the chat's menus (popovers) say whether their menu is open. On
  // beforetoggle, which comes as the menu opens or closes: toggle comes a task later, and the
  // button said "closed" of a menu already shown (seen by the organise test in CI).
  document.addEventListener(
    "beforetoggle",
    (event) => {
      const menu = event.target;
      if (!(menu instanceof HTMLElement) || !["chat-actions", "chat-more"].includes(menu.id)) return;
      document
        .querySelector(`[popovertarget=${menu.id}]`)
        ?.setAttribute("aria-expanded", String(event.newState === "open"));
    },
    true,
  );
  // Widened past the phone layout, the list is part of the page again.
  matchMedia("(min-width: 48rem)").addEventListener("change", (event) => {
    if (event.matches && drawerOpen()) setDrawer(false);
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
        ? (button.closest(".code-block")?.querySelector("pre")?.textContent ?? "").replace(/\n$/, "")
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

  // The renderer gives each code block a bar with its language and Copy (src/chat/markdown.ts).
  // Answers stored before it did get the same bar here.
  const codeBars = (root) => {
    for (const pre of root.querySelectorAll("article:not([data-status=streaming]) .markdown pre")) {
      if (pre.parentElement?.classList.contains("code-block")) continue;
      const box = document.createElement("div");
      box.className = "code-block";
      const bar = document.createElement("div");
      bar.className = "code-bar";
      const language = document.createElement("span");
      language.textContent = /\blanguage-(\S+)/.exec(pre.querySelector("code")?.className ?? "")?.[1] ?? "";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.dataset.copyCode = "";
      button.setAttribute("aria-live", "polite");
      button.textContent = "Copy code";
      bar.append(language, button);
      pre.replaceWith(box);
      box.append(bar, pre);
    }
  };
  document.addEventListener("htmx:load", (event) =>
    codeBars(event.target instanceof Element ? event.target : document),
  );

  // KaTeX lays formulas out with style attributes, which the CSP (style-src 'self') refuses; the
  // renderer moves them to data-katex-style and they are set here through the CSSOM, which it allows.
  const mathStyles = (root) => {
    for (const el of root.querySelectorAll("[data-katex-style]")) {
      el.style.cssText = el.dataset.katexStyle;
      el.removeAttribute("data-katex-style");
    }
  };
  document.addEventListener("htmx:load", (event) =>
    mathStyles(event.target instanceof Element ? event.target : document),
  );

  // The search box and its results: Arrow-Down from the box enters the results, Up and Down move
  // between them (Up from the first goes back to the box), Esc goes back to the box. The results
  // stay links, so Tab and Enter work as on any list of links.
  document.addEventListener("keydown", (event) => {
    if (event.isComposing || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const box = document.getElementById("search");
    const results = document.getElementById("search-results");
    if (!box || !results || !(event.target instanceof Element)) return;
    const links = [...results.querySelectorAll("a[href]")];
    const at = links.indexOf(event.target.closest("a[href]"));
    const inResults = at >= 0 && results.contains(event.target);
    if (event.target !== box && !inResults) return;
    let next;
    if (event.key === "ArrowDown") next = inResults ? links[Math.min(at + 1, links.length - 1)] : links[0];
    else if (event.key === "ArrowUp" && inResults) next = at === 0 ? box : links[at - 1];
    else if (event.key === "Escape" && inResults) next = box;
    if (!next) return;
    event.preventDefault();
    next.focus();
  });

  // Diagrams. A finished answer's ```mermaid block is drawn in a frame sandboxed without
  // allow-same-origin (src/diagrams/routes.ts): Mermaid needs inline styles this page's policy
  // refuses, and there it cannot reach the page. Mermaid loads only in such frames, so only where
  // there is a diagram. The code stays until the drawing is there, and stays if it cannot be drawn.
  const diagrams = new Map(); // frame → { pre, source, figure }
  const MAX_DIAGRAM_HEIGHT = 4000;
  const drawDiagrams = (root) => {
    for (const frame of diagrams.keys()) if (!frame.isConnected) diagrams.delete(frame);
    for (const code of root.querySelectorAll(
      "article:not([data-status=streaming]) .markdown pre > code.language-mermaid",
    )) {
      const pre = code.parentElement;
      if (pre.dataset.diagram !== undefined) continue;
      pre.dataset.diagram = "";
      const figure = document.createElement("div");
      figure.dataset.diagramFigure = "";
      const bar = document.createElement("div");
      bar.hidden = true;
      bar.className = "flex items-center gap-1 text-xs text-zinc-600 dark:text-zinc-400";
      const label = document.createElement("span");
      label.className = "mr-auto px-1";
      label.textContent = "Diagram";
      const button = (label, attr) => {
        const b = document.createElement("button");
        b.type = "button";
        b.dataset[attr] = "";
        b.className =
          "rounded px-2 py-1 font-medium hover:bg-zinc-100 hover:text-zinc-900 dark:hover:bg-zinc-800 dark:hover:text-white";
        b.textContent = label;
        return b;
      };
      const toggle = button("Show source", "diagramToggle");
      const copy = button("Copy", "diagramCopy");
      copy.setAttribute("aria-live", "polite");
      copy.setAttribute("aria-label", "Copy diagram source");
      bar.append(label, toggle, copy);
      const frame = document.createElement("iframe");
      frame.setAttribute("sandbox", "allow-scripts");
      frame.title = "Diagram";
      frame.className = "block w-full border-0";
      // In the layout (not hidden) but of no height until drawn: Mermaid measures its text as laid out.
      frame.style.height = "0";
      frame.src = "/diagram-frame";
      diagrams.set(frame, { pre, source: code.textContent.replace(/\n$/, ""), figure, bar });
      figure.append(bar, frame);
      (pre.closest(".code-block") ?? pre).before(figure);
    }
  };
  document.addEventListener("htmx:load", (event) =>
    drawDiagrams(event.target instanceof Element ? event.target : document),
  );
  // What a frame says: ready for its source, drawn (at a height), or failed. Only our frames are
  // heard, and their origin is the sandbox's opaque one; the source goes only to the frame it is for.
  window.addEventListener("message", (event) => {
    if (event.origin !== "null") return;
    const frame = [...diagrams.keys()].find((f) => f.contentWindow === event.source);
    if (!frame) return;
    const { pre, source, figure, bar } = diagrams.get(frame);
    const block = pre.closest(".code-block") ?? pre;
    const kind = event.data?.kind;
    if (kind === "ready") {
      frame.contentWindow.postMessage({ source }, "*");
    } else if (kind === "drawn" && Number.isFinite(event.data.height)) {
      frame.style.height = `${Math.min(Math.max(Math.round(event.data.height), 1), MAX_DIAGRAM_HEIGHT)}px`;
      stickToBottom();
      if (bar.hidden) {
        bar.hidden = false;
        figure.classList.add("my-3");
        block.hidden = true;
        pre.dataset.diagram = "drawn";
      }
    } else if (kind === "failed") {
      diagrams.delete(frame);
      figure.remove();
      block.hidden = false;
      pre.dataset.diagram = "failed";
    }
  });
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-diagram-figure] button") : null;
    if (!button) return;
    const figure = button.closest("[data-diagram-figure]");
    const frame = [...diagrams.keys()].find((f) => diagrams.get(f).figure === figure);
    if (!frame) return;
    const { pre, source } = diagrams.get(frame);
    if (button.hasAttribute("data-diagram-toggle")) {
      const showSource = !frame.hidden;
      frame.hidden = showSource;
      (pre.closest(".code-block") ?? pre).hidden = !showSource;
      button.textContent = showSource ? "Show diagram" : "Show source";
      return;
    }
    copyText(source).then(
      () => (button.textContent = "Copied"),
      () => (button.textContent = "Could not copy"),
    );
    clearTimeout(button.copyTimer);
    button.copyTimer = setTimeout(() => (button.textContent = "Copy"), 1500);
  });

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
    // The message box takes focus for a mouse and keyboard; on a touch screen that would pop the
    // on-screen keyboard up over the chat on every page load.
    if (matchMedia("(pointer: fine)").matches && !location.hash) textarea()?.focus();
    macKeys();
    localTimes(document);
    scrollToTarget();
    stickToBottom();
  });
})();
