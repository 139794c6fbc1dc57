// The Passgate demo page: plain modern JavaScript, talking only to the HTTP contract under /passkeys.
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  startRegistration,
  WebAuthnAbortService,
} from '@simplewebauthn/browser';

const API = '/passkeys';

// ---------------------------------------------------------------------------------------------------
// Messages

/** A human message for every error code of the contract. */
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
  reauthentication_required: 'For your security, confirm it is you with a passkey before deleting one.',
  store_unavailable: 'The service is temporarily unavailable. Try again in a moment.',
  internal_error: 'Something went wrong on the server. Try again.',
};

const FIELD_NAMES = {
  username: 'the username',
  displayName: 'the display name',
  nickname: 'the passkey name',
};

class ApiError extends Error {
  constructor(status, error, retryAfter) {
    super(error?.message ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = error?.code ?? 'internal_error';
    this.field = error?.field;
    this.credentialId = error?.credentialId;
    this.retryAfter = retryAfter;
  }
}

/** The message to show for any error: a contract error, a browser (WebAuthn) error, or a network failure. */
function describeError(error, context) {
  if (error instanceof ApiError) {
    let message = ERROR_MESSAGES[error.code] ?? error.message;
    if (error.code === 'invalid_request' && error.field) {
      const field = FIELD_NAMES[error.field] ?? error.field;
      message = `Please check ${field}: ${error.message}`;
    }
    if (error.code === 'rate_limited' && error.retryAfter) {
      message = `Too many attempts. Try again in ${error.retryAfter} second${error.retryAfter === '1' ? '' : 's'}.`;
    }
    return message;
  }
  // @simplewebauthn/browser wraps DOMExceptions in a WebAuthnError that keeps the DOMException's name.
  const name = error?.name;
  if (name === 'NotAllowedError') {
    return context === 'register'
      ? 'Passkey creation was cancelled or timed out (or your device could not verify you). Nothing was saved.'
      : 'Sign-in was cancelled or timed out (or your device could not verify you). Nobody was signed in.';
  }
  if (name === 'InvalidStateError') {
    return context === 'register'
      ? 'This device already has a passkey for this account. Use another device or security key.'
      : 'Your device reported an invalid state. Try again.';
  }
  if (name === 'SecurityError') {
    return 'The browser refused the passkey request for this address (the RP ID does not match the site). Check RP_ID and ORIGIN.';
  }
  if (name === 'NotSupportedError') {
    return 'No authenticator here supports what the site asked for.';
  }
  if (name === 'ConstraintError') {
    return 'Your authenticator cannot do what the site asked for (e.g. user verification or a discoverable passkey).';
  }
  if (error instanceof TypeError) {
    return 'Could not reach the server. Check your connection and try again.';
  }
  return error?.message || 'Something went wrong.';
}

function isAbort(error) {
  return error?.name === 'AbortError' || error?.code === 'ERROR_CEREMONY_ABORTED';
}

// ---------------------------------------------------------------------------------------------------
// HTTP

async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(API + path, init);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error, res.headers.get('retry-after'));
  return data;
}

// ---------------------------------------------------------------------------------------------------
// The Signal API (feature-detected; fire and forget)

const signals = globalThis.PublicKeyCredential ?? {};

async function signal(name, payload) {
  if (typeof signals[name] !== 'function') return false;
  try {
    await signals[name].call(globalThis.PublicKeyCredential, payload);
    return true;
  } catch (error) {
    console.warn(`PublicKeyCredential.${name} failed`, error);
    return false;
  }
}

function signalUserDetails(s) {
  return signal('signalCurrentUserDetails', {
    rpId: s.rpId,
    userId: s.userId,
    name: s.name,
    displayName: s.displayName,
  });
}

function signalAcceptedCredentials(s) {
  return signal('signalAllAcceptedCredentials', {
    rpId: s.rpId,
    userId: s.userId,
    allAcceptedCredentialIds: s.allAcceptedCredentialIds,
  });
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
  if (error instanceof ApiError) statusEl.dataset.code = error.code;
  else statusEl.dataset.code = error?.name ?? 'error';
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

// ---------------------------------------------------------------------------------------------------
// Sign-in: autofill (conditional mediation), the modal button, and username-first for security keys

/** The pending autofill request, so a modal ceremony can wait for it to be set up and then abort it. */
let autofill = null;

async function startAutofill() {
  if (!(await browserSupportsWebAuthnAutofill())) {
    document.body.dataset.autofill = 'unavailable';
    return;
  }
  let started;
  const ready = new Promise((resolve) => {
    started = resolve;
  });
  const run = (async () => {
    let options;
    try {
      options = await api('POST', '/login/options', {});
    } finally {
      started();
    }
    if (autofill?.run !== run) return; // superseded before the request was made
    document.body.dataset.autofill = 'pending';
    const response = await startAuthentication({ optionsJSON: options, useBrowserAutofill: true });
    document.body.dataset.autofill = 'done';
    await busy(() => finishSignIn(response, options));
  })();
  autofill = { run, ready };
  run.catch(async (error) => {
    if (autofill?.run === run) autofill = null;
    if (isAbort(error)) {
      document.body.dataset.autofill = 'aborted';
      return;
    }
    document.body.dataset.autofill = 'failed';
    // Nothing picked (or no passkey for this site): stay quiet, the forms are right there.
    if (error?.name === 'NotAllowedError') return;
    showError(error, 'sign-in');
    // After the browser has forgotten an unknown passkey, offer autofill again.
    if (error instanceof ApiError && error.code === 'unknown_credential' && error.signalled) startAutofill();
  });
}

/** Aborts the autofill request (if any) before a modal ceremony; it must not hold the authenticator. */
async function stopAutofill() {
  const current = autofill;
  if (!current) return;
  autofill = null;
  await current.ready; // its options request must not overwrite the modal ceremony's cookie later
  WebAuthnAbortService.cancelCeremony();
  await current.run.catch(() => {});
}

async function finishSignIn(response, options) {
  try {
    await api('POST', '/login/verify', response);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unknown_credential') {
      // The server does not know this passkey: tell the browser so it stops offering it.
      error.signalled = await signal('signalUnknownCredential', {
        rpId: options.rpId ?? location.hostname,
        credentialId: error.credentialId ?? response.id,
      });
    }
    throw error;
  }
  showStatus('success', 'Signed in.');
  location.assign('/account');
}

