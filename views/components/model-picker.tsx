import type { Model } from "../../src/llm/openrouter.ts";
import type { ModelChoices } from "../../src/picker/types.ts";

/** "Name · 200K context · $3/$15 per M tokens", as far as the upstream says. */
export function modelLabel(m: Model): string {
  const parts = [m.name];
  if (m.contextLength) parts.push(`${Math.round(m.contextLength / 1000)}K context`);
  if (m.promptPrice != null && m.completionPrice != null) {
    const price = (n: number) => `$${n < 1 ? n.toFixed(2) : n.toFixed(n % 1 ? 2 : 0)}`;
    parts.push(
      m.promptPrice === 0 && m.completionPrice === 0
        ? "free"
        : `${price(m.promptPrice)}/${price(m.completionPrice)} per M tokens`,
    );
  }
  return parts.join(" · ");
}

export type ModelPickerProps = {
  /** The <select>'s id; the label points at it (and, once upgraded, at the search box). */
  id: string;
  choices: ModelChoices;
  selected: string;
  /** The label's classes: the chat header keeps "Model" for screen readers only. */
  labelClass: string;
  /** The box's classes, for the <select> and the search box that replaces it. */
  boxClass: string;
  class?: string;
  /** The form the choice belongs to, when the picker sits outside it. */
  form?: string;
  /** Posted to on every change (the open chat's model), instead of waiting for a form. */
  postTo?: string;
  /** A first choice of no model (the value ""), in these words: a project's model is optional. */
  none?: string;
};

/**
 * "Model": a real <select> (favourites, then recently used, then every model by name), so the
 * form works without JavaScript; static/model-picker.js upgrades it into a searchable combobox
 * that shows each model's context, prices and what it reads, from the data-* of its options.
 */
export function ModelPicker(props: ModelPickerProps): JSX.Element {
  const { models, favourites, recent } = props.choices;
  const known =
    !props.selected || models.some((m) => m.id === props.selected)
      ? models
      : [{ id: props.selected, name: props.selected, contextLength: null }, ...models];
  const byId = new Map(known.map((m) => [m.id, m]));
  const starred = favourites.flatMap((id) => byId.get(id) ?? []);
  const used = recent.filter((id) => !favourites.includes(id)).flatMap((id) => byId.get(id) ?? []);
  const first = new Set([...starred, ...used].map((m) => m.id));
  const rest = known.filter((m) => !first.has(m.id)).sort((a, b) => a.name.localeCompare(b.name, "en"));
  const option = (m: Model) => (
    <ModelOption model={m} selected={m.id === props.selected} starred={favourites.includes(m.id)} />
  );
  return (
    <div class={`relative ${props.class ?? ""}`} data-model-picker data-favourites="/models/favourites">
      <label for={props.id} class={props.labelClass}>
        Model
      </label>
      <select
        id={props.id}
        name="model"
        form={props.form}
        hx-post={props.postTo}
        hx-trigger={props.postTo ? "change" : undefined}
        hx-swap={props.postTo ? "none" : undefined}
        class={props.boxClass}
      >
        {props.none !== undefined ? (
          <option value="" selected={!props.selected} data-name={props.none} safe>
            {props.none}
          </option>
        ) : (
          ""
        )}
        {first.size ? (
          <>
            {starred.length ? <optgroup label="Favourites">{starred.map(option)}</optgroup> : ""}
            {used.length ? <optgroup label="Recently used">{used.map(option)}</optgroup> : ""}
            {rest.length ? <optgroup label="All models">{rest.map(option)}</optgroup> : ""}
          </>
        ) : (
          rest.map(option)
        )}
      </select>
    </div>
  );
}

/** A price per million tokens as data: 0.1, not 0.09999999999999999 (it was per token upstream). */
const perMillion = (n: number | null | undefined) => (n == null ? undefined : String(Number(n.toPrecision(6))));

/** One model: its label for the plain <select>, its facts as data-* for the searchable picker. */
function ModelOption({ model: m, selected, starred }: { model: Model; selected: boolean; starred: boolean }) {
  const reads = (m.inputModalities ?? []).filter((k) => k === "image" || k === "file");
  return (
    <option
      value={m.id}
      selected={selected}
      data-name={m.name}
      data-context={m.contextLength ? String(m.contextLength) : undefined}
      data-prompt-price={perMillion(m.promptPrice)}
      data-completion-price={perMillion(m.completionPrice)}
      data-reads={reads.length ? reads.join(" ") : undefined}
      data-reasons={m.supportedParameters?.includes("reasoning") ? "" : undefined}
      data-favourite={starred ? "" : undefined}
      safe
    >
      {modelLabel(m)}
    </option>
  );
}
