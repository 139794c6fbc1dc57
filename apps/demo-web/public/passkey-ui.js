// What the demo pages share (the Passgate demo and the existing-users demo): messages for the
// client's error codes, the status line, busy buttons, re-authentication, and the passkey list.
// UI only: @passgate/browser does the WebAuthn and HTTP work.
import { isPasskeyError } from '@passgate/browser';

// ---------------------------------------------------------------------------------------------------
// Messages

/** Our words for the client's error codes (the contract's codes and the browser-side ones). */
export const ERROR_MESSAGES = {
  forbidden_origin:
    'This page is not allowed to talk to the server (wrong origin). Open the demo at its configured address.',
  unsupported_media_type: 'The request was not sent as JSON. Reload the page and try again.',
  payload_too_large: 'The request was too large.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  invalid_request: 'Something in the request was not accepted.',
  unauthenticated: 'You are not signed in (or your session has ended). Sign in again.',
  username_taken: 'That username is already taken. Pick another, or sign in if it is yours.',
  verification_failed:
    'Your passkey could not be verified. Nobody was signed in. Try again, or use another passkey.',
  credential_exists: 'This passkey is already registered.',
  ceremony_expired: 'The passkey request expired or was already used. Please try again.',
  unknown_credential:
    'This passkey is not registered here (it may have been deleted). Pick another one or create an account.',
  credential_cloned:
    'This passkey looks like it was copied, so it was blocked. Use another passkey, and consider deleting this one.',
  not_found: 'That passkey no longer exists. The list has been refreshed.',
  last_credential: 'You cannot delete your only passkey. Add another one first.',
  too_many_credentials: 'This account already has the most passkeys allowed. Delete one first.',
  reauthentication_required: 'For your security, confirm it is you with a passkey first.',
  store_unavailable: 'The service is temporarily unavailable. Try again in a moment.',
  internal_error: 'Something went wrong on the server. Try again.',
  security_error:
    'The browser refused the passkey request for this address (the RP ID does not match the site). Check RP_ID and ORIGIN.',
  unsupported: 'No authenticator here supports what the site asked for.',
  network: 'Could not reach the server. Check your connection and try again.',
};

const FIELD_NAMES = {
  username: 'the username',
  displayName: 'the display name',
  nickname: 'the passkey name',
};

/** The message to show for a PasskeyError, in the context it happened in. */
export function describeError(error, context) {
  const register = context === 'register';
  switch (error?.code) {
    case 'cancelled':
      return register
        ? 'Passkey creation was cancelled or timed out (or your device could not verify you). Nothing was saved.'
        : 'Sign-in was cancelled or timed out (or your device could not verify you). Nobody was signed in.';
    case 'already_registered':
      return 'This device already has a passkey for this account. Use another device or security key.';
    case 'invalid_request':
      if (error.field) return `Please check ${FIELD_NAMES[error.field] ?? error.field}: ${error.message}`;
      break;
    case 'rate_limited':
      if (error.retryAfter) {
        return `Too many attempts. Try again in ${error.retryAfter} second${error.retryAfter === 1 ? '' : 's'}.`;
      }
      break;
  }
  return ERROR_MESSAGES[error?.code] ?? error?.message ?? 'Something went wrong.';
}

// ---------------------------------------------------------------------------------------------------
// UI helpers

export const $ = (selector) => document.querySelector(selector);
const statusEl = $('#status');

/**
 * Shows the page's view `view` and hides its others (`views`: the ids of the page's views, `loading`
 * included); `body[data-view]` tells the browser tests which one shows. "Sign out" shows on the
 * `signedIn` views only.
 */
export function showView(view, { views, signedIn }) {
  document.body.dataset.view = view;
  for (const id of views) document.getElementById(id).hidden = id !== view;
  $('#sign-out').hidden = !signedIn.includes(view);
}

