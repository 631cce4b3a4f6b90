// Connected TikTok accounts: connect / reconnect through the real OAuth flow, disconnect with confirmation.
import { api } from "./api.js";
import { accountStatsSlot } from "./metrics.js";
import { avatar, clear, confirmAction, flash, h } from "./ui.js";

const STATUS = {
  active: { label: "Connected", tone: "success" },
  needs_reconnect: { label: "Needs reconnect", tone: "warning" },
  revoked: { label: "Disconnected", tone: "muted" },
};

/** Where TikTok's consent page sends the user back to: this console, without any query or hash. */
export function returnTo() {
  return `${location.origin}${location.pathname}`;
}

/** Start the OAuth flow: ask the API for TikTok's authorize URL, then go there. */
export async function connect(button) {
  if (button) button.disabled = true;
  try {
    // The start answers with an HttpOnly cookie that binds the connect to this browser; the callback refuses
    // TikTok's redirect without it. A SaaS front end on another origin of its site calls the API the same way,
    // with credentials: "include" (docs/connect.md, "From a SaaS front end").
    const { authorize_url: url } = await api("GET", "/v1/oauth/tiktok/start", {
      query: { return_to: returnTo() },
      credentials: "include",
    });
    location.assign(url);
  } catch (error) {
    flash(`Could not start connecting to TikTok: ${error.message}`, "error");
    if (button) button.disabled = false;
  }
}

// OAuth errors the callback reports in ?reason=, in words a person can act on.
const AGAIN = "Start connecting again.";
const REASONS = {
  access_denied: "You cancelled on TikTok's page, so nothing was connected.",
  missing_scopes: "TikTok did not grant every permission publishing needs. Connect again and keep every permission ticked.",
  invalid_grant: `TikTok's sign-in code expired or was already used. ${AGAIN}`,
  missing_code: `TikTok did not send a sign-in code back. ${AGAIN}`,
  account_mismatch: "TikTok answered for a different account than the one that signed in. Start connecting again.",
  tiktok_unavailable: "TikTok could not be reached. Try connecting again in a moment.",
  server_error: "TikTok had a problem. Try connecting again in a moment.",
  temporarily_unavailable: "TikTok is temporarily unavailable. Try connecting again in a moment.",
  user_info_failed: `TikTok did not share the account's profile. ${AGAIN}`,
  internal_error: "Something went wrong on our side; nothing was connected. Try again in a moment.",
};

/** Read ?tiktok=connected|error&reason= left by the OAuth callback, say what happened, clean the URL. */
export function consumeOAuthResult() {
  const params = new URLSearchParams(location.search);
  const result = params.get("tiktok");
  if (!result) return null;
  const reason = params.get("reason") || "";
  const missing = params.get("missing") || "";
  const openId = params.get("open_id") || "";
  for (const key of ["tiktok", "reason", "missing", "open_id"]) params.delete(key);
  const query = params.toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
  if (result === "connected") {
    flash("TikTok account connected.", "success");
    return { ok: true, openId };
  }
  let text = REASONS[reason] || `TikTok could not connect the account${reason ? ` (${reason})` : ""}. ${AGAIN}`;
  if (reason === "missing_scopes" && missing) text += ` Missing: ${missing.split(",").join(", ")}.`;
  flash(text, "error");
  return { ok: false, reason };
}

export function renderAccounts(listNode, emptyNode, accounts, { selected, onSelect, onChanged }) {
  clear(listNode);
  emptyNode.hidden = accounts.length > 0;
  for (const account of accounts) {
    const name = account.display_name || account.username || account.open_id;
    const status = STATUS[account.status] || { label: account.status || "Unknown", tone: "neutral" };
    const isSelected = account.open_id === selected;
    const actions = [];
    if (account.status === "active") {
      actions.push(h("button", {
        type: "button", class: `btn btn--small${isSelected ? " btn--primary" : ""}`, "aria-pressed": String(isSelected),
        onclick: () => onSelect(account),
      }, "Post", h("span", { class: "visually-hidden" }, ` as ${name}`)));
    } else {
      actions.push(h("button", { type: "button", class: "btn btn--small btn--primary", onclick: (e) => connect(e.currentTarget) },
        "Reconnect", h("span", { class: "visually-hidden" }, ` ${name}`)));
    }
    actions.push(h("button", {
      type: "button", class: "btn btn--small btn--danger-ghost",
      onclick: () => disconnect(account, name, onChanged),
    }, "Disconnect", h("span", { class: "visually-hidden" }, ` ${name}`)));
    listNode.append(h("li", { class: `account${isSelected ? " is-selected" : ""}`, dataset: { openId: account.open_id } },
      avatar(account.avatar_url, name, 48),
      h("div", { class: "account__who" },
        h("div", { class: "account__name" }, name),
        h("div", { class: "account__meta" },
          account.username ? h("span", { class: "muted small" }, `@${account.username}`) : null,
          h("span", { class: `badge badge--${status.tone}` }, status.label)),
        account.status === "needs_reconnect"
          ? h("div", { class: "small warn-text" }, "TikTok no longer accepts this connection. Reconnect to keep posting.")
          : null,
        account.status === "active" ? accountStatsSlot(account, { onReconnect: connect }) : null),
      h("div", { class: "account__actions" }, actions)));
  }
}

async function disconnect(account, name, onChanged) {
  const ok = await confirmAction({
    title: `Disconnect ${name}?`,
    text: "The console will no longer be able to post to this TikTok account, and TikTok's access is revoked. " +
      "Posts already made stay on TikTok.",
    confirm: "Disconnect",
  });
  if (!ok) return;
  try {
    await api("DELETE", `/v1/accounts/${encodeURIComponent(account.open_id)}`);
    flash(`${name} was disconnected.`, "success");
  } catch (error) {
    flash(error.status === 404 ? `${name} was already disconnected.` : `Could not disconnect ${name}: ${error.message}`, "error");
  }
  await onChanged();
}
