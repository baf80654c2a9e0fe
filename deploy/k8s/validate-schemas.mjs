// Validates rendered Kubernetes manifests against the API's JSON schemas: Kubernetes' own
// (kubernetes-models), KEDA's CRDs (@kubernetes-models/keda) and the Prometheus operator's
// (@kubernetes-models/prometheus-operator). deploy/validate.sh installs those packages into
// its tool cache and runs:
//
//   node deploy/k8s/validate-schemas.mjs <dir with node_modules> <manifest.yaml>...
//
// Every document must be of a kind these packages know; exit 1 names each failure.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  console.error('usage: node validate-schemas.mjs <dir with node_modules> <manifest.yaml>...');
  process.exit(2);
}
/** A package's module by file path: the packages live in the tool cache, not beside this script. */
const load = (pkg, sub) => import(pathToFileURL(join(modules, 'node_modules', pkg, sub, 'index.js')).href);
const { parseAllDocuments } = await import(pathToFileURL(join(modules, 'node_modules/yaml/dist/index.js')).href);

/** apiVersion → the package and folder holding its models. */
function modelModule(apiVersion) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return load('@kubernetes-models/keda', `keda.sh/${version}`);
  if (group === 'monitoring.coreos.com') return load('@kubernetes-models/prometheus-operator', `monitoring.coreos.com/${version}`);
  if (group === '' || group.endsWith('.k8s.io') || !group.includes('.')) return load('kubernetes-models', apiVersion);
  return Promise.reject(new Error(`no schema package for ${apiVersion}`));
}

let failures = 0;
let checked = 0;
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) {
      failures++;
      console.error(`FAIL ${file}: YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    const what = `${file}: ${obj.kind} ${obj.metadata?.name ?? '?'} (${obj.apiVersion})`;
    try {
      const Model = (await modelModule(obj.apiVersion))[obj.kind];
      if (typeof Model !== 'function') throw new Error(`unknown kind ${obj.kind} in ${obj.apiVersion}`);
      new Model(obj).validate();
      checked++;
    } catch (e) {
      failures++;
      console.error(`FAIL ${what}: ${e.message}`);
    }
  }
}
console.log(`${checked} documents valid, ${failures} invalid`);
process.exit(failures ? 1 : checked ? 0 : 1);
