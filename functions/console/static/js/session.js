// The signed-in token lives in sessionStorage: it survives the OAuth round trip in this tab and dies with it.
const KEY = "tiktok-publisher.token";
const listeners = new Set();

export const session = {
  token() {
    try {
      return sessionStorage.getItem(KEY) || "";
    } catch {
      return "";
    }
  },
  signIn(token) {
    sessionStorage.setItem(KEY, token.trim());
  },
  signOut() {
    sessionStorage.removeItem(KEY);
  },
  /** Called by the API client on a 401: forget the token and tell the app. */
  expired(error) {
    if (!this.token()) return;
    this.signOut();
    for (const fn of listeners) fn(error);
  },
  onExpired(fn) {
    listeners.add(fn);
  },
};

// Only the local stack (`make run`) has /_local/ admin paths; a deployed API answers 404 (or this console's
// own 404) there, so the one-click dev sign-in never appears outside a laptop.
/** True when this page is served by the local stack. */
export async function isLocalStack() {
  try {
    const response = await fetch("/_local/health", { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) return false;
    const data = await response.json();
    return data && data.status === "ok";
  } catch {
    return false;
  }
}

/** A fresh token for the local stack's demo tenant. */
export async function fetchDevToken() {
  const response = await fetch("/_local/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const data = await response.json();
  if (typeof data.token !== "string" || !data.token) throw new Error("no token in the answer");
  return data.token;
}
