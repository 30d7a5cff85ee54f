// Mints valid and hostile tokens with npm `jose` (and node:crypto for the hand-built attacks),
// checks each with jose's own `jwtVerify`, and prints one JSON document for tests/interop.rs:
// { library, jwks, valid: [{name, alg, token}], attacks: [{row, name, token, comparable,
//   theirs, reason}] }. Keys are generated here, at test time, and never written to disk.
//
// Usage: node mint.mjs ISSUER AUDIENCE
import { constants, createHmac, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import * as jose from 'jose';

const [ISS, AUD] = process.argv.slice(2);
if (!ISS || !AUD) {
  console.error('usage: node mint.mjs ISSUER AUDIENCE');
  process.exit(2);
}
const now = Math.floor(Date.now() / 1000);
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const enc = (value) => b64(typeof value === 'string' ? value : JSON.stringify(value));

const keys = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  EdDSA: generateKeyPairSync('ed25519'),
  PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
};
const kid = (alg) => `jose-${alg}`;
const jwks = {
  keys: Object.entries(keys).map(([alg, pair]) => ({
    ...pair.publicKey.export({ format: 'jwk' }),
    kid: kid(alg),
    alg,
    use: 'sig',
  })),
};
const localJwks = jose.createLocalJWKSet(jwks);
const verifyOptions = {
  issuer: ISS,
  audience: AUD,
  typ: 'at+jwt',
  algorithms: ['ES256', 'ES384', 'EdDSA', 'PS256', 'RS256'],
  requiredClaims: ['exp', 'iss', 'aud'],
  clockTolerance: 60,
};

async function theirs(token) {
  try {
    await jose.jwtVerify(token, localJwks, verifyOptions);
    return { theirs: 'accepted', reason: '' };
  } catch (e) {
    return { theirs: 'rejected', reason: e.code || e.name };
  }
}

const claims = (extra = {}) => ({
  iss: ISS, aud: AUD, sub: 'user-1', iat: now, exp: now + 300, scope: 'items:read', ...extra,
});

