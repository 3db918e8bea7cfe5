// Verifies Sigstore bundles with @sigstore/verify, offline: a Verifier over an empty trusted root,
// a key finder for one public key, and no transparency log, certificate or timestamp required.
// The library leaves the DSSE subject to the caller, so this script checks that the artifact's
// sha256 is a subject of every bundle.
//
//   node verify-bundle.mjs PEERS_DIR PUB.pem ARTIFACT BUNDLE...
//
// PEERS_DIR holds node_modules with the versions pinned in package-lock.json (scripts/test).
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [peers, pubPath, artifactPath, ...bundles] = process.argv.slice(2);
const require = createRequire(path.join(peers, 'package.json'));
const { bundleFromJSON } = require('@sigstore/bundle');
const { TrustedRoot } = require('@sigstore/protobuf-specs');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const pub = crypto.createPublicKey(fs.readFileSync(pubPath, 'utf8'));
const hint = crypto.createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('base64');
const root = TrustedRoot.fromJSON({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
});
const keyFinder = (h) => {
  if (h !== hint) throw new Error(`unknown key hint ${h}`);
  return { publicKey: pub, validFor: () => true };
};
const verifier = new Verifier(toTrustMaterial(root, keyFinder), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
const artifact = fs.readFileSync(artifactPath);
const digest = crypto.createHash('sha256').update(artifact).digest('hex');

for (const file of bundles) {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
  verifier.verify(toSignedEntity(bundle, artifact)); // throws VerificationError
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error(`${file}: not a DSSE bundle`);
  const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8'));
  if (!statement.subject.some((s) => s.digest?.sha256 === digest)) throw new Error(`${file}: no subject has the artifact's sha256 ${digest}`);
  console.log(`OK ${path.basename(file)} ${statement.predicateType}`);
}
