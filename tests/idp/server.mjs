// The real OpenID Provider the paved end-to-end tests log in against: npm `oidc-provider` 9,
// bound to 127.0.0.1 only, configured from a JSON file written by the Rust harness
// (tests/src/idp.rs documents the format).
//
// Usage:
//   node server.mjs --config <file> [--port <n>] [--exit-on-stdin-close]
//   node server.mjs --generate-keys EC,OKP,RSA
//
// `--port 0` (the default) takes a free port; the issuer is `http://127.0.0.1:<port>`, or with a
// `tls` section in the config (`{ "cert_file": …, "key_file": … }`, a certificate for
// `localhost`) `https://localhost:<port>`; it listens on 127.0.0.1 either way.
// When listening it prints exactly one line `READY <issuer>` on stdout.
// SIGTERM, SIGINT or (with --exit-on-stdin-close) the end of stdin stop it cleanly: the token
// store is written to `state_file` so that a restart on the same port keeps sessions, grants and
// refresh tokens (the key-rotation tests restart the provider mid-session).
//
// It logs no secret: errors are logged as `error`/`error_description` only (never a token, code,
// cookie, client secret or request body).

import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import process from 'node:process';

const LOOPBACK = '127.0.0.1';

function fail(message) {
  process.stderr.write(`paved-idp: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const args = {
    config: process.env.PAVED_IDP_CONFIG,
    port: process.env.PAVED_IDP_PORT ?? '0',
    exitOnStdinClose: false,
    generateKeys: undefined,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = () => {
      i += 1;
      if (i >= argv.length) fail(`${arg} needs a value`);
      return argv[i];
    };
    switch (arg) {
      case '--config': args.config = value(); break;
      case '--port': args.port = value(); break;
      case '--exit-on-stdin-close': args.exitOnStdinClose = true; break;
      case '--generate-keys': args.generateKeys = value(); break;
      default: fail(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return args;
}

// RFC 7638 JWK thumbprint: the required members in lexicographic order, SHA-256, base64url.
function thumbprint(jwk) {
  let members;
  switch (jwk.kty) {
    case 'EC': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }; break;
    case 'OKP': members = { crv: jwk.crv, kty: jwk.kty, x: jwk.x }; break;
    case 'RSA': members = { e: jwk.e, kty: jwk.kty, n: jwk.n }; break;
    default: throw new Error(`no thumbprint for kty ${jwk.kty}`);
  }
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

// One private signing JWK per requested type. `alg` is set on every key so that two keys of one
// type score the same in oidc-provider's key selection, which then keeps configuration order:
// the first key of each type signs.
function generateKey(kind) {
  let pair;
  let alg;
  switch (kind) {
    case 'EC':
      pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      alg = 'ES256';
      break;
    case 'OKP':
      pair = generateKeyPairSync('ed25519');
      alg = 'EdDSA';
      break;
    case 'RSA':
      pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
      alg = 'RS256';
      break;
    default:
      fail(`unknown key type ${JSON.stringify(kind)} (EC, OKP or RSA)`);
  }
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: thumbprint(jwk), alg, use: 'sig' };
}

// ---------------------------------------------------------------------------------------------
// Token store: oidc-provider's adapter interface over one Map, written to a file at shutdown so a
// restart keeps what a real provider keeps in its database.

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const store = new Map(); // key -> { value, exp } with exp in epoch milliseconds or null

function storeGet(key) {
  const entry = store.get(key);
  if (entry === undefined) return undefined;
  if (entry.exp !== null && entry.exp <= Date.now()) {
    store.delete(key);
    return undefined;
  }
  return entry.value;
}

function storeSet(key, value, expiresIn) {
  const exp = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : null;
  store.set(key, { value, exp });
}

class FileBackedAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    if (this.model === 'Session') {
      storeSet(`sessionUid:${payload.uid}`, id, expiresIn);
    }
    if (GRANTABLE.has(this.model) && payload.grantId) {
      const grantKey = `grant:${payload.grantId}`;
      const members = storeGet(grantKey) ?? [];
      if (!members.includes(key)) members.push(key);
      storeSet(grantKey, members, null);
    }
    if (payload.userCode) {
      storeSet(`userCode:${payload.userCode}`, id, expiresIn);
    }
    storeSet(key, payload, expiresIn);
  }

  async find(id) {
    return storeGet(this.key(id));
  }

  async findByUid(uid) {
    const id = storeGet(`sessionUid:${uid}`);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = storeGet(`userCode:${userCode}`);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = storeGet(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const grantKey = `grant:${grantId}`;
    for (const key of storeGet(grantKey) ?? []) store.delete(key);
    store.delete(grantKey);
  }
}

function loadState(file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return;
    throw err;
  }
  for (const [key, entry] of JSON.parse(text)) store.set(key, entry);
}

function saveState(file) {
  const now = Date.now();
  const live = [...store].filter(([, entry]) => entry.exp === null || entry.exp > now);
  // Write then rename: a crash mid-write never leaves a truncated state file behind.
  writeFileSync(`${file}.tmp`, JSON.stringify(live), { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

// ---------------------------------------------------------------------------------------------

// RFC 8707 resource indicators for one resource server (`resource_server` in the config): its
// access tokens are RFC 9068 JWTs (`typ: at+jwt`, ES256) whose `aud` is the server's
// identifier, issued when the client asks for one of its scopes. Without the section, access
// tokens stay opaque (oidc-provider's default, whose settings are then left untouched).
function resourceIndicators(server, errors) {
  const info = {
    audience: server.audience,
    scope: server.scope,
    accessTokenFormat: 'jwt',
    jwt: { sign: { alg: 'ES256' } },
  };
  return {
    enabled: true,
    // A client that names no resource gets the one resource server (the web app asks for
    // its scopes only); a refresh keeps the resource of the grant.
    defaultResource: async (_ctx, _client, oneOf) => oneOf ?? server.audience,
    useGrantedResource: async () => true,
    getResourceServerInfo: async (_ctx, indicator) => {
      if (indicator !== server.audience) throw new errors.InvalidTarget();
      return info;
    },
  };
}

function providerConfiguration(config, errors) {
  const accounts = config.accounts ?? {};
  const ttl = config.ttl ?? {};
  return {
    adapter: FileBackedAdapter,
    clients: config.clients,
    jwks: config.signing_keys,
    cookies: { keys: config.cookie_keys },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    // A client must send the redirect_uri it registered (RFC 9700 §4.1); oidc-provider would
    // otherwise let a client with one registered URI omit it, which hides client bugs.
    allowOmittingSingleRegisteredRedirectUri: false,
    conformIdTokenClaims: config.conform_id_token_claims ?? true,
    rotateRefreshToken: true,
    // Refresh tokens for every client allowed the grant, with or without `offline_access`
    // (oidc-provider drops `offline_access` unless the request has `prompt=consent`).
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    async findAccount(_ctx, id) {
      const claims = accounts[id];
      if (claims === undefined) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, ...claims };
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      ...(config.resource_server === undefined
        ? {}
        : { resourceIndicators: resourceIndicators(config.resource_server, errors) }),
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: config.require_pushed_authorization_requests ?? false,
      },
    },
    ttl: {
      AccessToken: ttl.access_token ?? 300,
      AuthorizationCode: ttl.authorization_code ?? 60,
      IdToken: ttl.id_token ?? 3600,
      RefreshToken: ttl.refresh_token ?? 86400,
      Interaction: ttl.interaction ?? 600,
      Session: ttl.session ?? 86400,
      Grant: ttl.grant ?? 86400,
    },
  };
}

function logErrors(provider) {
  const log = (event) => (ctx, err) => {
    const error = err?.error ?? err?.name ?? 'error';
    const description = err?.error_description ?? err?.message ?? '';
    // error_detail says which check failed (e.g. "invalid secret provided") without values.
    const detail = err?.error_detail ? ` [${err.error_detail}]` : '';
    const client = ctx?.oidc?.client?.clientId;
    process.stderr.write(
      `paved-idp: ${event}: ${error}${description ? `: ${description}` : ''}${detail}${client ? ` (client ${client})` : ''}\n`,
    );
  };
  for (const event of [
    'authorization.error',
    'backchannel.error',
    'end_session.error',
    'grant.error',
    'introspection.error',
    'pushed_authorization_request.error',
    'revocation.error',
    'userinfo.error',
    'server_error',
  ]) {
    provider.on(event, log(event));
  }
}

async function serve(args) {
  if (!args.config) fail('--config <file> (or PAVED_IDP_CONFIG) is required');
  const config = JSON.parse(readFileSync(args.config, 'utf8'));
  const port = Number.parseInt(args.port, 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${JSON.stringify(args.port)}`);

  if (config.state_file) loadState(config.state_file);

  // Listen first so that `--port 0` can pick a free port without a race, then build the provider
  // with the issuer that names the port actually bound.
  let handler = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const listener = (req, res) => handler(req, res);
  const server = config.tls === undefined
    ? createServer(listener)
    : createTlsServer({
      cert: readFileSync(config.tls.cert_file),
      key: readFileSync(config.tls.key_file),
      minVersion: 'TLSv1.2',
    }, listener);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, resolve);
  });
  const issuer = config.tls === undefined
    ? `http://${LOOPBACK}:${server.address().port}`
    : `https://localhost:${server.address().port}`;

  const { default: Provider, errors } = await import('oidc-provider');
  const provider = new Provider(issuer, providerConfiguration(config, errors));
  logErrors(provider);
  handler = provider.callback();

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    if (config.state_file) saveState(config.state_file);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args.exitOnStdinClose) {
    // The harness holds our stdin: when it closes it (or dies), we stop.
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }

  process.stdout.write(`READY ${issuer}\n`);
}

const args = parseArgs(process.argv.slice(2));
if (args.generateKeys !== undefined) {
  const keys = args.generateKeys.split(',').filter(Boolean).map(generateKey);
  process.stdout.write(`${JSON.stringify({ keys })}\n`);
} else {
  await serve(args);
}
