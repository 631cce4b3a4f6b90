// The post list of one account with live status: polled every few seconds while any post is still moving.
import { api } from "./api.js";
import { metricsAvailable, postMetricsBlock } from "./metrics.js";
import { clear, confirmAction, flash, formatDate, h } from "./ui.js";

const POLL_MS = 3000;
const SLOW_POLL_MS = 60_000;
const LINK_WAIT_MS = 10 * 60 * 1000;
const AUDIENCE = { MUTUAL_FOLLOW_FRIENDS: "Only friends", FOLLOWER_OF_CREATOR: "Only followers", SELF_ONLY: "Only the creator" };
const PRIVACY = { PUBLIC_TO_EVERYONE: "Everyone", MUTUAL_FOLLOW_FRIENDS: "Friends", FOLLOWER_OF_CREATOR: "Followers", SELF_ONLY: "Only me" };

// Post statuses as the API reports them -> what a person reads. Unknown values still show, as themselves.
const STATUS = {
  scheduled: { label: "Scheduled", tone: "neutral", cancel: true },
  queued: { label: "Queued", tone: "neutral", cancel: true },
  pending: { label: "Queued", tone: "neutral", cancel: true },
  awaiting_upload: { label: "Waiting for the upload", tone: "neutral" },
  uploading: { label: "Uploading", tone: "progress" },
  initializing: { label: "Processing", tone: "progress" },
  transferring: { label: "Processing", tone: "progress" },
  processing: { label: "Processing", tone: "progress" },
  publishing: { label: "Processing", tone: "progress" },
  // TikTok did not confirm in time; the service reconciles it later and never posts it twice.
  unconfirmed: { label: "Unconfirmed", tone: "warning", terminal: true },
  published: { label: "Published", tone: "success", terminal: true },
  publish_complete: { label: "Published", tone: "success", terminal: true },
  inbox: { label: "In TikTok inbox", tone: "success", terminal: true },
  sent_to_inbox: { label: "In TikTok inbox", tone: "success", terminal: true },
  send_to_user_inbox: { label: "In TikTok inbox", tone: "success", terminal: true },
  failed: { label: "Failed", tone: "error", terminal: true },
  cancelled: { label: "Cancelled", tone: "muted", terminal: true },
  canceled: { label: "Cancelled", tone: "muted", terminal: true },
};

export function statusInfo(status) {
  const key = String(status || "").toLowerCase();
  return STATUS[key] || { label: key ? key.replace(/_/g, " ") : "Unknown", tone: "neutral" };
}

function first(obj, ...keys) {
  for (const k of keys) if (obj && obj[k] !== undefined && obj[k] !== null && obj[k] !== "") return obj[k];
  return undefined;
}

/** The TikTok post ids of a post, as exact strings. */
function postIds(post) {
  const ids = first(post, "post_ids", "tiktok_post_ids", "publicaly_available_post_id", "publicly_available_post_id") || [];
  return (Array.isArray(ids) ? ids : [ids]).map(String);
}

function failureMessage(post) {
  const err = first(post, "error", "last_error", "failure");
  if (err && typeof err === "object") return err.message || err.hint || err.code || "";
  return err || first(post, "error_message", "message", "fail_reason") || "";
}

