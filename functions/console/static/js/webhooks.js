// Webhooks to your app: endpoints (add, enable/disable, rotate the secret, delete), each endpoint's delivery
// log with every attempt, and replay. A secret is shown once, right after it is made, and never again.
import { api } from "./api.js";
import { clear, confirmAction, flash, formatDate, h } from "./ui.js";

const TYPES = {
  "post.published": "Post published",
  "post.sent_to_inbox": "Post sent to the TikTok inbox",
  "post.failed": "Post failed",
  "account.connected": "Account connected",
  "account.disconnected": "Account disconnected",
  "account.needs_reconnect": "Account needs reconnecting",
  "webhook_endpoint.disabled": "An endpoint was disabled",
};
const DELIVERY = {
  pending: { label: "Queued", tone: "neutral" },
  retrying: { label: "Retrying", tone: "warning" },
  succeeded: { label: "Delivered", tone: "success" },
  failed: { label: "Failed", tone: "error" },
  skipped: { label: "Skipped", tone: "muted" },
};
const ERRORS = {
  timeout: "no answer in time",
  connection_error: "could not connect",
  tls_error: "TLS failed",
  unsafe_address: "address not allowed",
  endpoint_disabled: "endpoint disabled",
  endpoint_deleted: "endpoint deleted",
};

// While a shown message is still on its way (queued, or a retry due soon) the log refreshes itself.
const POLL_MS = 3000;
const SOON_MS = 60_000;

const typeLabel = (type) => TYPES[type] || type;
const path = (...parts) => `/v1/webhook-endpoints/${parts.map(encodeURIComponent).join("/")}`;