async function modalSignIn({ username, hints } = {}) {
  clearStatus();
  await stopAutofill();
  try {
    const body = {};
    if (username) body.username = username;
    if (hints) body.hints = hints;
    const options = await api('POST', '/login/options', body);
    const response = await startAuthentication({ optionsJSON: options });
    await finishSignIn(response, options);
  } catch (error) {
    if (isAbort(error)) return;
    showError(error, 'sign-in');
  }
}

// ---------------------------------------------------------------------------------------------------
// Sign-up and adding passkeys

async function register(body, { signUp }) {
  clearStatus();
  await stopAutofill();
  try {
    const options = await api('POST', '/register/options', body);
    const response = await startRegistration({ optionsJSON: options });
    const result = await api('POST', '/register/verify', response);
    if (signUp) {
      showStatus('success', `Welcome, ${result.user.displayName}! Your passkey is saved.`);
      location.assign('/account');
    } else {
      await loadAccount();
      showStatus(
        'success',
        `Passkey added${result.credential.authenticatorName ? ` (${result.credential.authenticatorName})` : ''}.`,
      );
    }
  } catch (error) {
    if (isAbort(error)) return;
    showError(error, 'register');
  }
}

// ---------------------------------------------------------------------------------------------------
// Account

let session = null;

async function loadAccount() {
  const [current, { credentials, signal: s }] = await Promise.all([
    api('GET', '/session'),
    api('GET', '/credentials'),
  ]);
  session = current;
  $('#account-display-name').textContent = current.user.displayName;
  $('#account-username').textContent = current.user.name;
  renderPasskeys(credentials);
  // Keep the user's name as the passkey providers show it up to date.
  signalUserDetails(s);
  return s;
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
    const updated = await api('PATCH', `/credentials/${encodeURIComponent(id)}`, { nickname });
    await loadAccount(); // also re-sends signalCurrentUserDetails
    showStatus('success', `Renamed to “${updated.nickname}”.`);
  } catch (error) {
    showError(error, 'rename');
    if (error instanceof ApiError && error.code === 'not_found') await loadAccount().catch(() => {});
  }
}

async function deletePasskey(id, { retried = false } = {}) {
  clearStatus();
  try {
    const result = await api('DELETE', `/credentials/${encodeURIComponent(id)}`);
    // Tell the passkey providers which passkeys are still valid, so the deleted one disappears.
    await signalAcceptedCredentials(result.signal);
    await loadAccount();
    showStatus('success', 'Passkey deleted. Your browser or password manager was asked to forget it too.');
  } catch (error) {
    if (error instanceof ApiError && error.code === 'reauthentication_required' && !retried) {
      // Step up: a fresh sign-in with one of this account's passkeys, then try again.
      showStatus('info', ERROR_MESSAGES.reauthentication_required);
      try {
        const options = await api('POST', '/login/options', { username: session.user.name });
        const response = await startAuthentication({ optionsJSON: options });
        await api('POST', '/login/verify', response);
      } catch (stepUpError) {
        showError(stepUpError, 'sign-in');
        return;
      }
      return deletePasskey(id, { retried: true });
    }
    showError(error, 'delete');
    if (error instanceof ApiError && error.code === 'not_found') await loadAccount().catch(() => {});
  }
}

async function signOut() {
  clearStatus();
  try {
    await api('POST', '/logout');
  } catch (error) {
    showError(error, 'sign-out');
    return;
  }
  location.assign('/?signed-out');
}

// ---------------------------------------------------------------------------------------------------
// Start

async function currentSession() {
  try {
    return await api('GET', '/session');
  } catch (error) {
    if (error instanceof ApiError && error.code === 'unauthenticated') return null;
    throw error;
  }
}

async function main() {
  $('#sign-out').addEventListener('click', () => busy(signOut));

  if (!browserSupportsWebAuthn()) {
    showView('unsupported');
    return;
  }

  if (location.pathname === '/account') {
    try {
      await loadAccount();
      showView('account');
    } catch (error) {
      if (error instanceof ApiError && error.code === 'unauthenticated') {
        location.assign('/');
        return;
      }
      showView('account');
      showError(error, 'load');
    }
    $('#add-passkey').addEventListener('click', () => busy(() => register({}, { signUp: false })));
    $('#add-security-key').addEventListener('click', () =>
      busy(() => register({ hints: ['security-key'] }, { signUp: false })),
    );
    return;
  }

  const current = await currentSession().catch((error) => {
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

  $('#passkey-button').addEventListener('click', () => busy(() => modalSignIn()));
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
    const body = { username };
    if (displayName) body.displayName = displayName;
    busy(() => register(body, { signUp: true }));
  });

  startAutofill();
}

main();
