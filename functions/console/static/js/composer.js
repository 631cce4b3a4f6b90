// The post composer for one account, built from a fresh creator-info each time it opens (TikTok requires
// the creator's current settings before every post). Rendered once; `sync()` then updates it in place so
// focus and typed text are never lost.
import { api, ApiError } from "./api.js";
import { videoDuration } from "./media.js";
import { evaluate, normalizeCreatorInfo } from "./rules.js";
import { avatar, clear, flash, formatBytes, formatDate, formatDuration, h } from "./ui.js";
import { uploadAll } from "./upload.js";

const VIDEO_TYPES = "video/mp4,video/quicktime,video/webm,.mp4,.mov,.webm";
const PHOTO_TYPES = "image/jpeg,image/webp,.jpg,.jpeg,.webp";
const FIELDS = ["mode", "media", "title", "description", "privacy", "interactions", "disclosure", "schedule"];

function fieldFor(path) {
  const p = path.toLowerCase();
  if (p.includes("privacy")) return "privacy";
  if (p.includes("description")) return "description";
  if (p.includes("title")) return "title";
  if (/disable_(comment|duet|stitch)/.test(p)) return "interactions";
  if (p.includes("brand")) return "disclosure";
  if (p.includes("publish_at") || p.includes("schedule")) return "schedule";
  if (/^(media|upload|image|video|photo|duration|size|content_type|filename|file)/.test(p)) return "media";
  if (p.startsWith("mode")) return "mode";
  return null;
}

function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

let opening = 0;

/** Open the composer for `account` inside `root`. onPosted(post) is called after a 202. */
export async function openComposer(root, account, { onPosted, onClose }) {
  const openId = account.open_id;
  // Only the newest open may render: a slower creator-info answer for an earlier click must not win.
  const ticket = ++opening;
  clear(root);
  root.append(h("div", { class: "card__head" }, h("h2", { id: "composer-title" }, "New post")),
    h("p", { class: "muted", role: "status" }, "Loading the creator's TikTok settings…"));
  root.setAttribute("aria-busy", "true");
  let creator;
  try {
    creator = normalizeCreatorInfo(await api("GET", `/v1/accounts/${encodeURIComponent(openId)}/creator-info`));
  } catch (error) {
    if (ticket !== opening) return;
    root.removeAttribute("aria-busy");
    renderCannotPost(root, account, error, { onPosted, onClose });
    return;
  }
  if (ticket !== opening) return;
  root.removeAttribute("aria-busy");
  renderForm(root, account, creator, { onPosted, onClose });
}

function renderCannotPost(root, account, error, handlers) {
  clear(root);
  const name = account.display_name || account.username || "This account";
  const reconnect = error.code && /reconnect|token|auth|scope/i.test(error.code);
  const message = error.status === 404
    ? "This account is no longer connected."
    : error.message || "TikTok says this creator cannot post right now.";
  root.append(
    h("div", { class: "card__head" }, h("h2", { id: "composer-title" }, "New post")),
    h("div", { class: "notice notice--error", role: "alert", id: "cannot-post" },
      h("strong", {}, `${name} cannot post right now.`), " ", message, " ",
      reconnect ? "Reconnect the account, then try again." : "Nothing was posted. Try again later."),
    h("div", { class: "actions" },
      h("button", { type: "button", class: "btn", onclick: () => openComposer(root, account, handlers) }, "Check again")),
  );
}

