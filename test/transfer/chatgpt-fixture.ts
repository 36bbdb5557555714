/*
 * A ChatGPT data export's conversations.json, shaped as ChatGPT writes it (2024–2025): each
 * conversation a tree of nodes, with the hidden system message and custom instructions at the
 * root, an edited question and a regenerated answer making branches, a web search (a tool call
 * and the tool's output), an image beside text, and the model's "thoughts".
 */

const T0 = 1_735_725_600; // 2025-01-01T10:00:00Z, in seconds as ChatGPT writes times

type Node = { id: string; message: unknown; parent: string | null; children: string[] };

function message(
  id: string,
  role: string,
  content: Record<string, unknown>,
  opts: { time?: number | null; metadata?: Record<string, unknown>; recipient?: string; status?: string } = {},
) {
  return {
    id,
    author: { role, name: role === "tool" ? "browser" : null, metadata: {} },
    create_time: opts.time === undefined ? null : opts.time,
    update_time: null,
    content,
    status: opts.status ?? "finished_successfully",
    end_turn: role === "assistant" ? true : null,
    weight: 1.0,
    metadata: opts.metadata ?? {},
    recipient: opts.recipient ?? "all",
    channel: null,
  };
}

const text = (...parts: unknown[]) => ({ content_type: "text", parts });

/** Builds a mapping from nodes listed with their parent; children are filled in. */
function tree(nodes: { id: string; parent: string | null; message: unknown }[]): Record<string, Node> {
  const mapping: Record<string, Node> = {};
  for (const n of nodes) mapping[n.id] = { id: n.id, message: n.message, parent: n.parent, children: [] };
  for (const n of nodes) if (n.parent) mapping[n.parent]!.children.push(n.id);
  return mapping;
}

/** The branch the person last saw in "Weekend in Lisbon", as Parley should import it. */
export const LISBON_EXPECTED = [
  { role: "user", content: "Plan a weekend in Lisbon", createdAt: T0 + 10 },
  { role: "assistant", content: "Day 1: **Alfama** and the castle.\n\nDay 2: Belém.", createdAt: T0 + 20 },
  { role: "user", content: "Make it three days", createdAt: T0 + 100 },
  { role: "assistant", content: "Three days it is:\n\nDay 3: *Sintra*.", createdAt: T0 + 130 },
] as const;

export function chatgptExport() {
  const lisbon = tree([
    { id: "client-created-root", parent: null, message: null },
    {
      id: "sys",
      parent: "client-created-root",
      message: message("sys", "system", text(""), { metadata: { is_visually_hidden_from_conversation: true } }),
    },
    {
      id: "instructions",
      parent: "sys",
      message: message(
        "instructions",
        "user",
        { content_type: "user_editable_context", user_profile: "I like trains.", user_instructions: "Be brief." },
        { metadata: { is_visually_hidden_from_conversation: true, user_context_message_data: {} } },
      ),
    },
    {
      id: "u1",
      parent: "instructions",
      message: message("u1", "user", text("Plan a weekend in Lisbon"), { time: T0 + 10 }),
    },
    {
      id: "a1",
      parent: "u1",
      message: message("a1", "assistant", text("Day 1: **Alfama** and the castle.\n\nDay 2: Belém."), {
        time: T0 + 20,
        metadata: { model_slug: "gpt-4o", finish_details: { type: "stop", stop_tokens: [200002] } },
      }),
    },
    // The first wording of the second question, and its answer: an older branch.
    { id: "u2-old", parent: "a1", message: message("u2-old", "user", text("Make it cheaper"), { time: T0 + 40 }) },
    {
      id: "a2-old",
      parent: "u2-old",
      message: message("a2-old", "assistant", text("Hostels and the 28 tram."), { time: T0 + 50 }),
    },
    // The edited question: the current branch.
    { id: "u2", parent: "a1", message: message("u2", "user", text("Make it three days"), { time: T0 + 100 }) },
    {
      id: "thoughts",
      parent: "u2",
      message: message(
        "thoughts",
        "assistant",
        {
          content_type: "thoughts",
          thoughts: [{ summary: "Checking", content: "Sintra is close." }],
          source_analysis_msg_id: "x",
        },
        { time: T0 + 105, metadata: { model_slug: "o3" } },
      ),
    },
    {
      id: "search",
      parent: "thoughts",
      message: message(
        "search",
        "assistant",
        { content_type: "code", language: "unknown", text: 'search("Sintra")' },
        {
          time: T0 + 110,
          recipient: "browser",
        },
      ),
    },
    {
      id: "tool",
      parent: "search",
      message: message(
        "tool",
        "tool",
        { content_type: "tether_browsing_display", result: "Sintra: palaces", summary: "" },
        {
          time: T0 + 120,
        },
      ),
    },
    // A regenerated answer: the first one is a sibling off the branch.
    {
      id: "a2-first",
      parent: "tool",
      message: message("a2-first", "assistant", text("Three days, first try."), { time: T0 + 125 }),
    },
    {
      id: "a2",
      parent: "tool",
      message: message(
        "a2",
        "assistant",
        {
          content_type: "multimodal_text",
          parts: [
            "Three days it is:",
            { content_type: "image_asset_pointer", asset_pointer: "file-service://file-abc", width: 512, height: 512 },
            "Day 3: *Sintra*.",
          ],
        },
        { time: T0 + 130, metadata: { model_slug: "o3", finish_details: { type: "stop" } } },
      ),
    },
  ]);

  // A conversation with nothing to show: only the hidden system message.
  const empty = tree([
    { id: "r", parent: null, message: null },
    {
      id: "s",
      parent: "r",
      message: message("s", "system", text(""), { metadata: { is_visually_hidden_from_conversation: true } }),
    },
  ]);

  // No title, no times on the messages, an answer cut off at the length limit.
  const untitled = tree([
    { id: "r", parent: null, message: null },
    { id: "q", parent: "r", message: message("q", "user", text("Write a long poem")) },
    {
      id: "p",
      parent: "q",
      message: message("p", "assistant", text("Roses are red,"), {
        status: "finished_partial_completion",
        metadata: { model_slug: "gpt-4", finish_details: { type: "max_tokens" } },
      }),
    },
  ]);

  return [
    conversation("Weekend in Lisbon", lisbon, "a2", T0, T0 + 130),
    conversation("Only instructions", empty, "s", T0 + 200, T0 + 200),
    conversation(null, untitled, "p", T0 + 300, T0 + 400),
  ];
}

function conversation(
  title: string | null,
  mapping: Record<string, Node>,
  current: string,
  created: number,
  updated: number,
) {
  return {
    title,
    create_time: created + 0.123456,
    update_time: updated + 0.654321,
    mapping,
    moderation_results: [],
    current_node: current,
    plugin_ids: null,
    conversation_id: crypto.randomUUID(),
    conversation_template_id: null,
    gizmo_id: null,
    gizmo_type: null,
    is_archived: false,
    is_starred: null,
    safe_urls: [],
    blocked_urls: [],
    default_model_slug: "gpt-4o",
    conversation_origin: null,
    voice: null,
    async_status: null,
    disabled_tool_ids: [],
    id: crypto.randomUUID(),
  };
}

export { T0 };
