// The Passgate demo page: UI only. @passgate/browser does the WebAuthn and HTTP work against the
// routes under /passkeys (ceremonies, autofill, cancellations, the Signal API, re-authentication).
import { createPasskeyClient, isPasskeyError } from '@passgate/browser';
import {
  $,
  busy,
  clearStatus,
  renameAndReload,
  renderPasskeys,
  showError,
  showView as showPageView,
  showStatus,
  signOutAndGoHome,
  startAutofill,
  withReauthentication,
} from './passkey-ui.js';

const passkeys = createPasskeyClient({ prefix: '/passkeys' });

// ---------------------------------------------------------------------------------------------------
// UI helpers

const showView = (view) =>
  showPageView(view, {
    views: ['loading', 'unsupported', 'signed-out', 'home-signed-in', 'account'],
    signedIn: ['account', 'home-signed-in'],
  });

// ---------------------------------------------------------------------------------------------------
// Sign-in: autofill (conditional mediation), the modal button, and username-first for security keys

/** Set when a modal ceremony replaces the autofill request (the client aborts it). */
let modalStarted = false;

/** After a failed modal ceremony (which stopped autofill): offer the passkeys in the field again. */
function offerAutofillAgain() {
  modalStarted = false;
  startAutofill(passkeys, { modalStarted: () => modalStarted });
}

async function modalSignIn(input) {
  clearStatus();
  modalStarted = true;
  try {
    await passkeys.signIn(input);
  } catch (error) {
    showError(error, 'sign-in');
    offerAutofillAgain();
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
    offerAutofillAgain();
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
  renderPasskeys(credentials, session, { rename: renamePasskey, delete: deletePasskey });
}

const renamePasskey = (id, nickname) => renameAndReload(passkeys, id, nickname, loadAccount);

async function deletePasskey(id) {
  clearStatus();
  try {
    // The client also tells the passkey provider which passkeys are still valid.
    await withReauthentication(() => passkeys.deletePasskey(id));
  } catch (error) {
    showError(error, error?.code === 'cancelled' ? 'sign-in' : 'delete');
    if (isPasskeyError(error, 'not_found')) await loadAccount().catch(() => {});
    return;
  }
  try {
    await loadAccount();
  } catch (error) {
    // Asked of the server rather than guessed from the session shown: a re-authentication may have
    // signed in with another passkey. A session ends with the passkey it was made with.
    if (error?.code === 'unauthenticated') location.assign('/?passkey-deleted');
    else showError(error, 'load');
    return;
  }
  showStatus('success', 'Passkey deleted. Your browser or password manager was asked to forget it too.');
}

// ---------------------------------------------------------------------------------------------------
// Start

async function main() {
  $('#sign-out').addEventListener('click', () => busy(() => signOutAndGoHome(passkeys)));

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
  if (location.search === '?passkey-deleted') {
    showStatus('info', 'You deleted the passkey this session was made with, so you are signed out.');
  }

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

  offerAutofillAgain();
}

main();
