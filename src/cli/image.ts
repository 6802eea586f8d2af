/**
 * `clusterip image load|ls|rm|pull`: the machine's image store (src/images), shared by every
 * cluster, without a running cluster:
 * - `load FILE [--name REPO]`: an OCI layout (dir or tar) or a `docker save` archive, for machines
 *   without a registry (as `kind load image-archive`); Pods then use it with any pull policy but
 *   Always (`imagePullPolicy: IfNotPresent` or `Never`);
 * - `ls [-o json]`: what `crictl images` shows, plus whether a container uses it;
 * - `rm NAME|DIGEST...`: removes names (a digest: the whole image) and the layers no image needs;
 *   refuses an image a container runs from;
 * - `pull REF [--insecure-registry H]`: fills the store ahead of time (credentials from
 *   ~/.docker/config.json).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { flagHelp, parseArgs, UsageError, type FlagSpec } from './args.js';
import { HELP_FLAG } from './target.js';
import type { DockerConfig } from '../images/auth.js';
import { formatReference, parseReference } from '../images/reference.js';
import { DEFAULT_IMAGE_STORE, ImageStore, type StoredImage } from '../images/store.js';

export const IMAGE_FLAGS: Record<string, FlagSpec> = {
  'image-store': { type: 'string', description: 'the image store', default: DEFAULT_IMAGE_STORE },
  repo: { type: 'string', description: 'load: repository for images the archive names by tag only (e.g. example.com/app)' },
  output: { type: 'string', short: 'o', description: 'ls: table or json', default: 'table' },
  'insecure-registry': { type: 'string', description: 'pull: comma-separated registries to reach over plain HTTP' },
  help: HELP_FLAG,
};

const USAGE = `clusterip image load FILE | ls | rm NAME... | pull REF [flags]

Manages the machine's image store (shared by every cluster; Pods of clusters started with
--images auto or oci run from it).

  load FILE    load an OCI image layout (directory or tar) or a 'docker save' archive
  ls           list the images
  rm NAME...   remove images by name or digest (not while a container uses them)
  pull REF     pull an image from its registry into the store`;

function human(bytes: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let n = bytes;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(n >= 100 || i === 0 ? 0 : 1)}${u[i]}`;
}

function rows(store: ImageStore, images: StoredImage[]): { image: string; tag: string; id: string; size: number; inUse: boolean; names: string[]; digest: string }[] {
  const chains = store.mountedChains();
  const out: ReturnType<typeof rows> = [];
  for (const img of images) {
    const tagged = img.names.filter((n) => !n.includes('@'));
    const shown = tagged.length ? tagged : [img.names[0] ?? `<none>@${img.digest}`];
    for (const n of shown) {
      const i = n.lastIndexOf(':');
      const repoEnd = n.includes('@') ? n.indexOf('@') : (i > n.lastIndexOf('/') ? i : n.length);
      out.push({
        image: n.slice(0, repoEnd), tag: n.includes('@') ? '<none>' : (n.slice(repoEnd + 1) || '<none>'), id: img.configDigest.slice(7, 20),
        size: img.size, inUse: store.inUse(img, chains), names: img.names, digest: img.digest,
      });
    }
  }
  return out;
}

/** `clusterip image`. */
export async function run(argv: string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, IMAGE_FLAGS, { command: 'image', positionals: true });
  const [sub, ...args] = positional;
  if (flags.help || !sub) { console.log(`${USAGE}\n\n${flagHelp(IMAGE_FLAGS)}`); return flags.help ? 0 : 2; }
  if (process.getuid?.() !== 0) throw new UsageError('clusterip image needs root (the store and the layers it unpacks belong to root)');
  const store = ImageStore.open(String(flags['image-store']));
  try {
    switch (sub) {
      case 'load': {
        if (args.length !== 1) throw new UsageError('usage: clusterip image load FILE [--repo REPO]');
        const { loadArchive } = await import('../images/archive.js');
        const t0 = performance.now();
        const loaded = await loadArchive(store, args[0]!, { name: flags.repo as string | undefined });
        for (const img of loaded) console.log(`loaded ${img.names.filter((n) => !n.includes('@')).join(', ') || img.names[0]} (${img.digest}, ${human(img.size)})`);
        console.log(`${loaded.length} image(s) in ${Math.round(performance.now() - t0)} ms`);
        return 0;
      }
      case 'ls': {
        const out = rows(store, store.list());
        if (flags.output === 'json') { console.log(JSON.stringify(out, null, 2)); return 0; }
        if (flags.output !== 'table') throw new UsageError(`--output must be table or json, not ${JSON.stringify(flags.output)}`);
        const table = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE', 'IN USE'], ...out.map((r) => [r.image, r.tag, r.id, human(r.size), r.inUse ? 'yes' : 'no'])];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table) console.log(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('   '));
        return 0;
      }
      case 'rm': {
        if (!args.length) throw new UsageError('usage: clusterip image rm NAME|DIGEST...');
        let failed = 0;
        for (const a of args) {
          const name = /^sha256:/.test(a) ? a : (() => { try { return formatReference(parseReference(a)); } catch (e) { throw new UsageError((e as Error).message); } })();
          try {
            const r = store.remove(name);
            for (const n of r.names) console.log(`Untagged: ${n}`);
            for (const d of r.images) console.log(`Deleted: ${d}`);
          } catch (e) {
            console.error(`error: ${(e as Error).message}`);
            failed++;
          }
        }
        return failed ? 1 : 0;
      }
      case 'pull': {
        if (args.length !== 1) throw new UsageError('usage: clusterip image pull REF');
        const { pullImage } = await import('../images/pull.js');
        const configs: DockerConfig[] = [];
        try { configs.push(JSON.parse(fs.readFileSync(path.join(os.homedir(), '.docker', 'config.json'), 'utf8')) as DockerConfig); } catch { /* none */ }
        const t0 = performance.now();
        const r = await pullImage(store, args[0]!, {
          dockerConfigs: configs, insecureRegistries: String(flags['insecure-registry'] ?? '').split(',').map((s) => s.trim()).filter(Boolean),
        });
        console.log(`pulled ${r.image.names[0]} (${r.image.digest}): ${r.fetchedLayers} layer(s), ${human(r.fetchedBytes)} in ${Math.round(performance.now() - t0)} ms`);
        return 0;
      }
      default:
        throw new UsageError(`unknown image command ${JSON.stringify(sub)}\n\n${USAGE}`);
    }
  } finally {
    store.close();
  }
}