export function createPostList({ list, empty, more, refresh }) {
  let openId = null;
  let username = "";
  let posts = [];
  let cursor = null;
  let timer = null;
  let generation = 0;

  // A public post's TikTok id arrives after moderation, sometimes after "published": keep watching a while.
  function awaitingLink(p) {
    const since = Date.parse(p.updated_at || p.created_at || "");
    return statusInfo(p.status).label === "Published" && !postIds(p).length &&
      (p.post_info || {}).privacy_level === "PUBLIC_TO_EVERYONE" && Date.now() - since < LINK_WAIT_MS;
  }

  function dueSoon(p) {
    const at = typeof p.publish_at === "number" ? p.publish_at * 1000 : Date.parse(p.publish_at || "");
    return !Number.isFinite(at) || at - Date.now() < 60_000;
  }

  // Fast polling while something is on its way; a post scheduled for later only needs a slow check.
  function pollDelay() {
    if (posts.some((p) => statusInfo(p.status).terminal ? awaitingLink(p) : p.status !== "scheduled" || dueSoon(p))) {
      return POLL_MS;
    }
    return posts.some((p) => p.status === "scheduled") ? SLOW_POLL_MS : null;
  }

  function schedulePoll() {
    clearTimeout(timer);
    timer = null;
    const delay = openId ? pollDelay() : null;
    if (delay) timer = setTimeout(poll, delay);
  }

  async function poll() {
    const gen = generation;
    try {
      const page = await api("GET", "/v1/posts", { query: { open_id: openId } });
      if (gen !== generation) return;
      merge(items(page, false), false);
    } catch (error) {
      if (gen !== generation) return;
      if (error.status === 401) return;
      // Keep polling through a transient failure; the list shows what it last knew.
    }
    schedulePoll();
  }

  function items(page, updateCursor = true) {
    if (updateCursor) cursor = first(page, "next_cursor", "cursor") || null;
    return first(page, "items", "posts", "data") || [];
  }

  function idOf(p) {
    return p.post_id || p.id;
  }

  // Newest page replaces what it covers; older pages already loaded stay.
  function merge(fresh, append) {
    const byId = new Map(posts.map((p) => [idOf(p), p]));
    for (const p of fresh) byId.set(idOf(p), p);
    const freshIds = new Set(fresh.map(idOf));
    posts = append ? [...posts, ...fresh.filter((p) => !posts.some((q) => idOf(q) === idOf(p)))]
      : [...fresh, ...posts.filter((p) => !freshIds.has(idOf(p)))].map((p) => byId.get(idOf(p)));
    render();
  }

  async function cancel(post) {
    const ok = await confirmAction({
      title: "Cancel this post?",
      text: "It will not be published. This cannot be undone.",
      confirm: "Cancel post",
    });
    if (!ok) return;
    try {
      const updated = await api("DELETE", `/v1/posts/${encodeURIComponent(idOf(post))}`);
      flash("The post was cancelled.", "success");
      if (updated && idOf(updated)) merge([updated], false);
      else await load(openId, username);
    } catch (error) {
      flash(error.status === 409 ? `It can no longer be cancelled: ${error.message}` : error.message, "error");
      await poll();
    }
  }

  async function retry(post) {
    try {
      const updated = await api("POST", `/v1/posts/${encodeURIComponent(idOf(post))}/retry`);
      flash("A new attempt has started.", "success");
      merge([updated], false);
    } catch (error) {
      flash(`It cannot be retried: ${error.message}`, "error");
      await poll();
    }
  }

  async function reschedule(post, value) {
    const at = Math.floor(new Date(value).getTime() / 1000);
    if (!Number.isFinite(at)) {
      flash("Pick a date and time.", "error");
      return;
    }
    try {
      const updated = await api("PATCH", `/v1/posts/${encodeURIComponent(idOf(post))}`, { body: { publish_at: at } });
      flash(`Rescheduled for ${formatDate(updated.publish_at)}.`, "success");
      merge([updated], false);
    } catch (error) {
      flash(error.status === 409 ? `It can no longer be changed: ${error.message}` : error.message, "error");
      await poll();
    }
  }

  // A small inline form: the time in the browser's zone, sent as epoch seconds.
  function rescheduleForm(post, title) {
    const id = `reschedule-${idOf(post)}`;
    const input = h("input", { type: "datetime-local", id, required: true });
    const form = h("form", { class: "reschedule", hidden: true },
      h("label", { for: id, class: "small" }, "New time"), input,
      h("button", { type: "submit", class: "btn btn--small btn--primary" }, "Save"));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      reschedule(post, input.value);
    });
    const open = h("button", { type: "button", class: "btn btn--small", onclick: () => {
      form.hidden = !form.hidden;
      if (!form.hidden) input.focus();
    } }, "Reschedule", h("span", { class: "visually-hidden" }, ` ${title}`));
    return { open, form };
  }

  function render() {
    clear(list);
    empty.hidden = posts.length > 0;
    more.hidden = !cursor;
    for (const post of posts) list.append(renderPost(post));
    schedulePoll();
  }

  function renderPost(post) {
    const info = statusInfo(post.status);
    const postInfo = post.post_info || {};
    const mediaType = (post.media && post.media.type) || post.media_type || "video";
    const title = first(postInfo, "title") || first(post, "title") || (mediaType === "photo" ? "Photo post" : "Video post");
    const inbox = (post.mode || "direct") === "inbox";
    const mode = inbox ? "Inbox draft" : "Direct post";
    const privacy = PRIVACY[postInfo.privacy_level] || "";
    const when = first(post, "publish_at") && info.label === "Scheduled"
      ? `Publishes ${formatDate(post.publish_at)}` : `Created ${formatDate(first(post, "created_at"))}`;
    const attempts = Array.isArray(post.attempts) && post.attempts.length > 1 ? `Attempt ${post.attempts.length}` : "";
    const body = [];
    if (info.tone === "progress") body.push(h("p", { class: "muted small" }, "TikTok is processing the post. This can take a few minutes."));
    if (info.tone === "error" || post.status === "unconfirmed") {
      body.push(h("p", { class: "post__message" }, failureMessage(post) || "TikTok did not publish this post."));
      // Why it can (not) be tried again: an unconfirmed post is never sent twice.
      if (post.retry && post.retry.reason) body.push(h("p", { class: "muted small post__retry" }, post.retry.reason));
    }
    const links = [];
    const ids = postIds(post);
    const handle = first(post, "username", "creator_username") || username;
    if (ids.length && handle) {
      for (const id of ids) {
        links.push(h("a", { href: `https://www.tiktok.com/@${encodeURIComponent(handle)}/video/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener noreferrer", class: "btn btn--small" },
          "View on TikTok", h("span", { class: "visually-hidden" }, ` (${title})`)));
      }
    } else if (info.label === "Published") {
      // TikTok returns post ids for public posts only, once moderated.
      body.push(h("p", { class: "muted small" }, postInfo.privacy_level && postInfo.privacy_level !== "PUBLIC_TO_EVERYONE"
        ? `${AUDIENCE[postInfo.privacy_level] || "Not everyone"} can see it on TikTok, so TikTok gives no public link.`
        : "The TikTok link appears once TikTok has finished reviewing the post. Refresh to check."));
    }
    if (info.label === "Published" && (ids.length || post.metrics) && metricsAvailable()) {
      body.push(postMetricsBlock(post, { onReading: (reading) => merge([{ ...post, metrics: reading }], false) }));
    }
    if (post.retry && post.retry.allowed) {
      links.push(h("button", { type: "button", class: "btn btn--small btn--primary", onclick: () => retry(post) },
        "Retry", h("span", { class: "visually-hidden" }, ` ${title}`)));
    }
    if (post.status === "scheduled") {
      const { open, form } = rescheduleForm(post, title);
      links.push(open);
      body.push(form);
    }
    if (info.cancel) {
      links.push(h("button", { type: "button", class: "btn btn--small btn--danger-ghost", onclick: () => cancel(post) },
        "Cancel", h("span", { class: "visually-hidden" }, ` ${title}`)));
    }
    return h("li", { class: "post", dataset: { postId: idOf(post), status: String(post.status || "") } },
      h("div", { class: "post__main" },
        h("div", { class: "post__title" }, title),
        h("div", { class: "muted small" }, [mode, mediaType === "photo" ? "Photos" : "Video", privacy, when, attempts].filter(Boolean).join(" · ")),
        body),
      h("div", { class: "post__side" },
        h("span", { class: `badge badge--${info.tone}`, dataset: { status: String(post.status || "") } }, info.label),
        links.length ? h("div", { class: "post__actions" }, links) : null));
  }

  async function load(nextOpenId, nextUsername = "") {
    generation += 1;
    const gen = generation;
    openId = nextOpenId;
    username = nextUsername;
    posts = [];
    cursor = null;
    clearTimeout(timer);
    clear(list);
    empty.hidden = true;
    more.hidden = true;
    list.setAttribute("aria-busy", "true");
    list.append(h("li", { class: "muted" }, "Loading posts…"));
    try {
      const page = await api("GET", "/v1/posts", { query: { open_id: openId } });
      if (gen !== generation) return;
      posts = items(page);
      render();
    } catch (error) {
      if (gen !== generation) return;
      clear(list);
      list.append(h("li", { class: "notice notice--error", role: "alert" }, `Could not load posts: ${error.message}`));
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  more.addEventListener("click", async () => {
    try {
      const page = await api("GET", "/v1/posts", { query: { open_id: openId, cursor } });
      merge(items(page), true);
    } catch (error) {
      flash(`Could not load older posts: ${error.message}`, "error");
    }
  });
  refresh.addEventListener("click", () => poll());

  return {
    load,
    /** A post just created (202): show it at once and start watching it. */
    add(post) {
      if (post && idOf(post)) merge([post], false);
      else poll();
    },
    stop() {
      generation += 1;
      clearTimeout(timer);
      openId = null;
    },
  };
}
