// deploy/kubernetes renders (kubectl kustomize, every overlay), every object is valid against the
// Kubernetes schemas (and the CloudNativePG and KEDA CRDs), and the wiring is real: env names the
// platform reads, secrets and config maps that exist, probes on paths the processes serve, worker groups
// and streams that exist, images and ports that agree with docker-compose.yml.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as cnpg from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as batch from 'kubernetes-models/batch/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { parse, parseAllDocuments } from 'yaml';
import { type ConsumerDefinition, topicsOf } from '#events/consumer/consumer.ts';
import { DEFAULT_STREAM_PREFIX } from '#events/defaults.ts';
import { startProbeServer } from '#kernel/http/probes.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const KUSTOMIZE = join(ROOT, 'deploy', 'kubernetes');
const OVERLAYS = readdirSync(join(KUSTOMIZE, 'overlays'));

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
type Obj = Record<string, any>;

/** apiVersion/kind → the schema-checked model of it. */
const MODELS: Record<string, new (o: Obj) => { validate(): void }> = {
  'v1/ConfigMap': core.ConfigMap,
  'v1/Secret': core.Secret,
  'v1/Service': core.Service,
  'v1/ServiceAccount': core.ServiceAccount,
  'v1/PersistentVolumeClaim': core.PersistentVolumeClaim,
  'apps/v1/Deployment': apps.Deployment,
  'apps/v1/StatefulSet': apps.StatefulSet,
  'batch/v1/Job': batch.Job,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': networking.NetworkPolicy,
  'networking.k8s.io/v1/Ingress': networking.Ingress,
  'postgresql.cnpg.io/v1/Cluster': cnpg.Cluster,
  'postgresql.cnpg.io/v1/ScheduledBackup': cnpg.ScheduledBackup,
  'keda.sh/v1alpha1/ScaledObject': keda.ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': keda.TriggerAuthentication,
};

function render(dir: string): Obj[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw new Error(
      `kubectl kustomize ${dir} failed (is kubectl installed? .ci/run installs it): ${String(error)}`,
    );
  }
  return parseAllDocuments(out).map((d) => d.toJSON() as Obj);
}

const rendered = Object.fromEntries([
  ['base', render(join(KUSTOMIZE, 'base'))],
  ...OVERLAYS.map((o) => [o, render(join(KUSTOMIZE, 'overlays', o))]),
]) as Record<string, Obj[]>;

/**
 * kustomize wraps a generated Secret's long base64 values over lines; the API server's decoder (Go's)
 * skips the line breaks, the schema's "byte" format does not, so the test unwraps them first.
 */
function withoutWrappedBase64(o: Obj): Obj {
  if (o.kind !== 'Secret' || !o.data) return o;
  return {
    ...o,
    data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, String(v).replace(/\s/g, '')])),
  };
}

const ofKind = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const podSpecs = (objects: Obj[]) =>
  objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      labels: o.spec.template.metadata?.labels ?? {},
      spec: o.spec.template.spec as Obj,
    }));
const containersOf = (objects: Obj[]) =>
  podSpecs(objects).flatMap(({ owner, spec }) => (spec.containers as Obj[]).map((c) => ({ owner, c })));
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Variables README's configuration table names (the platform's own settings). */
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const documented = new Set(
  readme
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split(' | ')[0]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)),
);
/** Standard names read by the libraries themselves (OpenTelemetry's OTEL_*, Apollo's APOLLO_*). */
const standard = (name: string) => /^(OTEL|APOLLO)_[A-Z0-9_]+$/.test(name);

