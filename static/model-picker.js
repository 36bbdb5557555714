// The model picker: upgrades the server's <select name="model"> (views/components/model-picker.tsx)
// into a searchable combobox with a listbox (the WAI-ARIA combobox pattern). The <select> stays in
// the form, hidden, and holds the choice: forms send it and htmx posts its "change" as before.
// Everything shown comes from the options' text and data-*, set as text, never as HTML.
(() => {
  const GROUPS = ["Favourites", "Recently used", "All models"];
  const OPTION =
    "flex cursor-pointer items-start gap-2 rounded px-2 py-1.5 text-sm aria-selected:font-semibold data-active:bg-indigo-50 data-active:outline-1 data-active:outline-indigo-500 dark:data-active:bg-indigo-950";
  const STAR =
    "-m-1 shrink-0 p-1 text-center text-zinc-500 hover:text-amber-500 data-on:text-amber-500 dark:text-zinc-400";
  let made = 0;

  /** "$3", "$0.15", "free": a price per million tokens. */
  const price = (n) => (n === 0 ? "free" : `$${n < 1 ? n.toFixed(2) : n.toFixed(n % 1 ? 2 : 0)}`);

  /** What one <option> says about its model. */
  function modelOf(option) {
    const d = option.dataset;
    const inPrice = d.promptPrice === undefined ? undefined : Number(d.promptPrice);
    const outPrice = d.completionPrice === undefined ? undefined : Number(d.completionPrice);
    const group = option.parentElement instanceof HTMLOptGroupElement ? option.parentElement.label : "All models";
    return {
      id: option.value,
      name: d.name ?? option.value,
      provider: option.value.includes("/") ? option.value.split("/")[0] : "",
      context: Number(d.context) || 0,
      inPrice,
      outPrice,
      reads: (d.reads ?? "").split(" ").filter(Boolean),
      reasons: d.reasons !== undefined,
      favourite: d.favourite !== undefined,
      recent: group === "Recently used",
    };
  }

  /** "anthropic · 200K context · $3 in / $15 out per M · images · files · reasoning" */
  function details(m) {
    const parts = [];
    if (m.provider) parts.push(m.provider);
    if (m.context)
      parts.push(
        `${m.context >= 1e6 ? `${+(m.context / 1e6).toFixed(1)}M` : `${Math.round(m.context / 1000)}K`} context`,
      );
    if (m.inPrice !== undefined && m.outPrice !== undefined) {
      parts.push(
        m.inPrice === 0 && m.outPrice === 0 ? "free" : `${price(m.inPrice)} in / ${price(m.outPrice)} out per M tokens`,
      );
    }
    if (m.reads.includes("image")) parts.push("images");
    if (m.reads.includes("file")) parts.push("files");
    if (m.reasons) parts.push("reasoning");
    return parts.join(" · ");
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function upgrade(root) {
    const select = root.querySelector("select");
    const label = root.querySelector("label");
    if (!select || !label || root.dataset.upgraded !== undefined) return;
    root.dataset.upgraded = "";
    const uid = `picker-${++made}`;
    const models = [...select.options].map(modelOf);
    const current = () => models.find((m) => m.id === select.value) ?? models[0];

    const input = el("input", {
      id: `${uid}-box`,
      type: "text",
      role: "combobox",
      "aria-expanded": "false",
      "aria-controls": `${uid}-list`,
      "aria-autocomplete": "list",
      autocomplete: "off",
      spellcheck: "false",
      placeholder: "Search models",
      class: `${select.className} min-w-0 flex-1`,
    });
    const star = el("button", {
      type: "button",
      "aria-pressed": "false",
      class:
        "flex size-8 shrink-0 items-center justify-center rounded-md text-lg leading-none text-zinc-500 hover:bg-zinc-100 aria-pressed:text-amber-500 dark:text-zinc-400 dark:hover:bg-zinc-800",
    });
    // Narrower than lg it spans the window, fixed: there the chat header's picker sits in the
    // actions menu (a popover, which scrolls and would clip a list hanging out of it).
    const list = el("div", {
      id: `${uid}-list`,
      role: "listbox",
      "aria-label": "Models",
      class:
        "absolute top-full left-0 z-30 mt-1 max-h-[60vh] w-[min(32rem,calc(100vw-1rem))] overflow-y-auto rounded-md border border-zinc-200 bg-white p-1 shadow-lg max-lg:fixed max-lg:inset-x-2 max-lg:top-auto max-lg:w-auto max-lg:max-h-[50dvh] dark:border-zinc-700 dark:bg-zinc-900",
    });
    list.hidden = true;
    const status = el("p", { class: "sr-only", role: "status" });
    const row = el("div", { class: "flex items-center gap-1" });
    row.append(input, star);
    select.hidden = true;
    select.tabIndex = -1;
    label.htmlFor = input.id;
    root.append(row, list, status);

    let shown = []; // the models in the list, in order
    let active = -1;

    function showChoice() {
      const m = current();
      input.value = m?.name ?? "";
      input.title = m ? details(m) : "";
      star.setAttribute("aria-pressed", String(Boolean(m?.favourite)));
      star.textContent = m?.favourite ? "★" : "☆";
      star.setAttribute("aria-label", "Favourite model");
      star.title = m?.favourite ? `Unstar ${m.name}` : `Star ${m?.name ?? ""}`;
    }

    function render() {
      const typed = input.value.trim().toLowerCase();
      // The box shows the chosen model's name until something else is typed: then it filters.
      const words = typed === (current()?.name ?? "").toLowerCase() ? [] : typed.split(/\s+/).filter(Boolean);
      const matches = (m) => words.every((w) => `${m.name} ${m.id}`.toLowerCase().includes(w));
      const groupOf = (m) => (m.favourite ? 0 : m.recent ? 1 : 2);
      shown = models.filter(matches).sort((a, b) => groupOf(a) - groupOf(b));
      list.replaceChildren();
      let group;
      let box = list;
      shown.forEach((m, i) => {
        const g = groupOf(m);
        if (g !== group) {
          group = g;
          box = el("div", { role: "group", "aria-labelledby": `${uid}-g${g}` });
          box.append(
            el(
              "div",
              {
                id: `${uid}-g${g}`,
                role: "presentation",
                class: "px-2 pt-2 pb-1 text-xs font-semibold text-zinc-500 dark:text-zinc-400",
              },
              GROUPS[g],
            ),
          );
          list.append(box);
        }
        const option = el("div", {
          id: `${uid}-o${i}`,
          role: "option",
          "aria-selected": String(m.id === select.value),
          "data-index": String(i),
          class: OPTION,
        });
        const mark = el(
          "span",
          { "aria-hidden": "true", "data-star": "", class: STAR, title: m.favourite ? "Unstar" : "Star" },
          m.favourite ? "★" : "☆",
        );
        if (m.favourite) mark.dataset.on = "";
        const text = el("span", { class: "min-w-0 flex-1" });
        text.append(
          el("span", { class: "block break-words" }, m.name),
          el("span", { class: "block text-xs font-normal text-zinc-600 dark:text-zinc-400" }, details(m)),
        );
        option.append(mark, text);
        box.append(option);
      });
      if (!shown.length)
        list.append(el("p", { class: "px-2 py-1.5 text-sm text-zinc-600 dark:text-zinc-400" }, "No model matches."));
      status.textContent = words.length ? `${shown.length} model${shown.length === 1 ? "" : "s"} match.` : "";
    }

    function setActive(i) {
      list.querySelector("[data-active]")?.removeAttribute("data-active");
      active = shown.length ? Math.max(0, Math.min(i, shown.length - 1)) : -1;
      const option = active >= 0 ? list.querySelector(`#${uid}-o${active}`) : null;
      if (!option) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      option.dataset.active = "";
      input.setAttribute("aria-activedescendant", option.id);
      // Scrolls the list only (scrollIntoView would scroll the page too).
      const top = option.offsetTop; // the list is positioned: its options are measured from it
      // The first option shows its group's heading above it too.
      if (active === 0) list.scrollTop = 0;
      else if (top < list.scrollTop) list.scrollTop = top;
      else if (top + option.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = top + option.offsetHeight - list.clientHeight;
      }
    }

    function open(at) {
      if (list.hidden) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
        render();
        // Opens leftwards where it would run off the window's right edge.
        list.classList.remove("lg:right-0", "lg:left-auto");
        if (list.getBoundingClientRect().right > document.documentElement.clientWidth - 8) {
          list.classList.add("lg:right-0", "lg:left-auto");
        }
      }
      setActive(
        at ??
          Math.max(
            0,
            shown.findIndex((m) => m.id === select.value),
          ),
      );
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
      status.textContent = "";
      showChoice();
    }

    function choose(m) {
      if (m.id !== select.value) {
        select.value = m.id;
        // htmx posts the open chat's model on this event; a form simply sends the <select>.
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      close();
    }

    async function toggleFavourite(m) {
      const on = !m.favourite;
      const res = await fetch(root.dataset.favourites, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ model: m.id, favourite: String(on) }),
      }).catch(() => undefined);
      if (!res?.ok) {
        status.textContent = "The star could not be saved; try again.";
        return;
      }
      // Every picker on the page shows the same stars.
      document.dispatchEvent(new CustomEvent("parley:favourite", { detail: { id: m.id, on } }));
      status.textContent = on ? `${m.name} starred: offered first.` : `${m.name} unstarred.`;
    }

    document.addEventListener("parley:favourite", (event) => {
      const m = models.find((x) => x.id === event.detail.id);
      if (!m) return;
      m.favourite = event.detail.on;
      if (list.hidden) return showChoice();
      const at = shown[active]?.id;
      render();
      setActive(
        Math.max(
          0,
          shown.findIndex((x) => x.id === at),
        ),
      );
      showChoice();
    });

    input.addEventListener("focus", () => input.select());
    input.addEventListener("click", () => open());
    input.addEventListener("input", () => {
      if (list.hidden) open(0);
      render();
      setActive(0);
    });
    input.addEventListener("keydown", (event) => {
      if (event.isComposing || event.ctrlKey || event.metaKey) return;
      const page = 8;
      const moves = {
        ArrowDown: () => (event.altKey || list.hidden ? open() : setActive(active + 1)),
        ArrowUp: () => (list.hidden ? open() : setActive(active - 1)),
        PageDown: () => !list.hidden && setActive(active + page),
        PageUp: () => !list.hidden && setActive(active - page),
        Home: () => !list.hidden && setActive(0),
        End: () => !list.hidden && setActive(shown.length - 1),
        Enter: () => !list.hidden && shown[active] && choose(shown[active]),
        Escape: () => !list.hidden && close(),
      };
      const move = moves[event.key];
      if (!move || (list.hidden && ["PageDown", "PageUp", "Home", "End", "Enter", "Escape"].includes(event.key)))
        return;
      event.preventDefault();
      // Esc here closes the list; the page's own Esc (Stop) is not for it.
      event.stopPropagation();
      move();
    });
    input.addEventListener("blur", () => {
      if (!list.hidden) close();
    });
    // The list never takes focus: the box keeps it, and the active option is its aria-activedescendant.
    list.addEventListener("mousedown", (event) => event.preventDefault());
    list.addEventListener("click", (event) => {
      const option = event.target instanceof Element ? event.target.closest("[role=option]") : null;
      const m = option && shown[Number(option.dataset.index)];
      if (!m) return;
      if (event.target.closest("[data-star]")) toggleFavourite(m);
      else choose(m);
    });
    star.addEventListener("click", () => {
      const m = current();
      if (m) toggleFavourite(m);
    });
    showChoice();
  }

  const upgradeAll = (scope) => {
    for (const root of scope.querySelectorAll?.("[data-model-picker]") ?? []) upgrade(root);
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => upgradeAll(document));
  else upgradeAll(document);
  // A picker swapped in later (htmx) is upgraded too.
  document.addEventListener("htmx:load", (event) => upgradeAll(event.target));
})();
