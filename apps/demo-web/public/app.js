// The Passgate demo page: UI only. @passgate/browser does the WebAuthn and HTTP work against the
// routes under /passkeys (ceremonies, autofill, cancellations, the Signal API, re-authentication).
import { createPasskeyClient, isPasskeyError } from '@passgate/browser';

const passkeys = createPasskeyClient({ prefix: '/passkeys' });

// ---------------------------------------------------------------------------------------------------
// Messages

/** Our words for the client's error codes (the contract's codes and the browser-side ones). */
const ERROR_MESSAGES = {
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
function describeError(error, context) {
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

const $ = (selector) => document.querySelector(selector);
const statusEl = $('#status');

function showStatus(kind, message) {
  statusEl.hidden = false;
  statusEl.dataset.kind = kind;
  statusEl.textContent = message;
  statusEl.setAttribute('role', kind === 'error' ? 'alert' : 'status');
}

function clearStatus() {
  statusEl.hidden = true;
  statusEl.dataset.kind = '';
  statusEl.textContent = '';
}

function showError(error, context) {
  showStatus('error', describeError(error, context));
  statusEl.dataset.code = error?.code ?? 'error';
}

function showView(view) {
  document.body.dataset.view = view;
  for (const id of ['loading', 'unsupported', 'signed-out', 'home-signed-in', 'account']) {
    document.getElementById(id).hidden = id !== view;
  }
  $('#sign-out').hidden = !(view === 'account' || view === 'home-signed-in');
}

/** Runs an action with its buttons disabled, so a double click cannot start two ceremonies. */
async function busy(action) {
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
async function withReauthentication(action) {
  try {
    return await action();
  } catch (error) {
    if (!isPasskeyError(error, 'reauthentication_required')) throw error;
    showStatus('info', ERROR_MESSAGES.reauthentication_required);
    return error.reauthenticate();
  }
}

// ---------------------------------------------------------------------------------------------------
// Sign-in: autofill (conditional mediation), the modal button, and username-first for security keys

/** Set when a modal ceremony replaces the autofill request (the client aborts it). */
let modalStarted = false;
let autofillRetried = false;

async function startAutofill() {
  if (!(await passkeys.isAutofillAvailable())) {
    document.body.dataset.autofill = 'unavailable';
    return;
  }
  try {
    await passkeys.signInWithAutofill({
      onWaiting: () => {
        document.body.dataset.autofill = 'pending';
      },
    });
  } catch (error) {
    if (isPasskeyError(error, 'cancelled')) {
      // Aborted for a modal ceremony, or nothing picked (no passkey for this site): stay quiet.
      document.body.dataset.autofill = modalStarted ? 'aborted' : 'failed';
      return;
    }
    document.body.dataset.autofill = 'failed';
    showError(error, 'sign-in');
    // The browser was told to forget the unknown passkey: offer the others (once per page).
    if (isPasskeyError(error, 'unknown_credential') && !autofillRetried) {
      autofillRetried = true;
      startAutofill();
    }
    return;
  }
  document.body.dataset.autofill = 'done';
  showStatus('success', 'Signed in.');
  location.assign('/account');
}

async function modalSignIn(input) {
  clearStatus();
  modalStarted = true;
  try {
    await passkeys.signIn(input);
  } catch (error) {
    showError(error, 'sign-in');
    return;
  }
  showStatus('success', 'Signed in.');
  location.assign('/account');
}

// ---------------------------------------------------------------------------------------------------
// Sign-up and adding passkeys

async function signUp(input) {
  clearStatus();
  modalStarted = true;
  try {
    const { user } = await passkeys.signUp(input);
    showStatus('success', `Welcome, ${user.displayName}! Your passkey is saved.`);
    location.assign('/account');
  } catch (error) {
    showError(error, 'register');
  }
}

async function addPasskey(input) {
  clearStatus();
  try {
    const { credential } = await withReauthentication(() => passkeys.addPasskey(input));
    await loadAccount();
    showStatus(
      'success',
      `Passkey added${credential.authenticatorName ? ` (${credential.authenticatorName})` : ''}.`,
    );
  } catch (error) {
    showError(error, 'register');
  }
}

// ---------------------------------------------------------------------------------------------------
// Account

let session = null;

/** The session and the passkeys (listing them also brings the passkey provider up to date). */
async function loadAccount() {
  const [current, credentials] = await Promise.all([passkeys.getSession(), passkeys.listPasskeys()]);
  if (!current) throw Object.assign(new Error('signed out'), { code: 'unauthenticated' });
  session = current;
  $('#account-display-name').textContent = current.user.displayName;
  $('#account-username').textContent = current.user.name;
  renderPasskeys(credentials);
}

function renderPasskeys(credentials) {
  const list = $('#passkeys');
  const template = $('#passkey-template');
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
    q('passkey-current').hidden = session?.credentialId !== credential.id;

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
      busy(() => renamePasskey(credential.id, renameInput.value.trim()));
    });
    q('delete').addEventListener('click', () => {
      renameForm.hidden = true;
      confirmation.hidden = false;
    });
    q('delete-cancel').addEventListener('click', () => {
      confirmation.hidden = true;
    });
    q('delete-confirm').addEventListener('click', () => busy(() => deletePasskey(credential.id)));
    list.append(item);
  }
}

