// Entry point: sign-in, accounts, then the composer and post list of the chosen account.
import { connect, consumeOAuthResult, renderAccounts } from "./accounts.js";
import { api } from "./api.js";
import { showAuditMode } from "./audit.js";
import { openComposer } from "./composer.js";
import { createPostList } from "./posts.js";
import { fetchDevToken, isLocalStack, session } from "./session.js";
import { clearFlash, flash } from "./ui.js";
import { createWebhooks } from "./webhooks.js";

const $ = (id) => document.getElementById(id);
const view = {
  signin: $("signin"), workspace: $("workspace"), signOut: $("sign-out"), panels: $("account-panels"),
  composer: $("composer"), accountList: $("account-list"), accountsEmpty: $("accounts-empty"),
};
const posts = createPostList({ list: $("post-list"), empty: $("posts-empty"), more: $("more-posts"), refresh: $("refresh-posts") });
const webhooks = createWebhooks($("webhooks"));
let accounts = [];
let selected = null;

function selectedFromHash() {
  const match = /^#account=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

async function loadAccounts() {
  try {
    const page = await api("GET", "/v1/accounts");
    accounts = Array.isArray(page) ? page : page.items || page.accounts || [];
  } catch (error) {
    if (error.status !== 401) flash(`Could not load your TikTok accounts: ${error.message}`, "error");
    accounts = [];
  }
  if (selected && !accounts.some((a) => a.open_id === selected && a.status === "active")) selected = null;
  draw();
}

function draw() {
  renderAccounts(view.accountList, view.accountsEmpty, accounts, { selected, onSelect: select, onChanged: loadAccounts });
  const account = accounts.find((a) => a.open_id === selected);
  view.panels.hidden = !account;
  if (!account) posts.stop();
}

function select(account) {
  if (selected === account.open_id && !view.panels.hidden && view.composer.dataset.openId === account.open_id) {
    view.composer.scrollIntoView({ behavior: "smooth", block: "start" });
    return; // already open: keep what the user typed
  }
  selected = account.open_id;
  view.composer.dataset.openId = account.open_id;
  history.replaceState(null, "", `${location.pathname}${location.search}#account=${encodeURIComponent(selected)}`);
  draw();
  openComposer(view.composer, account, {
    onPosted: (post) => posts.add(post),
  });
  posts.load(account.open_id, account.username || "");
  view.composer.scrollIntoView({ behavior: "smooth", block: "start" });
}

function showSignIn() {
  $("audit-banner").hidden = true;
  view.workspace.hidden = true;
  view.signOut.hidden = true;
  view.signin.hidden = false;
  posts.stop();
  webhooks.reset();
  isLocalStack().then((local) => {
    $("dev-signin").hidden = !local;
  });
}

async function showWorkspace(preferred) {
  view.signin.hidden = true;
  view.workspace.hidden = false;
  view.signOut.hidden = false;
  selected = preferred || selectedFromHash();
  showAuditMode($("audit-banner"));
  webhooks.load();
  await loadAccounts();
  const account = accounts.find((a) => a.open_id === selected && a.status === "active") ||
    (accounts.filter((a) => a.status === "active").length === 1 ? accounts.find((a) => a.status === "active") : null);
  if (account) select(account);
}

function signIn(token) {
  const error = $("token-error");
  if (!token.trim()) {
    error.textContent = "Paste a token first.";
    error.hidden = false;
    $("token").setAttribute("aria-invalid", "true");
    $("token").focus();
    return;
  }
  error.hidden = true;
  $("token").removeAttribute("aria-invalid");
  session.signIn(token);
  $("token").value = "";
  clearFlash();
  showWorkspace();
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  signIn($("token").value);
});
view.signOut.addEventListener("click", () => {
  session.signOut();
  selected = null;
  history.replaceState(null, "", location.pathname);
  clearFlash();
  flash("Signed out.", "info");
  showSignIn();
});
$("dev-signin").addEventListener("click", async () => {
  try {
    signIn(await fetchDevToken());
  } catch (error) {
    flash(`The local stack did not give a dev token (${error.message}).`, "error");
  }
});
$("connect").addEventListener("click", (event) => connect(event.currentTarget));
session.onExpired((error) => {
  clearFlash();
  flash(error.message, "error");
  showSignIn();
});

const oauth = consumeOAuthResult();
if (session.token()) showWorkspace(oauth && oauth.ok ? oauth.openId : null);
else showSignIn();
