// The API client: one fetch wrapper, one error shape for every failure the console can meet.
import { session } from "./session.js";

/** Every failure (HTTP error, network, bad JSON) becomes an ApiError with a message safe to show. */
export class ApiError extends Error {
  constructor({ status = 0, code = "error", message, fields = {}, details = {} }) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields; // dotted field path ("post_info.privacy_level") -> message
    this.details = details;
  }
}

const GENERIC = {
  400: "The request was not accepted.",
  401: "Your session has expired or the token was rejected. Sign in again.",
  403: "You are not allowed to do that.",
  404: "Not found. It may have been removed, or it belongs to another workspace.",
  409: "That conflicts with the current state. Refresh and try again.",
  413: "The file is too large.",
  422: "Some fields need attention.",
  429: "Too many requests right now. Wait a minute and try again.",
};

function statusMessage(status) {
  if (GENERIC[status]) return GENERIC[status];
  if (status >= 500) return `The service had a problem (HTTP ${status}). Try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

// Powertools' 422 `loc` is ["body", "post_info", "title"]; our own errors may name a field in details.
function fieldPath(loc) {
  const parts = (Array.isArray(loc) ? loc : [loc]).map(String);
  if (["body", "query", "path", "header", "headers"].includes(parts[0])) parts.shift();
  return parts.join(".");
}

function fieldMessage(msg) {
  // Pydantic prefixes custom errors with "Value error, "; people do not need that.
  return String(msg || "Invalid value").replace(/^Value error,\s*/i, "");
}

/** Turn a response body into an ApiError (pure; exported for reuse). */
export function toApiError(status, body) {
  const fields = {};
  if (body && Array.isArray(body.detail)) {
    for (const item of body.detail) fields[fieldPath(item.loc)] = fieldMessage(item.msg);
    return new ApiError({ status, code: "validation_error", message: GENERIC[422], fields });
  }
  const err = body && typeof body.error === "object" && body.error ? body.error : null;
  if (err) {
    const details = err.details && typeof err.details === "object" ? err.details : {};
    const field = details.field || details.loc || details.path;
    if (field) fields[fieldPath(field)] = err.message;
    // The project's 422: details.fields = [{path: "body.post_info.title", type, message}].
    if (Array.isArray(details.fields)) {
      for (const item of details.fields) {
        if (item && item.path !== undefined) fields[fieldPath(String(item.path).split("."))] = fieldMessage(item.message || item.msg);
      }
    } else if (details.fields && typeof details.fields === "object") {
      for (const [k, v] of Object.entries(details.fields)) fields[fieldPath(k.split("."))] = fieldMessage(v);
    }
    if (Array.isArray(details.errors)) {
      for (const item of details.errors) if (item && item.loc) fields[fieldPath(item.loc)] = fieldMessage(item.msg);
    }
    return new ApiError({ status, code: err.code || "error", message: err.message || statusMessage(status), fields, details });
  }
  const message = body && typeof body.message === "string" ? body.message : statusMessage(status);
  return new ApiError({ status, code: `http_${status}`, message });
}

/** Call the API. Resolves with the parsed JSON (or null), rejects with ApiError. */
export async function api(method, path, { body, headers = {}, query, credentials = "same-origin" } = {}) {
  let url = path;
  if (query) {
    const qs = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ""));
    if ([...qs].length) url += `?${qs}`;
  }
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store", credentials };
  const token = session.token();
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError({ code: "network", message: "Cannot reach the service. Check your connection and try again." });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    // API Gateway answers 401 without a token and 403 {"message": "Forbidden"} when the authorizer rejects
    // one; the API itself never uses a bare 403. Both mean: sign in again.
    const rejected = response.status === 401 || (response.status === 403 && !(data && data.error));
    const error = rejected ? new ApiError({ status: 401, code: "unauthorized", message: GENERIC[401] }) : toApiError(response.status, data);
    if (rejected) session.expired(error);
    throw error;
  }
  return data;
}