async function renamePasskey(id, nickname) {
  clearStatus();
  try {
    const updated = await passkeys.renamePasskey(id, nickname);
    await loadAccount();
    showStatus('success', `Renamed to “${updated.nickname}”.`);
  } catch (error) {
    showError(error, 'rename');
    if (isPasskeyError(error, 'not_found')) await loadAccount().catch(() => {});
  }
}

async function deletePasskey(id) {
  clearStatus();
  try {
    // The client also tells the passkey provider which passkeys are still valid.
    await withReauthentication(() => passkeys.deletePasskey(id));
    await loadAccount();
    showStatus('success', 'Passkey deleted. Your browser or password manager was asked to forget it too.');
  } catch (error) {
    showError(error, error?.code === 'cancelled' ? 'sign-in' : 'delete');
    if (isPasskeyError(error, 'not_found')) await loadAccount().catch(() => {});
  }
}

async function signOut() {
  clearStatus();
  try {
    await passkeys.signOut();
  } catch (error) {
    showError(error, 'sign-out');
    return;
  }
  location.assign('/?signed-out');
}

// ---------------------------------------------------------------------------------------------------
// Start

async function main() {
  $('#sign-out').addEventListener('click', () => busy(signOut));

  if (!passkeys.isSupported()) {
    showView('unsupported');
    return;
  }

  if (location.pathname === '/account') {
    try {
      await loadAccount();
      showView('account');
    } catch (error) {
      if (error?.code === 'unauthenticated') {
        location.assign('/');
        return;
      }
      showView('account');
      showError(error, 'load');
    }
    $('#add-passkey').addEventListener('click', () => busy(() => addPasskey({})));
    $('#add-security-key').addEventListener('click', () =>
      busy(() => addPasskey({ hints: ['security-key'] })),
    );
    return;
  }

  const current = await passkeys.getSession().catch((error) => {
    showError(error, 'load');
    return null;
  });
  if (current) {
    $('#home-display-name').textContent = current.user.displayName;
    showView('home-signed-in');
    return;
  }
  showView('signed-out');
  if (location.search === '?signed-out') showStatus('info', 'You are signed out.');

  $('#passkey-button').addEventListener('click', () => busy(() => modalSignIn({})));
  $('#sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const username = $('#sign-in-username').value.trim();
    if (!username) {
      showStatus('error', 'Type your username first, then use your security key.');
      $('#sign-in-username').focus();
      return;
    }
    busy(() => modalSignIn({ username, hints: ['security-key'] }));
  });
  $('#sign-up-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const username = $('#sign-up-username').value.trim();
    const displayName = $('#sign-up-display-name').value.trim();
    busy(() => signUp(displayName ? { username, displayName } : { username }));
  });

  startAutofill();
}

main();
