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

/** Length as TikTok counts it: UTF-16 code units (JavaScript's own string length). */
export function utf16Length(text) {
  return text.length;
}

function pick(obj, ...keys) {
  for (const key of keys) if (obj && obj[key] !== undefined && obj[key] !== null) return obj[key];
  return undefined;
}

/**
 * Normalise GET /v1/accounts/{open_id}/creator-info ({creator: creator_info, form: post-form contract})
 * into what the composer needs. The contract's texts win; TikTok's words above are the fallbacks, so the
 * form stays compliant even against an API that only returns the raw creator_info.
 */
export function normalizeCreatorInfo(body) {
  const info = pick(body, "creator") || {};
  const form = pick(body, "form") || {};
  const who = form.creator || {};
  const privacy = (form.privacy_level && form.privacy_level.options) || pick(info, "privacy_level_options") || [];
  const privacyOptions = privacy.map((opt) => {
    const o = typeof opt === "string" ? { value: opt } : opt;
    return {
      value: o.value,
      label: o.label || PRIVACY_LABELS[o.value] || o.value,
      disabled: Boolean(o.disabled),
      disabledReason: o.disabled_reason || "",
      // TikTok: branded content can never be private.
      disabledWhenBranded: o.disabled_when_branded_content ?? o.value === "SELF_ONLY",
      brandedHint: o.branded_content_hint || TEXT.brandedNotPrivate,
    };
  });
  const toggles = form.interactions || {};
  const interaction = (name) => {
    const t = toggles[name];
    if (t && typeof t === "object") return { disabled: Boolean(t.disabled), reason: t.disabled_reason || "" };
    return { disabled: Boolean(pick(info, `${name}_disabled`)), reason: "" };
  };
  const cc = form.commercial_content || {};
  const ccOpts = cc.options || {};
  const decl = form.declaration || {};
  return {
    nickname: pick(who, "nickname") || pick(info, "creator_nickname") || "this creator",
    username: pick(who, "username") || pick(info, "creator_username") || "",
    avatarUrl: pick(who, "avatar_url") || pick(info, "creator_avatar_url") || "",
    canPost: pick(form, "can_post") ?? true,
    cannotPostReason: pick(form, "cannot_post_reason") || "",
    auditNotice: pick(form, "audit_notice") || "",
    privacyOptions,
    interactions: { comment: interaction("comment"), duet: interaction("duet"), stitch: interaction("stitch") },
    maxDurationSec: Number(pick(form, "max_video_post_duration_sec") ?? pick(info, "max_video_post_duration_sec") ?? 0) || null,
    titleMax: (form.title && form.title.max_length) || null,
    texts: {
      disclosureLabel: cc.label || "Disclose post content",
      disclosureHint: cc.help || TEXT.disclosureHint,
      disclosureRequired: cc.required_choice_message || TEXT.disclosureRequired,
      yourBrand: (ccOpts.brand_organic_toggle && ccOpts.brand_organic_toggle.label) || "Your brand",
      yourBrandHint: (ccOpts.brand_organic_toggle && ccOpts.brand_organic_toggle.help) || TEXT.yourBrandHint,
      branded: (ccOpts.brand_content_toggle && ccOpts.brand_content_toggle.label) || "Branded content",
      brandedHint: (ccOpts.brand_content_toggle && ccOpts.brand_content_toggle.help) || TEXT.brandedHint,
      brandedNotPrivate: (ccOpts.brand_content_toggle && ccOpts.brand_content_toggle.privacy_hint) || TEXT.brandedNotPrivate,
      declarationMusic: decl.default || TEXT.declarationMusic,
      declarationBranded: decl.with_branded_content || TEXT.declarationBranded,
      links: { ...{ "Music Usage Confirmation": LINKS.musicUsage, "Branded Content Policy": LINKS.brandedContentPolicy }, ...(decl.links || {}) },
      processing: form.processing_notice || TEXT.processing,
    },
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

  const titleMax = photo ? LIMITS.photoTitle : creator.titleMax || LIMITS.videoTitle;
  const texts = creator.texts || TEXT;
  if (direct) {
    if (utf16Length(form.title || "") > titleMax) {
      blockers.push({ field: "title", message: `The title can be at most ${titleMax} characters.` });
    }
    if (photo && utf16Length(form.description || "") > LIMITS.photoDescription) {
      blockers.push({ field: "description", message: `The description can be at most ${LIMITS.photoDescription} characters.` });
    }
    if (!creator.canPost) blockers.push({ field: "mode", message: creator.cannotPostReason || "This account cannot post directly right now." });
    if (!form.privacy) blockers.push({ field: "privacy", message: "Choose who can see this post." });
    if (form.disclose && !form.yourBrand && !form.branded) {
      blockers.push({ field: "disclosure", message: texts.disclosureRequired });
    }
    if (form.disclose && form.branded && form.privacy === "SELF_ONLY") {
      blockers.push({ field: "privacy", message: texts.brandedNotPrivate });
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
    declaration: direct && form.disclose && form.branded ? texts.declarationBranded : texts.declarationMusic,
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
