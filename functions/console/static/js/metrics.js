// After the post: a published post's counts and an account's stats, from the metrics API (docs/metrics.md).
// TikTok's video ids are int64: they stay strings here, never Number() (a double rounds 19-digit ids).
import { api } from "./api.js";
import { formatDate, h } from "./ui.js";

const numbers = new Intl.NumberFormat(undefined);
const MISSING_SCOPE = "reconnect_to_grant";
let disabled = false; // the operator has not enabled metrics (403 metrics_disabled): stop asking

/** Whether the service answers metrics at all (false once it said metrics_disabled). */
export function metricsAvailable() {
  return !disabled;
}

function noteDisabled(error) {
  if (error && error.code === "metrics_disabled") disabled = true;
}

function count(value, one, many) {
  const n = Number(value) || 0; // counts, not ids: safe as numbers
  return `${numbers.format(n)} ${n === 1 ? one : many}`;
}

/** "1,234 views · 56 likes · 7 comments · 3 shares" for a reading. */
export function postCountsText(reading) {
  return [
    count(reading.view_count, "view", "views"),
    count(reading.like_count, "like", "likes"),
    count(reading.comment_count, "comment", "comments"),
    count(reading.share_count, "share", "shares"),
  ].join(" · ");
}

export function accountStatsText(stats) {
  return [
    count(stats.follower_count, "follower", "followers"),
    count(stats.following_count, "following", "following"),
    count(stats.likes_count, "like", "likes"),
    count(stats.video_count, "video", "videos"),
  ].join(" · ");
}

/** GET /v1/posts/{post_id}/metrics: the reading (stored or fresh), or an ApiError. */
export async function fetchPostMetrics(postId) {
  try {
    return await api("GET", `/v1/posts/${encodeURIComponent(postId)}/metrics`);
  } catch (error) {
    noteDisabled(error);
    throw error;
  }
}

/** The counts block of a published post: its latest reading and a button to read it again. */
export function postMetricsBlock(post, { onReading }) {
  const reading = post.metrics;
  const status = h("p", { class: "muted small metrics__note", role: "status" });
  const button = h("button", { type: "button", class: "btn btn--ghost btn--small" }, reading ? "Update stats" : "Show stats");
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = "Asking TikTok…";
    try {
      const fresh = await fetchPostMetrics(post.post_id);
      onReading({ ...fresh, read_at: fresh.read_at });
    } catch (error) {
      status.textContent = metricsRefusal(error);
      button.disabled = disabled;
    }
  });
  const parts = [];
  if (reading) {
    parts.push(h("p", { class: "metrics__counts" }, postCountsText(reading)));
    parts.push(h("p", { class: "muted small" }, `Stats as of ${formatDate(reading.read_at)}`));
  }
  if (!disabled) parts.push(h("div", { class: "metrics__actions" }, button, status));
  return h("div", { class: "metrics", dataset: { metrics: reading ? "shown" : "none" } }, parts);
}

/** What to tell a person when the metrics API refuses. */
export function metricsRefusal(error) {
  switch (error.code) {
    case "video_id_pending":
      return "TikTok is still reviewing the post. Its stats appear once the review is done.";
    case "metrics_pending":
      return "TikTok was asked a moment ago. Try again later.";
    case "post_not_public":
      return "TikTok only gives stats for public posts.";
    case MISSING_SCOPE:
      return "Reconnect the account to allow stats.";
    case "metrics_disabled":
      return "Stats are not enabled for this service.";
    default:
      return `Could not get stats: ${error.message}`;
  }
}

// One stats request per account per minute at most, however often the account list is drawn (the API itself
// asks TikTok at most once per interval; this only spares requests).
const STATS_TTL_MS = 60_000;
const statsCache = new Map();

function accountStats(openId) {
  const cached = statsCache.get(openId);
  if (cached && Date.now() - cached.at < STATS_TTL_MS) return cached.promise;
  const promise = api("GET", `/v1/accounts/${encodeURIComponent(openId)}/stats`);
  statsCache.set(openId, { promise, at: Date.now() });
  promise.catch(() => statsCache.delete(openId));
  return promise;
}

/** The stats line of an account row: loaded after the row is drawn; a reconnect hint when not granted. */
export function accountStatsSlot(account, { onReconnect }) {
  const slot = h("div", { class: "account__stats small muted", dataset: { stats: "loading" } });
  if (disabled || account.status !== "active") {
    slot.dataset.stats = "none";
    return slot;
  }
  accountStats(account.open_id)
    .then((stats) => {
      slot.dataset.stats = "shown";
      slot.append(h("span", {}, accountStatsText(stats)));
    })
    .catch((error) => {
      noteDisabled(error);
      slot.dataset.stats = error.code || "error";
      if (error.code === MISSING_SCOPE) {
        slot.append(
          h("span", {}, "Stats need a permission this connection did not grant. "),
          h("button", { type: "button", class: "btn btn--ghost btn--small", onclick: (e) => onReconnect(e.currentTarget) },
            "Reconnect to show stats"),
        );
      }
    });
  return slot;
}
