// TikTok's required posting UX (content sharing guidelines; TIKTOK-API.md §8) as pure functions of the
// creator's post-form contract and the form's current values. No DOM here: the composer renders the result.

// TikTok's own words. The API's post-form contract may carry them too; these are the fallbacks.
export const TEXT = {
  disclosureRequired: "You need to indicate if your content promotes yourself, a third party, or both.",
  brandedNotPrivate: "Branded content visibility cannot be set to private.",
  declarationMusic: "By posting, you agree to TikTok's Music Usage Confirmation",
  declarationBranded: "By posting, you agree to TikTok's Branded Content Policy and Music Usage Confirmation",
  disclosureHint:
    "Turn on to disclose that this content promotes goods or services in exchange for something of value. " +
    "Your content could promote yourself, a third party, or both.",
  yourBrandHint: "You are promoting yourself or your own business. This content will be classified as Brand Organic.",
  brandedHint:
    "You are promoting another brand or a third party. This content will be classified as Branded Content.",
  processing: "After you publish, TikTok needs a few minutes to process the post. Its status updates in the list.",
};

export const LINKS = {
  musicUsage: "https://www.tiktok.com/legal/page/global/music-usage-confirmation/en",
  brandedContentPolicy: "https://www.tiktok.com/legal/page/global/bc-policy/en",
};

export const PRIVACY_LABELS = {
  PUBLIC_TO_EVERYONE: "Everyone",
  MUTUAL_FOLLOW_FRIENDS: "Friends",
  FOLLOWER_OF_CREATOR: "Followers",
  SELF_ONLY: "Only me",
};

export const LIMITS = { videoTitle: 2200, photoTitle: 90, photoDescription: 4000, photos: 35 };

/** "Your video will be labeled as 'Paid partnership'" (or 'Promotional content'), or "" when no box. */
export function disclosureLabel(mediaType, { yourBrand, branded }) {
  const thing = mediaType === "photo" ? "photo" : "video";
  if (branded) return `Your ${thing} will be labeled as 'Paid partnership'`;
  if (yourBrand) return `Your ${thing} will be labeled as 'Promotional content'`;
  return "";
}

/** The declaration shown above the publish button. */
export function declaration({ disclose, branded }) {
  return disclose && branded ? TEXT.declarationBranded : TEXT.declarationMusic;
}

/** Length as TikTok counts it: UTF-16 code units (JavaScript's own string length). */
export function utf16Length(text) {
  return text.length;
}

function pick(obj, ...keys) {
  for (const key of keys) if (obj && obj[key] !== undefined && obj[key] !== null) return obj[key];
  return undefined;
}

/**
 * Normalise GET /v1/accounts/{open_id}/creator-info into what the composer needs. Reads the post-form
 * contract when present and falls back to the raw creator_info fields otherwise.
 */
export function normalizeCreatorInfo(body) {
  const info = pick(body, "creator_info", "creator") || body || {};
  const form = pick(body, "post_form", "form", "contract") || {};
  const privacy = pick(form, "privacy_level_options", "privacy_options", "privacy") ||
    pick(info, "privacy_level_options") || [];
  const privacyOptions = privacy.map((opt) =>
    typeof opt === "string"
      ? { value: opt, label: PRIVACY_LABELS[opt] || opt }
      : { value: opt.value, label: opt.label || PRIVACY_LABELS[opt.value] || opt.value });
  const toggles = pick(form, "interactions", "toggles") || {};
  const interaction = (name) => {
    const t = toggles[name];
    const disabled = typeof t === "object" && t !== null
      ? Boolean(pick(t, "disabled", "locked"))
      : Boolean(pick(form, `${name}_disabled`) ?? pick(info, `${name}_disabled`));
    return { disabled, reason: (typeof t === "object" && t && t.reason) || "" };
  };
  const canPost = pick(form, "can_post") ?? pick(body, "can_post") ?? true;
  return {
    nickname: pick(info, "creator_nickname", "nickname", "display_name") || "this creator",
    username: pick(info, "creator_username", "username") || "",
    avatarUrl: pick(info, "creator_avatar_url", "avatar_url") || "",
    canPost: Boolean(canPost),
    cannotPostReason: pick(form, "cannot_post_reason", "reason") || pick(body, "cannot_post_reason", "message") || "",
    privacyOptions,
    interactions: { comment: interaction("comment"), duet: interaction("duet"), stitch: interaction("stitch") },
    maxDurationSec: Number(pick(form, "max_video_post_duration_sec", "max_duration_sec") ??
      pick(info, "max_video_post_duration_sec") ?? 0) || null,
  };
}