/** The webhooks card inside `root` (a <section>); call load() once signed in, reset() on sign-out. */
export function createWebhooks(root) {
  let catalogue = Object.keys(TYPES);
  let endpoints = [];
  let openLog = null; // endpoint_id whose delivery log is shown
  let pollTimer = null;

  const list = h("ul", { class: "hook-list", "aria-label": "Webhook endpoints" });
  const empty = h("p", { class: "muted" }, "No endpoint yet. Add one to have events sent to your app.");
  const secretBox = h("div", { class: "secret-box", hidden: true, role: "region", "aria-label": "Signing secret" });
  const form = buildForm();
  const log = h("div", { class: "hook-log", hidden: true });
  const add = h("button", { type: "button", class: "btn btn--primary", onclick: () => toggleForm(true) }, "Add endpoint");

  clear(root).append(
    h("div", { class: "card__head" }, h("h2", { id: "webhooks-title" }, "Webhooks"), add),
    h("p", { class: "muted small" },
      "Your app receives events at its own HTTPS URL, signed with Standard Webhooks (webhook-id, ",
      "webhook-timestamp, webhook-signature headers): verify them with any Standard Webhooks library."),
    secretBox, form, empty, list, log);

  function buildForm() {
    const url = h("input", { id: "hook-url", type: "url", required: true, placeholder: "https://app.example.com/webhooks/tiktok", autocomplete: "off", "aria-describedby": "hook-url-error" });
    const description = h("input", { id: "hook-description", type: "text", maxlength: "200", autocomplete: "off" });
    const error = h("p", { id: "hook-url-error", class: "field-error", hidden: true });
    const boxes = h("div", { class: "hook-types" });
    const node = h("form", { class: "hook-form", hidden: true, novalidate: true, "aria-label": "New webhook endpoint" },
      h("div", { class: "field" }, h("label", { for: "hook-url" }, "Endpoint URL"), url, error),
      h("fieldset", { class: "field" }, h("legend", {}, "Events to send"), boxes),
      h("div", { class: "field" }, h("label", { for: "hook-description" }, "Description (optional)"), description),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "btn btn--primary" }, "Save endpoint"),
        h("button", { type: "button", class: "btn", onclick: () => toggleForm(false) }, "Cancel")));
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      const types = [...boxes.querySelectorAll("input:checked")].map((b) => b.value);
      error.hidden = true;
      url.removeAttribute("aria-invalid");
      if (!url.value.trim()) return invalid("Enter the URL of your app's webhook endpoint.");
      if (!types.length) return invalid("Choose at least one event.");
      const button = node.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const created = await api("POST", "/v1/webhook-endpoints", {
          body: { url: url.value.trim(), event_types: types, description: description.value.trim() },
        });
        showSecret(created, "Endpoint added.");
        node.reset();
        toggleForm(false);
        await load();
      } catch (failure) {
        invalid(failure.code === "unsafe_url" ? failure.message : failure.fields.url || failure.message);
      } finally {
        button.disabled = false;
      }
    });
    function invalid(message) {
      error.textContent = message;
      error.hidden = false;
      url.setAttribute("aria-invalid", "true");
      url.focus();
    }
    node.boxes = boxes;
    return node;
  }

  function toggleForm(open) {
    form.hidden = !open;
    add.hidden = open;
    if (open) {
      clear(form.boxes).append(...catalogue.map((type) => h("label", { class: "check" },
        h("input", { type: "checkbox", value: type, checked: type.startsWith("post.") }), typeLabel(type))));
      form.querySelector("#hook-url").focus();
    }
  }

  function showSecret(endpoint, headline) {
    const value = h("input", { type: "text", readonly: true, value: endpoint.secret, class: "secret-box__value", "aria-label": "Signing secret", spellcheck: false });
    clear(secretBox).append(
      h("p", {}, h("strong", {}, headline), " Copy the signing secret now: it is shown only this once."),
      h("div", { class: "actions" }, value,
        h("button", { type: "button", class: "btn btn--small", onclick: async () => {
          value.select();
          try {
            await navigator.clipboard.writeText(endpoint.secret);
            flash("Secret copied.", "success");
          } catch {
            flash("Select the secret and copy it.", "info");
          }
        } }, "Copy"),
        h("button", { type: "button", class: "btn btn--small btn--ghost", onclick: () => { clear(secretBox); secretBox.hidden = true; } }, "I stored it")));
    secretBox.hidden = false;
  }

  function draw() {
    clear(list);
    empty.hidden = endpoints.length > 0;
    for (const endpoint of endpoints) {
      const enabled = endpoint.status === "enabled";
      const badge = !enabled
        ? h("span", { class: "badge badge--error" }, endpoint.disabled_reason === "failing" ? "Disabled (kept failing)" : "Disabled")
        : endpoint.failing_since
          ? h("span", { class: "badge badge--warning" }, `Failing since ${formatDate(endpoint.failing_since)}`)
          : h("span", { class: "badge badge--success" }, "Enabled");
      const name = endpoint.description || endpoint.url;
      list.append(h("li", { class: `hook${openLog === endpoint.endpoint_id ? " is-selected" : ""}`, dataset: { endpointId: endpoint.endpoint_id } },
        h("div", { class: "hook__who" },
          h("div", { class: "hook__url" }, endpoint.url),
          endpoint.description ? h("div", { class: "muted small" }, endpoint.description) : null,
          h("div", { class: "hook__meta" }, badge,
            h("span", { class: "muted small" }, endpoint.event_types.map(typeLabel).join(" · ")))),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "btn btn--small", "aria-pressed": String(openLog === endpoint.endpoint_id), onclick: () => showLog(endpoint) },
            "Deliveries", h("span", { class: "visually-hidden" }, ` of ${name}`)),
          h("button", { type: "button", class: "btn btn--small", onclick: () => rotate(endpoint, name) },
            "Rotate secret", h("span", { class: "visually-hidden" }, ` of ${name}`)),
          h("button", { type: "button", class: "btn btn--small", onclick: () => setEnabled(endpoint, !enabled) },
            enabled ? "Disable" : "Enable", h("span", { class: "visually-hidden" }, ` ${name}`)),
          h("button", { type: "button", class: "btn btn--small btn--danger-ghost", onclick: () => remove(endpoint, name) },
            "Delete", h("span", { class: "visually-hidden" }, ` ${name}`)))));
    }
  }

  async function load() {
    try {
      const page = await api("GET", "/v1/webhook-endpoints");
      endpoints = page.endpoints || [];
      if (Array.isArray(page.event_types) && page.event_types.length) catalogue = page.event_types;
    } catch (error) {
      if (error.status !== 401) flash(`Could not load your webhook endpoints: ${error.message}`, "error");
      endpoints = [];
    }
    if (openLog && !endpoints.some((e) => e.endpoint_id === openLog)) closeLog();
    draw();
    if (openLog) await showLog(endpoints.find((e) => e.endpoint_id === openLog), { keep: true });
  }

  async function rotate(endpoint, name) {
    const ok = await confirmAction({
      title: `Rotate the secret of ${name}?`,
      text: "A new secret is made and shown once. For 24 hours deliveries are signed with both the new and the old " +
        "secret, so your app can switch without missing anything.",
      confirm: "Rotate",
    });
    if (!ok) return;
    try {
      showSecret(await api("POST", path(endpoint.endpoint_id, "rotate-secret")), "New secret made.");
    } catch (error) {
      flash(`Could not rotate the secret: ${error.message}`, "error");
    }
  }

  async function setEnabled(endpoint, enabled) {
    try {
      await api("PATCH", path(endpoint.endpoint_id), { body: { enabled } });
      flash(enabled ? "Endpoint enabled. Replay what it missed from its deliveries." : "Endpoint disabled.", "success");
    } catch (error) {
      flash(`Could not change the endpoint: ${error.message}`, "error");
    }
    await load();
  }

  async function remove(endpoint, name) {
    const ok = await confirmAction({
      title: `Delete ${name}?`,
      text: "No more events are sent to it, including those still queued. This cannot be undone.",
      confirm: "Delete",
    });
    if (!ok) return;
    try {
      await api("DELETE", path(endpoint.endpoint_id));
      flash("Endpoint deleted.", "success");
    } catch (error) {
      flash(error.status === 404 ? "That endpoint was already deleted." : `Could not delete it: ${error.message}`, "error");
    }
    await load();
  }

  function closeLog() {
    clearTimeout(pollTimer);
    openLog = null;
    clear(log);
    log.hidden = true;
  }

  async function showLog(endpoint, { keep = false } = {}) {
    if (!endpoint) return closeLog();
    if (openLog === endpoint.endpoint_id && !keep) {
      closeLog();
      return draw();
    }
    openLog = endpoint.endpoint_id;
    clearTimeout(pollTimer);
    draw();
    let page;
    try {
      page = await api("GET", path(endpoint.endpoint_id, "deliveries"), { query: { limit: 25 } });
    } catch (error) {
      flash(`Could not load the deliveries: ${error.message}`, "error");
      return;
    }
    const rows = (page.deliveries || []).map((delivery) => deliveryRow(endpoint, delivery));
    clear(log).append(
      h("div", { class: "card__head" },
        h("h3", { id: "hook-log-title" }, `Deliveries to ${endpoint.description || endpoint.url}`),
        h("button", { type: "button", class: "btn btn--ghost btn--small", onclick: () => showLog(endpoint, { keep: true }) }, "Refresh")),
      rows.length
        ? h("table", { class: "hook-table", "aria-labelledby": "hook-log-title" },
          h("thead", {}, h("tr", {}, ...["Event", "Status", "Attempts", "Last answer", "Time", ""].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows))
        : h("p", { class: "muted" }, "Nothing sent to this endpoint yet."));
    log.hidden = false;
    const moving = (page.deliveries || []).some((d) => d.status === "pending" ||
      (d.status === "retrying" && Date.parse(d.next_attempt_at) - Date.now() < SOON_MS));
    if (moving) {
      const id = endpoint.endpoint_id;
      pollTimer = setTimeout(() => {
        if (openLog === id) showLog(endpoints.find((e) => e.endpoint_id === id), { keep: true });
      }, POLL_MS);
    }
  }

  function deliveryRow(endpoint, delivery) {
    const status = DELIVERY[delivery.status] || { label: delivery.status, tone: "neutral" };
    const last = delivery.attempts[delivery.attempts.length - 1];
    const answer = !last ? "" : last.status_code ? `HTTP ${last.status_code} in ${last.latency_ms} ms` : ERRORS[last.error] || last.error || "";
    const open = delivery.status === "pending" || delivery.status === "retrying";
    const details = h("details", {},
      h("summary", {}, `${delivery.attempt_count} attempt${delivery.attempt_count === 1 ? "" : "s"}`),
      h("ol", { class: "hook-attempts" }, delivery.attempts.map((a) => h("li", {},
        `#${a.number} ${formatDate(a.at)}: `,
        a.status_code ? `HTTP ${a.status_code}` : ERRORS[a.error] || a.error || "no answer",
        ` (${a.latency_ms} ms)${a.replay ? " (replay)" : ""}`))));
    return h("tr", { dataset: { messageId: delivery.message_id } },
      h("td", {}, typeLabel(delivery.event_type), h("div", { class: "muted small mono" }, delivery.message_id)),
      h("td", {}, h("span", { class: `badge badge--${status.tone}` }, status.label),
        delivery.next_attempt_at ? h("div", { class: "muted small" }, `next try ${formatDate(delivery.next_attempt_at)}`) : null),
      h("td", {}, details),
      h("td", {}, answer),
      h("td", {}, formatDate(delivery.created_at)),
      h("td", {}, h("button", {
        type: "button", class: "btn btn--small", disabled: open || endpoint.status !== "enabled",
        title: open ? "Still being delivered" : endpoint.status !== "enabled" ? "Enable the endpoint first" : "Send it again",
        onclick: (event) => replay(endpoint, delivery, event.currentTarget),
      }, "Replay", h("span", { class: "visually-hidden" }, ` ${typeLabel(delivery.event_type)} ${delivery.message_id}`))));
  }

  async function replay(endpoint, delivery, button) {
    button.disabled = true;
    try {
      await api("POST", path(endpoint.endpoint_id, "deliveries", delivery.message_id, "replay"));
      flash("Sent again: it is queued for delivery.", "success");
    } catch (error) {
      flash(`Could not replay it: ${error.message}`, "error");
    }
    await showLog(endpoint, { keep: true });
  }

  return {
    load,
    reset() {
      endpoints = [];
      closeLog();
      clear(secretBox);
      secretBox.hidden = true;
      toggleForm(false);
      draw();
    },
  };
}