function renderForm(root, account, creator, { onPosted, onClose }) {
  const openId = account.open_id;
  const texts = creator.texts;
  const state = {
    // Direct is the usual choice; when TikTok would refuse a direct post (an unaudited app and a public
    // account), the form starts on the inbox and says why direct is unavailable.
    mode: creator.canPost ? "direct" : "inbox", mediaType: "video", files: [], urls: [], duration: null, durationPending: false,
    title: "", description: "", privacy: "", comment: false, duet: false, stitch: false,
    disclose: false, yourBrand: false, branded: false, schedule: false, publishAt: "",
    busy: false, serverErrors: {}, uploaded: new WeakMap(), lastAttempt: null, probe: 0,
  };
  const ids = (name) => `c-${name}`;
  const errorNode = (field) => h("p", { class: "field-error", id: ids(`${field}-error`), hidden: true });
  const errors = Object.fromEntries(FIELDS.map((f) => [f, errorNode(f)]));

  // --- creator ---------------------------------------------------------------------------------------
  const creatorLine = h("div", { class: "creator" },
    avatar(creator.avatarUrl || account.avatar_url, creator.nickname, 40),
    h("div", {},
      h("div", {}, "Posting to TikTok as ", h("strong", { id: "creator-nickname" }, creator.nickname)),
      creator.username ? h("div", { class: "muted small" }, `@${creator.username}`) : null));

  // --- mode ------------------------------------------------------------------------------------------
  const radio = (name, value, label, hint, disabled = false) => {
    const id = ids(`${name}-${value}`);
    return h("div", { class: `choice${disabled ? " is-disabled" : ""}` },
      h("input", { type: "radio", name: `c-${name}`, id, value, disabled, checked: state[name === "media" ? "mediaType" : name] === value }),
      h("label", { for: id }, h("span", {}, label), hint ? h("span", { class: "choice__hint" }, hint) : null));
  };
  const modeSet = h("fieldset", { class: "group", "aria-describedby": ids("mode-error") },
    h("legend", {}, "How to publish"),
    h("div", { class: "choices" },
      radio("mode", "direct", "Post directly",
        creator.canPost ? "Published on the profile once TikTok has processed it." : creator.cannotPostReason || "Not available for this account right now.",
        !creator.canPost),
      radio("mode", "inbox", "Send to TikTok inbox", "The creator finishes and posts it in the TikTok app.")),
    errors.mode);

  // --- media -----------------------------------------------------------------------------------------
  const fileInput = h("input", { type: "file", id: ids("file"), accept: VIDEO_TYPES, "aria-describedby": `${ids("media-hint")} ${ids("media-error")}` });
  const fileLabel = h("label", { for: ids("file"), class: "label" }, "Choose a video");
  const mediaHint = h("p", { class: "hint", id: ids("media-hint") });
  const preview = h("div", { class: "preview", id: "media-preview", "aria-live": "polite" });
  const mediaSet = h("fieldset", { class: "group" },
    h("legend", {}, "Media"),
    h("div", { class: "choices choices--inline" }, radio("media", "video", "Video"), radio("media", "photo", "Photos")),
    h("div", { class: "field" }, fileLabel, fileInput, mediaHint, errors.media),
    preview);

  // --- details ---------------------------------------------------------------------------------------
  const title = h("textarea", { id: ids("title"), rows: 3, "aria-describedby": `${ids("title-count")} ${ids("title-error")}` });
  const titleCount = h("p", { class: "hint counter", id: ids("title-count") });
  const titleField = h("div", { class: "field" }, h("label", { for: ids("title") }, "Title"), title, titleCount, errors.title);
  const description = h("textarea", { id: ids("description"), rows: 3, "aria-describedby": ids("description-error") });
  const descriptionField = h("div", { class: "field", hidden: true },
    h("label", { for: ids("description") }, "Description"), description, errors.description);

  // No default: the placeholder is selected and cannot be chosen back (TikTok's rule).
  const privacy = h("select", { id: ids("privacy"), required: true, "aria-describedby": `${ids("privacy-hint")} ${ids("audit-notice")} ${ids("privacy-error")}` },
    h("option", { value: "", disabled: true, selected: true }, "Select who can see this post"),
    creator.privacyOptions.map((o) => h("option", { value: o.value, disabled: o.disabled, title: o.disabled ? o.disabledReason : null },
      o.disabled ? `${o.label} (unavailable)` : o.label)));
  const privacyHint = h("p", { class: "hint hint--warn", id: ids("privacy-hint"), hidden: true });
  const auditNotice = h("p", { class: "hint", id: ids("audit-notice"), hidden: !creator.auditNotice }, creator.auditNotice);
  const privacyField = h("div", { class: "field" }, h("label", { for: ids("privacy") }, "Who can see this post"), privacy, privacyHint, auditNotice, errors.privacy);

  const toggle = (name, label) => {
    const info = creator.interactions[name];
    const hintId = ids(`${name}-hint`);
    const input = h("input", { type: "checkbox", id: ids(name), disabled: info.disabled, "aria-describedby": info.disabled ? hintId : null });
    const why = info.reason || `${label} is turned off in this creator's TikTok settings.`;
    const wrap = h("div", { class: `check${info.disabled ? " is-disabled" : ""}`, title: info.disabled ? why : null, dataset: { toggle: name } },
      input, h("label", { for: ids(name) }, label),
      info.disabled ? h("span", { class: "check__hint", id: hintId }, why) : null);
    return { input, wrap };
  };
  const comment = toggle("comment", "Comment");
  const duet = toggle("duet", "Duet");
  const stitch = toggle("stitch", "Stitch");
  const interactionSet = h("fieldset", { class: "group", "aria-describedby": ids("interactions-error") },
    h("legend", {}, "Allow users to"), h("div", { class: "checks" }, comment.wrap, duet.wrap, stitch.wrap), errors.interactions);

  const disclose = h("input", { type: "checkbox", role: "switch", id: ids("disclose"), "aria-describedby": ids("disclose-hint") });
  const yourBrand = h("input", { type: "checkbox", id: ids("your-brand"), "aria-describedby": ids("your-brand-hint") });
  const branded = h("input", { type: "checkbox", id: ids("branded"), "aria-describedby": `${ids("branded-hint")} ${ids("branded-why")}` });
  const brandedWhy = h("span", { class: "check__hint check__hint--warn", id: ids("branded-why"), hidden: true }, texts.brandedNotPrivate);
  const brandedWrap = h("div", { class: "check check--block" }, branded,
    h("label", { for: ids("branded") }, texts.branded),
    h("span", { class: "check__hint", id: ids("branded-hint") }, texts.brandedHint), brandedWhy);
  const disclosureLabel = h("p", { class: "notice notice--info", id: "disclosure-label", hidden: true });
  const disclosurePanel = h("div", { class: "disclosure", id: ids("disclosure-panel"), hidden: true },
    disclosureLabel,
    h("div", { class: "check check--block" }, yourBrand, h("label", { for: ids("your-brand") }, texts.yourBrand),
      h("span", { class: "check__hint", id: ids("your-brand-hint") }, texts.yourBrandHint)),
    brandedWrap, errors.disclosure);
  const disclosureSet = h("fieldset", { class: "group" },
    h("legend", {}, "Commercial content"),
    h("div", { class: "switch" }, disclose, h("label", { for: ids("disclose") }, texts.disclosureLabel)),
    h("p", { class: "hint", id: ids("disclose-hint") }, texts.disclosureHint),
    disclosurePanel);

  const directOnly = h("div", { class: "direct-only" }, titleField, descriptionField, privacyField, interactionSet, disclosureSet);
  const inboxNote = h("p", { class: "notice notice--info", hidden: true, id: "inbox-note" },
    "The media goes to the creator's TikTok inbox. They add the caption, choose who can see it and post it in the TikTok app.");

  // --- schedule --------------------------------------------------------------------------------------
  const schedule = h("input", { type: "checkbox", id: ids("schedule") });
  const publishAt = h("input", { type: "datetime-local", id: ids("publish-at"), "aria-describedby": ids("schedule-error"), step: 60 });
  const publishAtField = h("div", { class: "field", hidden: true }, h("label", { for: ids("publish-at") }, "Publish at (your local time)"), publishAt);
  const scheduleSet = h("fieldset", { class: "group" }, h("legend", {}, "When"),
    h("div", { class: "check" }, schedule, h("label", { for: ids("schedule") }, "Schedule for later")),
    publishAtField, errors.schedule);

  // --- publish ---------------------------------------------------------------------------------------
  const progressLabel = h("span", { id: ids("progress-label") }, "Uploading…");
  const progressBar = h("progress", { id: "upload-progress-bar", max: 100, value: 0, "aria-labelledby": ids("progress-label") });
  const progress = h("div", { class: "progress", id: "upload-progress", hidden: true }, progressLabel, progressBar);
  const formError = h("div", { class: "notice notice--error", id: "composer-error", role: "alert", hidden: true });
  const blockersList = h("ul", { id: "publish-blockers", class: "blockers", "aria-live": "polite" });
  const declarationNode = h("p", { class: "declaration", id: "declaration" });
  const publish = h("button", { type: "submit", class: "btn btn--primary btn--wide", id: "publish", "aria-describedby": "publish-blockers declaration" }, "Publish");
  const processingNote = h("p", { class: "hint", id: "processing-note" }, texts.processing);

  const form = h("form", { id: "post-form", novalidate: true, class: "composer" },
    modeSet, mediaSet, inboxNote, directOnly, scheduleSet, progress, formError, blockersList,
    declarationNode, publish, processingNote);

  clear(root);
  root.append(
    h("div", { class: "card__head" },
      h("h2", { id: "composer-title" }, "New post"),
      onClose ? h("button", { type: "button", class: "btn btn--ghost btn--small", onclick: onClose }, "Close") : null),
    creatorLine, form);

  // --- behaviour -------------------------------------------------------------------------------------
  // The sentence exactly as TikTok words it, with each policy name in it turned into its link.
  function setDeclaration(sentence) {
    if (declarationNode.dataset.text === sentence) return;
    declarationNode.dataset.text = sentence;
    clear(declarationNode);
    const names = Object.keys(texts.links).filter((n) => sentence.includes(n));
    let rest = sentence;
    while (rest) {
      const hits = names.map((n) => [rest.indexOf(n), n]).filter(([i]) => i >= 0).sort((a, b) => a[0] - b[0]);
      if (!hits.length) { declarationNode.append(rest); break; }
      const [at, name] = hits[0];
      if (at) declarationNode.append(rest.slice(0, at));
      declarationNode.append(h("a", { href: texts.links[name], target: "_blank", rel: "noopener noreferrer" }, name));
      rest = rest.slice(at + name.length);
    }
  }

  function formValues() {
    return { ...state, files: state.files.length, now: Date.now() };
  }

  function showFieldErrors(clientBlockers) {
    const shown = {};
    // Client-side messages that must be visible where the problem is (TikTok's rules, duration limit).
    for (const b of clientBlockers) if (["media", "disclosure", "schedule", "title", "description"].includes(b.field) && !shown[b.field]) shown[b.field] = b.message;
    if (state.durationPending) delete shown.media;
    if (!state.files.length) delete shown.media;
    if (state.schedule && !state.publishAt) delete shown.schedule;
    for (const [field, message] of Object.entries(state.serverErrors)) shown[field] = message;
    for (const field of FIELDS) {
      const node = errors[field];
      node.textContent = shown[field] || "";
      node.hidden = !shown[field];
      const control = { title, description, privacy, schedule: publishAt, media: fileInput }[field];
      if (control) control.setAttribute("aria-invalid", shown[field] ? "true" : "false");
    }
  }

  function sync() {
    const photo = state.mediaType === "photo";
    const direct = state.mode === "direct";
    const result = evaluate(creator, formValues());

    fileInput.accept = photo ? PHOTO_TYPES : VIDEO_TYPES;
    fileInput.multiple = photo;
    fileLabel.textContent = photo ? "Choose photos" : "Choose a video";
    mediaHint.textContent = photo
      ? "JPEG or WebP, up to 35 photos, 20 MB each."
      : `MP4, MOV or WebM.${creator.maxDurationSec ? ` ${creator.nickname} can post videos up to ${formatDuration(creator.maxDurationSec)} long.` : ""}`;

    directOnly.hidden = !direct;
    inboxNote.hidden = direct;
    descriptionField.hidden = !photo;
    duet.wrap.hidden = photo; // Duet and Stitch do not exist for photo posts.
    stitch.wrap.hidden = photo;
    titleCount.textContent = `${state.title.length} / ${result.titleMax}`;

    // Only me <-> Branded content exclude each other: "Only me" is greyed (with TikTok's hover text) while
    // Branded content is ticked, and Branded content is greyed while "Only me" is chosen.
    const brandedBlocked = [];
    for (const option of privacy.options) {
      const o = creator.privacyOptions.find((x) => x.value === option.value);
      if (!o) continue;
      const offForBrand = result.selfOnlyDisabled && o.disabledWhenBranded;
      option.disabled = o.disabled || offForBrand;
      option.title = o.disabled ? o.disabledReason : offForBrand ? o.brandedHint : "";
      if (offForBrand) brandedBlocked.push(o);
    }
    privacyHint.hidden = !brandedBlocked.length;
    privacyHint.textContent = brandedBlocked.map((o) => `"${o.label}" is not available: ${o.brandedHint}`).join(" ");
    const selfOnly = creator.privacyOptions.find((o) => o.value === state.privacy);
    const brandedOff = direct && Boolean(selfOnly && selfOnly.disabledWhenBranded);
    branded.disabled = brandedOff;
    brandedWrap.classList.toggle("is-disabled", brandedOff);
    brandedWrap.title = brandedOff ? (selfOnly.brandedHint || texts.brandedNotPrivate) : "";
    brandedWhy.hidden = !brandedOff;

    disclosurePanel.hidden = !state.disclose;
    disclosureLabel.hidden = !result.label;
    disclosureLabel.textContent = result.label;
    setDeclaration(result.declaration);

    publishAtField.hidden = !state.schedule;
    publishAt.min = toLocalInput(new Date(Date.now() + 60_000));
    publish.textContent = state.busy ? "Publishing…" : state.schedule ? "Schedule post" : direct ? "Publish" : "Send to inbox";

    clear(blockersList);
    if (result.blockers.length && !state.busy) {
      blockersList.append(h("li", { class: "blockers__title" }, "Before you can publish:"));
      for (const b of result.blockers) blockersList.append(h("li", {}, b.message));
    }
    publish.disabled = state.busy || result.blockers.length > 0;
    publish.title = result.blockers.length ? result.blockers[0].message : "";
    for (const set of [modeSet, mediaSet, directOnly, scheduleSet]) set.toggleAttribute("inert", state.busy);
    showFieldErrors(result.blockers);
    return result;
  }

  function changed(field) {
    if (field) delete state.serverErrors[field];
    formError.hidden = true;
    sync();
  }

  async function chooseFiles(files) {
    for (const url of state.urls) URL.revokeObjectURL(url);
    state.files = files;
    state.urls = files.map((f) => URL.createObjectURL(f));
    state.duration = null;
    clear(preview);
    const probe = ++state.probe;
    if (!files.length) return changed("media");
    if (state.mediaType === "video") {
      const file = files[0];
      const meta = h("p", { class: "muted small", id: "video-meta" }, `${file.name} · ${formatBytes(file.size)}`);
      preview.append(h("video", { src: state.urls[0], controls: true, muted: true, playsinline: true, preload: "metadata", "aria-label": `Preview of ${file.name}` }), meta);
      state.durationPending = true;
      changed("media");
      const seconds = await videoDuration(file, state.urls[0]);
      if (probe !== state.probe) return;
      state.durationPending = false;
      state.duration = seconds;
      if (seconds !== null) meta.textContent = `${file.name} · ${formatDuration(seconds)} · ${formatBytes(file.size)}`;
    } else {
      preview.append(h("ul", { class: "thumbs", "aria-label": "Chosen photos" },
        files.map((f, i) => h("li", {}, h("img", { src: state.urls[i], alt: `Photo ${i + 1} of ${files.length}: ${f.name}` })))));
    }
    changed("media");
  }

  form.addEventListener("change", (event) => {
    const t = event.target;
    if (t.name === "c-mode") { state.mode = t.value; return changed("mode"); }
    if (t.name === "c-media") {
      state.mediaType = t.value;
      fileInput.value = "";
      chooseFiles([]);
      return;
    }
    if (t === fileInput) return chooseFiles([...fileInput.files]);
    if (t === privacy) { state.privacy = privacy.value; return changed("privacy"); }
    if (t === comment.input || t === duet.input || t === stitch.input) {
      state.comment = comment.input.checked; state.duet = duet.input.checked; state.stitch = stitch.input.checked;
      return changed("interactions");
    }
    if (t === disclose) {
      state.disclose = disclose.checked;
      if (!state.disclose) { state.yourBrand = yourBrand.checked = false; state.branded = branded.checked = false; }
      return changed("disclosure");
    }
    if (t === yourBrand || t === branded) { state.yourBrand = yourBrand.checked; state.branded = branded.checked; return changed("disclosure"); }
    if (t === schedule) { state.schedule = schedule.checked; return changed("schedule"); }
    if (t === publishAt) { state.publishAt = publishAt.value; return changed("schedule"); }
  });
  form.addEventListener("input", (event) => {
    if (event.target === title) { state.title = title.value; changed("title"); }
    if (event.target === description) { state.description = description.value; changed("description"); }
    if (event.target === publishAt) { state.publishAt = publishAt.value; changed("schedule"); }
  });

  function requestBody(uploadIds) {
    const direct = state.mode === "direct";
    const photo = state.mediaType === "photo";
    const body = {
      open_id: openId,
      mode: direct ? "direct" : "inbox",
      media: photo ? { type: "photo", images: uploadIds.map((id) => ({ upload_id: id })) } : { type: "video", upload_id: uploadIds[0] },
    };
    if (direct) {
      body.post_info = {
        title: state.title,
        privacy_level: state.privacy,
        disable_comment: !state.comment,
        brand_organic_toggle: state.disclose && state.yourBrand,
        brand_content_toggle: state.disclose && state.branded,
      };
      if (!photo) Object.assign(body.post_info, { disable_duet: !state.duet, disable_stitch: !state.stitch });
      if (photo && state.description) body.post_info.description = state.description;
    }
    if (state.schedule) body.publish_at = Math.floor(new Date(state.publishAt).getTime() / 1000); // epoch seconds
    return body;
  }

  function showError(error) {
    state.serverErrors = {};
    const general = [];
    for (const [path, message] of Object.entries(error.fields || {})) {
      const field = fieldFor(path);
      if (!field) general.push(`${path || "request"}: ${message}`);
      else if (!state.serverErrors[field]) state.serverErrors[field] = message;
      else if (!state.serverErrors[field].includes(message)) state.serverErrors[field] += ` ${message}`;
    }
    clear(formError);
    let message = error.message;
    if (error.code === "network" || error.status >= 500) message += " Nothing is lost: press the button again; the post will not be created twice.";
    formError.append(h("strong", {}, message));
    if (general.length) formError.append(h("ul", {}, general.map((g) => h("li", {}, g))));
    formError.hidden = false;
    sync();
    const first = FIELDS.find((f) => state.serverErrors[f]);
    const target = { media: fileInput, title, description, privacy, schedule: publishAt, mode: modeSet.querySelector("input"), interactions: comment.input, disclosure: disclose }[first];
    (target || formError).focus?.();
    if (!target) formError.scrollIntoView({ block: "nearest" });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (state.busy) return;
    const result = sync();
    if (result.blockers.length) return;
    state.busy = true;
    state.serverErrors = {};
    formError.hidden = true;
    sync();
    const noun = state.mediaType === "photo" ? (state.files.length > 1 ? "photos" : "photo") : "video";
    progress.hidden = false;
    const setProgress = (fraction) => {
      const pct = Math.min(100, Math.round(fraction * 100));
      progressBar.value = pct;
      progressLabel.textContent = `Uploading ${noun}… ${pct}%`;
    };
    setProgress(0);
    try {
      const uploadIds = await uploadAll(openId, state.files, setProgress, state.uploaded);
      progressLabel.textContent = "Sending to TikTok…";
      const body = requestBody(uploadIds);
      const json = JSON.stringify(body);
      // Same body again (a retry after a failure) -> same key, so the API returns the post it already made.
      const key = state.lastAttempt && state.lastAttempt.json === json ? state.lastAttempt.key : idempotencyKey();
      state.lastAttempt = { json, key };
      const post = await api("POST", "/v1/posts", { body, headers: { "Idempotency-Key": key } });
      const what = state.schedule ? `Scheduled for ${formatDate(new Date(state.publishAt).toISOString())}.` :
        state.mode === "inbox" ? "Sent. It will appear in the creator's TikTok inbox." : "Sent to TikTok.";
      flash(`${what} ${state.schedule ? "" : "Processing can take a few minutes; the status updates in the post list."}`.trim(), "success");
      for (const url of state.urls) URL.revokeObjectURL(url);
      onPosted?.(post);
      // A fresh creator_info before the next post, as TikTok requires.
      await openComposer(root, account, { onPosted, onClose });
    } catch (error) {
      state.busy = false;
      progress.hidden = true;
      showError(error instanceof ApiError ? error : new ApiError({ message: String(error.message || error) }));
    }
  });

  sync();
}

function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
