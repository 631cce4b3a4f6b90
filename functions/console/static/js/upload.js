// Media goes straight from the browser to S3 with the presigned PUT the API signed. XMLHttpRequest rather
// than fetch because only XHR reports upload progress.
import { api, ApiError } from "./api.js";

function put(url, headers, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    for (const [name, value] of Object.entries(headers || {})) {
      // The browser sets these itself and refuses to have them set.
      if (!["host", "content-length"].includes(name.toLowerCase())) xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size);
        resolve();
      } else {
        reject(new ApiError({
          status: xhr.status,
          code: "upload_failed",
          message: xhr.status === 403
            ? "The upload link was refused or has expired. Press publish again to get a fresh one."
            : `The upload to storage failed (HTTP ${xhr.status}). Press publish again to retry.`,
        }));
      }
    });
    const network = () => reject(new ApiError({
      code: "network",
      message: "The upload was interrupted. Check your connection and press publish again.",
    }));
    xhr.addEventListener("error", network);
    xhr.addEventListener("abort", network);
    xhr.send(file);
  });
}

function contentType(file) {
  if (file.type) return file.type;
  const ext = file.name.split(".").pop().toLowerCase();
  return { mp4: "video/mp4", mov: "video/quicktime", webm: "video/webm", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp" }[ext] ||
    "application/octet-stream";
}

/**
 * Upload files one after the other; onProgress(fraction 0..1) covers all of them. `done` (a WeakMap
 * File -> upload_id) lets a retry after a failed POST /v1/posts skip files already in S3.
 * Resolves with the upload_ids in order.
 */
export async function uploadAll(openId, files, onProgress, done = new WeakMap()) {
  const total = files.reduce((sum, f) => sum + f.size, 0) || 1;
  let before = 0;
  const ids = [];
  for (const file of files) {
    if (done.has(file)) {
      ids.push(done.get(file));
    } else {
      const signed = await api("POST", "/v1/uploads", {
        body: { open_id: openId, filename: file.name, content_type: contentType(file), size: file.size },
      });
      await put(signed.url, signed.headers, file, (loaded) => onProgress((before + loaded) / total));
      done.set(file, signed.upload_id);
      ids.push(signed.upload_id);
    }
    before += file.size;
    onProgress(before / total);
  }
  return ids;
}
