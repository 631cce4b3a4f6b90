// The app's audit mode (GET /v1/app): until TikTok audits the app, say plainly what TikTok allows.
import { api } from "./api.js";
import { clear, h } from "./ui.js";

/** Fill `banner` when the app is unaudited; hide it otherwise (or when the API cannot say). */
export async function showAuditMode(banner) {
  let app;
  try {
    app = await api("GET", "/v1/app");
  } catch {
    banner.hidden = true;
    return;
  }
  clear(banner);
  if (!app || app.audit_mode !== "unaudited") {
    banner.hidden = true;
    return;
  }
  const limits = app.limits || {};
  banner.append(
    h("strong", {}, "Sandbox mode. "),
    app.notice || "Posts can only be visible to the creator (Only me), from private TikTok accounts.",
    h("ul", {},
      h("li", {}, `Privacy: ${(limits.privacy_levels || ["SELF_ONLY"]).join(", ")} only`),
      h("li", {}, "Only private TikTok accounts can post"),
      h("li", {}, `At most ${limits.max_posting_users_per_day || 5} users can post a day`)),
  );
  banner.hidden = false;
}