describe.each(Object.keys(rendered))('deploy/kubernetes (%s)', (name) => {
  const objects = rendered[name]!;

  it('renders, and every object is valid against its schema (CRDs included)', () => {
    expect(objects.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      if (!Model) {
        problems.push(`${o.apiVersion} ${o.kind} ${o.metadata?.name}: no schema known to the test`);
        continue;
      }
      try {
        new Model(withoutWrappedBase64(o)).validate();
      } catch (error) {
        problems.push(
          `${o.kind}/${o.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('every environment variable is one the platform reads, from config maps and secrets that exist', () => {
    const configMaps = new Map(ofKind(objects, 'ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
    const secretKeys = new Map(
      ofKind(objects, 'Secret').map((s) => [s.metadata.name, Object.keys({ ...s.data, ...s.stringData })]),
    );
    const unknown: string[] = [];
    const missing: string[] = [];
    for (const { owner, c } of containersOf(objects)) {
      if (!String(c.image).includes('widgetdc')) continue;
      const names = [
        ...((c.env ?? []) as Obj[]).map((e) => e.name as string),
        ...((c.envFrom ?? []) as Obj[]).flatMap((from) => {
          const data = configMaps.get(from.configMapRef?.name);
          if (!data) missing.push(`${owner}: config map ${from.configMapRef?.name}`);
          return Object.keys(data ?? {});
        }),
      ];
      unknown.push(...names.filter((n) => !documented.has(n) && !standard(n)).map((n) => `${owner}: ${n}`));
      for (const e of (c.env ?? []) as Obj[]) {
        const ref = e.valueFrom?.secretKeyRef;
        // Overlays that generate their secrets must generate every key; prod's are created by the operator.
        if (ref && secretKeys.size > 0 && !secretKeys.get(ref.name)?.includes(ref.key)) {
          missing.push(`${owner}: secret ${ref.name} key ${ref.key}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(missing).toEqual([]);
  });

  it('every process runs a file of this repository, hardened, with requests, limits and probes', () => {
    const problems: string[] = [];
    for (const { owner, c } of containersOf(objects)) {
      if (!String(c.image).includes('widgetdc')) continue;
      const [binary, script] = c.command as string[];
      if (binary !== 'node') problems.push(`${owner}: command must be node <script>`);
      try {
        readFileSync(join(ROOT, script!));
      } catch {
        problems.push(`${owner}: ${script} does not exist`);
      }
      if (!c.resources?.requests?.cpu || !c.resources?.limits?.memory) problems.push(`${owner}: resources`);
      if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${owner}: read-only root`);
      if (!owner.startsWith('Job/') && (!c.livenessProbe || !c.readinessProbe))
        problems.push(`${owner}: probes`);
    }
    for (const { owner, spec } of podSpecs(objects)) {
      if (spec.securityContext?.runAsNonRoot !== true) problems.push(`${owner}: runAsNonRoot`);
    }
    for (const d of ofKind(objects, 'Deployment')) {
      if (!d.spec.template.spec.topologySpreadConstraints && d.metadata.name !== 'otel-collector') {
        problems.push(`Deployment/${d.metadata.name}: topology spread`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('probes hit paths the processes serve, on ports the containers expose', async () => {
    const probes = await startProbeServer({
      host: '127.0.0.1',
      port: 0,
      ready: async () => ({ ready: true, checks: {} }),
    });
    try {
      const problems: string[] = [];
      for (const { owner, c } of containersOf(objects)) {
        if (!String(c.image).includes('widgetdc')) continue;
        const ports = ((c.ports ?? []) as Obj[]).map((p) => p.name);
        for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
          const http = c[kind]?.httpGet;
          if (!http) continue;
          if (!ports.includes(http.port)) problems.push(`${owner} ${kind}: port ${http.port} not exposed`);
          const res = await fetch(`http://127.0.0.1:${probes.port}${http.path}`);
          if (res.status !== 200) problems.push(`${owner} ${kind}: ${http.path} answers ${res.status}`);
        }
        // A worker's probes need --probe-port equal to the exposed port.
        const args = (c.command ?? []) as string[];
        const i = args.indexOf('--probe-port');
        if (i >= 0 && !(c.ports as Obj[]).some((p) => String(p.containerPort) === args[i + 1])) {
          problems.push(`${owner}: --probe-port ${args[i + 1]} is not a container port`);
        }
      }
      expect(problems).toEqual([]);
    } finally {
      await probes.close();
    }
  });

  it('services, disruption budgets and autoscalers point at pods and workloads that exist', () => {
    const pods = podSpecs(objects);
    const workloads = new Set(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name));
    const problems: string[] = [];
    for (const s of ofKind(objects, 'Service')) {
      const targets = pods.filter((p) => matches(s.spec.selector, p.labels));
      if (targets.length === 0) problems.push(`Service/${s.metadata.name} selects no pod`);
      for (const port of s.spec.ports as Obj[]) {
        const served = targets.some(({ spec }) =>
          (spec.containers as Obj[]).some((c) =>
            ((c.ports ?? []) as Obj[]).some((p) => p.name === port.targetPort),
          ),
        );
        if (!served) problems.push(`Service/${s.metadata.name}: no pod exposes ${port.targetPort}`);
      }
    }
    for (const b of ofKind(objects, 'PodDisruptionBudget')) {
      if (!pods.some((p) => matches(b.spec.selector.matchLabels, p.labels))) {
        problems.push(`PodDisruptionBudget/${b.metadata.name} selects no pod`);
      }
    }
    for (const h of [...ofKind(objects, 'HorizontalPodAutoscaler'), ...ofKind(objects, 'ScaledObject')]) {
      if (!workloads.has(h.spec.scaleTargetRef.name))
        problems.push(`${h.kind}/${h.metadata.name}: no target`);
    }
    expect(problems).toEqual([]);
  });

  it('one worker Deployment per consumer group, scaled by KEDA on the lag of exactly its streams', async () => {
    const groups: ConsumerDefinition[] = [];
    for (const sub of readdirSync(join(ROOT, 'subgraphs'))) {
      const file = join(ROOT, 'subgraphs', sub, 'src', 'consumers', 'index.ts');
      try {
        readFileSync(file);
      } catch {
        continue;
      }
      groups.push(
        ...((await import(pathToFileURL(file).href)) as { consumers: ConsumerDefinition[] }).consumers,
      );
    }
    const workerGroups = containersOf(objects)
      .map(({ c }) => (c.command ?? []) as string[])
      .filter((cmd) => cmd[1] === 'scripts/worker.ts')
      .map((cmd) => cmd[cmd.indexOf('--group') + 1]);
    expect(workerGroups.sort()).toEqual(groups.map((g) => g.group).sort());
    for (const group of groups) {
      const scaled = ofKind(objects, 'ScaledObject').find(
        (s) => s.spec.scaleTargetRef.name === `worker-${group.group}`,
      );
      const streams = ((scaled?.spec.triggers ?? []) as Obj[]).map((t) => {
        expect(t.metadata.consumerGroup).toBe(group.group);
        return t.metadata.stream;
      });
      expect(streams.sort()).toEqual(
        topicsOf(group)
          .map((t) => `${DEFAULT_STREAM_PREFIX}${t}`)
          .sort(),
      );
    }
  });

  it('images and ports agree with docker-compose.yml', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as Obj;
    const services = compose.services as Record<string, Obj>;
    const problems: string[] = [];
    for (const [svc, def] of Object.entries(services)) {
      const port = Object.entries(def.environment ?? {}).find(([k]) => /^[A-Z]+_PORT$/.test(k))?.[1];
      if (!port) continue;
      const deployment = ofKind(objects, 'Deployment').find((d) => d.metadata.name === svc);
      const exposed = deployment?.spec.template.spec.containers[0].ports?.map((p: Obj) =>
        String(p.containerPort),
      );
      if (!exposed?.includes(String(port)))
        problems.push(`${svc}: compose port ${port}, kubernetes ${exposed}`);
    }
    const appImage = String(services.gateway!.image).split(':')[0];
    for (const { owner, c } of containersOf(objects)) {
      if (['node'].includes((c.command ?? [])[0]) && !String(c.image).split(':')[0]!.endsWith(appImage!)) {
        problems.push(`${owner}: image ${c.image}, compose builds ${appImage}`);
      }
    }
    const redis = containersOf(objects).find(({ c }) => String(c.image).startsWith('redis:'))?.c.image;
    if (redis !== services.redis!.image) problems.push(`redis: ${redis} vs compose ${services.redis!.image}`);
    const pgMajor = (image: string) => /(?:pg|:)(\d+)/.exec(image)?.[1];
    const cluster = ofKind(objects, 'Cluster')[0]!;
    if (pgMajor(cluster.spec.imageName) !== pgMajor(services.postgres!.image)) {
      problems.push(`postgres: ${cluster.spec.imageName} vs compose ${services.postgres!.image}`);
    }
    expect(problems).toEqual([]);
  });
});

it('the production overlay generates no secret (the operator provides them) and dev generates every key used', () => {
  expect(ofKind(rendered.prod!, 'Secret')).toEqual([]);
  expect(ofKind(rendered.dev!, 'Secret').map((s) => s.metadata.name)).toEqual(['widgetdc-secrets']);
});
