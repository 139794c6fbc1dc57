// Acme Notes: an app with password accounts that adds passkeys. UI only: the password forms talk to
// the app's own /api routes; @passgate/browser does every passkey step against /passkeys.
import { createPasskeyClient, isPasskeyError } from '@passgate/browser';
import {
  $,
  busy,
  clearStatus,
  ERROR_MESSAGES,
  renameAndReload,
  renderPasskeys,
  showError,
  showView as showPageView,
  showStatus,
  signOutAndGoHome,
  startAutofill,
} from '/passkey-ui.js';

const passkeys = createPasskeyClient({ prefix: '/passkeys' });

// The passkey messages, in this app's words where they differ (there is no passkey sign-up here).
Object.assign(ERROR_MESSAGES, {
  unknown_credential:
    'This passkey is not registered here (it may have been deleted). Sign in with your password, or pick another passkey.',
  reauthentication_required: 'For your security, confirm it is you first.',
  last_credential: 'You cannot delete your only passkey.',
  invalid_credentials: 'That email and password do not match an account.',
  email_taken: 'An account with this email exists. Sign in instead.',
});

const showView = (view) =>
  showPageView(view, { views: ['loading', 'signed-out', 'account'], signedIn: ['account'] });

/** The app's own JSON API (password sign-up and sign-in, who am I). Errors carry the body's code. */
async function api(method, path, body) {
  let response;
  try {
    response = await fetch(`/api${path}`, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw Object.assign(new Error('network'), { code: 'network' });
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    throw Object.assign(new Error(error.message ?? `HTTP ${response.status}`), {
      code: error.code ?? 'internal_error',
      field: error.field,
      status: response.status,
    });
  }
  return data;
}

// ---------------------------------------------------------------------------------------------------
// Signed out: password forms, plus passkeys (autofill in the email field, or the button)

/** Set when a modal ceremony (or a password sign-in) replaces the autofill request. */
let modalStarted = false;

/** Passkeys in the email field's suggestions; again after a failed modal sign-in, which stopped them. */
function offerAutofill() {
  modalStarted = false;
  if (passkeys.isSupported()) startAutofill(passkeys, { modalStarted: () => modalStarted });
  else document.body.dataset.autofill = 'unavailable';
}

async function passkeySignIn() {
  clearStatus();
  modalStarted = true;
  try {
    await passkeys.signIn({});
  } catch (error) {
    showError(error, 'sign-in');
    offerAutofill();
    return;
  }
  location.assign('/account');
}

async function passwordSignIn(email, password) {
  clearStatus();
  try {
    await api('POST', '/sign-in', { email, password });
  } catch (error) {
    showError(error, 'sign-in');
    return;
  }
  location.assign('/account?offer');
}

async function passwordSignUp(input) {
  clearStatus();
  try {
    await api('POST', '/sign-up', input);
  } catch (error) {
    showError(error, 'sign-up');
    return;
  }
  location.assign('/account?offer');
}

// ---------------------------------------------------------------------------------------------------
// Account: who, how, the passkey offer, the passkeys

let me = null;
let session = null;

async function loadAccount() {
  const [current, who, credentials] = await Promise.all([
    passkeys.getSession(),
    api('GET', '/me'),
    passkeys.listPasskeys(),
  ]);
  if (!current) throw Object.assign(new Error('signed out'), { code: 'unauthenticated' });
  session = current;
  me = who;
  $('#account-display-name').textContent = who.user.displayName;
  $('#account-email').textContent = who.user.email;
  $('#account-user-id').textContent = who.user.id;
  $('#account-method').textContent = who.signedInWith === 'passkey' ? 'a passkey' : 'your password';
  document.body.dataset.signedInWith = who.signedInWith;
  $('#no-passkeys').hidden = credentials.length > 0;
  renderPasskeys(credentials, current, { rename: renamePasskey, delete: deletePasskey });
  return credentials;
}

/**
 * Passkey steps on the account page re-confirm with the user's password sign-in being recent; when
 * it is not (401 reauthentication_required), a passkey sign-in of the same user, if they have one,
 * or else a fresh password sign-in, is needed.
 */
async function sensitive(action) {
  try {
    return await action();
  } catch (error) {
    if (!isPasskeyError(error, 'reauthentication_required')) throw error;
    if (session?.credentialId === null && (await passkeys.listPasskeys()).length === 0) {
      throw Object.assign(new Error('reauthenticate'), { code: 'password_reauthentication' });
    }
    showStatus('info', ERROR_MESSAGES.reauthentication_required);
    return error.reauthenticate();
  }
}

async function addPasskey(input) {
  clearStatus();
  upgrade?.abort(); // a modal ceremony replaces the quiet upgrade request
  try {
    const { credential } = await sensitive(() => passkeys.addPasskey(input));
    $('#offer').hidden = true;
    await loadAccount();
    showStatus(
      'success',
      `Passkey saved${credential.authenticatorName ? ` (${credential.authenticatorName})` : ''}. Next time, pick it in the email field.`,
    );
  } catch (error) {
    if (error?.code === 'password_reauthentication') {
      showStatus('error', 'Your password sign-in was a while ago. Sign out and in again to add a passkey.');
      return;
    }
    showError(error, 'register');
  }
}

const renamePasskey = (id, nickname) => renameAndReload(passkeys, id, nickname, loadAccount);

async function deletePasskey(id) {
  clearStatus();
  try {
    await sensitive(() => passkeys.deletePasskey(id));
  } catch (error) {
    showError(error, error?.code === 'cancelled' ? 'sign-in' : 'delete');
    if (isPasskeyError(error, 'not_found')) await loadAccount().catch(() => {});
    return;
  }
  try {
    await loadAccount();
  } catch (error) {
    // Asked of the server rather than decided from the session shown before the delete: a
    // re-authentication may have signed in again with another passkey, or with this one. A session
    // made with the deleted passkey has ended with it (as on every other device).
    if (error?.code === 'unauthenticated' || error?.status === 401) location.assign('/?passkey-deleted');
    else showError(error, 'load');
    return;
  }
  showStatus('success', 'Passkey deleted. Devices signed in with it are signed out.');
}

/** In flight while the browser may save a passkey on its own after a password sign-in. */
let upgrade = null;

/**
 * Right after a password sign-in: offer a passkey, and ask the browser to save one quietly
 * (conditional create) where it can. Either way the offer card stays until the user acts.
 */
async function offerPasskey(credentials) {
  if (credentials.length > 0 || me?.signedInWith !== 'password') return;
  $('#offer-email').textContent = me.user.email;
  $('#offer').hidden = false;
  const controller = new AbortController();
  upgrade = controller;
  document.body.dataset.upgrade = 'pending';
  const result = await passkeys.upgradeToPasskey({ signal: controller.signal }).catch((error) => {
    // Too long since the password sign-in, or an error: the offer card remains.
    document.body.dataset.upgrade = `error:${error?.code ?? 'unknown'}`;
    return null;
  });
  if (upgrade === controller) upgrade = null;
  if (!result) return;
  document.body.dataset.upgrade = result.upgraded ? 'done' : result.reason;
  if (result.upgraded) {
    $('#offer').hidden = true;
    await loadAccount();
    showStatus('success', 'Your browser saved a passkey for next time.');
  }
}

/** Passgate's logout destroys the whole session: the passport login in it too. */
function signOut() {
  upgrade?.abort();
  return signOutAndGoHome(passkeys);
}

// ---------------------------------------------------------------------------------------------------
// Start

async function main() {
  $('#sign-out').addEventListener('click', () => busy(signOut));

  if (location.pathname === '/account') {
    let credentials;
    try {
      credentials = await loadAccount();
      showView('account');
    } catch (error) {
      if (error?.code === 'unauthenticated' || error?.status === 401) {
        location.assign('/');
        return;
      }
      showView('account');
      showError(error, 'load');
      return;
    }
    $('#add-passkey').addEventListener('click', () => busy(() => addPasskey({})));
    $('#add-security-key').addEventListener('click', () =>
      busy(() => addPasskey({ hints: ['security-key'] })),
    );
    $('#offer-accept').addEventListener('click', () => busy(() => addPasskey({})));
    $('#offer-dismiss').addEventListener('click', () => {
      upgrade?.abort();
      $('#offer').hidden = true;
    });
    if (location.search === '?offer') {
      history.replaceState(null, '', '/account');
      offerPasskey(credentials);
    }
    return;
  }

  const current = await passkeys.getSession().catch(() => null);
  if (current) {
    location.assign('/account');
    return;
  }
  showView('signed-out');
  if (location.search === '?signed-out') showStatus('info', 'You are signed out.');
  if (location.search === '?passkey-deleted') {
    showStatus('info', 'You deleted the passkey this session was made with, so you are signed out.');
  }

  $('#passkey-button').addEventListener('click', () => busy(passkeySignIn));
  $('#sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    modalStarted = true;
    busy(() => passwordSignIn($('#sign-in-email').value.trim(), $('#sign-in-password').value));
  });
  $('#sign-up-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const displayName = $('#sign-up-display-name').value.trim();
    busy(() =>
      passwordSignUp({
        email: $('#sign-up-email').value.trim(),
        password: $('#sign-up-password').value,
        ...(displayName ? { displayName } : {}),
      }),
    );
  });

  offerAutofill();
}

main();