/**
 * Everything the form must show and everything that blocks publishing, for the current values.
 * form: {mode, mediaType, files, duration, durationPending, title, description, privacy, disclose,
 *        yourBrand, branded, schedule, publishAt, now}
 * Returns {blockers: [{field, message}], selfOnlyDisabled, brandedDisabled, label, declaration, titleMax}.
 */
export function evaluate(creator, form) {
  const blockers = [];
  const direct = form.mode !== "inbox";
  const photo = form.mediaType === "photo";
  const fileCount = form.files || 0;

  if (!fileCount) blockers.push({ field: "media", message: photo ? "Choose one or more photos." : "Choose a video." });
  if (photo && fileCount > LIMITS.photos) {
    blockers.push({ field: "media", message: `A photo post can hold at most ${LIMITS.photos} photos.` });
  }
  if (!photo && fileCount) {
    if (form.durationPending) blockers.push({ field: "media", message: "Checking the video's length…" });
    else if (form.duration === null || form.duration === undefined) {
      blockers.push({ field: "media", message: "This video cannot be read. Choose an MP4, MOV or WebM file." });
    } else if (creator.maxDurationSec && form.duration > creator.maxDurationSec) {
      blockers.push({ field: "media", message: tooLong(creator, form.duration) });
    }
  }

  const titleMax = photo ? LIMITS.photoTitle : LIMITS.videoTitle;
  if (direct) {
    if (utf16Length(form.title || "") > titleMax) {
      blockers.push({ field: "title", message: `The title can be at most ${titleMax} characters.` });
    }
    if (photo && utf16Length(form.description || "") > LIMITS.photoDescription) {
      blockers.push({ field: "description", message: `The description can be at most ${LIMITS.photoDescription} characters.` });
    }
    if (!form.privacy) blockers.push({ field: "privacy", message: "Choose who can see this post." });
    if (form.disclose && !form.yourBrand && !form.branded) {
      blockers.push({ field: "disclosure", message: TEXT.disclosureRequired });
    }
    if (form.disclose && form.branded && form.privacy === "SELF_ONLY") {
      blockers.push({ field: "privacy", message: TEXT.brandedNotPrivate });
    }
  }
  if (form.schedule) {
    const at = form.publishAt ? new Date(form.publishAt) : null;
    if (!at || Number.isNaN(at.getTime())) blockers.push({ field: "schedule", message: "Choose when to publish." });
    else if (at.getTime() <= (form.now ?? Date.now())) {
      blockers.push({ field: "schedule", message: "Choose a time in the future." });
    }
  }

  return {
    blockers,
    // Branded content can never be private: "Only me" is greyed while it is ticked, and the reverse.
    selfOnlyDisabled: Boolean(direct && form.disclose && form.branded),
    brandedDisabled: Boolean(direct && form.privacy === "SELF_ONLY"),
    label: direct && form.disclose ? disclosureLabel(form.mediaType, form) : "",
    declaration: declaration(form),
    titleMax,
  };
}

export function tooLong(creator, seconds) {
  return `This video is ${clock(seconds)} long. ${creator.nickname} can post videos up to ` +
    `${clock(creator.maxDurationSec)} long on TikTok. Choose a shorter video.`;
}

function clock(seconds) {
  const total = Math.ceil(seconds);
  const m = Math.floor(total / 60);
  return `${m}:${String(total % 60).padStart(2, "0")}`;
}
