// A test OpenID provider for Shipgate's single sign-on: the Rust integration tests and the
// browser test (tests/sso.spec.ts) sign people in through it. Built on oidc-provider, with
// its own login page, automatic consent, RP-initiated logout and test-only controls to
// change accounts and to tamper with ID tokens. Not for production: plain http, in-memory
// state, passwords in a JSON file.
//
//   node end2end/oidc/provider.mjs --config FILE [--port N]
//
// The first line on stdout is `PORT <n>` (only once the port accepts connections); the
// issuer is http://127.0.0.1:<n>. Everything else is logged to stderr.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose';

// oidc-provider prints its notices with console.info, i.e. on stdout, which belongs to the
// `PORT` line alone.
console.info = (...args) => console.error(...args);
const log = (...args) => console.error('oidc:', ...args);

const { values: args } = parseArgs({
  options: { config: { type: 'string' }, port: { type: 'string', default: '0' } },
});
if (!args.config) {
  log('usage: provider.mjs --config FILE [--port N]');
  process.exit(2);
}
const config = JSON.parse(readFileSync(args.config, 'utf8'));
const accounts = new Map(Object.entries(config.accounts ?? {}));
const TAMPER_MODES = ['none', 'nonce', 'expired', 'issuer', 'unknown_key', 'audience'];
let tamper = config.tamper ?? 'none';
if (!TAMPER_MODES.includes(tamper)) throw new Error(`unknown tamper mode ${tamper}`);

// A fresh signing key at every start: a restart with another kid is a key rotation. The
// second key signs the `unknown_key` tokens; its kid is never published in /jwks.
const kid = config.kid ?? 'k1';
const signing = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(signing.privateKey)), kid, alg: 'RS256', use: 'sig' };
const stranger = await generateKeyPair('RS256');
const strangerKid = `${kid}-unpublished`;

