/** How both pages start: config.json, then the sign-in panel (sign in, create an account, and on AWS confirm it
 * with the emailed code; localcore confirms new accounts at once), then the page itself. */

import { confirmSignUp, type Session, signIn, signUp } from "./auth";
import { loadConfig, type WebConfig } from "./config";
import { byId } from "./dom";
import { signInErrorText } from "./errors";

const FORM = `
<form id="signin-form" class="panel" autocomplete="on">
  <h2 id="signin-title"></h2>
  <label>User name or email <input id="signin-username" name="username" autocomplete="username" required></label>
  <label>Password <input id="signin-password" name="password" type="password" autocomplete="current-password" required></label>
  <label>Email <small>(to create an account; not needed when the user name is one)</small>
    <input id="signin-email" name="email" type="email" autocomplete="email"></label>
  <div class="buttons">
    <button id="signin-submit" type="submit">Sign in</button>
    <button id="signup-submit" type="button" class="secondary">Create account</button>
  </div>
</form>
<form id="confirm-form" class="panel" hidden>
  <h2>Confirm your account</h2>
  <p>Enter the code the user pool sent to your email address.</p>
  <label>Code <input id="confirm-code" name="code" autocomplete="one-time-code" required></label>
  <div class="buttons"><button id="confirm-submit" type="submit">Confirm and sign in</button></div>
</form>
<p id="signin-status" class="status" aria-live="polite"></p>
<p id="signin-error" class="error" role="alert"></p>`;

/** Render the panel into `root`; `onSession` runs after sign-in (connect, subscribe). Its failures are shown
 * in the same error line and the form stays usable. */
function mountSignIn(
  root: HTMLElement,
  config: WebConfig,
  title: string,
  onSession: (session: Session) => Promise<void>,
): void {
  root.innerHTML = FORM;
  byId("signin-title").textContent = title;
  const form = byId<HTMLFormElement>("signin-form");
  const confirmForm = byId<HTMLFormElement>("confirm-form");
  const status = byId("signin-status");
  const error = byId("signin-error");
  const value = (id: string): string => byId<HTMLInputElement>(id).value.trim();
  const buttons = (): HTMLButtonElement[] => Array.from(root.querySelectorAll("button"));

  async function run(what: string, step: () => Promise<void>): Promise<void> {
    error.textContent = "";
    status.textContent = what;
    buttons().forEach((b) => (b.disabled = true));
    try {
      await step();
    } catch (failure) {
      error.textContent = signInErrorText(failure);
    } finally {
      status.textContent = "";
      buttons().forEach((b) => (b.disabled = false));
    }
  }

  async function signInAndGo(): Promise<void> {
    status.textContent = "Signing in…";
    const session = await signIn(config, value("signin-username"), byId<HTMLInputElement>("signin-password").value);
    status.textContent = "Connecting…";
    await onSession(session);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void run("Signing in…", signInAndGo);
  });
  byId("signup-submit").addEventListener("click", () => {
    if (!form.reportValidity()) return;
    // AWS: the user pool signs in with email addresses (cdk/parts/identity.py), so the user name may be one.
    const username = value("signin-username");
    const email = value("signin-email") || (username.includes("@") ? username : "");
    if (!email) {
      error.textContent = "Enter an email address to create an account.";
      return;
    }
    void run("Creating the account…", async () => {
      const password = byId<HTMLInputElement>("signin-password").value;
      const confirmed = await signUp(config, username, password, email);
      if (confirmed) return signInAndGo();
      form.hidden = true;
      confirmForm.hidden = false;
    });
  });
  confirmForm.addEventListener("submit", (event) => {
    event.preventDefault();
    void run("Confirming…", async () => {
      await confirmSignUp(config, value("signin-username"), value("confirm-code"));
      confirmForm.hidden = true;
      form.hidden = false;
      await signInAndGo();
    });
  });
}

/** Start a page: read config.json, build the page, show the sign-in panel; `start` runs once signed in. A missing
 * or broken config.json is said at the top of the page. */
export function openPage(title: string, create: () => { start(session: Session): Promise<void> }): void {
  void (async () => {
    try {
      const config = await loadConfig();
      const page = create();
      mountSignIn(byId("signin"), config, title, (session) => page.start(session));
    } catch (failure) {
      byId("page-error").textContent = failure instanceof Error ? failure.message : String(failure);
    }
  })();
}