function rawSign(alg, input, key, { der = false } = {}) {
  const data = Buffer.from(input);
  switch (alg) {
    case 'ES256': return nodeSign('sha256', data, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
    case 'ES384': return nodeSign('sha384', data, { key, dsaEncoding: der ? 'der' : 'ieee-p1363' });
    case 'EdDSA': return nodeSign(null, data, key);
    case 'RS256': return nodeSign('sha256', data, key);
    case 'PS256':
      return nodeSign('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'HS256': return createHmac('sha256', key).update(input).digest();
    default: throw new Error(`no signer for ${alg}`);
  }
}

// Header and claims as raw text or objects (raw text allows duplicate members).
function mintRaw(alg, header, body, key, opts) {
  const input = `${enc(header)}.${enc(body)}`;
  return `${input}.${b64(rawSign(alg, input, key, opts))}`;
}

const valid = [];
for (const alg of Object.keys(keys)) {
  const token = await new jose.SignJWT({ scope: 'items:read' })
    .setProtectedHeader({ alg, kid: kid(alg), typ: 'at+jwt' })
    .setIssuer(ISS)
    .setAudience(AUD)
    .setSubject('user-1')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(keys[alg].privateKey);
  const check = await theirs(token);
  if (check.theirs !== 'accepted') throw new Error(`jose rejects its own ${alg} token: ${check.reason}`);
  valid.push({ name: `jose SignJWT ${alg}`, alg, token });
}

const es = keys.ES256;
const hdr = (extra = {}) => ({ alg: 'ES256', kid: kid('ES256'), typ: 'at+jwt', ...extra });
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const goodEs = valid.find((v) => v.alg === 'ES256').token;
const [gh, , gs] = goodEs.split('.');
const rsaPem = keys.RS256.publicKey.export({ type: 'spki', format: 'pem' });
const b64FalseHeader = enc({ alg: 'ES256', kid: kid('ES256'), typ: 'at+jwt', b64: false, crit: ['b64'] });
const b64FalseInput = `${b64FalseHeader}.${JSON.stringify(claims())}`;
const jwe = await new jose.CompactEncrypt(Buffer.from(JSON.stringify(claims())))
  .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' })
  .encrypt(keys.RS256.publicKey);

// [row, name, token, comparable]: comparable when jose has the check by design, so the two
// libraries must agree; otherwise the row records what jose does.
const attacks = [
  ['JW-01', 'alg none, no signature', `${enc({ alg: 'none', typ: 'at+jwt' })}.${enc(claims())}.`, true],
  ['JW-01', 'alg None, with a signature part', `${enc({ alg: 'None', kid: kid('ES256'), typ: 'at+jwt' })}.${enc(claims())}.${b64('sig')}`, true],
  ['JW-02', 'HS256 keyed with the RS256 public key PEM', mintRaw('HS256', { alg: 'HS256', kid: kid('RS256'), typ: 'at+jwt' }, claims(), rsaPem), true],
  ['JW-03', 'ECDSA r = s = 0', `${enc(hdr())}.${enc(claims())}.${b64(Buffer.alloc(64))}`, true],
  ['JW-04', 'PS256 signature under the RS256-pinned key', mintRaw('PS256', { alg: 'PS256', kid: kid('RS256'), typ: 'at+jwt' }, claims(), keys.RS256.privateKey), true],
  ['JW-05', 'stripped signature', `${gh}.${goodEs.split('.')[1]}.`, true],
  ['JW-06', 'payload altered, signature kept', `${gh}.${enc(claims({ sub: 'admin' }))}.${gs}`, true],
  ['JW-07', 'kid path traversal', mintRaw('ES256', hdr({ kid: '../../../etc/passwd' }), claims(), es.privateKey), true],
  ['JW-08', 'jku pointing at the attacker', mintRaw('ES256', hdr({ kid: 'attacker', jku: 'https://attacker.example/jwks.json' }), claims(), attacker.privateKey), true],
  ['JW-09', 'embedded jwk (CVE-2018-0114)', mintRaw('ES256', { alg: 'ES256', typ: 'at+jwt', jwk: attacker.publicKey.export({ format: 'jwk' }) }, claims(), attacker.privateKey), true],
  ['JW-10', 'x5c header on a validly signed token', mintRaw('ES256', hdr({ x5c: ['MIIBszCCAVmgAwIBAgIUWf8='] }), claims(), es.privateKey), false],
  ['JW-11', 'crit with an unknown extension', mintRaw('ES256', hdr({ crit: ['x-ext'], 'x-ext': 1 }), claims(), es.privateKey), true],
  ['JW-12', 'b64 false (RFC 7797)', `${b64FalseHeader}.${enc(claims())}.${b64(rawSign('ES256', b64FalseInput, es.privateKey))}`, true],
  ['JW-13', 'expired an hour ago', mintRaw('ES256', hdr(), claims({ iat: now - 7200, exp: now - 3600 }), es.privateKey), true],
  ['JW-13', 'no exp', mintRaw('ES256', hdr(), (({ exp, ...rest }) => rest)(claims()), es.privateKey), true],
  ['JW-14', 'nbf an hour ahead', mintRaw('ES256', hdr(), claims({ nbf: now + 3600 }), es.privateKey), true],
  ['JW-15', 'wrong issuer', mintRaw('ES256', hdr(), claims({ iss: 'https://attacker.example' }), es.privateKey), true],
  ['JW-16', 'wrong audience', mintRaw('ES256', hdr(), claims({ aud: 'https://other.example' }), es.privateKey), true],
  ['JW-17', 'typ JWT presented as an access token', mintRaw('ES256', hdr({ typ: 'JWT' }), claims(), es.privateKey), true],
  ['JW-19', 'duplicate sub in the claims', mintRaw('ES256', hdr(), JSON.stringify(claims()).replace('{', '{"sub":"admin",'), es.privateKey), false],
  ['JW-20', 'padded signature', `${goodEs}=`, true],
  ['JW-22', 'DER-encoded ECDSA signature', mintRaw('ES256', hdr(), claims(), es.privateKey, { der: true }), true],
  ['JW-24', 'JWE (five segments)', jwe, true],
];

const out = [];
for (const [row, name, token, comparable] of attacks) {
  out.push({ row, name, token, comparable, ...(await theirs(token)) });
}
process.stdout.write(JSON.stringify({ library: 'jose 6.2.18 (npm)', jwks, valid, attacks: out }));