// ---- HTML -----------------------------------------------------------------------------
const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
// No external style sheets or fonts: the test machine has no internet.
const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>${body}</body></html>`;

const loginPage = (uid, login = '', error = false) => page('Sign in to the test provider', `
${error ? '<p class="error">Invalid username or password</p>' : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
  <label>Username <input name="login" value="${esc(login)}" autocomplete="username" autofocus></label>
  <label>Password <input type="password" name="password" autocomplete="current-password"></label>
  <button type="submit">Continue</button>
</form>`);

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- ID token tampering ----------------------------------------------------------------
// Each mode breaks exactly one thing the relying party must check; everything else stays
// valid (all but `unknown_key` are signed by the real key, so only that check fails).
async function tamperIdToken(idToken, issuer) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = signing.privateKey;
  let keyId = kid;
  switch (tamper) {
    case 'nonce': claims.nonce = `tampered-${randomBytes(8).toString('hex')}`; break;
    case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
    case 'issuer': claims.iss = `${issuer}/elsewhere`; break;
    case 'audience': claims.aud = 'someone-else'; break;
    case 'unknown_key': key = stranger.privateKey; keyId = strangerKid; break;
    default: return idToken;
  }
  return new SignJWT(claims).setProtectedHeader({ ...header, kid: keyId }).sign(key);
}

// ---- The provider -------------------------------------------------------------------------
function buildProvider(issuer) {
  const clients = (config.clients ?? []).map((c) => ({
    client_id: c.client_id,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // No secret: a public client, authenticated by PKCE alone.
    ...(c.client_secret == null
      ? { token_endpoint_auth_method: 'none' }
      : { client_secret: c.client_secret, token_endpoint_auth_method: 'client_secret_basic' }),
  }));

  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingJwk] },
    // Signed cookies; over plain http oidc-provider leaves out `Secure` (it sets it only when
    // the request is https) and uses SameSite=Lax, which Chromium accepts on 127.0.0.1.
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'groups'],
    },
    // true (the default) = the ID token carries only sub when an access token for userinfo
    // is issued too; `id_token_claims: true` puts the scope's claims into the ID token.
    conformIdTokenClaims: !config.id_token_claims,
    async findAccount(_ctx, id) {
      if (!accounts.has(id)) return undefined;
      return {
        accountId: id,
        // Read at each token and userinfo request, so PUT /test/accounts shows at once.
        async claims() {
          const a = accounts.get(id) ?? {};
          const claims = { sub: id };
          for (const k of ['email', 'email_verified', 'name', 'groups']) {
            if (a[k] !== undefined) claims[k] = a[k];
          }
          return claims;
        },
      };
    },
    // Shipgate always sends a S256 code challenge; requiring it catches a request without.
    pkce: { required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page('Sign out of the test provider', `${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<p>You are signed out of the test provider.</p>');
        },
      },
    },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<pre>${esc(JSON.stringify(out, null, 2))}</pre>`);
    },
  });

  // Tampering happens after oidc-provider built the token response, on its JSON body.
  provider.use(async (ctx, next) => {
    await next();
    if (tamper !== 'none' && ctx.method === 'POST' && ctx.path === '/token'
        && ctx.status === 200 && ctx.body?.id_token) {
      ctx.body = { ...ctx.body, id_token: await tamperIdToken(ctx.body.id_token, issuer) };
      log(`token response: id_token tampered (${tamper})`);
    }
  });
  for (const event of ['server_error', 'authorization.error', 'grant.error',
    'userinfo.error', 'end_session.error', 'interaction.error']) {
    provider.on(event, (_ctx, err) => log(event, err?.message, err?.error_description ?? ''));
  }
  return provider;
}

// ---- Interactions (login page, automatic consent) and test controls ------------------------
async function interaction(provider, req, res, uid, isLogin) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, 'text/plain', 'interaction mismatch');
  const { prompt, params, session } = details;

  if (prompt.name === 'login') {
    if (!isLogin) return send(res, 200, 'text/html', loginPage(uid));
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('login') ?? '';
    const account = accounts.get(login);
    if (!account || account.password !== form.get('password')) {
      log(`login refused for ${JSON.stringify(login)}`);
      return send(res, 200, 'text/html', loginPage(uid, login, true));
    }
    log(`login: ${login}`);
    return provider.interactionFinished(req, res, { login: { accountId: login } },
      { mergeWithLastSubmission: false });
  }

  if (prompt.name === 'consent') {
    // Consent is given at once: grant whatever the client asked for.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } },
      { mergeWithLastSubmission: true });
  }
  return send(res, 400, 'text/plain', `unsupported prompt ${prompt.name}`);
}

async function testControl(req, res, path) {
  let body;
  try {
    body = JSON.parse(await readBody(req));
  } catch {
    return send(res, 400, 'text/plain', 'body must be JSON');
  }
  const account = path.match(/^\/test\/accounts\/([^/]+)$/);
  if (account) {
    const id = decodeURIComponent(account[1]);
    accounts.set(id, body);
    log(`account ${id} set: ${JSON.stringify({ ...body, password: undefined })}`);
    return send(res, 204, 'text/plain', '');
  }
  if (path === '/test/tamper') {
    if (!TAMPER_MODES.includes(body.mode)) return send(res, 400, 'text/plain', 'unknown mode');
    tamper = body.mode;
    log(`tamper mode: ${tamper}`);
    return send(res, 204, 'text/plain', '');
  }
  return send(res, 404, 'text/plain', 'not found');
}

// The server comes first: the issuer names the port, which is known only once listening.
let provider;
let handle; // provider.callback(), built once
const server = http.createServer(async (req, res) => {
  res.on('finish', () => log(`${req.method} ${req.url.split('?')[0]} -> ${res.statusCode}`));
  if (!provider) return send(res, 503, 'text/plain', 'starting');
  const path = new URL(req.url, 'http://x').pathname;
  try {
    const m = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
    if (m && (req.method === 'GET' || (req.method === 'POST' && m[2]))) {
      return await interaction(provider, req, res, m[1], req.method === 'POST');
    }
    if (req.method === 'PUT' && path.startsWith('/test/')) return await testControl(req, res, path);
    return handle(req, res);
  } catch (err) {
    log(`${req.method} ${path}: ${err.message}`);
    if (!res.headersSent) send(res, 400, 'text/plain', `${err.name}: ${err.message}`);
  }
});
server.on('error', (err) => {
  log(`cannot listen: ${err.message}`);
  process.exit(1);
});
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = buildProvider(issuer);
  handle = provider.callback();
  log(`issuer ${issuer}, signing key ${kid}, id_token_claims ${Boolean(config.id_token_claims)}, tamper ${tamper}`);
  process.stdout.write(`PORT ${port}\n`);
});
// Open keep-alive connections would hold server.close(); a test provider just stops.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