export function showStatus(kind, message) {
  statusEl.hidden = false;
  statusEl.dataset.kind = kind;
  statusEl.textContent = message;
  statusEl.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

export function clearStatus() {
  statusEl.hidden = true;
  statusEl.dataset.kind = '';
  statusEl.textContent = '';
}

export function showError(error, context) {
  showStatus('error', describeError(error, context));
  statusEl.dataset.code = error?.code ?? 'error';
}

/** Runs an action with its buttons disabled, so a double click cannot start two ceremonies. */
export async function busy(action) {
  const buttons = [...document.querySelectorAll('button')];
  const wasDisabled = buttons.map((b) => b.disabled);
  for (const b of buttons) b.disabled = true;
  document.body.dataset.busy = 'true';
  try {
    return await action();
  } finally {
    buttons.forEach((b, i) => {
      b.disabled = wasDisabled[i];
    });
    delete document.body.dataset.busy;
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function setTime(el, iso, fallback) {
  if (iso) {
    el.dateTime = iso;
    el.textContent = dateFormat.format(new Date(iso));
  } else {
    el.removeAttribute('datetime');
    el.textContent = fallback;
  }
}

/**
 * Runs a sensitive action; when the server wants a fresh sign-in first, says so and lets the
 * client sign the same account in again and retry.
 */
export async function withReauthentication(action) {
  try {
    return await action();
  } catch (error) {
    if (!isPasskeyError(error, 'reauthentication_required')) throw error;
    showStatus('info', ERROR_MESSAGES.reauthentication_required);
    return error.reauthenticate();
  }
}

// ---------------------------------------------------------------------------------------------------
// The passkey list

/** One passkey in the list (the pages' `#passkeys`); the test ids are what the browser tests read. */
const PASSKEY_ITEM = `
<li class="passkey card" data-testid="passkey">
  <div class="passkey-main">
    <div class="passkey-title">
      <strong class="passkey-name" data-testid="passkey-name"></strong>
      <span class="badge" data-testid="passkey-sync"></span>
      <span class="badge current" data-testid="passkey-current" hidden>Used for this sign-in</span>
    </div>
    <div class="passkey-meta muted">
      <span data-testid="passkey-authenticator"></span>
      <span>Created <time data-testid="passkey-created"></time></span>
      <span>Last used <time data-testid="passkey-last-used"></time></span>
    </div>
    <form class="rename-form" data-testid="rename-form" hidden>
      <label class="rename-label"
        ><span class="sr-only">New name</span
        ><input type="text" maxlength="64" required data-testid="rename-input"
      /></label>
      <button type="submit" class="primary small" data-testid="rename-save">Save</button>
      <button type="button" class="secondary small" data-testid="rename-cancel">Cancel</button>
    </form>
    <div class="confirm-delete" data-testid="delete-confirmation" hidden>
      <span>Delete this passkey? You can no longer sign in with it, and devices signed in with it are signed out.</span>
      <button type="button" class="danger small" data-testid="delete-confirm">Delete</button>
      <button type="button" class="secondary small" data-testid="delete-cancel">Cancel</button>
    </div>
  </div>
  <div class="passkey-actions">
    <button type="button" class="secondary small" data-testid="rename">Rename</button>
    <button type="button" class="secondary small" data-testid="delete">Delete</button>
  </div>
</li>
`;

let template;
function passkeyTemplate() {
  if (!template) {
    template = document.createElement('template');
    template.innerHTML = PASSKEY_ITEM.trim();
  }
  return template;
}

/**
 * Renders the passkey list (`#passkeys`): `current` marks the passkey of this sign-in;
 * `actions.rename(id, nickname)` and `actions.delete(id)` run the buttons' actions.
 */
export function renderPasskeys(credentials, current, actions) {
  const list = $('#passkeys');
  const template = passkeyTemplate();
  list.replaceChildren();
  $('#passkey-count').textContent = `(${credentials.length})`;
  for (const credential of credentials) {
    const item = template.content.firstElementChild.cloneNode(true);
    const q = (id) => item.querySelector(`[data-testid="${id}"]`);
    item.dataset.credentialId = credential.id;
    const fallbackName =
      credential.authenticatorName ?? (credential.transports.includes('usb') ? 'Security key' : 'Passkey');
    q('passkey-name').textContent = credential.nickname ?? fallbackName;
    const synced = credential.deviceType === 'multiDevice';
    const sync = q('passkey-sync');
    sync.textContent = synced
      ? credential.backedUp
        ? 'Synced'
        : 'Can sync (not backed up yet)'
      : 'This device only';
    sync.dataset.sync = synced ? 'synced' : 'device-bound';
    sync.classList.add(synced ? 'synced' : 'bound');
    sync.title = synced
      ? 'A synced passkey is kept by a password manager or cloud keychain and works on your other devices.'
      : 'A device-bound passkey lives only on this authenticator (e.g. a security key).';
    // Under a nickname, say which authenticator it is; without one the title already does.
    const kind = credential.transports.includes('usb') ? 'Security key' : 'Unknown authenticator';
    const authenticator = q('passkey-authenticator');
    authenticator.textContent = credential.authenticatorName ?? kind;
    authenticator.hidden = credential.nickname === null;
    setTime(q('passkey-created'), credential.createdAt, '—');
    setTime(q('passkey-last-used'), credential.lastUsedAt, 'never');
    q('passkey-current').hidden = current?.credentialId !== credential.id;

    const renameForm = q('rename-form');
    const renameInput = q('rename-input');
    const confirmation = q('delete-confirmation');
    q('rename').addEventListener('click', () => {
      confirmation.hidden = true;
      renameForm.hidden = false;
      renameInput.value = credential.nickname ?? '';
      renameInput.focus();
    });
    q('rename-cancel').addEventListener('click', () => {
      renameForm.hidden = true;
    });
    renameForm.addEventListener('submit', (event) => {
      event.preventDefault();
      busy(() => actions.rename(credential.id, renameInput.value.trim()));
    });
    q('delete').addEventListener('click', () => {
      renameForm.hidden = true;
      confirmation.hidden = false;
    });
    q('delete-cancel').addEventListener('click', () => {
      confirmation.hidden = true;
    });
    q('delete-confirm').addEventListener('click', () => busy(() => actions.delete(credential.id)));
    list.append(item);
  }
}

/** Ends the sign-in on the server (the whole session) and goes home; shows why when it cannot. */
export async function signOutAndGoHome(client) {
  clearStatus();
  try {
    await client.signOut();
  } catch (error) {
    showError(error, 'sign-out');
    return;
  }
  location.assign('/?signed-out');
}

/**
 * Offers the site's passkeys in the username field's autofill (`autocomplete="username webauthn"`)
 * and goes to the account page once one signs in. `body[data-autofill]` tells the browser tests
 * where it is: `unavailable`, `pending`, `aborted` (a modal ceremony replaced it: `modalStarted()`),
 * `failed`, `done`. Quiet when nothing was picked; after an unknown passkey (which the client told
 * the browser to forget) it offers the others once.
 */
export async function startAutofill(client, { modalStarted = () => false, retried = false } = {}) {
  if (!(await client.isAutofillAvailable())) {
    document.body.dataset.autofill = 'unavailable';
    return;
  }
  try {
    await client.signInWithAutofill({
      onWaiting: () => {
        document.body.dataset.autofill = 'pending';
      },
    });
  } catch (error) {
    if (isPasskeyError(error, 'cancelled')) {
      // Aborted for a modal ceremony (or a password sign-in), or nothing picked: stay quiet.
      document.body.dataset.autofill = modalStarted() ? 'aborted' : 'failed';
      return;
    }
    document.body.dataset.autofill = 'failed';
    showError(error, 'sign-in');
    if (isPasskeyError(error, 'unknown_credential') && !retried) {
      startAutofill(client, { modalStarted, retried: true });
    }
    return;
  }
  document.body.dataset.autofill = 'done';
  showStatus('success', 'Signed in.');
  location.assign('/account');
}

/** Renames a passkey, then `reload()`s the page's list; a vanished passkey reloads it too. */
export async function renameAndReload(client, id, nickname, reload) {
  clearStatus();
  try {
    const updated = await client.renamePasskey(id, nickname);
    await reload();
    showStatus('success', `Renamed to “${updated.nickname}”.`);
  } catch (error) {
    showError(error, 'rename');
    if (isPasskeyError(error, 'not_found')) await reload().catch(() => {});
  }
}
